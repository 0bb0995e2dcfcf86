"""Adversarial reward tuning: the discriminator learns fakes; the loop runs on it."""

import numpy as np
import pytest

from keras_roleplay.training.adversarial_reward import (
    GENERATED,
    AdversarialRoleReward,
    train_role_discriminator,
)
from keras_roleplay.training.reply_reward_tuning import fit_reply_rewards
from tests.training.test_reply_reward_tuning import CONTEXTS, REPLIES, _responder

REAL = ["ahoy matey", "fair winds", "good morrow", "well met"]
REAL_ROLES = ["pirate", "pirate", "knight", "knight"]
SMALL_JUDGE = dict(sequence_length=12, hidden_dim=16)


def _discriminator(model, epochs=20):
    return train_role_discriminator(
        model, CONTEXTS * 4, REAL_ROLES * 4, REAL * 4, epochs=epochs, **SMALL_JUDGE
    )


def test_the_discriminator_tells_real_replies_from_the_models_samples():
    model = _responder()  # untrained: its samples are word salad
    discriminator = _discriminator(model)
    assert discriminator.roles == ["pirate", "knight", GENERATED]
    fakes = model.generate(CONTEXTS * 2, role="pirate", sampler="top_p", seed=11)
    named = discriminator.predict_roles(fakes)
    assert np.mean([n == GENERATED for n in named]) >= 0.75, (fakes, named)
    assert discriminator.predict_roles(REAL) == REAL_ROLES


def test_updates_teach_the_discriminator_the_fakes_it_rewarded():
    model = _responder()
    discriminator = _discriminator(model, epochs=5)
    reward = AdversarialRoleReward(
        discriminator, REAL, REAL_ROLES, update_every=2, seed=0
    )
    # A fake that copies a real line's words in another order.
    fake, batch = ["matey ahoy ahoy"] * 8, {"role": ["pirate"] * 8}
    first = reward(fake, batch).mean()
    for _ in range(9):
        reward(fake, batch)
    assert reward.updates == 5 and reward.calls == 10
    later = reward(fake, batch).mean()
    assert later < 0.5 * first, (first, later)
    assert reward.fooled[-1] <= reward.fooled[0]
    # Real lines with none of the fake's words keep their role.
    assert discriminator.predict_roles(REAL[2:]) == REAL_ROLES[2:]


def test_bad_settings_are_named():
    model = _responder()
    from keras_roleplay.metrics import RoleJudge

    plain = RoleJudge(model.vocabulary, ["pirate", "knight"], **SMALL_JUDGE)
    with pytest.raises(ValueError, match="last role must be"):
        AdversarialRoleReward(plain, REAL, REAL_ROLES)
    discriminator = _discriminator(model, epochs=1)
    with pytest.raises(ValueError, match="update_every"):
        AdversarialRoleReward(discriminator, REAL, REAL_ROLES, update_every=0)
    with pytest.raises(ValueError, match="one role a reply"):
        AdversarialRoleReward(discriminator, REAL, REAL_ROLES[:2])
    with pytest.raises(ValueError, match="as many"):
        train_role_discriminator(model, CONTEXTS, "pirate", REPLIES)


def test_reward_tuning_runs_on_the_adversarial_reward():
    model = _responder(epochs=10)
    discriminator = _discriminator(model, epochs=5)
    reward = AdversarialRoleReward(discriminator, REAL, REAL_ROLES, update_every=2)
    history = fit_reply_rewards(
        model, CONTEXTS * 4, "pirate", reward, steps_per_epoch=4, batch_size=4,
        num_samples=2,
    )  # fmt: skip
    assert reward.updates == 2 and len(reward.fooled) == 2
    assert np.isfinite(history.history["sample_reward"]).all()
