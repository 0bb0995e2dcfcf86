import keras
import numpy as np
import pytest

from keras_roleplay.applications import RoleResponder
from keras_roleplay.metrics import (
    RoleJudge,
    distinct_n,
    reply_perplexity,
    role_accuracy,
    rouge_l,
    speaker_accuracy,
)
from tests.saving import reload_in_fresh_process

VOCABULARY = ["[PAD]", "[UNK]", "ahoy", "matey", "sir", "indeed", "the", "ship", "tea"]
ROLES = ["pirate", "butler"]


def _texts(n, seed=0):
    """Pirates say ahoy/matey, butlers sir/indeed; both say the ship/tea."""
    rng = np.random.default_rng(seed)
    texts, roles = [], []
    for i in range(n):
        role = i % 2
        marker = ["ahoy", "matey"] if role == 0 else ["sir", "indeed"]
        words = list(rng.choice(["the", "ship", "tea"], size=3)) + [rng.choice(marker)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        roles.append(ROLES[role])
    return texts, roles


@pytest.fixture(scope="module")
def judge():
    keras.utils.set_random_seed(0)
    judge = RoleJudge(VOCABULARY, ROLES, sequence_length=6, hidden_dim=16)
    judge.compile()
    texts, roles = _texts(64)
    before = judge.evaluate(judge.text_dataset(texts, roles), verbose=0)[1]
    judge.fit(
        judge.text_dataset(texts, roles, shuffle=True, seed=0), epochs=15, verbose=0
    )
    return judge, before


def test_judge_learns_to_name_the_speaker(judge):
    judge, before = judge
    texts, roles = _texts(40, seed=1)
    accuracy = role_accuracy(judge, texts, roles)
    assert accuracy >= 0.95 > before
    # Replies that sound like the other role are attributed to it.
    swapped = [ROLES[1 - ROLES.index(r)] for r in roles]
    assert role_accuracy(judge, texts, swapped) <= 0.05
    assert role_accuracy(judge, texts, [ROLES.index(r) for r in roles]) == accuracy


def test_an_empty_text_gets_finite_scores_and_trains_without_nan():
    # An empty reply (a sampler may end at once) pools over the first
    # position, not over nothing: no 0 / 0 in a batch's loss.
    keras.utils.set_random_seed(0)
    judge = RoleJudge(VOCABULARY, ROLES, sequence_length=6, hidden_dim=16)
    judge.compile()
    logits = judge.predict(judge.tokenize(["", "ahoy"]), verbose=0)
    assert np.isfinite(logits).all()
    judge.fit(judge.text_dataset(["", "ahoy", "", "sir"], ROLES * 2), verbose=0)
    assert all(np.isfinite(w).all() for w in judge.get_weights())


def test_judge_round_trip_in_a_fresh_process(judge, tmp_path):
    judge, _ = judge
    inputs = np.asarray(judge.tokenize(_texts(6, seed=2)[0]))
    loaded = reload_in_fresh_process(judge, inputs, tmp_path)
    np.testing.assert_allclose(
        loaded["outputs"], judge.predict(inputs, verbose=0), atol=1e-6
    )


def test_judge_rejects_bad_input(judge):
    judge, _ = judge
    with pytest.raises(ValueError, match="Unknown role 'cook'"):
        role_accuracy(judge, ["ahoy"], ["cook"])
    with pytest.raises(ValueError, match="same length"):
        role_accuracy(judge, ["ahoy", "sir"], ["pirate"])
    with pytest.raises(ValueError, match="two distinct"):
        RoleJudge(VOCABULARY, ["pirate"])
    with pytest.raises(ValueError, match=r"\[PAD\]"):
        RoleJudge(["ahoy", "sir", "tea"], ROLES)
    for bad, error in ((None, TypeError), (5, TypeError), ([5, None], TypeError)):
        with pytest.raises(error, match="texts"):
            judge.predict_roles(bad)
    assert judge.predict_roles([]) == []
    assert judge.predict_roles("ahoy matey") == judge.predict_roles(["ahoy matey"])


def _responder():
    return RoleResponder(
        vocabulary=[*VOCABULARY[:2], "[START]", "[END]", *VOCABULARY[2:]],
        roles=ROLES,
        sequence_length=4,
        reply_length=5,
        hidden_dim=16,
        num_heads=2,
        num_layers=1,
    )


def test_speaker_accuracy_is_the_most_likely_role_per_reply():
    keras.utils.set_random_seed(0)
    model = _responder()  # untrained: its guesses are arbitrary but defined
    replies, roles = _texts(6, seed=3)
    contexts = ["the ship"] * len(replies)
    # The same guess from one perplexity per (reply, role): equal token
    # counts, so the lowest perplexity is the highest likelihood.
    guesses = [
        np.argmin(
            [
                reply_perplexity(model, model.dialogue_dataset([c], [r], role))
                for role in range(len(ROLES))
            ]
        )
        for c, r in zip(contexts, replies, strict=True)
    ]
    expected = np.mean(np.array(guesses) == [ROLES.index(r) for r in roles])
    assert speaker_accuracy(model, contexts, replies, roles) == pytest.approx(expected)


def test_speaker_accuracy_rises_as_the_responder_learns_the_roles():
    keras.utils.set_random_seed(0)
    model = _responder()
    replies, roles = _texts(64)
    contexts = ["the ship"] * len(replies)
    held_out, held_out_roles = _texts(40, seed=1)
    before = speaker_accuracy(model, contexts[:40], held_out, held_out_roles)
    model.compile()
    model.fit(
        model.dialogue_dataset(contexts, replies, roles, shuffle=True, seed=0),
        epochs=20,
        verbose=0,
    )
    after = speaker_accuracy(model, contexts[:40], held_out, held_out_roles)
    assert after >= 0.95 > before
    with pytest.raises(ValueError, match="Unknown role 'cook'"):
        speaker_accuracy(model, ["the ship"], ["ahoy"], ["cook"])


def test_distinct_n_counts_unique_ngrams():
    assert distinct_n(["a a a a"], 1) == 0.25
    assert distinct_n(["a b c", "a b d"], 2) == 0.75  # ab, bc, ab, bd
    assert distinct_n(["红色的圆形"], 1, language="zh") == 1.0
    assert distinct_n(["a"], 2) == 0.0


def test_rouge_l_is_longest_common_subsequence_f1():
    # LCS("the red circle", "the big red circle") = 3: P = 3/4, R = 1.
    assert rouge_l(["the red circle"], ["the big red circle"]) == pytest.approx(
        2 * 0.75 / 1.75, abs=1e-6
    )
    assert rouge_l(["a b"], ["c d"]) == 0.0
    # Chinese is compared per character (LCS 4 of 5 and 4).
    assert rouge_l(["红色圆形"], ["红色的圆形"], language="zh") == pytest.approx(
        2 * 0.8 / 1.8, abs=1e-6
    )
    with pytest.raises(ValueError, match="same"):
        rouge_l(["a"], ["a", "b"])


def test_nats_per_character_scores_whole_replies_only():
    from keras_roleplay.metrics import reply_nats_per_character, reply_perplexity

    keras.utils.set_random_seed(0)
    texts = ["good morrow , my lord .", "what news ?", "ay ."]
    model = RoleResponder.from_dialogues(
        texts,
        roles=["a"],
        sequence_length=8,
        reply_length=16,
        hidden_dim=8,
        num_heads=2,
        num_layers=1,
    )
    contexts = ["hi", "hi", "hi"]
    replies = ["what news ?", "ay .", "good morrow , my lord . " * 3]
    scores = reply_nats_per_character(model, contexts, replies, ["a"] * 3)
    assert scores["whole"] == pytest.approx(2 / 3)  # the long one is cut
    whole = model.dialogue_dataset(contexts[:2], replies[:2], ["a"] * 2)
    assert scores["perplexity"] == pytest.approx(reply_perplexity(model, whole), 1e-4)
    tokens = sum(len(model.tokenizer(r)) + 1 for r in replies[:2])
    characters = sum(len(r) + 1 for r in replies[:2])
    expected = np.log(scores["perplexity"]) * tokens / characters
    assert scores["nats_per_character"] == pytest.approx(expected, 1e-4)
