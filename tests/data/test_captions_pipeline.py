import json

import numpy as np
import pytest
import tensorflow as tf

from keras_roleplay.data import (
    image_caption_dataset,
    load_image_captions,
    read_captions_file,
)


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (40, 30, 3), dtype="uint8")
    tf.io.write_file(str(tmp_path / "big.png"), tf.io.encode_png(rgb))
    tf.io.write_file(str(tmp_path / "gray.jpg"), tf.io.encode_jpeg(rgb[..., :1]))
    rgba = np.concatenate([rgb[:10, :10], np.full((10, 10, 1), 128, "uint8")], -1)
    tf.io.write_file(str(tmp_path / "rgba.png"), tf.io.encode_png(rgba))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    return tmp_path


def test_csv_with_several_captions_per_image(folder):
    (folder / "captions.csv").write_text(
        "image_path,caption\n"
        "big.png,a noisy picture\n"
        "big.png,  random pixels  \n"
        "gray.jpg,a grey picture\n"
        "rgba.png,a small picture\n"
        "broken.jpg,never read\n"
        "missing.png,not there\n"
        "gray.jpg,\n"
        "empty.png,\n"
    )
    with pytest.warns(UserWarning, match="Skipped 3 of 6 images") as record:
        data = load_image_captions(
            str(folder / "captions.csv"), image_shape=(16, 16, 3)
        )
    message = str(record[0].message)
    assert "broken.jpg (not a readable image" in message
    assert "missing.png (file not found)" in message
    assert "empty.png (no non-empty caption)" in message
    assert data["paths"] == ["big.png", "gray.jpg", "rgba.png"]
    assert data["captions"] == [
        ["a noisy picture", "random pixels"],
        ["a grey picture"],
        ["a small picture"],
    ]
    images = data["image"]
    assert images.shape == (3, 16, 16, 3) and images.dtype == np.float32
    np.testing.assert_allclose(images[1][..., 0], images[1][..., 2])  # grey -> RGB
    assert 0 <= images.min() and images.max() <= 255


def test_jsonl_captions(folder):
    lines = [
        {"image": "big.png", "captions": ["one", "two"]},
        {"image_path": "rgba.png", "caption": "three"},
    ]
    path = folder / "captions.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    assert read_captions_file(str(path)) == {
        "big.png": ["one", "two"],
        "rgba.png": ["three"],
    }
    data = load_image_captions(str(path), image_shape=(8, 8, 3))
    assert data["skipped"] == [] and len(data["paths"]) == 2


def test_captions_file_errors(folder):
    bad_json = folder / "bad.jsonl"
    bad_json.write_text('{"image": "a.png", "caption": "x"}\n{oops\n')
    # A bad line is named and skipped; the good ones are kept.
    with pytest.warns(UserWarning, match=r"bad.jsonl: line 2 \(not valid JSON"):
        assert read_captions_file(str(bad_json)) == {"a.png": ["x"]}
    no_caption = folder / "nocap.jsonl"
    no_caption.write_text('{"image": "a.png"}\n')
    with pytest.warns(UserWarning, match=r'line 1 \(needs an "image" and a "caption"'):
        assert read_captions_file(str(no_caption)) == {}
    bad_csv = folder / "bad.csv"
    bad_csv.write_text("file,text\na.png,x\n")
    with pytest.raises(ValueError, match=r"Received columns: \['file', 'text'\]"):
        read_captions_file(str(bad_csv))
    with pytest.raises(ValueError, match="must be .csv or .jsonl"):
        read_captions_file(str(folder / "big.png"))
    with pytest.raises(FileNotFoundError, match="nothing.csv"):
        read_captions_file(str(folder / "nothing.csv"))
    only_missing = folder / "missing.csv"
    only_missing.write_text("image_path,caption\nnope.png,x\n")
    with (
        pytest.warns(UserWarning),
        pytest.raises(ValueError, match="No readable image"),
    ):
        load_image_captions(str(only_missing), image_shape=(8, 8, 3))


def test_dataset_pairs_every_caption_with_its_image():
    images = np.stack([np.full((4, 4, 3), v, "float32") for v in (10.0, 20.0, 30.0)])
    captions = [["a", "b"], "c", ["d", "e", "f"]]
    dataset = image_caption_dataset(
        images, captions, batch_size=4, shuffle=True, seed=1
    )
    pairs = [
        (float(image[0, 0, 0]), caption.decode())
        for batch_images, batch_captions in dataset
        for image, caption in zip(
            batch_images.numpy(), batch_captions.numpy(), strict=True
        )
    ]
    assert sorted(pairs) == [
        (10.0, "a"),
        (10.0, "b"),
        (20.0, "c"),
        (30.0, "d"),
        (30.0, "e"),
        (30.0, "f"),
    ]
    again = [c.decode() for _, cs in dataset for c in cs.numpy()]
    order = [caption for _, caption in pairs]
    assert sorted(again) == sorted(order)


def test_dataset_errors():
    with pytest.raises(ValueError, match=r"images with shape \(2, 4, 4\)"):
        image_caption_dataset(np.zeros((2, 4, 4)), ["a", "b"])
    with pytest.raises(ValueError, match="one entry .* per image \\(2\\)"):
        image_caption_dataset(np.zeros((2, 4, 4, 3)), ["a"])
    with pytest.raises(ValueError, match="no caption at all"):
        image_caption_dataset(np.zeros((1, 4, 4, 3)), [[]])


def test_grouped_dataset_holds_each_image_once_with_its_references():
    images = np.stack([np.full((4, 4, 3), v, "float32") for v in (10.0, 20.0, 30.0)])
    captions = [["a", "b"], "c", ["d", "e", "f"]]
    dataset = image_caption_dataset(
        images, captions, batch_size=2, shuffle=True, seed=1, group_references=True
    )
    assert dataset.element_spec[1].shape.as_list() == [None, 3]
    rows = sorted(
        (float(image[0, 0, 0]), tuple(c.decode() for c in references))
        for batch_images, batch_captions in dataset
        for image, references in zip(
            batch_images.numpy(), batch_captions.numpy(), strict=True
        )
    )
    # Padded with empty strings to the most references (3).
    assert rows == [
        (10.0, ("a", "b", "")),
        (20.0, ("c", "", "")),
        (30.0, ("d", "e", "f")),
    ]
