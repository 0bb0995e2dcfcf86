import keras
import numpy as np
import pytest

from keras_roleplay.layers import CrossModalAttention


def _inputs(seed=0, text_length=3, regions=5, dim=8):
    rng = np.random.default_rng(seed)
    text = rng.normal(size=(2, text_length, dim)).astype("float32")
    image = rng.normal(size=(2, regions, dim)).astype("float32")
    return text, image


def test_scores_are_a_distribution_over_regions_and_masked_regions_get_none():
    text, image = _inputs()
    region_mask = np.array([[True, True, True, False, False]] * 2)
    layer = CrossModalAttention(num_heads=2)
    fused, scores = layer(
        text, image, region_mask=region_mask, return_attention_scores=True
    )
    scores = np.asarray(scores["text_to_image"])
    assert fused.shape == text.shape and scores.shape == (2, 2, 3, 5)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(scores[..., 3:], 0.0, atol=1e-7)
    # What a masked region holds cannot change the output.
    changed = image.copy()
    changed[:, 3:] += 100.0
    np.testing.assert_allclose(
        layer(text, changed, region_mask=region_mask), fused, atol=1e-5
    )
    # ... but an unmasked region does.
    changed = image.copy()
    changed[:, 0] += 1.0
    assert (
        np.abs(np.asarray(layer(text, changed, region_mask=region_mask)) - fused).max()
        > 1e-3
    )


def test_output_is_the_normalised_residual_of_the_attended_regions():
    text, image = _inputs()
    layer = CrossModalAttention(num_heads=2)
    fused = np.asarray(layer(text, image))
    attended = np.asarray(layer.text_to_image(text, image))
    expected = np.asarray(layer.text_norm(text + attended))
    np.testing.assert_allclose(fused, expected, atol=1e-5)
    # Layer normalisation: every token has mean 0 and variance 1 (gamma=1, beta=0).
    np.testing.assert_allclose(fused.mean(-1), 0.0, atol=1e-5)


def test_bidirectional_regions_never_look_at_padded_text():
    text, image = _inputs()
    text_mask = np.array([[True, True, False]] * 2)
    layer = CrossModalAttention(num_heads=2, bidirectional=True)
    (fused_text, fused_image), scores = layer(
        text, image, text_mask=text_mask, return_attention_scores=True
    )
    assert fused_text.shape == text.shape and fused_image.shape == image.shape
    back = np.asarray(scores["image_to_text"])
    assert back.shape == (2, 2, 5, 3)
    np.testing.assert_allclose(back[..., 2], 0.0, atol=1e-7)
    changed = text.copy()
    changed[:, 2] += 50.0
    (_, image_again) = layer(changed, image, text_mask=text_mask)
    np.testing.assert_allclose(image_again, fused_image, atol=1e-5)


def test_saves_inside_a_model(tmp_path):
    text_in, image_in = keras.Input((3, 8)), keras.Input((5, 8))
    out = CrossModalAttention(num_heads=2, bidirectional=True)(text_in, image_in)
    model = keras.Model([text_in, image_in], list(out))
    text, image = _inputs()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    for a, b in zip(
        loaded.predict([text, image], verbose=0),
        model.predict([text, image], verbose=0),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_heads"):
        CrossModalAttention(num_heads=0)
    with pytest.raises(ValueError, match="dropout"):
        CrossModalAttention(num_heads=2, dropout=1.5)
    text, _ = _inputs()
    with pytest.raises(ValueError, match="same feature size"):
        CrossModalAttention(num_heads=2)(text, np.ones((2, 5, 4), "float32"))
    with pytest.raises(ValueError, match="regions"):
        CrossModalAttention(num_heads=2)(text, np.ones((2, 4), "float32"))
