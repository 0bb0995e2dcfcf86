"""The package works on a machine with JAX alone: import, build every model
(the role judge too), `fit` on arrays, `generate` from token ids, save and
load. Only strings and `tf.data` need TensorFlow, and say so.

Runs in a child process where `import tensorflow` fails (as on the GPU
machines, which have JAX and PyTorch but no TensorFlow).
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = textwrap.dedent(
    """
    import importlib.abc, json, os, sys

    class NoTensorFlow(importlib.abc.MetaPathFinder):
        # As if TensorFlow and its companions were not installed.
        def find_spec(self, name, path, target=None):
            if name.split(".")[0].startswith("tensorflow"):
                raise ModuleNotFoundError(f"No module named {name!r}")

    sys.meta_path.insert(0, NoTensorFlow())
    os.environ["KERAS_BACKEND"] = "jax"
    import keras
    import numpy as np
    import keras_roleplay
    from keras_roleplay.applications import (
        RoleResponder, ThreeBranchClassifier, VGG16LSTMCaptioner)
    from keras_roleplay.metrics import RoleJudge
    from keras_roleplay.utils.special_tokens import GENERATION_TOKENS

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    words = ["hello", "there", "ahoy", "matey", "good", "morrow"]
    vocabulary = [*GENERATION_TOKENS, *words]
    report = {}

    def losses(model, x, y, w=None, epochs=8):
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        history = model.fit(
            x, y, sample_weight=w, epochs=epochs, batch_size=8, verbose=0)
        return history.history["loss"]

    classifier = ThreeBranchClassifier(
        num_classes=2, image_shape=(16, 16, 3), text_length=4,
        text_vocabulary_size=10, audio_shape=(6,), image_filters=(4,))
    x = {"image": rng.uniform(0, 255, (16, 16, 16, 3)).astype("float32"),
         "text": rng.integers(0, 10, (16, 4)).astype("int32"),
         "audio": rng.normal(size=(16, 6)).astype("float32")}
    report["classifier"] = losses(classifier, x, np.arange(16) % 2)

    responder = RoleResponder(
        vocabulary, roles=["knight", "pirate"], sequence_length=4,
        reply_length=4, image_shape=(16, 16, 3), cnn_filters=(4,),
        hidden_dim=8, num_heads=2, num_layers=1)
    role = np.arange(16) % 2
    reply = np.where(role[:, None] == 0, [2, 8, 9, 3], [2, 6, 7, 3])
    x = {"role": role, "context": np.full((16, 4), 4), "reply": reply[:, :-1],
         # One image for all: the role alone tells the replies apart.
         "image": np.repeat(rng.uniform(0, 255, (1, 16, 16, 3)), 16, 0)}
    # Pad reply_length to 4: targets are the reply shifted by one.
    x["reply"] = np.pad(x["reply"], ((0, 0), (0, 1)))
    y = np.pad(reply[:, 1:], ((0, 0), (0, 1)))
    report["responder"] = losses(
        responder, x, y, (y > 0).astype("float32"), epochs=30)
    ids = np.array([[4, 5], [4, 5]])
    greedy = responder.generate(ids, role=["knight", "pirate"], image=x["image"][:2])
    beam = responder.generate(
        ids, role=["knight", "pirate"], image=x["image"][:2], sampler="beam")
    report["responder_generated"] = [greedy.tolist(), beam.tolist()]
    try:
        responder.generate("hello there", role="knight", image=x["image"][0])
    except ImportError as error:
        report["string_error"] = str(error)

    captioner = VGG16LSTMCaptioner(
        vocabulary, image_shape=(32, 32, 3), sequence_length=4,
        embedding_dim=8, lstm_units=8)
    images = rng.uniform(0, 255, (16, 32, 32, 3)).astype("float32")
    tokens = np.pad(reply[:, :-1], ((0, 0), (0, 1)))
    report["captioner"] = losses(
        captioner, {"image": images, "tokens": tokens}, y, (y > 0).astype("float32"))
    report["captioner_generated"] = captioner.generate(
        images[:2], detokenize=False).tolist()

    judge = RoleJudge(vocabulary, roles=["knight", "pirate"], sequence_length=4,
                      hidden_dim=8, num_heads=2)
    speeches = np.where(role[:, None] == 0, [8, 9, 0, 0], [6, 7, 0, 0])
    report["judge"] = losses(judge, speeches, role, epochs=30)

    path = os.path.join(sys.argv[1], "responder.keras")
    responder.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    report["reload_difference"] = float(np.abs(
        loaded.predict(x, verbose=0) - responder.predict(x, verbose=0)).max())
    report["tensorflow_imported"] = any(
        name.startswith("tensorflow") for name in sys.modules)
    print(json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("without_tensorflow")
    process = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["classifier", "responder", "captioner", "judge"])
def test_every_model_builds_and_learns_from_arrays(report, name):
    assert report[name][-1] < 0.8 * report[name][0], report[name]


@pytest.mark.slow
def test_generate_from_token_ids(report):
    greedy, beam = report["responder_generated"]
    assert len(greedy) == 2 and len(greedy[0]) == 4
    # It learned the role's reply: [8, 9, END] for the knight, [6, 7, END]
    # for the pirate.
    assert greedy[0][:3] == [8, 9, 3] and greedy[1][:3] == [6, 7, 3]
    assert beam == greedy
    assert len(report["captioner_generated"]) == 2


@pytest.mark.slow
def test_strings_say_they_need_tensorflow(report):
    assert "needs TensorFlow" in report["string_error"]
    assert "pip install tensorflow" in report["string_error"]


@pytest.mark.slow
def test_saves_and_loads_and_never_imports_tensorflow(report):
    assert report["reload_difference"] < 1e-6
    assert report["tensorflow_imported"] is False
