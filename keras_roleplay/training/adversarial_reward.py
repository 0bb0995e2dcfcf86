"""Adversarial reward tuning: a discriminator of real against generated replies.

The adversarial training of role-play: a generator (the responder) writes
in a role's voice, a discriminator tells the role's real lines from
generated ones, and the generator is rewarded by how real, and how much
the asked-for role's, its replies look. After Li et al. (2017), whose
dialogue generator is rewarded by a discriminator's probability that a
reply is human-written, with the discriminator retrained on fresh samples
as the generator improves (SeqGAN, Yu et al. 2017, for sequences).

Here the discriminator is a `RoleJudge` over the roles and one more class,
`GENERATED`: it names the role that spoke a real reply, and names a
generated one `GENERATED`. Its probability of the asked-for role is then
the probability of "real, and by this role": the reward
(`AdversarialRoleReward`). It is pretrained on the real replies and the
responder's own samples (`train_role_discriminator`), then retrained every
`update_every` reward calls on the samples it scored since, against as many
real replies. A fixed judge (`rewards.RoleJudgeReward`) can be fooled by a
reply that repeats a role's favourite words; a discriminator that sees the
generator's samples learns to call them generated.

Written here because no Keras library trains sequence GANs; the loop is
`training.fit_reply_rewards`'s (a reward is any callable).

Example:

>>> from keras_roleplay.applications import RoleResponder
>>> model = RoleResponder.from_dialogues(["hi there", "ahoy matey"],
...     roles=["pirate", "clerk"], sequence_length=8, hidden_dim=8,
...     num_heads=2, num_layers=1)
>>> discriminator = train_role_discriminator(model, ["hi"] * 4,
...     ["pirate", "clerk"] * 2, ["ahoy matey", "hi there"] * 2, epochs=1,
...     sequence_length=8, hidden_dim=8)
>>> discriminator.roles
['pirate', 'clerk', '[generated]']
>>> reward = AdversarialRoleReward(discriminator, ["ahoy matey"], ["pirate"],
...                                update_every=2)
>>> scores = reward(["ahoy", "hi"], {"role": ["pirate", "clerk"]})
>>> scores.shape, reward.updates
((2,), 0)
"""

import numpy as np

from keras_roleplay.training.rewards import RoleJudgeReward
from keras_roleplay.training.role_play import train_role_judge
from keras_roleplay.utils.validation import check_positive_int

# The discriminator's class for generated replies.
GENERATED = "[generated]"


def _role_names(roles, names, count):
    if isinstance(roles, (str, int, np.integer)):
        roles = [roles] * count
    roles = list(roles)
    if len(roles) != count:
        raise ValueError(
            f"`roles` must give one role a reply ({count}). Received: {len(roles)}"
        )
    return [names[int(r)] if not isinstance(r, str) else r for r in roles]


def train_role_discriminator(
    responder,
    contexts,
    roles,
    replies,
    sampler="top_p",
    epochs=10,
    sequence_length=48,
    hidden_dim=64,
    seed=0,
):
    """Pretrains the discriminator: real replies by role, and the responder's own.

    The responder samples one reply a context (as `roles`, no role
    guidance); a `RoleJudge` over the responder's roles and `GENERATED` is
    trained on the real `replies` (labelled by their roles) and the samples
    (labelled `GENERATED`).

    Args:
        responder: the `RoleResponder` to be tuned.
        contexts: contexts to sample from (strings).
        roles: the role of each context's real reply (names or ids), or
            one for all.
        replies: the real replies.
        sampler: how the samples are drawn (`generate`'s `sampler`).
        epochs: training epochs.
        sequence_length, hidden_dim: the discriminator's size
            (`train_role_judge`).
        seed: the samples' and the training's seed.

    Returns:
        A trained `RoleJudge` whose roles are the responder's, then
        `GENERATED`.
    """
    contexts, replies = list(contexts), list(replies)
    if not contexts or len(contexts) != len(replies):
        raise ValueError(
            "`contexts` and `replies` must be as many, and not empty. Received: "
            f"{len(contexts)} contexts, {len(replies)} replies"
        )
    names = _role_names(roles, responder.roles, len(contexts))
    if GENERATED in responder.roles:
        raise ValueError(f"A role may not be named {GENERATED!r}: it is the fakes'.")
    generated = responder.generate(
        contexts, role=names, sampler=sampler, seed=seed, truncate_context=True
    )
    return train_role_judge(
        responder.vocabulary,
        [*responder.roles, GENERATED],
        replies + list(generated),
        names + [GENERATED] * len(generated),
        epochs=epochs,
        sequence_length=sequence_length,
        hidden_dim=hidden_dim,
        seed=seed,
    )


class AdversarialRoleReward(RoleJudgeReward):
    """The discriminator's probability that a reply is real and the asked role's.

    A reward (`reward(texts, batch)`, `batch["role"]` the asked-for roles)
    that also trains its discriminator: every `update_every` calls, one
    pass over the texts it scored since (labelled `GENERATED`) and as many
    real replies drawn at random (labelled by their roles).

    Args:
        discriminator: a compiled `RoleJudge` whose roles end with
            `GENERATED` (`train_role_discriminator`).
        real_texts: real replies to train against.
        real_roles: their roles (names).
        update_every: reward calls between discriminator updates.
        seed: the draws of real replies.

    Attributes:
        updates: how many times the discriminator was retrained.
        fooled: for each update, the share of the fresh samples the
            discriminator did not name `GENERATED` just before it: how
            often the generator fooled it.
    """

    def __init__(self, discriminator, real_texts, real_roles, update_every=8, seed=0):
        if discriminator.roles[-1] != GENERATED:
            raise ValueError(
                f"The discriminator's last role must be {GENERATED!r} "
                f"(`train_role_discriminator`). Received roles: {discriminator.roles}"
            )
        super().__init__(discriminator)
        self.real_texts = list(real_texts)
        self.real_roles = _role_names(
            real_roles, discriminator.roles[:-1], len(self.real_texts)
        )
        if not self.real_texts:
            raise ValueError("`real_texts` is empty: nothing to tell fakes from.")
        self.update_every = check_positive_int("update_every", update_every)
        self.rng = np.random.default_rng(seed)
        self.calls, self.updates, self.fooled = 0, 0, []
        self._fresh = []

    def __call__(self, texts, batch):
        scores = super().__call__(texts, batch)
        self._fresh += [str(t) for t in texts]
        self.calls += 1
        if self.calls % self.update_every == 0:
            self.update()
        return scores

    def update(self):
        """Retrains the discriminator on the samples scored since the last update."""
        fresh, self._fresh = self._fresh, []
        fresh = [t for t in fresh if t.strip()]
        if not fresh:
            return
        named = self.judge.predict_roles(fresh)
        self.fooled.append(float(np.mean([n != GENERATED for n in named])))
        picks = self.rng.integers(0, len(self.real_texts), size=len(fresh))
        texts = [self.real_texts[i] for i in picks] + fresh
        labels = [self.real_roles[i] for i in picks] + [GENERATED] * len(fresh)
        data = self.judge.text_dataset(
            texts, labels, shuffle=True, seed=int(self.rng.integers(2**31))
        )
        self.judge.fit(data, epochs=1, verbose=0)
        self.updates += 1

    def __repr__(self):
        return f"AdversarialRoleReward({self.judge.name}, every {self.update_every})"
