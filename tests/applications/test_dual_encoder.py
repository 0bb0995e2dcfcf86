import keras
import numpy as np
import pytest

from keras_roleplay.applications import DualEncoder
from keras_roleplay.datasets import shapes_captions
from keras_roleplay.metrics import recall_at_k
from keras_roleplay.training import fit_dual_encoder
from keras_roleplay.utils.pipeline import set_pipeline_epoch
from tests.saving import reload_in_fresh_process

TINY = dict(
    image_shape=(32, 32, 3),
    sequence_length=6,
    embedding_dim=8,
    hidden_dim=8,
    num_heads=2,
    cnn_filters=(4, 8),
)
CAPTIONS = [["a red circle", "a round red thing"], ["a blue square"]] * 4


def _images(n, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, 32, 32, 3))


def _retrieval(model, test):
    queries = [str(c[0]) for c in test["captions"]]
    truths = [set(shapes_captions.true_captions(s)) for s in test["scene"]]
    relevant = np.array([[q in t for t in truths] for q in queries])
    ranked, _ = model.retrieve_images(queries, test["image"], k=5)
    return recall_at_k(ranked, relevant, 1), recall_at_k(ranked, relevant, 5)


@pytest.mark.slow
def test_learns_to_retrieve_held_out_scenes():
    train, _, test = shapes_captions.load_data(
        num_train=800, num_validation=1, num_test=100, image_size=32
    )
    keras.utils.set_random_seed(0)
    model = DualEncoder.from_captions(
        train["captions"], vocabulary_size=400, image_shape=(32, 32, 3)
    )
    before = _retrieval(model, test)
    history = fit_dual_encoder(model, train["image"], train["captions"], epochs=12)
    losses = history.history["loss"]
    assert losses[-1] < 0.3 * losses[0]
    at_1, at_5 = _retrieval(model, test)
    # Chance: about 0.012 at 1 and 0.06 at 5 (1.15 right scenes of 100).
    assert at_5 >= 0.25 and at_5 > before[1] + 0.15, (before, at_1, at_5)
    assert at_1 >= 0.06, (before, at_1, at_5)


def test_outputs_embeddings_and_retrieval_shapes():
    keras.utils.set_random_seed(0)
    model = DualEncoder.from_captions(CAPTIONS, **TINY)
    logits = model({"image": _images(3), "token_ids": model.tokenize(["a", "b", "c"])})
    assert tuple(logits.shape) == (3, 3)
    texts = model.encode_texts(["a red circle", "a blue square"])
    images = model.encode_images(_images(5, seed=1))
    assert texts.shape == (2, 8) and images.shape == (5, 8)
    np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, rtol=1e-5)
    ranked, scores = model.retrieve_images(["a red circle"], _images(5, seed=1), k=3)
    assert ranked.shape == scores.shape == (1, 3)
    assert (np.diff(scores[0]) <= 0).all()  # best first
    np.testing.assert_allclose(scores[0], (texts[:1] @ images.T)[0, ranked[0]], 1e-5)
    ranked, _ = model.retrieve_texts(_images(2), ["a", "b", "c"], k=10)
    assert ranked.shape == (2, 3)  # k is capped by the candidates
    # Images of another size are resized.
    assert model.encode_images(np.zeros((1, 48, 40, 3))).shape == (1, 8)


def test_pairs_draw_one_caption_per_image_anew_every_epoch():
    model = DualEncoder.from_captions(CAPTIONS, **TINY)
    data = model.pair_dataset(_images(8), CAPTIONS, batch_size=8, shuffle=True, seed=1)

    def epoch():
        inputs, targets = next(iter(data))
        assert np.all(np.asarray(targets) == 0)
        return np.asarray(inputs["token_ids"]), np.asarray(inputs["image"])

    set_pipeline_epoch(0)
    passes = [epoch() for _ in range(6)]
    reference = _images(8).astype("float32")
    red = model.tokenize(["a red circle", "a round red thing"])
    blue = model.tokenize(["a blue square"])[0]
    for ids, images in passes:
        # Each image with one of its own captions: image i has caption i % 2.
        order = [int(np.argmax((reference == im).all(axis=(1, 2, 3)))) for im in images]
        assert sorted(order) == list(range(8))
        for row, i in zip(ids, order, strict=True):
            allowed = red if i % 2 == 0 else blue[None]
            assert any((row == a).all() for a in allowed)
    # Both red captions are drawn over the epochs; epoch 0 repeats on demand.
    chosen = {tuple(row) for ids, _ in passes for row in ids}
    assert all(tuple(a) in chosen for a in red)
    set_pipeline_epoch(0)
    np.testing.assert_array_equal(epoch()[0], passes[0][0])


def test_saves_and_loads_in_a_fresh_process(tmp_path):
    keras.utils.set_random_seed(0)
    model = DualEncoder.from_captions(CAPTIONS, **TINY)
    fit_dual_encoder(model, _images(8), CAPTIONS, epochs=1, batch_size=4)
    inputs = {"image": _images(4), "token_ids": model.tokenize(["a red circle"] * 4)}
    loaded = reload_in_fresh_process(model, inputs, tmp_path)
    np.testing.assert_allclose(
        loaded["outputs"], model.predict(inputs, verbose=0), atol=1e-6
    )
    again = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
    assert again.vocabulary == model.vocabulary
    np.testing.assert_allclose(
        again.encode_texts(["a blue square"]),
        model.encode_texts(["a blue square"]),
        atol=1e-6,
    )


def test_bad_arguments():
    vocabulary = ["[PAD]", "[UNK]", "a"]
    with pytest.raises(ValueError, match="must start with"):
        DualEncoder(["a", "[PAD]"])
    with pytest.raises(TypeError, match="vocabulary"):
        DualEncoder("[PAD] [UNK]")
    with pytest.raises(ValueError, match="image_shape=\\(32, 32\\)"):
        DualEncoder(vocabulary, image_shape=(32, 32))
    with pytest.raises(ValueError, match="hidden_dim=10, num_heads=3"):
        DualEncoder(vocabulary, hidden_dim=10, num_heads=3)
    with pytest.raises(ValueError, match="sequence_length"):
        DualEncoder(vocabulary, sequence_length=0)
    model = DualEncoder(vocabulary, **TINY)
    with pytest.raises(ValueError, match="2 images and 3 captions"):
        model.pair_dataset(_images(2), ["a", "b", "c"])
    with pytest.raises(TypeError, match="at index 1"):
        model.pair_dataset(_images(2), ["a", []])
    with pytest.raises(ValueError, match="images with shape \\(2, 32, 32\\)"):
        model.encode_images(np.zeros((2, 32, 32)))
    with pytest.raises(TypeError, match="texts"):
        model.encode_texts([1, 2])
    with pytest.raises(ValueError, match="k"):
        model.retrieve_images(["a"], _images(2), k=0)
