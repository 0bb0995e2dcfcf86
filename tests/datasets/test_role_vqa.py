import numpy as np
import pytest

from keras_roleplay.datasets import role_vqa
from keras_roleplay.datasets.shapes import COLOURS, PLACES, SHAPES


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_gold_answer_is_right_about_its_scene(language):
    data = role_vqa.generate_examples(600, language=language, seed=3)
    for answer, kind, truth, scene in zip(
        data["answer"], data["type"], data["truth"], data["scene"], strict=True
    ):
        assert role_vqa.answer_is_correct(answer, kind, truth, language)
        # The truth is the scene's, read from the objects drawn.
        if kind == "count":
            assert int(truth) == len(scene)
        else:
            assert truth in {obj[kind] for obj in scene}
    assert set(data["type"]) == set(role_vqa.QUESTION_TYPES)
    assert set(data["role"].tolist()) == set(range(len(role_vqa.ROLES)))


def test_a_wrong_or_hedged_answer_is_wrong():
    assert role_vqa.answer_is_correct("the circle is red .", "colour", "red")
    assert not role_vqa.answer_is_correct("the circle is blue .", "colour", "red")
    assert not role_vqa.answer_is_correct("red or blue .", "colour", "red")
    assert not role_vqa.answer_is_correct("happy to help .", "colour", "red")
    assert role_vqa.answer_is_correct("there are two shapes .", "count", "2")
    assert not role_vqa.answer_is_correct("there is one shape .", "count", 2)
    assert role_vqa.answer_is_correct("圆形在左边。", "place", "left", "zh")
    assert not role_vqa.answer_is_correct("圆形在右边。", "place", "left", "zh")
    with pytest.raises(ValueError, match="truth"):
        role_vqa.answer_is_correct("x", "colour", "pink")
    with pytest.raises(ValueError, match="question_type"):
        role_vqa.answer_is_correct("x", "size", "big")


def test_role_phrases_hold_no_answer_word():
    # Otherwise the content check would read the role's phrasing as an answer.
    for language in ("en", "zh"):
        words = role_vqa.WORDS[language]
        values = [words["colour"][c] for c in COLOURS]
        values += [words["shape"][s] for s in SHAPES]
        values += [words["place"][p] for p in PLACES]
        values += (
            ["one", "two"] if language == "en" else list(role_vqa.COUNTS["zh"].values())
        )
        for styles in role_vqa.STYLES[language].values():
            for phrase in (p for pair in styles for p in pair):
                padded = f" {phrase} "
                for value in values:
                    assert (f" {value} " if language == "en" else value) not in padded


def test_questions_name_only_unambiguous_shapes():
    data = role_vqa.generate_examples(800, seed=5)
    for question, kind, scene in zip(
        data["question"], data["type"], data["scene"], strict=True
    ):
        if kind in ("colour", "place"):
            named = [s for s in SHAPES if f" {s} " in f" {question} "]
            assert len(named) == 1
            assert sum(obj["shape"] == named[0] for obj in scene) == 1


def test_splits_are_deterministic_and_different():
    a = role_vqa.load_data(20, 5, 5, seed=1)
    b = role_vqa.load_data(20, 5, 5, seed=1)
    np.testing.assert_array_equal(a[0]["image"], b[0]["image"])
    assert list(a[0]["answer"]) == list(b[0]["answer"])
    assert not np.array_equal(a[1]["image"], a[2]["image"])
    assert a[0]["image"].shape == (20, 48, 48, 3) and a[2]["question"].shape == (5,)
