"""Reward tuning of the role responder: its batches, its rewards, that it learns."""

import keras
import numpy as np
import pytest

from keras_roleplay.applications import RoleResponder
from keras_roleplay.metrics import RoleJudge
from keras_roleplay.training.policy_gradient import advantages, frozen_copy
from keras_roleplay.training.reply_reward_tuning import (
    ReplyRewardBatches,
    fit_reply_rewards,
)
from keras_roleplay.training.rewards import (
    AnswerContentReward,
    FluencyReward,
    RoleJudgeReward,
)

CONTEXTS = ["hello there", "good day", "who are you", "what news"]
REPLIES = ["ahoy matey", "good morrow", "well met", "fair winds", "hello friend"]


def _words(texts, batch):
    return np.array([len(t.split()) for t in texts], "float64")


def _says_ahoy(texts, batch):
    return np.array([float("ahoy" in t.split()) for t in texts])


def _responder(seed=0, epochs=0):
    keras.utils.set_random_seed(seed)
    model = RoleResponder.from_dialogues(
        CONTEXTS + REPLIES,
        roles=["pirate", "knight"],
        sequence_length=12,
        reply_length=12,
        hidden_dim=16,
        num_heads=2,
        num_layers=1,
    )
    if epochs:
        contexts = [CONTEXTS[i % 4] for i in range(40)]
        replies = [REPLIES[i % 5] for i in range(40)]
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        model.fit(
            model.dialogue_dataset(contexts, replies, "pirate", shuffle=True, seed=0),
            epochs=epochs,
            verbose=0,
        )
    return model


def test_advantages_against_a_baseline():
    rewards = np.array([1.0, 2.0, 3.0, 0.0, 0.0, 3.0])
    mean = advantages(rewards, 3)
    np.testing.assert_allclose(mean, [-1.5, 0.0, 1.5, -1.5, -1.5, 3.0])
    np.testing.assert_allclose(mean.reshape(2, 3).sum(1), 0)
    greedy = advantages(rewards, 3, baseline_rewards=[2.0, 1.0])
    np.testing.assert_allclose(greedy, [-1.0, 0.0, 1.0, -1.0, -1.0, 2.0])


def test_each_sampled_reply_is_weighted_by_its_advantage():
    model = _responder()
    start = frozen_copy(model)
    batches = ReplyRewardBatches(
        model, _words, num_samples=3, reference_model=start, kl_weight=0.5,
        teacher_forcing=0.25,
    )  # fmt: skip
    inputs, targets, weights, stats = batches(
        CONTEXTS[:2], ["pirate", "knight"], references=["ahoy matey", "well met"]
    )
    assert inputs["context"].shape == (8, 12) and targets.shape == weights.shape
    assert inputs["role"].tolist() == [0, 0, 0, 1, 1, 1, 0, 1]
    rewards = _words(batches.samples, None)
    np.testing.assert_array_equal(batches.rewards, rewards)
    mask = targets != 0
    assert np.all(weights[~mask] == 0)
    expected = 0.75 * advantages(rewards, 3)  # the KL to itself is zero
    for row, advantage in zip(range(6), expected, strict=True):
        np.testing.assert_allclose(weights[row][mask[row]], advantage, atol=1e-5)
    assert model.detokenize(targets[6:]) == ["ahoy matey", "well met"]
    np.testing.assert_allclose(weights[6:], 0.25 * mask[6:])
    assert abs(stats["kl"]) < 1e-4
    assert stats["sample_reward"] == pytest.approx(rewards.mean())
    # Each step draws new samples, and a new run draws the same ones.
    again = ReplyRewardBatches(model, _words, num_samples=3)
    first = again(CONTEXTS * 4, ["pirate"] * 16)[1]
    second = again(CONTEXTS * 4, ["pirate"] * 16)[1]
    assert not np.array_equal(first, second)
    fresh = ReplyRewardBatches(model, _words, num_samples=3)
    np.testing.assert_array_equal(fresh(CONTEXTS * 4, ["pirate"] * 16)[1], first)


def test_the_role_judge_reward_is_the_asked_roles_probability():
    judge = RoleJudge(
        ["[PAD]", "[UNK]", "ahoy", "matey", "well", "met"],
        ["pirate", "knight"],
        sequence_length=4,
        hidden_dim=8,
    )
    judge.compile(optimizer=keras.optimizers.Adam(1e-2))
    judge.fit(
        judge.text_dataset(["ahoy matey", "well met"] * 16, ["pirate", "knight"] * 16),
        epochs=20,
        verbose=0,
    )
    reward = RoleJudgeReward(judge)
    scores = reward(["ahoy matey", "ahoy matey"], {"role": ["pirate", "knight"]})
    assert scores[0] > 0.8 and scores[0] + scores[1] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match='batch\\["role"\\]'):
        reward(["ahoy"], {})


def test_bad_settings_are_named():
    model = _responder()
    with pytest.raises(ValueError, match="baseline"):
        ReplyRewardBatches(model, _words, baseline="best")
    with pytest.raises(ValueError, match="reference_model"):
        ReplyRewardBatches(model, _words, kl_weight=0.1)
    with pytest.raises(ValueError, match="sampler"):
        ReplyRewardBatches(model, _words, sampler="beam")
    with pytest.raises(ValueError, match="as many"):
        fit_reply_rewards(model, CONTEXTS, ["pirate"], _words)
    with pytest.raises(ValueError, match="Unknown role"):
        fit_reply_rewards(model, CONTEXTS, "wizard", _words)
    with pytest.raises(ValueError, match="needs `references`"):
        ReplyRewardBatches(model, _words, num_samples=2, teacher_forcing=0.5)(
            CONTEXTS[:1], ["pirate"]
        )


def test_reward_data_reaches_each_sample_beside_its_own_context():
    model = _responder()
    seen = []

    def tagged(texts, batch):
        seen.append((list(batch["context"]), list(batch["tag"])))
        return np.zeros(len(texts))

    tags = [f"tag of {context}" for context in CONTEXTS]
    fit_reply_rewards(
        model, CONTEXTS, "pirate", tagged, reward_data={"tag": tags},
        steps_per_epoch=2, batch_size=2, num_samples=3, baseline="greedy",
    )  # fmt: skip
    # Sampled batches (2 contexts x 3 samples) and greedy batches (2), each
    # context with its own tag, and every context seen.
    assert sorted(len(contexts) for contexts, _ in seen) == [2, 2, 6, 6]
    for contexts, batch_tags in seen:
        assert batch_tags == [f"tag of {context}" for context in contexts]
    assert {c for contexts, _ in seen for c in contexts} == set(CONTEXTS)
    with pytest.raises(ValueError, match=r"reward_data\['tag'\].*4.*Received: 3"):
        fit_reply_rewards(model, CONTEXTS, "pirate", tagged,
                          reward_data={"tag": tags[:3]})  # fmt: skip
    with pytest.raises(ValueError, match="may not hold 'role'"):
        fit_reply_rewards(model, CONTEXTS, "pirate", tagged,
                          reward_data={"role": ["pirate"] * 4})  # fmt: skip


def test_the_content_reward_checks_each_answer_against_its_question():
    reward = AnswerContentReward()
    batch = {"type": ["colour", "colour", "count", "place"],
             "truth": ["red", "red", "2", "left"]}  # fmt: skip
    texts = ["ahoy ! the circle is red .", "it is red or blue .",
             "i see two shapes .", "the square is on the right ."]  # fmt: skip
    np.testing.assert_array_equal(reward(texts, batch), [1.0, 0.0, 1.0, 0.0])
    chinese = AnswerContentReward("zh")
    assert chinese(["圆形是红色的。"], {"type": ["colour"], "truth": ["red"]})[0] == 1
    with pytest.raises(ValueError, match="reward_data"):
        reward(texts, {"type": batch["type"]})
    with pytest.raises(ValueError, match="language"):
        AnswerContentReward("fr")


def _sampled_rate(model, contexts):
    replies = model.generate(contexts, role="pirate", sampler="top_p", seed=7)
    return _says_ahoy(replies, None).mean()


@pytest.mark.slow
def test_reward_tuning_raises_the_reward_it_is_given():
    # A reward with one clear optimum ("say ahoy"): the policy gradient must
    # make the sampled replies say it more often, on any machine. (Whether a
    # role judge's reward makes characters heard is a benchmark's claim.)
    model = _responder(epochs=30)
    contexts = [CONTEXTS[i % 4] for i in range(64)]
    before = _sampled_rate(model, contexts)
    history = fit_reply_rewards(
        model, contexts[:32], "pirate", _says_ahoy, epochs=2, steps_per_epoch=20,
        batch_size=8, num_samples=4, learning_rate=3e-3,
    )  # fmt: skip
    after = _sampled_rate(model, contexts)
    rewards = history.history["sample_reward"]
    # Measured (seeds 0, 1, 2 of the example order and the sampling): 0.03
    # of sampled replies say "ahoy" before; the second pass's samples 0.41,
    # 0.36, 0.32; the final weights' 0.11, 0.33, 0.59 (at this rate the
    # policy swings from step to step, so the last weights vary more than
    # the pass's mean).
    assert rewards[-1] > before + 0.15, (before, rewards)
    assert after > 2 * before, (before, after)
    assert len(rewards) == 2 and rewards[-1] > rewards[0]


def test_the_fluency_reward_prefers_the_corpus_word_order():
    reward = FluencyReward(["my good lord .", "good night , my lord .", "my lord ."])
    scores = reward(["my good lord .", "lord . good my", "zounds"], {})
    # The corpus' order above the same words shuffled, above unknown words.
    assert scores[0] > scores[1] > scores[2]
    assert scores.shape == (3,) and (scores < 0).all()
    # A fitted model is reused as it is.
    again = FluencyReward(reward.language_model)
    np.testing.assert_allclose(again(["my good lord ."]), scores[:1])
    with pytest.raises(TypeError, match="texts"):
        FluencyReward("my good lord .")
