import numpy as np
import pytest

from keras_roleplay.datasets import shakespeare
from keras_roleplay.metrics.ngram_fluency import (
    UNKNOWN,
    KneserNeyLanguageModel,
    word_tokens,
)

TEXTS = [
    "my good lord , what news ?",
    "good my lord , the king is come .",
    "what news , my lord ?",
    "the king is dead .",
]


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("context", [[], ["my"], ["good", "my"], ["zz", "qq"]])
def test_probabilities_of_every_word_sum_to_one(order, context):
    model = KneserNeyLanguageModel(TEXTS, order=order)
    words = sorted(model.vocabulary) + [UNKNOWN]
    total = sum(model.probability(w, context) for w in words)
    assert total == pytest.approx(1.0, abs=1e-9)
    assert all(model.probability(w, context) > 0 for w in words)


def test_the_continuation_count_decides_the_lower_order():
    # "francisco" is frequent but follows one word only; "lord" follows many.
    texts = ["san francisco ."] * 6 + ["my lord .", "good lord .", "a lord ."]
    model = KneserNeyLanguageModel(texts, order=2)
    # After an unseen context both back off to the continuation counts.
    assert model.probability("lord", ["zz"]) > model.probability("francisco", ["zz"])


def test_real_speeches_are_likelier_than_the_same_words_shuffled():
    train, _, test = shakespeare.load_data(10)
    model = KneserNeyLanguageModel(train["reply"])
    real = list(test["reply"][:100])
    rng = np.random.default_rng(0)
    shuffled = [" ".join(rng.permutation(word_tokens(t))) for t in real]
    assert model.perplexity(real) < 0.7 * model.perplexity(shuffled)
    made_up = [t.replace("e", "q") for t in real]  # words no play uses
    assert model.unknown_share(made_up) > 0.3 > model.unknown_share(real)


def test_errors():
    with pytest.raises(ValueError, match="no words"):
        KneserNeyLanguageModel(["", "  "])
    model = KneserNeyLanguageModel(TEXTS)
    with pytest.raises(TypeError, match="list of strings"):
        model.perplexity("my lord")
    with pytest.raises(ValueError, match="order"):
        KneserNeyLanguageModel(TEXTS, order=0)
