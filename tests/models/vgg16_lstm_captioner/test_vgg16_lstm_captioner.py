import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_hub.samplers import BeamSampler, GreedySampler, TopKSampler, TopPSampler

from keras_roleplay.applications import VGG16LSTMCaptioner, build_caption_vocabulary
from keras_roleplay.datasets import shapes_captions
from keras_roleplay.utils.special_tokens import END_ID, START_ID
from tests.saving import reload_in_fresh_process

CAPTIONS = [["a red circle on the left"], ["a blue square", "a big blue square"]]
SMALL = dict(image_shape=(32, 32, 3), sequence_length=8, embedding_dim=8, lstm_units=16)


def _model(**kwargs):
    return VGG16LSTMCaptioner.from_captions(CAPTIONS, **{**SMALL, **kwargs})


def _images(n=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, 32, 32, 3)).astype("float32")


def _uncached_greedy(model, images, max_length):
    """Greedy decoding the slow way: re-run the whole model on the prefix."""
    tokens = np.zeros((len(images), model.sequence_length), "int32")
    tokens[:, 0] = START_ID
    for t in range(max_length):
        logits = model.predict({"image": images, "tokens": tokens}, verbose=0)
        if t + 1 < model.sequence_length:
            tokens[:, t + 1] = logits[:, t].argmax(-1)
    return tokens


def test_output_is_logits_per_position():
    model = _model()
    tokens = np.zeros((2, 8), "int32")
    logits = model.predict({"image": _images(), "tokens": tokens}, verbose=0)
    assert logits.shape == (2, 8, len(model.vocabulary))
    # feature_layer="auto": block3_conv3, the 8x8 grid of a 32x32 image.
    assert model.feature_layer == "block3_conv3" and model.feature_grid == (8, 8)
    assert model.get_config()["backbone"]["config"]["feature_layer"] == "block3_conv3"


def test_an_explicit_cut_is_kept():
    model = _model(feature_layer="block5_conv3")
    assert model.feature_grid == (2, 2)
    with pytest.raises(ValueError, match="\"auto\" or one of.*feature_layer='fc1'"):
        _model(feature_layer="fc1")


def test_plain_seed_model_has_no_attention():
    model = _model(attention=False)
    names = [layer.name for layer in model.backbone.layers]
    assert "visual_attention" not in names and "decoder_lstm" in names
    with pytest.raises(ValueError, match="attention=False"):
        model.generate(_images(1), max_length=2, return_attention=True)


def test_tokenize_adds_start_end_and_truncates():
    model = _model(sequence_length=4)
    ids = np.asarray(model.tokenize(["a", "a red circle on the left"]))
    assert ids.shape == (2, 5)
    assert ids[0, 0] == START_ID and ids[0, 2] == END_ID and ids[0, 3] == 0
    assert ids[1, 0] == START_ID and ids[1, -1] == END_ID  # truncated, [END] kept
    assert model.detokenize(ids[:1]) == ["a"]


def test_chinese_captions_round_trip_without_spaces():
    captions = [["左边有一个红色圆形"], ["一个蓝色的正方形"]]
    model = VGG16LSTMCaptioner.from_captions(captions, **SMALL)
    ids = model.tokenize(["一个红色圆形"])
    assert model.detokenize(ids) == ["一个红色圆形"]


def test_several_pipelines_from_one_model():
    model = _model()
    first = model.caption_dataset(_images(2), CAPTIONS)
    second = model.caption_dataset(_images(2, seed=1), CAPTIONS)
    for dataset in (first, second):
        inputs, targets, _ = next(iter(dataset))
        assert inputs["tokens"].shape == targets.shape == (3, 8)


def test_preprocess_masks_padding_targets():
    model = _model()
    inputs, targets, weights = model.preprocess(
        tf.zeros((1, 32, 32, 3)), tf.constant(["a blue square"])
    )
    targets, weights = np.asarray(targets), np.asarray(weights)
    np.testing.assert_array_equal(weights, (targets != 0).astype("float32"))
    assert weights.sum() == np.count_nonzero(np.asarray(inputs["tokens"]))


def test_stateful_greedy_matches_rerunning_the_prefix():
    model = _model()
    images = _images(3)
    model.compile()
    model.fit(model.caption_dataset(images[:2], CAPTIONS), epochs=3, verbose=0)
    max_length = 6
    fast = model._generate_ids(images, max_length, model._get_sampler("greedy"))
    slow = _uncached_greedy(model, images, max_length)
    for row_fast, row_slow in zip(fast, slow, strict=True):
        ended = list(row_fast).index(END_ID) if END_ID in row_fast else max_length
        np.testing.assert_array_equal(row_fast[: ended + 1], row_slow[: ended + 1])


def test_beam_of_one_is_greedy_and_finished_captions_only_pad():
    model = _model()
    images = _images(4, seed=3)
    model.compile()
    model.fit(model.caption_dataset(images[:2], CAPTIONS), epochs=3, verbose=0)
    greedy = model._generate_ids(images, 7, model._get_sampler("greedy"))
    one_beam = model._generate_ids(
        images, 7, model._get_sampler(BeamSampler(num_beams=1))
    )
    np.testing.assert_array_equal(greedy, one_beam)
    beams = model._generate_ids(images, 7, model._get_sampler(BeamSampler(num_beams=4)))
    for row in np.concatenate([greedy, beams]):
        assert row[0] == START_ID and START_ID not in row[1:]
        if END_ID in row:  # after [END], only [PAD]
            assert not row[list(row).index(END_ID) + 1 :].any()
        else:
            assert 0 not in row  # no [PAD] before the end


def test_attention_maps_are_distributions_over_regions():
    model = _model()
    captions, attention = model.generate(
        _images(2), max_length=5, return_attention=True
    )
    assert len(captions) == len(attention) == 2
    for caption, entry in zip(captions, attention, strict=True):
        maps = entry["maps"]
        assert maps.shape[1:] == (8, 8) and 1 <= maps.shape[0] <= 5  # auto: block3
        assert len(entry["tokens"]) == len(maps)
        assert (
            model.tokenizer.detokenize(
                [[model.vocabulary.index(t) for t in entry["tokens"] if t != "[END]"]]
            )[0]
            == caption
            or caption == ""
        )
        np.testing.assert_allclose(maps.sum(axis=(1, 2)), 1.0, atol=1e-5)
    # Float32 maps from a mixed-precision model too (bfloat16 does not plot).
    mixed = _model(dtype="mixed_bfloat16")
    _, attention = mixed.generate(_images(1), max_length=3, return_attention=True)
    assert attention[0]["maps"].dtype == np.float32


def test_generate_accepts_one_image_and_every_sampler():
    model = _model()
    for sampler in ("greedy", "beam", "top_k"):
        caption = model.generate(_images(1)[0], max_length=3, sampler=sampler, seed=1)
        assert isinstance(caption, str)  # one image, one caption


@pytest.fixture(scope="module")
def tiny_scenes():
    train, _, _ = shapes_captions.load_data(
        num_train=96, num_validation=2, num_test=2, image_size=32, captions_per_image=2
    )
    return train


def test_loss_falls_when_training(tiny_scenes):
    model = VGG16LSTMCaptioner.from_captions(
        tiny_scenes["captions"],
        image_shape=(32, 32, 3),
        sequence_length=12,
        embedding_dim=16,
        lstm_units=32,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    dataset = model.caption_dataset(tiny_scenes["image"], tiny_scenes["captions"])
    loss_before, accuracy_before = model.evaluate(dataset, verbose=0)
    model.fit(dataset, epochs=4, verbose=0)
    loss_after, accuracy_after = model.evaluate(dataset, verbose=0)
    # A few steps teach the caption grammar first (from 1/vocabulary to the
    # most common words); the image-dependent words come with more training.
    assert loss_after < loss_before - 0.4, (loss_before, loss_after)
    assert accuracy_after > accuracy_before + 0.05, (accuracy_before, accuracy_after)


def test_fit_with_xla(tiny_scenes):
    model = VGG16LSTMCaptioner.from_captions(
        tiny_scenes["captions"],
        image_shape=(32, 32, 3),
        sequence_length=12,
        embedding_dim=8,
        lstm_units=8,
    )
    model.compile(jit_compile=True)
    dataset = model.caption_dataset(tiny_scenes["image"], tiny_scenes["captions"])
    history = model.fit(dataset.take(2), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    # Decoding compiles with XLA too (as on a GPU) and gives the same captions.
    images = tiny_scenes["image"][:3]
    with_xla = model.generate(images, max_length=6)
    assert any(key[-1] for key in model._generate_functions)
    model.jit_compile = False
    assert model.generate(images, max_length=6) == with_xla


def test_save_and_load_in_fresh_process(tmp_path):
    model = _model()
    images = _images(2)
    model.compile()
    model.fit(model.caption_dataset(images, CAPTIONS), epochs=2, verbose=0)
    inputs = {
        "image": images,
        "tokens": np.asarray(model.tokenize(["a blue square"] * 2))[:, :-1],
    }
    expected = model.predict(inputs, verbose=0)
    expected_captions = model.generate(images, max_length=6)
    reloaded = reload_in_fresh_process(
        model, inputs, str(tmp_path), generate={"images": images, "max_length": 6}
    )
    np.testing.assert_allclose(reloaded["outputs"], expected, atol=1e-6)
    assert reloaded["generated"] == expected_captions


def test_config_round_trip_keeps_vocabulary_and_preprocessing():
    model = _model(attention=False, dropout=0.2, image_preprocessing="caffe")
    config = model.get_config()
    clone = VGG16LSTMCaptioner.from_config(config)
    assert clone.vocabulary == model.vocabulary
    assert clone.get_config() == config
    # Pretrained weights are in the saved file: the config never fetches them,
    # but keeps the input scaling they were trained with.
    backbone = config["backbone"]["config"]
    assert backbone["weights"] is None and backbone["image_preprocessing"] == "caffe"
    assert _model().image_preprocessing == "symmetric"


def test_imagenet_weights_offline_give_a_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")  # what Keras raises offline

    monkeypatch.setattr(keras.applications, "VGG16", offline)
    with pytest.raises(RuntimeError, match="needs internet access.*weights=None"):
        _model(weights="imagenet")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"image_shape": (16, 16, 3)}, ValueError, r"image_shape=\(16, 16, 3\)"),
        ({"image_shape": (32, 32, 1)}, ValueError, r"image_shape=\(32, 32, 1\)"),
        ({"feature_layer": "block9"}, ValueError, "feature_layer='block9'"),
        ({"weights": "/nowhere/vgg.h5"}, ValueError, "weights='/nowhere/vgg.h5'"),
        ({"sequence_length": 0}, ValueError, "sequence_length=0"),
        ({"dropout": -0.1}, ValueError, "dropout=-0.1"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        _model(**kwargs)


def test_bad_vocabulary_and_inputs():
    with pytest.raises(ValueError, match="must start with the special tokens"):
        VGG16LSTMCaptioner(vocabulary=["a", "b"], **SMALL)
    with pytest.raises(TypeError, match="list of tokens"):
        VGG16LSTMCaptioner(vocabulary="abc", **SMALL)
    model = _model()
    with pytest.raises(ValueError, match="sampler='nucleus'"):
        model.generate(_images(1), sampler="nucleus")
    # Bounded work: 10^8 tokens took 47 s and 2.9 GB before the bound.
    for bad in (0, 10**8, 10**9):
        with pytest.raises(ValueError, match=f"max_length={bad}"):
            model.generate(_images(1), max_length=bad)
    with pytest.raises(ValueError, match="k=1000000"):
        model.generate(_images(1), sampler=TopKSampler(k=10**6))
    # A temperature where it means something, like the responder's.
    assert isinstance(
        model.generate(_images(1), sampler=TopPSampler(p=0.9, temperature=0.7)), list
    )
    with pytest.raises(ValueError, match="`temperature` only changes"):
        model.generate(_images(1), sampler=GreedySampler(temperature=0.7))
    with pytest.raises(ValueError, match="finite"):
        model.generate(_images(1), sampler=TopKSampler(temperature=float("inf")))
    # Pixels that are not pictures in [0, 255].
    with pytest.raises(ValueError, match="holds no image"):
        model.generate(np.zeros((0, 32, 32, 3)))
    for value in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="NaN or infinite"):
            model.generate(np.full((1, 32, 32, 3), value))
    with pytest.raises(TypeError, match="booleans"):
        model.generate(np.ones((1, 32, 32, 3), bool))
    with pytest.warns(UserWarning, match=r"scaled to \[0, 1\].*largest value 0.9"):
        model.generate(np.full((1, 32, 32, 3), 0.9))
    with pytest.raises(ValueError, match=r"images with shape \(1, 32, 32, 1\)"):
        model.generate(np.zeros((1, 32, 32, 1)))
    with pytest.raises(ValueError, match=r"images \[1\] have one"):
        model.caption_dataset(_images(2), [["a circle"], ["a square", "  "]])
    with pytest.raises(ValueError, match="no non-empty caption"):
        build_caption_vocabulary([[""], "  "])


def test_token_ids_and_images_of_another_size():
    model = _model()
    images = _images(2)
    captions = model.generate(images, max_length=5)
    ids = model.generate(images, max_length=5, detokenize=False)
    assert ids.dtype.kind == "i" and ids.shape == (2, 5)
    assert model.detokenize(ids) == captions
    # A model built for 32x32 takes 64x64 images (resized, as KerasHub's
    # ImageConverter does), for captions and for training.
    large = np.repeat(np.repeat(images, 2, axis=1), 2, axis=2)
    resized = keras.ops.convert_to_numpy(
        keras.ops.image.resize(large, (32, 32), antialias=True)
    )
    assert model.generate(large, max_length=5) == model.generate(resized, max_length=5)
    model.compile()
    history = model.fit(model.caption_dataset(large, CAPTIONS), verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_the_caption_length_cannot_change_after_construction():
    from keras_roleplay.models import (
        VGG16LSTMCaptionerPreprocessor,
        build_caption_vocabulary,
    )

    preprocessor = VGG16LSTMCaptionerPreprocessor(
        build_caption_vocabulary(["a red circle"]),
        sequence_length=12,
        image_shape=(32, 32, 3),
    )
    with pytest.raises(AttributeError, match="`sequence_length` is fixed"):
        preprocessor.sequence_length = 20
    assert preprocessor.get_config()["sequence_length"] == 12
