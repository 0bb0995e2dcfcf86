"""Flickr8k/Flickr30k and COCO caption files, in their own layouts, and streaming."""

import json
import os
import warnings

import numpy as np
import pytest
import tensorflow as tf

from keras_roleplay.applications import VGG16LSTMCaptioner
from keras_roleplay.data import (
    image_caption_file_dataset,
    load_image_captions,
    read_captions_file,
    read_split_list,
)


def _image(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tf.io.write_file(str(path), tf.io.encode_jpeg(np.full((12, 10, 3), value, "uint8")))


@pytest.fixture
def flickr8k(tmp_path):
    """A Flickr8k folder: `Flicker8k_Dataset/`, the token file, split lists."""
    folder = tmp_path / "Flicker8k_Dataset"
    names = [f"{1000 + i}_abc.jpg" for i in range(5)]
    for i, name in enumerate(names[:4]):  # the fifth image is missing
        _image(folder / name, 40 * i)
    (folder / names[3]).write_bytes(b"\xff\xd8\xff not a jpeg")  # corrupt
    lines = [f"{name}#{k}\tCaption {k} of {name} ." for name in names for k in range(5)]
    lines.insert(7, "a line without a tab")
    (tmp_path / "Flickr8k.token.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "Flickr_8k.trainImages.txt").write_text(
        "\n".join([names[0], names[1], names[3], names[4]]) + "\n"
    )
    (tmp_path / "Flickr_8k.testImages.txt").write_text(names[2] + "\n")
    return tmp_path, names


def test_flickr8k_token_file_and_split_lists(flickr8k):
    root, names = flickr8k
    with pytest.warns(UserWarning, match=r"line 8 \(not \"image.jpg#n<TAB>caption\""):
        table = read_captions_file(str(root / "Flickr8k.token.txt"))
    assert list(table) == names
    assert all(len(captions) == 5 for captions in table.values())
    assert table[names[0]][4] == f"Caption 4 of {names[0]} ."
    with pytest.warns(UserWarning) as caught:
        train = load_image_captions(
            str(root / "Flickr8k.token.txt"),
            image_shape=(8, 8, 3),
            image_dir=str(root / "Flicker8k_Dataset"),
            split=str(root / "Flickr_8k.trainImages.txt"),
        )
    message = str(caught[0].message)
    assert f"{names[3]} (not a readable image" in message
    assert f"{names[4]} (file not found)" in message
    assert "line 8" in message
    assert train["paths"] == names[:2]  # the split's readable images, in order
    assert [len(c) for c in train["captions"]] == [5, 5]
    np.testing.assert_allclose(train["image"][1], 40, atol=2)
    with pytest.warns(UserWarning, match="Skipped 1 of 2 images or rows"):
        test = load_image_captions(  # only the token file's bad line is named
            str(root / "Flickr8k.token.txt"),
            image_shape=(8, 8, 3),
            image_dir=str(root / "Flicker8k_Dataset"),
            split=read_split_list(str(root / "Flickr_8k.testImages.txt")),
        )
    assert test["paths"] == [names[2]] and len(test["captions"][0]) == 5


@pytest.fixture
def coco(tmp_path):
    """`annotations/captions_train2017.json` and `train2017/`, as COCO ships."""
    images = [{"id": 9 + i, "file_name": f"0000000{9 + i}.jpg"} for i in range(3)]
    for i, image in enumerate(images):
        _image(tmp_path / "train2017" / image["file_name"], 60 * i)
    annotations = [
        {"id": 100 + n, "image_id": image["id"], "caption": f"A scene {n}. "}
        for n, image in enumerate(images * 5)
    ]
    annotations.insert(3, {"id": 1, "image_id": 404, "caption": "No such image."})
    annotations.insert(5, {"id": 2, "image_id": 9, "caption": None})
    os.makedirs(tmp_path / "annotations")
    with open(tmp_path / "annotations" / "captions_train2017.json", "w") as f:
        json.dump({"info": {}, "images": images, "annotations": annotations}, f)
    return tmp_path, [image["file_name"] for image in images]


def test_coco_captions_json(coco):
    root, names = coco
    with pytest.warns(UserWarning) as caught:
        data = load_image_captions(
            str(root / "annotations" / "captions_train2017.json"),
            image_shape=(8, 8, 3),
            image_dir=str(root / "train2017"),
        )
    message = str(caught[0].message)
    assert "Skipped 2 of 5 images or rows" in message
    assert 'annotation 3 (image_id 404 is not in "images")' in message
    assert "annotation 5 (a caption that is not text: None)" in message
    assert data["paths"] == names
    assert data["captions"][0] == [f"A scene {n}." for n in (0, 3, 6, 9, 12)]
    assert data["image"].shape == (3, 8, 8, 3)


def test_a_jsonl_file_named_json_is_still_read_as_rows(tmp_path):
    path = tmp_path / "captions.json"
    path.write_text('{"image": "a.png", "caption": "a red circle"}\n')
    assert read_captions_file(str(path)) == {"a.png": ["a red circle"]}


def test_the_stream_reads_every_good_pair_and_names_the_bad_files(coco):
    root, names = coco
    (root / "train2017" / names[1]).write_bytes(b"cut")
    path = str(root / "annotations" / "captions_train2017.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = image_caption_file_dataset(
            path, (8, 8, 3), image_dir=str(root / "train2017"), batch_size=4,
            shuffle=True, seed=1,
        )  # fmt: skip
    for _ in range(2):  # each pass reads the files again, and names the bad one
        with pytest.warns(UserWarning, match=rf"Skipped 1 of 3 images .*{names[1]}"):
            pairs = [
                (round(float(image.mean())), text.decode())
                for images, texts in dataset
                for image, text in zip(images.numpy(), texts.numpy(), strict=True)
            ]
        assert len(pairs) == 10  # 2 good images x 5 captions
        assert {value for value, _ in pairs} == {0, 120}
    grouped = image_caption_file_dataset(
        {names[0]: ["one", "two"], names[2]: ["three"]},
        (8, 8, 3),
        image_dir=str(root / "train2017"),
        batch_size=2,
        group_references=True,
    )
    images, texts = next(iter(grouped))
    assert texts.numpy().tolist() == [[b"one", b"two"], [b"three", b""]]
    with pytest.raises(ValueError, match="image_dir"):
        image_caption_file_dataset({"a.jpg": ["x"]}, (8, 8, 3))


@pytest.mark.slow
def test_a_captioner_trains_on_the_stream(flickr8k):
    root, names = flickr8k
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = read_captions_file(str(root / "Flickr8k.token.txt"))
        dataset = image_caption_file_dataset(
            str(root / "Flickr8k.token.txt"),
            (32, 32, 3),
            image_dir=str(root / "Flicker8k_Dataset"),
            batch_size=5,
        )
    model = VGG16LSTMCaptioner.from_captions(
        [c for captions in table.values() for c in captions],
        image_shape=(32, 32, 3),
        feature_layer="block2_pool",
        sequence_length=14,
        embedding_dim=8,
        lstm_units=8,
    )
    model.compile(optimizer="adam")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(dataset.map(model.preprocessor), epochs=2, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 2 and losses[1] < losses[0]
