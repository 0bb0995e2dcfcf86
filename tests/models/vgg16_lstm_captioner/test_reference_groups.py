import keras
import numpy as np
import pytest

from keras_roleplay.applications import VGG16LSTMCaptioner
from keras_roleplay.models.vgg16_lstm_captioner import ReferenceGroupTrainer
from keras_roleplay.utils.special_tokens import PAD_ID

CAPTIONS = [
    ["a red circle", "a circle on the left", "one red disc"],
    ["a blue square", "a big blue square", "a square"],
]
SMALL = dict(image_shape=(32, 32, 3), sequence_length=8, embedding_dim=8, lstm_units=16)


def _model(**kwargs):
    keras.utils.set_random_seed(0)
    return VGG16LSTMCaptioner.from_captions(CAPTIONS, **{**SMALL, **kwargs})


def _images(n=2):
    return np.random.default_rng(0).uniform(0, 255, (n, 32, 32, 3)).astype("float32")


def test_grouped_batches_hold_the_pairs_tokens():
    model = _model()
    captions = [CAPTIONS[0], CAPTIONS[1][:1]]  # the second image: one reference
    inputs, targets, weights = next(
        iter(model.caption_dataset(_images(), captions, group_references=True))
    )
    assert inputs["tokens"].shape == (2, 3, 8) and targets.shape == (2, 3, 8)
    pairs_inputs, pairs_targets, _ = next(
        iter(model.caption_dataset(_images(), captions))
    )
    grouped = inputs["tokens"].numpy()
    np.testing.assert_array_equal(grouped[0], pairs_inputs["tokens"].numpy()[:3])
    np.testing.assert_array_equal(grouped[1, 0], pairs_inputs["tokens"].numpy()[3])
    np.testing.assert_array_equal(targets.numpy()[0], pairs_targets.numpy()[:3])
    # Missing references are padding that weighs nothing.
    assert (grouped[1, 1:] == PAD_ID).all() and (targets.numpy()[1, 1:] == PAD_ID).all()
    assert weights.numpy()[1, 1:].sum() == 0 and weights.numpy()[1, 0].sum() > 0


def test_trainer_gives_the_pairs_logits_and_loss():
    model = _model(sequence_length=32)  # room for padding
    trainer = ReferenceGroupTrainer(model.backbone)
    inputs, targets, weights = next(
        iter(model.caption_dataset(_images(), CAPTIONS, group_references=True))
    )
    logits = keras.ops.convert_to_numpy(trainer(inputs))
    pairs = {
        "image": np.repeat(inputs["image"].numpy(), 3, axis=0),
        "tokens": inputs["tokens"].numpy().reshape(6, 32),
    }
    expected = keras.ops.convert_to_numpy(model(pairs))
    np.testing.assert_allclose(logits.reshape(6, 32, -1), expected, atol=1e-5)
    # The same masked loss (Keras averages it over the real tokens, which
    # the padding mask of the logits tells), so training on groups trains
    # on the pairs.
    assert weights.numpy().mean() < 0.8  # padding there is
    model.compile()
    trainer.compile(loss=model.loss)
    grouped_loss = trainer.evaluate(
        model.caption_dataset(_images(), CAPTIONS, group_references=True), verbose=0
    )
    pairs_loss = model.evaluate(model.caption_dataset(_images(), CAPTIONS), verbose=0)
    assert grouped_loss == pytest.approx(pairs_loss[0], rel=1e-5)


def test_trainer_trains_the_task_weights():
    model = _model()
    model.compile()
    trainer = ReferenceGroupTrainer(model.backbone)
    trainer.compile(optimizer=keras.optimizers.Adam(1e-2), loss=model.loss)
    data = model.caption_dataset(_images(), CAPTIONS, group_references=True)
    pairs = model.caption_dataset(_images(), CAPTIONS)
    before = model.evaluate(pairs, verbose=0)[0]
    trainer.fit(data.repeat(40), verbose=0)
    # The task reads the weights the trainer changed.
    after = model.evaluate(pairs, verbose=0)[0]
    # (Three different references per image: the loss has a floor.)
    assert after < 0.85 * before, (before, after)


def test_trainer_errors():
    with pytest.raises(TypeError, match="VGG16LSTMCaptionerBackbone.*type str"):
        ReferenceGroupTrainer("backbone")
    trainer = ReferenceGroupTrainer(_model().backbone)
    with pytest.raises(ValueError, match=r"\(batch, references, sequence_length\)"):
        trainer({"image": _images(), "tokens": np.zeros((2, 8), "int32")})
