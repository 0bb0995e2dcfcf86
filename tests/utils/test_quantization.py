"""int8-quantized models of every family save, load in a fresh process and run."""

import os
import warnings

import numpy as np
import pytest

from keras_roleplay.applications import (
    DualEncoder,
    RoleResponder,
    ThreeBranchClassifier,
    VGG16LSTMCaptioner,
)
from keras_roleplay.metrics import RoleJudge
from keras_roleplay.utils.quantization import saved_dtype, split_dtype
from tests.saving import reload_in_fresh_process

IMAGES = np.random.default_rng(0).integers(0, 255, (2, 32, 32, 3)).astype("float32")


def _responder():
    model = RoleResponder.from_dialogues(
        ["what colour is it ?", "it is red", "it is blue"],
        roles=["doctor", "teacher"],
        sequence_length=8,
        hidden_dim=16,
        num_heads=2,
        num_layers=1,
        image_shape=(32, 32, 3),
    )
    inputs = {
        "role": np.array([0, 1]),
        "context": model.tokenize_context(["what colour is it ?"] * 2),
        "reply": model.tokenize_reply(["it is red"] * 2)[:, :-1],
        "image": IMAGES,
    }
    generate = dict(context=["what colour is it ?"] * 2, role="doctor", image=IMAGES)
    return model, inputs, generate


def _captioner():
    model = VGG16LSTMCaptioner.from_captions(
        ["a red circle", "a blue square"],
        image_shape=(32, 32, 3),
        feature_layer="block2_pool",
        sequence_length=6,
    )
    inputs = {"image": IMAGES, "tokens": np.ones((2, 6), "int32")}
    return model, inputs, dict(images=IMAGES)


def _classifier():
    model = ThreeBranchClassifier(
        image_shape=(16, 16, 3), text_length=4, audio_shape=(4,), image_filters=(4,)
    )
    inputs = {
        "image": IMAGES[:, :16, :16],
        "text": np.ones((2, 4), "int32"),
        "audio": np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4),
    }
    return model, inputs, None


def _judge():
    model = RoleJudge(
        ["[PAD]", "[UNK]", "good", "day", "sir"], ["knight", "pirate"], 4, 8
    )
    return model, np.array([[2, 3, 4, 0], [4, 4, 0, 0]]), None


def _dual_encoder():
    model = DualEncoder(
        ["[PAD]", "[UNK]", "red", "circle"],
        image_shape=(32, 32, 3),
        sequence_length=4,
        embedding_dim=8,
        hidden_dim=8,
        cnn_filters=(4,),
    )
    inputs = {"image": IMAGES, "token_ids": np.array([[2, 3, 0, 0], [3, 0, 0, 0]])}
    return model, inputs, None


@pytest.mark.parametrize(
    "build", [_responder, _captioner, _classifier, _judge, _dual_encoder]
)
def test_int8_model_loads_in_a_fresh_process_with_the_same_outputs(build, tmp_path):
    model, inputs, generate = build()
    float_outputs = model.predict(inputs, verbose=0)
    if generate is not None:
        model.generate(**generate)  # a decoding function traced before quantizing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras: layers with nothing to quantize
        model.quantize("int8")
    int8_outputs = model.predict(inputs, verbose=0)
    # Quantized: close to the float model, not equal to it.
    assert not np.array_equal(int8_outputs, float_outputs)
    np.testing.assert_allclose(int8_outputs, float_outputs, atol=0.1)

    loaded = reload_in_fresh_process(model, inputs, tmp_path, generate=generate)
    np.testing.assert_allclose(loaded["outputs"], int8_outputs, atol=1e-5)
    if generate is not None:
        assert loaded["generated"] == model.generate(**generate)


def test_an_int8_file_is_under_half_the_float_one(tmp_path):
    # int8 kernels are a quarter of float32 ones; the scales, the layers
    # Keras does not quantize (normalisation, position embeddings) and the
    # config (the vocabulary) are not smaller.
    model = RoleResponder.from_dialogues(
        [f"word{i}" for i in range(300)],
        roles=["a"],
        vocabulary_size=400,
        sequence_length=16,
        hidden_dim=64,
        num_heads=2,
        num_layers=2,
    )
    model.save(tmp_path / "float.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.quantize("int8")
    model.save(tmp_path / "int8.keras")
    ratio = os.path.getsize(tmp_path / "int8.keras") / os.path.getsize(
        tmp_path / "float.keras"
    )
    assert ratio < 0.5, ratio


def test_a_model_without_quantized_layers_saves_its_dtype_unchanged():
    model, _, _ = _judge()
    assert saved_dtype(model, None) is None
    assert saved_dtype(model, "mixed_bfloat16") == "mixed_bfloat16"
    assert split_dtype("float32") == ("float32", {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.quantize("int8")
    default, quantized = split_dtype(saved_dtype(model, None))
    assert default is None
    assert quantized["role_logits"].quantization_mode == "int8"
    # Saving leaves the live layers' policies as they were (Keras clears the
    # names of the policies in a map serialized without a default).
    assert model.get_layer("role_logits").dtype_policy.name == "int8_from_float32"
