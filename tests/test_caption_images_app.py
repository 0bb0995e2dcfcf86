"""The application applications/caption_images.py, run as a user would.

Its `main` runs in this process (`tests.cli.run_main`: the same exit codes and
output, without a new interpreter's TensorFlow import); the shipped preset's
test runs it as a real process, end to end."""

import csv
import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from keras_roleplay.applications import VGG16LSTMCaptioner
from keras_roleplay.datasets import shapes_captions
from tests.cli import run_main

SCRIPT = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "applications", "caption_images.py"
)


def _folder(tmp_path):
    examples = shapes_captions.generate_examples(3, image_size=48, seed=5)
    folder = tmp_path / "photos"
    folder.mkdir()
    lines = ["image_path,caption"]
    for i, (image, captions) in enumerate(
        zip(examples["image"], examples["captions"], strict=True)
    ):
        tf.io.write_file(str(folder / f"p{i}.png"), tf.io.encode_png(image))
        lines.append(f"p{i}.png,{captions[0]}")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    (folder / "notes.txt").write_text("not an image at all")
    (folder / "captions.csv").write_text("\n".join(lines) + "\n")
    return folder


def _run(*args):
    return run_main(SCRIPT, *args)


def _run_process(*args):
    return subprocess.run(
        [sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=600
    )


def _read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_caption_a_folder_with_a_saved_model(tmp_path):
    folder = _folder(tmp_path)
    model = VGG16LSTMCaptioner.from_captions(
        [["a red circle"], ["a blue square"]],
        image_shape=(32, 32, 3),
        sequence_length=6,
        embedding_dim=8,
        lstm_units=8,
    )
    model.save(str(tmp_path / "m.keras"))
    output = tmp_path / "out.csv"
    result = _run(
        "--model",
        str(tmp_path / "m.keras"),
        "--images",
        str(folder),
        "--output",
        str(output),
        "--sampler",
        "beam",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = _read(output)
    assert [r["image_path"] for r in rows] == ["p0.png", "p1.png", "p2.png"]
    assert all(isinstance(r["caption"], str) for r in rows)
    assert "broken.jpg (not a readable image" in result.stderr
    assert "notes.txt" not in result.stderr


def test_train_on_own_captions_then_caption(tmp_path):
    folder = _folder(tmp_path)
    output, saved = tmp_path / "out.csv", tmp_path / "trained.keras"
    result = _run(
        "--train",
        str(folder / "captions.csv"),
        "--epochs",
        "1",
        "--images",
        str(folder),
        "--output",
        str(output),
        "--save-model",
        str(saved),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(_read(output)) == 3 and os.path.isfile(saved)
    assert "training on 3 images for 1 epochs" in result.stderr


def test_with_no_model_the_shipped_preset_captions_the_folder(tmp_path):
    folder = _folder(tmp_path)
    output = tmp_path / "out.csv"
    result = _run_process(str(folder), "--output", str(output))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = _read(output)
    assert [row["image_path"] for row in rows] == [f"p{i}.png" for i in range(3)]
    # The captions the preset gives these images in this process, and true
    # ones: the preset was trained on such scenes (BLEU-4 on its card).
    preset = VGG16LSTMCaptioner.from_preset("captioner_shapes_en")
    images = shapes_captions.generate_examples(3, image_size=48, seed=5)["image"]
    assert [row["caption"] for row in rows] == preset.generate(images)
    assert "broken.jpg" in result.stderr
    # It says once what the preset knows.
    assert result.stderr.count("knows only coloured shapes (circles, squares") == 1


def test_needs_a_folder_and_a_loadable_model(tmp_path):
    result = _run()
    assert result.returncode == 2 and "folder of images" in result.stderr
    result = _run(str(tmp_path), "--preset", "no_such_preset")
    assert result.returncode == 2 and "no_such_preset" in result.stderr
    result = _run("--model", str(tmp_path / "none.keras"), "--images", str(tmp_path))
    assert result.returncode != 0
    assert np.any(["none.keras" in line for line in result.stderr.splitlines()])


def test_bad_folders_and_outputs_are_refused_and_nothing_half_written(tmp_path):
    result = _run(str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "no folder of images at" in result.stderr
    # A folder of unreadable images only: each named, exit 1, no CSV.
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.png").write_bytes(b"")
    (bad / "truncated.png").write_bytes(
        tf.io.encode_png(np.zeros((8, 8, 3), "uint8")).numpy()[:30]
    )
    output = tmp_path / "out.csv"
    result = _run(str(bad), "--output", str(output))
    assert result.returncode == 1, result.stderr[-2000:]
    assert "No readable image" in result.stderr
    assert "empty.png" in result.stderr and "truncated.png" in result.stderr
    assert "Traceback" not in result.stderr and not output.exists()
    # An output in a folder that does not exist: refused before any work.
    folder = _folder(tmp_path)
    missing = tmp_path / "no" / "out.csv"
    result = _run(str(folder), "--output", str(missing))
    assert result.returncode == 2 and "Cannot write" in result.stderr
    # A successful run leaves the CSV and no temporary file beside it.
    result = _run(str(folder), "--output", str(output))
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(_read(output)) == 3
    assert sorted(os.listdir(tmp_path)) == ["bad", "out.csv", "photos"]
