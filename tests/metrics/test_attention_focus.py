"""The attention-focus measure on real scenes of the bundled data."""

import numpy as np
import pytest

from keras_roleplay.datasets import shapes_captions
from keras_roleplay.metrics import attention_focus
from keras_roleplay.metrics.attention_focus import (
    attention_in_box,
    named_object,
    object_box,
)


def _scenes(n=20):
    return shapes_captions.generate_examples(n, image_size=32, seed=5)


def test_an_even_map_scores_one_and_a_map_on_the_object_scores_high():
    data = _scenes()
    even, pointed = [], []
    for image, scene in zip(data["image"], data["scene"], strict=True):
        tokens = [obj["shape"] for obj in scene]
        even.append({"tokens": tokens, "maps": np.ones((len(tokens), 8, 8))})
        maps = np.zeros((len(tokens), 8, 8))
        for i, obj in enumerate(scene):
            top, left, bottom, right = object_box(image, obj["colour"])
            maps[i, top // 4 : -(-bottom // 4), left // 4 : -(-right // 4)] = 1.0
        pointed.append({"tokens": tokens, "maps": maps})
    flat = attention_focus(data["image"], even, data["scene"])
    focused = attention_focus(data["image"], pointed, data["scene"])
    assert flat["words"] == focused["words"] >= 20
    assert flat["ratio"] == pytest.approx(1.0, abs=1e-9)
    assert focused["ratio"] > 4 and focused["mass"] > 0.5


def test_boxes_hold_the_objects_pixels():
    data = _scenes(4)
    for image, scene in zip(data["image"], data["scene"], strict=True):
        for obj in scene:
            top, left, bottom, right = object_box(image, obj["colour"])
            assert 0 <= top < bottom <= 32 and 0 <= left < right <= 32
    assert object_box(np.zeros((8, 8, 3)), "red") is None


def test_only_a_word_that_names_one_object_counts():
    scene = [
        {"shape": "circle", "colour": "red"},
        {"shape": "circle", "colour": "blue"},
    ]
    assert named_object("circle", scene) is None  # two circles
    assert named_object("blue", scene)["colour"] == "blue"
    assert named_object("the", scene) is None


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="colour"):
        object_box(np.zeros((4, 4, 3)), "teal")
    with pytest.raises(ValueError, match="non-negative"):
        attention_in_box(np.zeros((2, 2)), (0, 0, 1, 1), (4, 4))
    with pytest.raises(ValueError, match="one entry an image"):
        attention_focus(np.zeros((2, 4, 4, 3)), [], [])
