import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_roleplay.applications import (
    RoleResponder,
    ThreeBranchClassifier,
    VGG16LSTMCaptioner,
)
from tests.backends import cases

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CHILD = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    from keras_roleplay.applications import RoleResponder, VGG16LSTMCaptioner
    from tests.backends import cases
    responder = RoleResponder.from_preset(sys.argv[1])
    captioner = VGG16LSTMCaptioner.from_preset(sys.argv[2])
    print(json.dumps({
        "replies": [responder.generate(**r) for r in cases.generate_requests(
            "responder")],
        "captions": [captioner.generate(**r) for r in cases.generate_requests(
            "captioner")],
        "compiled": [responder.compiled, captioner.compiled],
    }))
    """
)


@pytest.fixture(scope="module")
def trained_models():
    models = {}
    for name in ("responder", "captioner"):
        keras.utils.set_random_seed(0)
        models[name] = cases.build(name)
        # A few epochs: the reload runs on the same backend, so the replies
        # must match exactly whatever the weights are.
        cases.train(models[name], name, epochs=3)
    return models


@pytest.mark.slow
def test_preset_round_trip_in_a_fresh_process(trained_models, tmp_path):
    folders = []
    for name in ("responder", "captioner"):
        folder = tmp_path / name
        trained_models[name].save_to_preset(folder)
        folders.append(str(folder))
    process = subprocess.run(
        [sys.executable, "-c", CHILD, *folders],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    loaded = json.loads(process.stdout.strip().splitlines()[-1])
    responder, captioner = trained_models["responder"], trained_models["captioner"]
    assert loaded["replies"] == [
        responder.generate(**r) for r in cases.generate_requests("responder")
    ]
    assert loaded["captions"] == [
        captioner.generate(**r) for r in cases.generate_requests("captioner")
    ]
    assert loaded["compiled"] == [True, True]


def test_preset_files_and_metadata(tmp_path):
    model = RoleResponder(
        ["[PAD]", "[UNK]", "[START]", "[END]", "hello", "##s"],
        roles=["a"],
        sequence_length=4,
        hidden_dim=8,
        num_heads=2,
        num_layers=1,
    )
    model.save_to_preset(tmp_path)
    with open(tmp_path / "config.json") as f:
        config = json.load(f)
    assert config["registered_name"] == "keras_roleplay>RoleResponder"
    assert "vocabulary" not in config["config"]  # it is an asset
    vocabulary = (tmp_path / "assets" / "tokenizer" / "vocabulary.txt").read_text()
    assert vocabulary.splitlines() == model.vocabulary
    with open(tmp_path / "metadata.json") as f:
        metadata = json.load(f)
    assert metadata["parameter_count"] == model.count_params()
    assert metadata["class_name"] == "RoleResponder"
    assert not RoleResponder.from_preset(tmp_path).compiled  # saved uncompiled


def test_a_preset_without_vocabulary_keeps_its_weights(tmp_path):
    model = ThreeBranchClassifier(
        image_shape=(16, 16, 3), text_length=4, audio_shape=(4,), image_filters=(4,)
    )
    model.compile(optimizer=keras.optimizers.SGD(0.05))
    model.save_to_preset(tmp_path)
    assert not (tmp_path / "assets").exists()
    loaded = ThreeBranchClassifier.from_preset(tmp_path)
    x = {
        "image": np.full((2, 16, 16, 3), 100.0, "float32"),
        "text": np.ones((2, 4), "float32"),
        "audio": np.ones((2, 4), "float32"),
    }
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert float(loaded.optimizer.learning_rate) == pytest.approx(0.05)
    fresh = ThreeBranchClassifier.from_preset(tmp_path, load_weights=False)
    assert not np.allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_preset_errors_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="No shipped preset named"):
        RoleResponder.from_preset("no_such_preset")
    with pytest.raises(ValueError, match="holds no preset"):
        RoleResponder.from_preset(tmp_path)
    with pytest.raises(TypeError, match="`preset` must be"):
        RoleResponder.from_preset(3)
    model = ThreeBranchClassifier(
        image_shape=(16, 16, 3), text_length=4, audio_shape=(4,), image_filters=(4,)
    )
    model.save_to_preset(tmp_path / "classifier")
    with pytest.raises(ValueError, match="ThreeBranchClassifier.from_preset"):
        VGG16LSTMCaptioner.from_preset(tmp_path / "classifier")


def test_a_config_with_two_vocabularies_is_refused():
    from keras_roleplay.utils.presets import _replace_list

    config = {"a": {"vocabulary": ["x", "y"]}, "b": {"vocabulary": ["x", "z"]}}
    with pytest.raises(ValueError, match="two different vocabulary lists"):
        _replace_list(config, "vocabulary", "assets/tokenizer/vocabulary.txt")
    same = {"a": {"vocabulary": ["x"]}, "b": [{"vocabulary": ["x"]}]}
    assert _replace_list(same, "vocabulary", "path") == ["x"]
    assert same == {"a": {"vocabulary": "path"}, "b": [{"vocabulary": "path"}]}
