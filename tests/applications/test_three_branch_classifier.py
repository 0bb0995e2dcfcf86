import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_roleplay.applications import ThreeBranchClassifier
from keras_roleplay.datasets import multimodal_agreement
from tests.saving import reload_in_fresh_process

SMALL = dict(
    num_classes=4,
    image_shape=(24, 24, 3),
    text_length=8,
    text_vocabulary_size=30,
    audio_shape=(20, 12),
    image_filters=(8, 8),
    audio_filters=(8,),
    branch_units=8,
    head_units=8,
    text_embedding_dim=8,
)


def _batch(batch=4, seed=0, **overrides):
    config = {**SMALL, **overrides}
    rng = np.random.default_rng(seed)
    text_length = config["text_length"]
    if config.get("text_vocabulary_size"):
        text = rng.integers(0, config["text_vocabulary_size"], (batch, text_length))
        text = text.astype("int32")
    else:
        text = rng.normal(size=(batch, text_length)).astype("float32")
    return {
        "image": rng.uniform(0, 255, (batch, *config["image_shape"])).astype("float32"),
        "text": text,
        "audio": rng.normal(size=(batch, *config["audio_shape"])).astype("float32"),
    }


def _minimal_three_branch_model():
    """A hand-written three-branch network: the reference the model must match."""
    image = keras.Input((64, 64, 3), name="image")
    text = keras.Input((128,), name="text")
    audio = keras.Input((128,), name="audio")
    conv = keras.layers.Conv2D(32, 3, activation="relu", name="image_conv_1")
    x_image = keras.layers.Flatten()(conv(image))
    x_text = keras.layers.Dense(64, activation="relu", name="text_dense")(text)
    x_audio = keras.layers.Dense(64, activation="relu", name="audio_dense")(audio)
    x = keras.layers.Concatenate()([x_image, x_text, x_audio])
    output = keras.layers.Dense(1, activation="sigmoid", name="predictions")(x)
    return keras.Model({"image": image, "text": text, "audio": audio}, output)


def test_seed_configuration_is_the_minimal_three_branch_model():
    ours = ThreeBranchClassifier(
        image_filters=(32,), image_pooling="flatten", image_units=0, head_units=0
    )
    reference = _minimal_three_branch_model()
    assert ours.count_params() == reference.count_params()
    # Same architecture: copying the weights layer by layer gives the same outputs.
    ours_layers = [layer for layer in ours.layers if layer.weights]
    assert sorted(layer.name for layer in ours_layers) == sorted(
        layer.name for layer in reference.layers if layer.weights
    )
    for layer in ours_layers:
        layer.set_weights(reference.get_layer(layer.name).get_weights())
    rng = np.random.default_rng(0)
    batch = {
        "image": rng.uniform(0, 1, (3, 64, 64, 3)).astype("float32"),
        "text": rng.normal(size=(3, 128)).astype("float32"),
        "audio": rng.normal(size=(3, 128)).astype("float32"),
    }
    # Our model rescales pixels from [0, 255] itself.
    ours_batch = dict(batch, image=batch["image"] * 255.0)
    np.testing.assert_allclose(
        ours.predict(ours_batch, verbose=0),
        reference.predict(batch, verbose=0),
        atol=1e-5,
    )


@pytest.mark.parametrize("fusion", ["concat", "weighted", "attention"])
def test_forms_and_fusions_predict_probabilities(fusion):
    model = ThreeBranchClassifier(**SMALL, fusion=fusion)
    probs = model.predict(_batch(), verbose=0)
    assert probs.shape == (4, 4)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)
    binary = ThreeBranchClassifier(
        **{
            **SMALL,
            "num_classes": 1,
            "text_vocabulary_size": None,
            "audio_shape": (10,),
        }
    )
    probs = binary.predict(
        _batch(text_vocabulary_size=None, audio_shape=(10,)), verbose=0
    )
    assert probs.shape == (4, 1) and np.all((probs > 0) & (probs < 1))


def test_default_construction_is_one_line():
    model = ThreeBranchClassifier()
    assert model.output_shape == (None, 1)
    assert sorted(model.input) == ["audio", "image", "text"]


def test_ablation_ignores_unused_modalities_silently():
    model = ThreeBranchClassifier(**SMALL, modalities=("audio", "image"))
    assert model.modalities == ("image", "audio")  # canonical order
    batch = _batch()
    with_text = model.predict(batch, verbose=0)
    without_text = model.predict({k: batch[k] for k in ("image", "audio")}, verbose=0)
    np.testing.assert_allclose(with_text, without_text, atol=1e-6)
    assert not [layer for layer in model.layers if layer.name.startswith("text")]


def test_fusion_weights_for_plots():
    weighted = ThreeBranchClassifier(**SMALL, fusion="weighted")
    np.testing.assert_allclose(weighted.fusion_weights(), [1 / 3] * 3, atol=1e-6)
    attention = ThreeBranchClassifier(**SMALL, fusion="attention")
    weights = attention.fusion_weights(_batch(batch=5))
    assert weights.shape == (5, 3)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="pass `inputs`"):
        attention.fusion_weights()
    with pytest.raises(ValueError, match="no fusion weights"):
        ThreeBranchClassifier(**SMALL).fusion_weights()


def test_get_config_round_trip():
    model = ThreeBranchClassifier(**SMALL, fusion="attention", dropout=0.1)
    config = json.loads(json.dumps(model.get_config()))  # JSON-safe, plain types
    clone = ThreeBranchClassifier.from_config(config)
    assert clone.get_config() == model.get_config()
    assert clone.count_params() == model.count_params()


@pytest.mark.parametrize("fusion", ["concat", "attention"])
def test_save_and_load_in_fresh_process(tmp_path, fusion):
    model = ThreeBranchClassifier(**SMALL, fusion=fusion)
    batch = _batch(batch=6)
    model.compile()
    model.fit(batch, np.arange(6) % 4, epochs=1, verbose=0)  # non-initial weights
    expected = model.predict(batch, verbose=0)
    reloaded = reload_in_fresh_process(model, batch, str(tmp_path))
    np.testing.assert_allclose(reloaded["outputs"], expected, atol=1e-6)


def test_no_lambda_layers():
    model = ThreeBranchClassifier(**SMALL, fusion="attention")
    assert not [
        layer for layer in model.layers if isinstance(layer, keras.layers.Lambda)
    ]


@pytest.fixture(scope="module")
def tiny_agreement():
    (train, val, _), info = multimodal_agreement.load_data(
        num_train=256, num_validation=64, num_test=8, batch_size=32
    )
    return train, val, info


def test_loss_falls_when_training(tiny_agreement):
    train, _, info = tiny_agreement
    model = ThreeBranchClassifier(**info.classifier_kwargs)
    model.compile()
    loss_before, accuracy_before = model.evaluate(train, verbose=0)
    model.fit(train, epochs=15, verbose=0)
    loss_after, accuracy_after = model.evaluate(train, verbose=0)
    assert loss_after < loss_before - 0.3, (loss_before, loss_after)
    assert accuracy_after > accuracy_before + 0.1, (accuracy_before, accuracy_after)


def test_fit_with_xla(tiny_agreement):
    train, _, info = tiny_agreement
    model = ThreeBranchClassifier(**info.classifier_kwargs)
    model.compile(jit_compile=True)
    history = model.fit(train.take(4), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_fit_under_mixed_bfloat16(tiny_agreement):
    train, _, info = tiny_agreement
    keras.config.set_dtype_policy("mixed_bfloat16")
    model = ThreeBranchClassifier(**info.classifier_kwargs, fusion="attention")
    assert keras.backend.standardize_dtype(model.output.dtype) == "float32"
    model.compile()
    history = model.fit(train.take(8), epochs=3, verbose=0)
    loss = history.history["loss"]
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]


def test_fit_under_distribution_strategy(tiny_agreement):
    train, _, info = tiny_agreement
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = ThreeBranchClassifier(**info.classifier_kwargs, fusion="weighted")
        model.compile()
    history = model.fit(train.take(4), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"image_shape": (32, 32)}, ValueError, r"image_shape=\(32, 32\)"),
        (
            {"image_shape": (32, 32, 4)},
            ValueError,
            r"channels.*image_shape=\(32, 32, 4\)",
        ),
        ({"image_shape": (32, 32, 0)}, ValueError, "positive integer"),
        ({"image_shape": (6, 6, 3)}, ValueError, "too small"),
        ({"fusion": "sum"}, ValueError, "fusion='sum'"),
        ({"modalities": ("image", "video")}, ValueError, "modalities=.*video"),
        ({"modalities": ()}, ValueError, "non-empty"),
        ({"num_classes": 0}, ValueError, "num_classes=0"),
        ({"num_classes": 2.0}, TypeError, "num_classes=2.0"),
        ({"branch_units": -3}, ValueError, "branch_units=-3"),
        ({"text_length": 0}, ValueError, "text_length=0"),
        ({"text_vocabulary_size": 0}, ValueError, "text_vocabulary_size=0"),
        ({"audio_shape": (1, 2, 3)}, ValueError, r"audio_shape=\(1, 2, 3\)"),
        (
            {"audio_shape": (4, 16), "audio_filters": (8, 8)},
            ValueError,
            "too few frames",
        ),
        ({"dropout": 1.5}, ValueError, "dropout=1.5"),
        ({"image_pooling": "sum"}, ValueError, "image_pooling='sum'"),
        ({"image_units": 0, "fusion": "weighted"}, ValueError, "image_units=0"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        ThreeBranchClassifier(**{**SMALL, **kwargs})


def test_bad_inputs_name_the_input():
    model = ThreeBranchClassifier(**SMALL)
    batch = _batch()
    partial = {k: batch[k] for k in ("image", "text")}
    # Keras' own check runs first here, and names the key.
    with pytest.raises(ValueError, match='Missing data for input "audio"'):
        model(partial)
    with pytest.raises(ValueError, match='Missing data for input "audio"'):
        model.predict(partial, verbose=0)
    with pytest.raises(ValueError, match=r"unknown: \['video'\]"):
        model.predict({**batch, "video": batch["audio"]}, verbose=0)
    with pytest.raises(
        ValueError, match=r'"image" must have shape \(batch, 24, 24, 3\)'
    ):
        model.predict({**batch, "image": batch["image"][..., :1]}, verbose=0)
    with pytest.raises(ValueError, match=r'"image" must have shape.*\(4, 24, 24\)'):
        model.predict({**batch, "image": batch["image"][..., 0]}, verbose=0)
    with pytest.raises(TypeError, match="dict of inputs"):
        model.call(batch["image"])


def test_dtype_reaches_every_layer_and_is_saved(tmp_path):
    kwargs = dict(
        num_classes=3,
        image_shape=(16, 16, 3),
        text_length=4,
        text_vocabulary_size=20,
        audio_shape=(8,),
        image_filters=(4,),
    )
    model = ThreeBranchClassifier(dtype="mixed_bfloat16", **kwargs)

    def policies(m):
        return {
            layer.name: layer.dtype_policy.name
            for layer in m._flatten_layers(include_self=False)
            if layer.weights and layer.name != "predictions"
        }

    assert set(policies(model).values()) == {"mixed_bfloat16"}
    assert model.get_layer("predictions").dtype_policy.name == "float32"
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert policies(loaded) == policies(model)
    plain = ThreeBranchClassifier(**kwargs)
    assert set(policies(plain).values()) == {"float32"}
    assert "dtype" not in plain.get_config()
    assert keras.config.dtype_policy().name == "float32"  # the global one is kept
