"""The application applications/role_chat.py, run from a pipe as a user would.

Its `main` runs in this process (`tests.cli.run_main`: the same exit codes and
output, without a new interpreter's TensorFlow import); the shipped preset's
test runs it as a real process, end to end."""

import os
import subprocess
import sys

import keras
import numpy as np
import tensorflow as tf

from keras_roleplay.applications import RoleResponder
from keras_roleplay.data.text import GENERATION_TOKENS
from keras_roleplay.datasets.shapes import draw_scene
from keras_roleplay.datasets.shapes_captions import random_objects
from tests.cli import run_main

SCRIPT = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "applications", "role_chat.py"
)
WORDS = ["hello", "there", "ahoy", "matey", "good", "morrow", "ship", "tea"]


def _run(*args, stdin=""):
    return run_main(SCRIPT, *args, stdin=stdin)


def _run_process(*args, stdin=""):
    return subprocess.run(
        [sys.executable, SCRIPT, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _saved_model(tmp_path, **kwargs):
    keras.utils.set_random_seed(0)
    model = RoleResponder(
        [*GENERATION_TOKENS, *WORDS],
        roles=["knight", "pirate"],
        sequence_length=4,
        reply_length=6,
        hidden_dim=16,
        num_heads=2,
        num_layers=1,
        **kwargs,
    )
    contexts = ["hello there", "hello"] * 8
    replies = ["good morrow", "ahoy matey"] * 8
    images = (
        np.random.default_rng(0).uniform(0, 255, (16, *kwargs["image_shape"]))
        if "image_shape" in kwargs
        else None
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(
        model.dialogue_dataset(
            contexts, replies, ["knight", "pirate"] * 8, images=images
        ),
        epochs=20,
        verbose=0,
    )
    path = tmp_path / "responder.keras"
    model.save(path)
    return model, str(path)


def test_pipe_gives_one_reply_per_line_as_the_model_would(tmp_path):
    model, path = _saved_model(tmp_path)
    lines = ["hello there", "", "hello", "/role knight", "hello there"]
    result = _run(
        "--model", path, "--role", "pirate", "--sampler", "greedy",
        stdin="\n".join(lines) + "\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    replies = result.stdout.strip().split("\n")
    expected = model.generate(["hello there", "hello"], role="pirate")
    expected += model.generate(["hello there"], role="knight")
    assert replies == expected
    # The sampler's settings from the command line: as generate gives them.
    options = dict(sampler="beam", no_repeat_ngram_size=2, role_guidance=3.0)
    result = _run(
        "--model", path, "--role", "knight", "--sampler", "beam",
        "--no-repeat-ngram-size", "2", "--role-guidance", "3",
        stdin="hello there\n",
    )  # fmt: skip
    assert result.stdout.strip() == model.generate("hello there", "knight", **options)
    # Banned words are honoured from the command line.
    result = _run("--model", path, "--role", "pirate", "--ban", "ahoy", stdin="hello\n")
    assert result.returncode == 0 and "ahoy" not in result.stdout.split()


def test_errors_are_reported_and_the_chat_goes_on(tmp_path):
    _, path = _saved_model(tmp_path)
    result = _run("--model", path, "--role", "wizard", stdin="hello\n")
    assert result.returncode != 0 and "Unknown role 'wizard'" in result.stderr
    result = _run("--model", path, "--save-model", "/no/such/dir/m.keras")
    assert result.returncode == 2 and "Cannot write" in result.stderr
    result = _run("--model", path, "--temperature", "0")
    assert result.returncode == 2 and "--temperature must be above 0" in result.stderr
    result = _run("--model", path, "--role-guidance", "-1")
    assert result.returncode == 2 and "--role-guidance must be above 0" in result.stderr
    long_line = "hello there " * 4
    result = _run("--model", path, stdin=f"{long_line}\nhello\n")
    assert result.returncode == 0
    # The long line keeps its last words, with a note; both are answered.
    assert "note: Context 0 has 8 tokens" in result.stderr
    assert "sequence_length=4" in result.stderr
    assert len(result.stdout.strip().split("\n")) == 2
    result = _run("--model", path, "--image", "x.png", stdin="hello\n")
    assert result.returncode != 0 and "text-only" in result.stderr
    damaged = tmp_path / "damaged.keras"
    damaged.write_bytes(open(path, "rb").read()[:500])
    result = _run("--model", str(damaged), stdin="hello\n")
    assert result.returncode != 0 and "not a .keras model file" in result.stderr
    assert "Traceback" not in result.stderr


def test_image_model_talks_about_a_bundled_scene(tmp_path):
    _, path = _saved_model(tmp_path, image_shape=(32, 32, 3), cnn_filters=(4, 8))
    result = _run("--model", path, "--scene-seed", "3", stdin="hello\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "bundled scene, seed 3" in result.stderr
    assert len(result.stdout.strip().split("\n")) == 1
    # A missing or damaged image file: one clear line, no TensorFlow trace.
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(
        tf.io.encode_jpeg(np.zeros((32, 32, 3), "uint8")).numpy()[:100]
    )
    for image, reason in (
        (tmp_path / "missing.png", "file not found"),
        (truncated, "not a readable image"),
    ):
        result = _run("--model", path, "--image", str(image), stdin="hello\n")
        assert result.returncode != 0 and result.stdout == ""
        assert f"--image {image}: {reason}" in result.stderr
        assert "Traceback" not in result.stderr
    # Bytes that are not UTF-8 on standard input are answered, not fatal.
    result = _run("--model", path, stdin=b"hel\xfflo\n\x00\x01\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(result.stdout.strip().split("\n")) == 2


def test_with_no_model_the_shipped_preset_answers_about_a_bundled_scene():
    question = "Could you tell me what colour the biggest thing in the picture is?"
    result = _run_process(
        "--role", "doctor", "--scene-seed", "3", stdin=question + "\n"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "training" not in result.stderr  # loaded, not trained
    (reply,) = result.stdout.strip().split("\n")
    preset = RoleResponder.from_preset("role_vqa_en")
    rng = np.random.default_rng(3)
    objects = random_objects(rng)
    image = draw_scene(rng, 64, objects).astype("float32")
    assert reply == preset.generate(question, role="doctor", image=image)
    # A one-object scene: the answer names its colour (the preset's skill).
    assert len(objects) == 1 and objects[0]["colour"] in reply.split()
    result = _run("--preset", "no_such_preset", stdin="hello\n")
    assert result.returncode != 0 and "no_such_preset" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_shakespeare_preset_answers_as_the_chosen_character():
    line = "What news from Venice, good Iago?"
    role = ("--preset", "shakespeare_roles", "--role", "Iago (Othello)")
    result = _run(*role, "--sampler", "greedy", stdin=line + "\n")
    assert result.returncode == 0, result.stderr[-2000:]
    (reply,) = result.stdout.strip().split("\n")
    preset = RoleResponder.from_preset("shakespeare_roles")
    assert reply == preset.generate(line, role="Iago (Othello)")
    # By default a dialogue model samples (top-p): replies differ line to line.
    result = _run(*role, stdin=f"{line}\n" * 4)
    replies = result.stdout.split("\n")[:-1]
    assert len(replies) == 4 and len(set(replies)) > 1
    # The preset keeps to the words of the plays (its lexicon) by default.
    words = {w.replace(" ##", "") for w in preset.lexicon}
    assert set(" ".join(replies).split()) <= words
    # Text-only: an image is refused with a clear message.
    result = _run("--preset", "shakespeare_roles", "--image", "x.png", stdin="hi\n")
    assert result.returncode != 0 and "text-only" in result.stderr
