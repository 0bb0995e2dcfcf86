import keras
import numpy as np
import pytest

from keras_roleplay.applications import RoleResponder
from keras_roleplay.data.text import GENERATION_TOKENS
from keras_roleplay.training import (
    evaluate_replies,
    fit_responder,
    train_role_judge,
    warmup_cosine_adamw,
)
from keras_roleplay.utils.pipeline import set_pipeline_epoch

ROLES = ["knight", "pirate"]
WORDS = ["hello", "bye", "good", "morrow", "ahoy", "matey", "farewell", "yo", "ho"]
REPLIES = {
    ("knight", "hello"): "good morrow",
    ("pirate", "hello"): "ahoy matey",
    ("knight", "bye"): "farewell",
    ("pirate", "bye"): "yo ho",
}


def _data(repeat):
    keys = list(REPLIES) * repeat
    return [c for _, c in keys], [REPLIES[k] for k in keys], [r for r, _ in keys]


def test_warmup_then_cosine_decay():
    schedule = warmup_cosine_adamw(100, peak_learning_rate=1e-2)._learning_rate
    rates = [float(schedule(step)) for step in (0, 5, 50, 100)]
    assert rates[0] == 0.0 and rates[1] == pytest.approx(1e-2)
    assert rates[1] > rates[2] > rates[3] > 0.0


def test_role_dropout_hides_roles_differently_every_epoch():
    model = RoleResponder(
        [*GENERATION_TOKENS, *WORDS],
        ROLES,
        sequence_length=2,
        hidden_dim=8,
        num_heads=2,
        num_layers=1,
    )
    contexts, replies, roles = _data(100)
    data = model.dialogue_dataset(
        contexts, replies, roles, batch_size=400, role_dropout=0.3, seed=1
    )
    set_pipeline_epoch(0)
    first, second = (np.asarray(next(iter(data))[0]["role"]) for _ in range(2))
    set_pipeline_epoch(0)  # a resumed run draws epoch 0's roles again
    np.testing.assert_array_equal(np.asarray(next(iter(data))[0]["role"]), first)
    for epoch in (first, second):
        assert 0.2 < (epoch == -1).mean() < 0.4
        assert set(epoch.tolist()) == {-1, 0, 1}
    assert (first != second).any()
    plain = next(iter(model.dialogue_dataset(contexts, replies, roles, batch_size=400)))
    assert (np.asarray(plain[0]["role"]) >= 0).all()


def _tiny_responder():
    return RoleResponder(
        [*GENERATION_TOKENS, *WORDS],
        ROLES,
        sequence_length=2,
        reply_length=4,
        hidden_dim=16,
        num_heads=2,
        num_layers=1,
        dropout=0.0,
    )


def test_fit_responder_learns_and_keeps_the_best_epoch():
    keras.utils.set_random_seed(0)
    model = _tiny_responder()
    contexts, replies, roles = _data(8)
    validation = _data(1)
    history = fit_responder(
        model,
        contexts,
        replies,
        roles,
        epochs=6,
        validation=validation,
        early_stopping=True,
        peak_learning_rate=5e-3,
    ).history
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    # The weights kept are those of the epoch with the lowest validation loss.
    loss = model.evaluate(model.dialogue_dataset(*validation), verbose=0)[0]
    assert loss == pytest.approx(min(history["val_loss"]), rel=1e-4)


def test_fit_responder_errors():
    model = _tiny_responder()
    contexts, replies, roles = _data(1)
    with pytest.raises(ValueError, match="early_stopping=True.*validation=None"):
        fit_responder(model, contexts, replies, roles, early_stopping=True)
    with pytest.raises(ValueError, match="`validation` must be .*2 items"):
        fit_responder(model, contexts, replies, roles, validation=(contexts, replies))
    with pytest.raises(ValueError, match="epochs"):
        fit_responder(model, contexts, replies, roles, epochs=0)


@pytest.mark.slow
def test_evaluation_scores_a_model_that_follows_its_role():
    keras.utils.set_random_seed(0)
    model = _tiny_responder()
    contexts, replies, roles = _data(16)
    fit_responder(model, contexts, replies, roles, epochs=15, peak_learning_rate=5e-3)
    judge = train_role_judge(
        model.vocabulary,
        ROLES,
        replies,
        roles,
        epochs=30,
        sequence_length=4,
        hidden_dim=8,
    )
    contexts, replies, roles = _data(2)
    scores = evaluate_replies(model, judge, contexts, roles, replies)
    assert scores["replies"] == replies
    assert scores["judge_gold"] == 1.0 and scores["judge_generated"] == 1.0
    assert scores["judge_shuffled_role"] == 1.0  # it speaks as the role asked
    assert scores["chance"] == 0.5
    assert scores["bleu_4"] == 0.0 or scores["rouge_l"] == pytest.approx(1.0)
    assert scores["distinct_1"] == pytest.approx(7 / 14)
    # Without the shuffled-role run: the same scores, that one left out.
    fewer = evaluate_replies(
        model, judge, contexts, roles, replies, shuffled_roles=False
    )
    assert "judge_shuffled_role" not in fewer
    assert fewer["replies"] == scores["replies"]
    assert fewer["judge_generated"] == scores["judge_generated"]
