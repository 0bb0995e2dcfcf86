"""CIDEr-D against the COCO caption evaluation's own implementation."""

import numpy as np
import pytest

from keras_roleplay.metrics import CiderD, caption_cider_d

REFERENCES = [
    [
        "a man riding a horse on a beach",
        "a person rides a brown horse along the sea",
        "a rider on a horse near the water",
    ],
    [
        "two dogs play with a ball in the grass",
        "a pair of dogs chase a red ball",
        "dogs playing in a green field",
    ],
    [
        "a plate of food with rice and vegetables",
        "a dish of rice beside some broccoli",
        "food on a white plate",
    ],
    [
        "a cat sleeping on a sofa",
        "a grey cat asleep on the couch",
        "a cat lying on a couch",
    ],
]
CANDIDATES = [
    "a man rides a horse on the beach",
    "a dog a dog a dog a dog a dog",
    "a plate of rice and broccoli",
    "a cat",
]


def test_same_scores_as_the_coco_evaluation():
    # pycocoevalcap 1.2, cider/cider_scorer.py (CiderScorer(n=4, sigma=6.0)),
    # on the same texts: per image and the mean.
    expected = [1.9445296020327942, 0.0, 1.8605982180190015, 1.7200736501694938]
    scores = CiderD(REFERENCES).score(CANDIDATES, REFERENCES)
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    assert caption_cider_d(REFERENCES, CANDIDATES) == pytest.approx(1.3813003675553224)


def test_repeating_a_right_word_does_not_pay():
    cider = CiderD(REFERENCES)
    clean, repeated, padded = cider.score(
        [
            "a man riding a horse on a beach",
            "a man riding a horse horse horse horse on a beach",
            "a man riding a horse on a beach on a beach on a beach on a beach",
        ],
        [REFERENCES[0]] * 3,
    )
    assert clean > repeated and clean > padded


def test_document_frequencies_come_from_the_corpus_given():
    # "horse" in one image's references of four weighs more than in all four.
    rare = CiderD(REFERENCES).score(["a horse"], [REFERENCES[0]])[0]
    common = CiderD([REFERENCES[0]] * 4).score(["a horse"], [REFERENCES[0]])[0]
    assert rare > 0 and common == 0.0


def test_chinese_is_scored_per_character():
    references = [["一个红色的圆"], ["一个蓝色的方块"]]
    same = CiderD(references, language="zh").score(["一个红色的圆"], [references[0]])
    other = CiderD(references, language="zh").score(["蓝色方块"], [references[0]])
    assert same[0] > 5 and other[0] < 1


@pytest.mark.parametrize(
    "candidates, references, error, words",
    [
        ("a cat", [["a cat"]], TypeError, "`candidates`"),
        (["a cat"], [["a cat"], ["a dog"]], ValueError, "one entry per image"),
        (["a cat"], [[]], ValueError, "no reference caption"),
        (["a cat"], "a cat", TypeError, "`reference_groups`"),
    ],
)
def test_bad_arguments_are_named(candidates, references, error, words):
    with pytest.raises(error, match=words):
        CiderD([["a cat"]]).score(candidates, references)
