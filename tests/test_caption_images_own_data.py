"""caption_images.py --train on Flickr8k and COCO layouts, and VGG16 weights files."""

import csv
import json
import os
import subprocess
import sys

import h5py
import keras
import numpy as np
import tensorflow as tf
from keras.src.legacy.saving import legacy_h5_format

from keras_roleplay.datasets import shapes_captions
from tests.cli import run_main

SCRIPT = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "applications", "caption_images.py"
)
SMALL = ["--image-size", "32", "--epochs", "2"]


def _scenes(count, seed):
    examples = shapes_captions.generate_examples(count, image_size=32, seed=seed)
    return examples["image"], examples["captions"]


def _flickr8k(root):
    """Flickr8k's layout: the token file, `Flicker8k_Dataset/`, split lists."""
    images, captions = _scenes(8, seed=1)
    folder = root / "Flicker8k_Dataset"
    folder.mkdir(parents=True)
    lines, names = [], []
    for i, (image, texts) in enumerate(zip(images, captions, strict=True)):
        name = f"{3000 + i}_f{i}.jpg"
        tf.io.write_file(str(folder / name), tf.io.encode_jpeg(image))
        lines += [f"{name}#{k}\t{text}" for k, text in enumerate(texts)]
        names.append(name)
    (root / "Flickr8k.token.txt").write_text("\n".join(lines) + "\n")
    (root / "Flickr_8k.trainImages.txt").write_text("\n".join(names[:6]) + "\n")
    (root / "Flickr_8k.testImages.txt").write_text("\n".join(names[6:]) + "\n")
    return names


def _coco(root):
    """COCO's layout: `annotations/captions_train2017.json` and `train2017/`."""
    images, captions = _scenes(6, seed=2)
    (root / "train2017").mkdir(parents=True)
    (root / "annotations").mkdir()
    entries, annotations = [], []
    for i, (image, texts) in enumerate(zip(images, captions, strict=True)):
        name = f"{i + 1:012d}.jpg"
        tf.io.write_file(str(root / "train2017" / name), tf.io.encode_jpeg(image))
        entries.append({"id": i + 1, "file_name": name, "height": 32, "width": 32})
        annotations += [
            {"id": 100 * i + k, "image_id": i + 1, "caption": text}
            for k, text in enumerate(texts)
        ]
    with open(root / "annotations" / "captions_train2017.json", "w") as f:
        json.dump({"images": entries, "annotations": annotations}, f)


def _photos(root):
    folder = root / "photos"
    folder.mkdir()
    for i, image in enumerate(_scenes(3, seed=9)[0]):
        tf.io.write_file(str(folder / f"p{i}.png"), tf.io.encode_png(image))
    return folder


def _captions(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {row["image_path"]: row["caption"] for row in csv.DictReader(f)}


def _preset_captions(preset, folder):
    code = (
        "import json, os, keras_roleplay\n"
        "from keras_roleplay.applications import VGG16LSTMCaptioner\n"
        "from keras_roleplay.data import load_image_folder\n"
        f"model = VGG16LSTMCaptioner.from_preset({preset!r})\n"
        f"images, names, _ = load_image_folder({str(folder)!r}, model.image_shape)\n"
        "print(json.dumps(dict(zip(names, model.generate(images)))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_flickr8k_folder_trains_a_preset_on_its_training_split(tmp_path):
    _flickr8k(tmp_path / "Flickr8k")
    photos = _photos(tmp_path)
    preset = str(tmp_path / "flickr_captioner")
    result = run_main(
        SCRIPT, "--train", str(tmp_path / "Flickr8k"), *SMALL,
        "--save-preset", preset, "--images", str(photos),
        "--output", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Flickr_8k.trainImages.txt" in result.stderr
    assert "training on 6 images" in result.stderr  # the split, not all 8
    written = _captions(tmp_path / "out.csv")
    assert sorted(written) == ["p0.png", "p1.png", "p2.png"]
    assert _preset_captions(preset, photos) == written


def _vgg16_weights_file(path):
    """A VGG16 "notop" file in the layout Keras downloads (random values)."""
    keras.utils.set_random_seed(4)
    vgg16 = keras.applications.VGG16(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, vgg16)
    return vgg16.get_layer("block1_conv1").get_weights()[0]


def test_coco_captions_stream_with_a_vgg16_weights_file(tmp_path):
    _coco(tmp_path / "coco")
    photos = _photos(tmp_path)
    weights = str(tmp_path / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
    kernel = _vgg16_weights_file(weights)
    model_path = str(tmp_path / "captioner.keras")
    result = run_main(
        SCRIPT, "--train",
        str(tmp_path / "coco" / "annotations" / "captions_train2017.json"),
        "--stream", "--image-weights", weights, *SMALL,
        "--save-model", model_path, "--images", str(photos),
        "--output", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "training on 6 images read from their files" in result.stderr
    model = keras.saving.load_model(model_path)
    encoder = model.backbone.get_layer("vgg16_encoder")
    # The file's weights, unchanged by training (frozen by default).
    np.testing.assert_array_equal(
        encoder.get_layer("block1_conv1").get_weights()[0], kernel
    )
    assert len(_captions(tmp_path / "out.csv")) == 3


def test_bad_training_sources_are_named(tmp_path):
    photos = _photos(tmp_path)
    (tmp_path / "empty").mkdir()
    result = run_main(SCRIPT, "--train", str(tmp_path / "empty"), str(photos))
    assert result.returncode == 2 and "Flickr token file" in result.stderr
    (tmp_path / "annotations").mkdir()
    lonely = tmp_path / "annotations" / "captions_val2017.json"
    lonely.write_text('{"images": [], "annotations": []}')
    result = run_main(SCRIPT, "--train", str(lonely), str(photos))
    assert result.returncode == 2 and "val2017/" in result.stderr
    result = run_main(
        SCRIPT, "--train", "bundled", "--image-weights", "nowhere.h5", str(photos)
    )
    assert result.returncode == 2 and "--image-weights: no such file" in result.stderr
