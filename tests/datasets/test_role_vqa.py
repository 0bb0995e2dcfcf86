import numpy as np
import pytest

from keras_roleplay.datasets import role_vqa
from keras_roleplay.datasets.role_vqa_phrasings import (
    FAMILIES,
    HELD_OUT_FAMILIES,
    misspell,
)
from keras_roleplay.datasets.shapes import COLOURS, PLACES, SHAPES, WORDS


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


def test_phrasings_change_only_the_questions_wording():
    plain = role_vqa.generate_examples(120, seed=3)
    varied = role_vqa.generate_examples(120, seed=3, phrasings=FAMILIES)
    for key in ("answer", "role", "type", "truth", "image"):
        np.testing.assert_array_equal(plain[key], varied[key])
    assert set(plain["family"]) == {"template"}
    assert set(varied["family"]) == set(FAMILIES)
    changed = plain["question"] != varied["question"]
    assert np.all(changed[varied["family"] != "template"])


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_phrasing_still_names_what_it_asks_about(language):
    data = role_vqa.generate_examples(
        400, language=language, seed=1, phrasings=HELD_OUT_FAMILIES + ("superlative",)
    )
    words = WORDS[language]
    for question, kind, family, scene, truth in zip(
        data["question"],
        data["type"],
        data["family"],
        data["scene"],
        data["truth"],
        strict=True,
    ):
        if family == "superlative":
            assert len(scene) == 1  # "the biggest thing" names one object
            continue
        targets = [o for o in scene if kind != "count" and o[kind] == truth]
        if kind in ("colour", "place"):
            assert any(words["shape"][o["shape"]] in question for o in targets)
        elif kind == "shape":
            assert any(words["place"][o["place"]] in question for o in targets)
    assert set(data["family"]) == set(HELD_OUT_FAMILIES + ("superlative",))


def test_typos_differ_from_the_template_by_one_word_or_character():
    rng = np.random.default_rng(0)
    for _ in range(50):
        typo = misspell("what colour is the circle ?", rng, {"circle"})
        changed = [
            (a, b)
            for a, b in zip(
                typo.split(), "what colour is the circle ?".split(), strict=True
            )
            if a != b
        ]
        assert len(changed) == 1 and changed[0][1] in ("what", "colour")
    assert misspell("三角形在哪里？", rng, {"三角形"}, "zh") == "三角形在那里？"


def test_unknown_phrasings_are_refused():
    with pytest.raises(ValueError, match="phrasings.*'slang'"):
        role_vqa.generate_examples(2, phrasings=["template", "slang"])
    with pytest.raises(ValueError, match="phrasings"):
        role_vqa.load_data(2, 1, 1, phrasings=[])


def test_answers_correct_checks_each_answer_against_its_own_question():
    data = role_vqa.generate_examples(12, seed=3)
    gold = role_vqa.answers_correct(data["answer"], data["type"], data["truth"])
    assert gold.dtype == bool and gold.all()
    # Every answer against the next question's truth: right only where the
    # two questions share their type and value.
    shifted = np.roll(np.arange(12), 1)
    crossed = role_vqa.answers_correct(
        data["answer"], data["type"][shifted], data["truth"][shifted]
    )
    expected = [
        role_vqa.answer_is_correct(a, kind, truth)
        for a, kind, truth in zip(
            data["answer"], data["type"][shifted], data["truth"][shifted], strict=True
        )
    ]
    assert crossed.tolist() == expected and not crossed.all()
    with pytest.raises(ValueError):
        role_vqa.answers_correct(["a"], ["colour", "shape"], ["red", "circle"])
