"""The generating models in KerasHub's parts: backbone, preprocessor, task."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from keras_hub.samplers import TopPSampler

from keras_roleplay.models import (
    GenerativeTask,
    RoleResponder,
    RoleResponderBackbone,
    RoleResponderPreprocessor,
    RoleResponderTokenizer,
    VGG16LSTMCaptioner,
    VGG16LSTMCaptionerBackbone,
    VGG16LSTMCaptionerPreprocessor,
    build_caption_vocabulary,
    build_dialogue_vocabulary,
)

TEXTS = ["hello there", "good day to you", "ahoy , matey", "well met"]
ROLES = ["knight", "pirate"]
SMALL = dict(sequence_length=6, hidden_dim=8, num_heads=2, num_layers=1)


def _responder_parts(**overrides):
    settings = {**SMALL, **overrides}
    preprocessor = RoleResponderPreprocessor(
        build_dialogue_vocabulary(TEXTS),
        ROLES,
        sequence_length=settings["sequence_length"],
    )
    backbone = RoleResponderBackbone(
        preprocessor.vocabulary_size, num_roles=len(ROLES), **settings
    )
    return backbone, preprocessor


def test_task_from_parts_is_the_one_line_model():
    backbone, preprocessor = _responder_parts()
    model = RoleResponder(backbone=backbone, preprocessor=preprocessor)
    flat = RoleResponder(preprocessor.vocabulary, ROLES, **SMALL)
    assert isinstance(model, GenerativeTask)
    assert model.backbone is backbone and model.preprocessor is preprocessor
    assert isinstance(model.tokenizer, RoleResponderTokenizer)
    assert json.dumps(model.get_config()) == json.dumps(flat.get_config())
    # The settings stay readable under their old names.
    assert (model.sequence_length, model.hidden_dim, model.roles) == (6, 8, ROLES)
    # The task's output is its backbone's: no layer of its own.
    inputs = {
        "role": np.array([0, 1], "int32"),
        "context": np.array([[4, 5, 0, 0, 0, 0]] * 2, "int32"),
        "reply": np.array([[2, 6, 0, 0, 0, 0]] * 2, "int32"),
    }
    np.testing.assert_allclose(
        np.asarray(model.predict_on_batch(inputs)),
        np.asarray(backbone(inputs)),
        atol=1e-6,
    )
    assert len(model.weights) == len(backbone.weights)


def test_config_is_json_and_rebuilds_the_parts():
    # NumPy sizes (an image array's shape) become plain ints in the config.
    image_shape = np.zeros((1, 16, 16, 3)).shape[1:]
    model = RoleResponder(
        build_dialogue_vocabulary(TEXTS),
        ROLES,
        image_shape=tuple(np.int64(d) for d in image_shape),
        cnn_filters=(4,),
        **SMALL,
    )
    config = json.loads(json.dumps(model.get_config()))
    assert config["backbone"]["class_name"] == "RoleResponderBackbone"
    assert config["preprocessor"]["config"]["roles"] == ROLES
    assert config["preprocessor"]["config"]["image_shape"] == [16, 16, 3]
    clone = RoleResponder.from_config(config)
    assert isinstance(clone.backbone, RoleResponderBackbone)
    assert clone.get_config() == model.get_config()
    assert config["backbone"]["class_name"] == "RoleResponderBackbone"  # unchanged


def test_parts_that_do_not_match_are_refused():
    backbone, _ = _responder_parts()
    _, longer = _responder_parts(sequence_length=8)
    with pytest.raises(ValueError, match="sequence_length is 8, the backbone's 6"):
        RoleResponder(backbone=backbone, preprocessor=longer)
    backbone, preprocessor = _responder_parts()
    with pytest.raises(ValueError, match="not both"):
        RoleResponder(backbone=backbone, preprocessor=preprocessor, hidden_dim=16)
    with pytest.raises(TypeError, match="`preprocessor` must be a Role"):
        RoleResponder(backbone=backbone, preprocessor=None)
    with pytest.raises(TypeError, match="`backbone` must be a RoleResponderBackbone"):
        RoleResponder(backbone="network", preprocessor=preprocessor)
    with pytest.raises(ValueError, match="Pass `vocabulary` and `roles`"):
        RoleResponder(roles=ROLES)


def test_preprocessor_maps_strings_in_tf_data():
    backbone, preprocessor = _responder_parts(sequence_length=24)
    features = {
        "context": ["hello there", "ahoy"],
        "reply": ["good day to you", "ahoy , matey"],
        "role": [0, 1],
    }
    dataset = tf.data.Dataset.from_tensor_slices(features).batch(2).map(preprocessor)
    inputs, targets, weights = next(iter(dataset))
    assert sorted(inputs) == ["context", "reply", "role"]
    assert inputs["context"].shape == (2, 24) and targets.shape == (2, 24)
    # Teacher forcing: the targets are the reply read one token ahead.
    np.testing.assert_array_equal(inputs["reply"][:, 1:], targets[:, :-1])
    assert preprocessor.detokenize(targets.numpy()) == [
        "good day to you",
        "ahoy , matey",
    ]
    np.testing.assert_array_equal(weights.numpy(), targets.numpy() != 0)
    logits = backbone(inputs)
    assert tuple(logits.shape) == (2, 24, preprocessor.vocabulary_size)


def test_captioner_parts():
    captions = [["a red circle"], ["a blue square"]]
    preprocessor = VGG16LSTMCaptionerPreprocessor(
        build_caption_vocabulary(captions), sequence_length=5, image_shape=(32, 32, 3)
    )
    backbone = VGG16LSTMCaptionerBackbone(
        preprocessor.vocabulary_size,
        sequence_length=5,
        image_shape=(32, 32, 3),
        embedding_dim=8,
        lstm_units=8,
    )
    model = VGG16LSTMCaptioner(backbone=backbone, preprocessor=preprocessor)
    assert model.feature_grid == (8, 8) and model.lstm_units == 8
    clone = VGG16LSTMCaptioner.from_config(json.loads(json.dumps(model.get_config())))
    assert clone.get_config() == model.get_config()
    # A 48x48 image is resized by the preprocessor to the backbone's 32x32.
    assert isinstance(model.generate(np.zeros((48, 48, 3)), max_length=3), str)
    wrong = VGG16LSTMCaptionerPreprocessor(
        preprocessor.vocabulary, sequence_length=5, image_shape=(64, 64, 3)
    )
    with pytest.raises(ValueError, match=r"image_shape is \(64, 64, 3\)"):
        VGG16LSTMCaptioner(backbone=backbone, preprocessor=wrong)
    with pytest.raises(ValueError, match="not both"):
        VGG16LSTMCaptioner(backbone=backbone, preprocessor=preprocessor, lstm_units=16)


def test_preset_config_points_at_the_vocabulary_file(tmp_path):
    model = RoleResponder(build_dialogue_vocabulary(TEXTS), ROLES, **SMALL)
    model.save_to_preset(tmp_path)
    with open(tmp_path / "config.json", encoding="utf-8") as f:
        config = json.load(f)
    vocabulary = config["config"]["preprocessor"]["config"]["vocabulary"]
    assert vocabulary == os.path.join("assets", "tokenizer", "vocabulary.txt")
    lines = (tmp_path / vocabulary).read_text(encoding="utf-8").splitlines()
    assert lines == model.vocabulary
    again = RoleResponder.from_preset(str(tmp_path))
    assert again.vocabulary == model.vocabulary


def test_a_seed_is_sampler_state_not_a_new_compiled_function():
    model = RoleResponder.from_dialogues(TEXTS, roles=ROLES, **SMALL)
    options = dict(role="pirate", sampler=TopPSampler(p=1.0, temperature=2.0))
    replies = {seed: model.generate(["hello there"] * 4, seed=seed, **options)
               for seed in range(20)}  # fmt: skip
    assert len(model._generate_functions) == 1 and len(model._samplers) == 1
    # The same seed again, after other seeds: the same replies.
    assert model.generate(["hello there"] * 4, seed=3, **options) == replies[3]
    assert len({tuple(r) for r in replies.values()}) > 1  # seeds differ
    with pytest.raises(ValueError, match="seed"):
        model.generate("hello there", seed=2**32, **options)


def test_compile_sets_the_sampler_generate_uses_by_default():
    model = RoleResponder.from_dialogues(TEXTS, roles=ROLES, **SMALL)
    contexts = ["hello there"] * 8
    greedy = model.generate(contexts, role="pirate")
    assert len(set(greedy)) == 1  # greedy unless set
    sampler = TopPSampler(p=1.0, temperature=3.0)
    model.compile(sampler=sampler)
    assert model.sampler is sampler
    by_default = model.generate(contexts, role="pirate", seed=4)
    assert by_default == model.generate(
        contexts, role="pirate", sampler=sampler, seed=4
    )
    assert len(set(by_default)) > 1  # sampled, not greedy
    # A call's own sampler wins; a new object with the same settings
    # reuses the compiled function.
    assert model.generate(contexts, role="pirate", sampler="greedy") == greedy
    model.generate(contexts, role="pirate", sampler=TopPSampler(p=1.0, temperature=3.0))
    assert len(model._samplers) == 2
    with pytest.raises(ValueError, match="`sampler` must be one of"):
        model.compile(sampler="nucleus")


def test_per_call_settings_keep_a_bounded_number_of_functions():
    from keras_roleplay.models.generative_task import MAX_GENERATE_FUNCTIONS

    model = RoleResponder.from_dialogues(TEXTS, roles=ROLES, **SMALL)
    for i in range(MAX_GENERATE_FUNCTIONS + 4):
        model.generate(
            "hello there", role="pirate", sampler=TopPSampler(temperature=0.5 + i / 10)
        )
        model.generate("hello there", role="pirate", role_guidance=1.0 + i)
    assert len(model._samplers) <= MAX_GENERATE_FUNCTIONS
    assert len(model._generate_functions) <= MAX_GENERATE_FUNCTIONS
    # Every kept function belongs to a kept sampler.
    kept = {id(s) for s in model._samplers.values()}
    assert {key[0] for key in model._generate_functions} <= kept
