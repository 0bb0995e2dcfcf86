import pytest

from keras_roleplay.metrics import caption_bleu


def test_perfect_partial_and_disjoint_captions():
    references = [["a red circle on the left", "a red circle"], ["a blue square"]]
    perfect = caption_bleu(references, ["a red circle on the left", "a blue square"])
    assert perfect == pytest.approx({f"bleu_{n}": 1.0 for n in range(1, 5)})
    disjoint = caption_bleu(references, ["green cross", "yellow triangle"])
    assert disjoint["bleu_1"] == 0.0
    partial = caption_bleu(references, ["a red circle on the right", "a blue square"])
    assert 0.0 < partial["bleu_4"] < partial["bleu_2"] < partial["bleu_1"] < 1.0


def test_chinese_is_scored_per_character():
    references = [["左边有一个红色圆形"]]
    as_words = caption_bleu(references, ["左边有一个蓝色圆形"], language="en")
    by_char = caption_bleu(references, ["左边有一个蓝色圆形"], language="zh")
    assert as_words["bleu_1"] == 0.0  # one "word" each, and they differ
    assert by_char["bleu_1"] == pytest.approx(8 / 9, abs=1e-4)


def test_errors():
    with pytest.raises(ValueError, match="one entry per image"):
        caption_bleu([["a"]], ["a", "b"])
    with pytest.raises(ValueError, match="language='fr'"):
        caption_bleu([["a"]], ["a"], language="fr")
    with pytest.raises(ValueError, match="empty"):
        caption_bleu([], [])
