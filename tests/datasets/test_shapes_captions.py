import numpy as np
import pytest

from keras_roleplay.datasets import shapes_captions as sc
from keras_roleplay.datasets.shapes import COLOURS, SHAPES


@pytest.fixture(scope="module")
def examples():
    return sc.generate_examples(300, seed=0)


def test_deterministic_and_seeded():
    a, b = sc.generate_examples(10, seed=1), sc.generate_examples(10, seed=1)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(a["captions"], b["captions"])
    assert a["scene"] == b["scene"]
    assert not np.array_equal(a["image"], sc.generate_examples(10, seed=2)["image"])


def test_every_caption_names_every_object_of_its_scene(examples):
    for captions, scene in zip(examples["captions"], examples["scene"], strict=True):
        assert len(set(captions)) == len(captions)  # several distinct captions
        for caption in captions:
            for obj in scene:
                assert obj["shape"] in caption and obj["colour"] in caption, caption
            named = [s for s in SHAPES if s in caption]
            assert set(named) == {obj["shape"] for obj in scene}, caption


def test_image_pixels_show_the_scene(examples):
    # The colour of each object is present around the centre of its place.
    centers = {"left": (0.5, 0.27), "right": (0.5, 0.73), "top": (0.27, 0.5)}
    centers.update({"bottom": (0.73, 0.5), "middle": (0.5, 0.5)})
    size = examples["image"].shape[1]
    for image, scene in zip(
        examples["image"][:100], examples["scene"][:100], strict=True
    ):
        for obj in scene:
            y, x = (int(c * size) for c in centers[obj["place"]])
            patch = image[y - 4 : y + 5, x - 4 : x + 5].reshape(-1, 3).astype(int)
            distance = np.abs(patch - np.array(COLOURS[obj["colour"]])).sum(axis=1)
            assert distance.min() < 30, obj


def test_two_object_scenes_use_relations_and_articles():
    examples = sc.generate_examples(200, seed=3)
    two = [
        c
        for c, s in zip(examples["captions"], examples["scene"], strict=True)
        if len(s) == 2
    ]
    assert len(two) > 50
    text = " ".join(" ".join(c) for c in examples["captions"])
    assert "to the left of" in text and "above" in text
    assert " a orange" not in text and " a a" not in text
    assert "an orange" in text or "orange" not in text


def test_chinese_captions():
    examples = sc.generate_examples(50, language="zh", seed=4)
    for captions, scene in zip(examples["captions"], examples["scene"], strict=True):
        for caption in captions:
            assert not any(c.isascii() and c.isalpha() for c in caption), caption
            for obj in scene:
                assert sc.ZH["shape"][obj["shape"]] in caption
                assert sc.ZH["colour"][obj["colour"]] in caption


def test_load_data_splits_differ():
    train, val, test = sc.load_data(num_train=20, num_validation=5, num_test=5)
    assert train["image"].shape == (20, 64, 64, 3) and len(val["scene"]) == 5
    assert not np.array_equal(train["image"][:5], test["image"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"language": "de"}, "language='de'"),
        ({"image_size": 16}, "image_size=16"),
        ({"captions_per_image": 5}, "captions_per_image=5"),
        ({"captions_per_image": 0}, "captions_per_image=0"),
        ({"num_examples": -1}, "num_examples=-1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sc.generate_examples(**{"num_examples": 2, **kwargs})


@pytest.mark.parametrize("language", ["en", "zh"])
def test_true_captions_hold_every_sampled_caption(language):
    examples = sc.generate_examples(50, language=language, captions_per_image=4, seed=3)
    for captions, scene in zip(examples["captions"], examples["scene"], strict=True):
        truth = sc.true_captions(scene, language)
        assert set(captions) <= set(truth)
        assert len(truth) in (4, 5)
