import keras
import numpy as np
import pytest

from keras_roleplay.applications import DualEncoder, MultimodalPretrainer
from keras_roleplay.datasets import shapes_captions
from keras_roleplay.training import fit_multimodal_pretraining
from tests.saving import reload_in_fresh_process

CAPTIONS = ["a red circle", "a blue square", "a red square", "a blue circle"]
TINY = dict(
    image_shape=(16, 16, 3),
    sequence_length=6,
    embedding_dim=8,
    hidden_dim=8,
    num_heads=1,
    cnn_filters=(4,),
)


def _images(n, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, 16, 16, 3))


def _tiny_pretrainer():
    return MultimodalPretrainer(DualEncoder.from_captions(CAPTIONS, **TINY), 1)


@pytest.mark.slow
def test_learns_to_contrast_match_and_fill_in_on_held_out_scenes():
    keras.utils.set_random_seed(0)
    train, _, test = shapes_captions.load_data(
        num_train=600, num_validation=10, num_test=100, image_size=32
    )
    encoder = DualEncoder.from_captions(
        train["captions"],
        image_shape=(32, 32, 3),
        sequence_length=12,
        embedding_dim=32,
        hidden_dim=32,
        num_heads=2,
        cnn_filters=(16, 32),
    )
    model = MultimodalPretrainer(encoder, num_heads=2)
    model.compile()
    held_out = model.pretraining_dataset(test["image"], test["captions"], 50)
    before = model.evaluate(held_out, verbose=0, return_dict=True)
    history = fit_multimodal_pretraining(
        model, train["image"], train["captions"], epochs=20, batch_size=32
    )
    after = model.evaluate(held_out, verbose=0, return_dict=True)
    loss = history.history
    # The contrastive and masked-LM training losses fell (measured: 3.4 ->
    # 0.2 and 1.9 -> 1.2). The matching loss is no measure of learning: its
    # negatives are drawn by the contrastive similarities and get harder as
    # those learn (0.70 -> 0.60 in one run, 0.70 -> 0.66 with one compute
    # thread); the held-out ranking below is the matching head's test.
    for name, share in (("contrastive_loss", 0.3), ("masked_lm_loss", 0.8)):
        assert loss[name][-1] < share * loss[name][0], (name, loss[name])
    assert after["contrastive_loss"] < 0.5 * before["contrastive_loss"]
    assert (
        after["masked_lm_sparse_categorical_accuracy"]
        > before["masked_lm_sparse_categorical_accuracy"] + 0.05
    ), (before, after)
    # Matching: a held-out scene's own caption scores above another scene's
    # (measured 0.95 here; chance 0.5).
    captions = [c[0] for c in test["captions"]]
    own = model.matching_probabilities(test["image"], captions)
    other = model.matching_probabilities(np.roll(test["image"], 1, 0), captions)
    assert np.mean(own > other) >= 0.8, np.mean(own > other)
    # The dual encoder was trained with it: retrieval works on its own.
    indices, _ = encoder.retrieve_images(captions, test["image"], k=5)
    assert np.mean([i in row for i, row in enumerate(indices)]) >= 0.5


def test_pretraining_trains_the_dual_encoder_and_its_masks_hide_tokens():
    keras.utils.set_random_seed(0)
    model = _tiny_pretrainer()
    encoder = model.dual_encoder
    data = model.pretraining_dataset(_images(8), CAPTIONS * 2, batch_size=4)
    x, y, w = next(iter(data))
    ids, masked = x["token_ids"].numpy(), x["masked_token_ids"].numpy()
    positions, weights = x["mask_positions"].numpy(), w["masked_lm"].numpy()
    rows = np.arange(len(ids))[:, None]
    # The targets are the hidden tokens, where the weight is 1.
    real = weights > 0
    assert real.any()
    np.testing.assert_array_equal(
        y["masked_lm"].numpy()[real], ids[rows, positions][real]
    )
    # Tokens outside the selected positions are untouched; padding is never
    # selected.
    selected = np.zeros_like(ids, bool)
    selected[rows.repeat(positions.shape[1], 1)[real], positions[real]] = True
    np.testing.assert_array_equal(masked[~selected], ids[~selected])
    assert (ids[selected] != 0).all()
    np.testing.assert_array_equal(y["matching"].numpy(), [[1.0, 0.0]] * 4)

    before = [v.numpy().copy() for v in encoder.trainable_variables]
    fit_multimodal_pretraining(model, _images(8), CAPTIONS * 2, epochs=1, batch_size=4)
    after = [v.numpy() for v in encoder.trainable_variables]
    assert all(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
    assert encoder.encode_texts(["a red circle"]).shape == (1, 8)


def test_saves_and_loads_in_a_fresh_process(tmp_path):
    keras.utils.set_random_seed(0)
    model = _tiny_pretrainer()
    fit_multimodal_pretraining(model, _images(8), CAPTIONS * 2, epochs=1, batch_size=4)
    ids = model.dual_encoder.tokenize(CAPTIONS)
    inputs = {
        "image": _images(4, seed=1),
        "token_ids": ids,
        "masked_token_ids": np.where(ids == 3, 2, ids),
        "mask_positions": np.zeros((4, model.mask_selection_length), "int32"),
    }
    loaded = reload_in_fresh_process(model, inputs, tmp_path)
    expected = model.predict(inputs, verbose=0)
    for name in ("contrastive", "matching", "masked_lm"):
        np.testing.assert_allclose(loaded["outputs"][name], expected[name], atol=1e-6)
    again = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_allclose(
        again.matching_probabilities(_images(4, seed=2), CAPTIONS),
        model.matching_probabilities(_images(4, seed=2), CAPTIONS),
        atol=1e-6,
    )
    assert again.dual_encoder.vocabulary == model.dual_encoder.vocabulary


def test_bad_arguments():
    encoder = DualEncoder.from_captions(CAPTIONS, **TINY)
    with pytest.raises(TypeError, match="DualEncoder"):
        MultimodalPretrainer("encoder")
    without_mask = DualEncoder(["[PAD]", "[UNK]", "a", "red"], **TINY)
    with pytest.raises(ValueError, match=r"\[MASK\]"):
        MultimodalPretrainer(without_mask)
    with pytest.raises(ValueError, match="mask_rate"):
        MultimodalPretrainer(encoder, mask_rate=0)
    with pytest.raises(ValueError, match="mask_rate"):
        MultimodalPretrainer(encoder, mask_rate=1.5)
    model = MultimodalPretrainer(encoder, num_heads=1)
    with pytest.raises(ValueError, match="2 images and 3 texts"):
        model.matching_probabilities(_images(2), CAPTIONS[:3])
    with pytest.raises(ValueError, match="epochs"):
        fit_multimodal_pretraining(model, _images(4), CAPTIONS, epochs=0)
