import keras
import numpy as np
import pytest

from keras_roleplay.layers import ModalityFusion


def _features(num=3, batch=5, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(batch, dim)).astype("float32") for _ in range(num)]


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_concat_matches_seed_formula():
    features = _features(dim=3) + [np.ones((5, 2), "float32")]  # sizes may differ
    fused = ModalityFusion("concat")(features)
    np.testing.assert_allclose(fused, np.concatenate(features, axis=-1), atol=1e-6)


def test_weighted_matches_softmax_of_learned_scores():
    features = _features()
    layer = ModalityFusion("weighted")
    layer(features)
    logits = np.array([0.5, -1.0, 2.0], "float32")
    layer.fusion_logits.assign(logits)
    alpha = _softmax(logits)
    expected = sum(a * h for a, h in zip(alpha, features, strict=True))
    fused, weights = layer(features, return_weights=True)
    np.testing.assert_allclose(fused, expected, atol=1e-6)
    np.testing.assert_allclose(weights, np.tile(alpha, (5, 1)), atol=1e-6)
    np.testing.assert_allclose(layer.fusion_weights(), alpha, atol=1e-6)


def test_attention_matches_additive_attention_formula():
    features = _features(dim=4)
    layer = ModalityFusion("attention", attention_units=6)
    fused, weights = layer(features, return_weights=True)
    # Scores start at zero: the layer begins as a plain average of modalities.
    np.testing.assert_allclose(weights, np.full((5, 3), 1 / 3), atol=1e-6)
    np.testing.assert_allclose(fused, np.mean(features, axis=0), atol=1e-6)
    rng = np.random.default_rng(1)
    layer.score_vector.assign(rng.normal(size=(6, 1)).astype("float32"))
    w, b, v = (
        x.numpy() for x in (layer.score_kernel, layer.score_bias, layer.score_vector)
    )
    stacked = np.stack(features, axis=1)  # (batch, n, d)
    scores = (np.tanh(stacked @ w + b) @ v)[..., 0]
    alpha = _softmax(scores)
    expected = (alpha[..., None] * stacked).sum(axis=1)
    fused, weights = layer(features, return_weights=True)
    np.testing.assert_allclose(weights, alpha, atol=1e-6)
    np.testing.assert_allclose(fused, expected, atol=1e-5)
    # The weights depend on the sample: not the same row for every example.
    assert np.ptp(np.asarray(weights)[:, 0]) > 1e-4


@pytest.mark.parametrize("mode", ["weighted", "attention"])
def test_uniform_share_mixes_in_a_plain_average(mode):
    features = _features()
    plain = ModalityFusion(mode, name="plain")
    mixed = ModalityFusion(mode, uniform_share=0.3, name="mixed")
    plain(features), mixed(features)
    logits = np.array([3.0, -2.0, 0.0], "float32")
    if mode == "weighted":
        plain.fusion_logits.assign(logits)
        mixed.fusion_logits.assign(logits)
    else:
        for layer in (plain, mixed):  # same, non-uniform scores in both
            layer.score_kernel.assign(np.eye(4, dtype="float32"))
            layer.score_vector.assign(np.ones((4, 1), "float32"))
    _, alpha = plain(features, return_weights=True)
    fused, alpha_mixed = mixed(features, return_weights=True)
    expected = 0.7 * np.asarray(alpha) + 0.3 / 3
    np.testing.assert_allclose(alpha_mixed, expected, atol=1e-6)
    assert np.asarray(alpha_mixed).min() >= 0.1 - 1e-6
    stacked = np.stack(features, axis=1)
    np.testing.assert_allclose(fused, (expected[..., None] * stacked).sum(1), atol=1e-5)
    if mode == "weighted":
        np.testing.assert_allclose(mixed.fusion_weights(), expected[0], atol=1e-6)


def test_output_shapes_and_symbolic_build():
    inputs = [keras.Input((8,)), keras.Input((8,))]
    for mode, size in (("concat", 16), ("weighted", 8), ("attention", 8)):
        layer = ModalityFusion(mode)
        assert layer(inputs).shape == (None, size)
        assert layer.compute_output_shape([(None, 8), (None, 8)]) == (None, size)


def test_weights_get_gradients_and_learn():
    # Only the second modality predicts the target: training must shift the
    # learned weight towards it.
    rng = np.random.default_rng(0)
    a = rng.normal(size=(256, 4)).astype("float32")
    b = rng.normal(size=(256, 4)).astype("float32")
    inputs = [keras.Input((4,)), keras.Input((4,))]
    fusion = ModalityFusion("weighted")
    model = keras.Model(inputs, keras.layers.Dense(1)(fusion(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    model.fit([a, b], b.sum(axis=1, keepdims=True), epochs=20, verbose=0)
    weights = fusion.fusion_weights()
    assert weights[1] > 0.8, weights


def test_serialization_round_trip():
    layer = ModalityFusion("attention", attention_units=5, name="fuse")
    clone = ModalityFusion.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert isinstance(restored, ModalityFusion) and restored.mode == "attention"


def test_mixed_precision_keeps_weights_float32():
    layer = ModalityFusion("attention", dtype="mixed_bfloat16")
    fused, weights = layer(_features(), return_weights=True)
    assert keras.backend.standardize_dtype(fused.dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(weights.dtype) == "float32"
    np.testing.assert_allclose(np.asarray(weights).sum(axis=-1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mode": "sum"}, "mode='sum'"),
        ({"mode": "attention", "attention_units": 0}, "attention_units=0"),
        ({"mode": "attention", "attention_units": 2.5}, "attention_units=2.5"),
        ({"mode": "weighted", "uniform_share": 1.0}, "uniform_share=1.0"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ModalityFusion(**kwargs)


def test_weighted_needs_equal_sizes():
    with pytest.raises(ValueError, match=r"same size.*\[4, 2\]"):
        ModalityFusion("weighted")([np.ones((2, 4)), np.ones((2, 2))])


def test_rank_and_concat_weights_errors():
    with pytest.raises(ValueError, match="shape \\(batch, features\\)"):
        ModalityFusion("concat")([np.ones((2, 3, 4)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="no fusion weights"):
        ModalityFusion("concat")(_features(), return_weights=True)
    with pytest.raises(ValueError, match="call it on inputs first"):
        ModalityFusion("weighted").fusion_weights()
