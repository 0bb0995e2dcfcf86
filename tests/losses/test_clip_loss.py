import keras
import numpy as np
import pytest

from keras_roleplay.layers import ContrastiveSimilarity
from keras_roleplay.losses import CLIPLoss
from tests.saving import reload_in_fresh_process


def _numpy_clip_loss(logits):
    """The formula, written out: mean over pairs of the two cross-entropies."""

    def cross_entropy(rows):
        shifted = rows - rows.max(axis=1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -np.diag(log_softmax)

    return float(np.mean((cross_entropy(logits) + cross_entropy(logits.T)) / 2))


def test_equals_the_formula_in_numpy():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 32):
        logits = rng.normal(scale=5.0, size=(n, n)).astype("float32")
        assert float(CLIPLoss()(None, logits)) == pytest.approx(
            _numpy_clip_loss(logits), rel=1e-5, abs=1e-6
        )
    # Not symmetric in general: the column term counts.
    logits = np.array([[2.0, 1.0], [0.0, 0.0]], "float32")
    assert float(CLIPLoss()(None, logits)) == pytest.approx(_numpy_clip_loss(logits))
    # Labels, if given, are ignored; sample weights weight the pairs.
    assert float(CLIPLoss()(np.array([5, 9]), logits)) == pytest.approx(
        _numpy_clip_loss(logits)
    )
    assert float(CLIPLoss()(None, logits, sample_weight=np.array([1.0, 0.0]))) < float(
        CLIPLoss()(None, logits)
    )


def _paired_data(n):
    """Texts and images that are two noisy views of one latent code."""
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(n, 6))
    text = latent @ rng.normal(size=(6, 10)) + 0.05 * rng.normal(size=(n, 10))
    image = np.tanh(latent @ rng.normal(size=(6, 12)))
    return {"text": text.astype("float32"), "image": image.astype("float32")}


def _dual_encoder():
    text = keras.Input((10,), name="text")
    image = keras.Input((12,), name="image")
    text_embedding = keras.layers.Dense(8)(keras.layers.Dense(16, "relu")(text))
    image_embedding = keras.layers.Dense(8)(keras.layers.Dense(16, "relu")(image))
    logits = ContrastiveSimilarity(temperature=0.1)(text_embedding, image_embedding)
    return keras.Model({"text": text, "image": image}, logits)


def _recall_at_1(model, data):
    logits = model.predict(data, batch_size=len(data["text"]), verbose=0)
    return float(np.mean(logits.argmax(axis=1) == np.arange(len(logits))))


def test_a_dual_encoder_learns_to_pair_texts_with_images(tmp_path):
    keras.utils.set_random_seed(0)
    model = _dual_encoder()
    model.compile(keras.optimizers.Adam(3e-3), loss=CLIPLoss())
    data = _paired_data(512 + 16)
    train = {k: v[:512] for k, v in data.items()}
    held_out = {k: v[512:] for k, v in data.items()}
    before = _recall_at_1(model, held_out)
    history = model.fit(train, np.zeros(512), batch_size=32, epochs=15, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    after = _recall_at_1(model, held_out)
    assert after >= 0.75 and after > before + 0.3, (before, after)
    # Saved and reloaded in a fresh process (safe mode): the same logits.
    loaded = reload_in_fresh_process(model, held_out, tmp_path)
    np.testing.assert_allclose(
        loaded["outputs"], model.predict(held_out, verbose=0), atol=1e-5
    )


def test_bad_logits_are_refused():
    with pytest.raises(ValueError, match="y_pred with shape \\(4,\\)"):
        CLIPLoss()(None, np.zeros(4, "float32"))
