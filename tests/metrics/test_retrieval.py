import pytest

from keras_roleplay.metrics import recall_at_k


def test_any_relevant_candidate_counts():
    relevant = [[1, 1, 0], [0, 0, 1], [0, 1, 0]]
    ranked = [[1, 0, 2], [0, 2, 1], [2, 0, 1]]
    assert recall_at_k(ranked, relevant, 1) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, relevant, 2) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, relevant, 3) == 1.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="fewer than k=3"):
        recall_at_k([[0, 1]], [[1, 0]], k=3)
    with pytest.raises(ValueError, match="relevant with shape \\(3,\\)"):
        recall_at_k([[0]], [1, 0, 0])
    with pytest.raises(ValueError, match="k"):
        recall_at_k([[0]], [[1]], k=0)
