"""Reward tuning of the role responder: replies sampled, scored, reinforced.

Teacher forcing trains a responder on the next word of a gold reply; what
role-play asks is a whole reply that sounds like the role. Reward tuning
trains on that (the reinforcement learning of role-play: reward or
penalise the model by how well it plays the role): for each context the
model samples replies as its role, a reward scores them (the role judge's
probability of the asked-for role, `rewards.RoleJudgeReward`; overlap
with a reference; a repetition penalty; their weighted sums), and each
sampled reply's log-probability is pushed by its advantage over a
baseline (the mean reward of the context's other samples, or the greedy
reply's reward), as self-critical sequence training does for the
captioner (`training.self_critical`). A KL penalty to the starting
weights (Ziegler et al. 2019; the KL-regularised reward of RLHF) keeps
the replies near what the model wrote before, and teacher forcing on the
gold replies can be mixed in.

The sampled replies are scored as text and trained on as the tokenizer
writes that text (the reply `generate` returns, tokenized again), not as
the exact word pieces sampled: with a WordPiece vocabulary these agree
except where the sampler chose an uncommon split of a word, and the
reward is a property of the text.

Example:

>>> from keras_roleplay.applications import RoleResponder
>>> from keras_roleplay.training.rewards import RepetitionPenalty
>>> model = RoleResponder.from_dialogues(["hi there", "ahoy matey"],
...     roles=["pirate"], sequence_length=8, hidden_dim=8, num_heads=2,
...     num_layers=1)
>>> history = fit_reply_rewards(model, ["hi there"] * 4, "pirate",
...     RepetitionPenalty(), steps_per_epoch=2, batch_size=2, num_samples=2)
>>> sorted(history.history)
['advantage', 'greedy_reward', 'kl', 'loss', 'sample_reward']
"""

import numpy as np
from keras import ops
from keras_hub.samplers import RandomSampler, TopKSampler, TopPSampler

from keras_roleplay.training.policy_gradient import (
    advantages,
    check_tuning_settings,
    frozen_copy,
    run_policy_gradient,
    sequence_log_probs,
)
from keras_roleplay.utils.sampling import make_sampler

SAMPLING_SAMPLERS = (TopPSampler, TopKSampler, RandomSampler)


def reply_features(model, contexts, replies, roles, images=None):
    """`(inputs, targets, mask)` as numpy: the replies teacher-forced by `model`.

    What the reward tuners train on and score log-probabilities of: the
    responder's preprocessor on the texts (roles as names or ids).
    """
    features = {
        "context": list(contexts),
        "reply": list(replies),
        "role": model.role_ids(list(roles), count=len(contexts)),
    }
    if images is not None:
        features["image"] = np.asarray(images, "float32")
    inputs, targets, mask = model.preprocessor(features)
    inputs = {key: ops.convert_to_numpy(value) for key, value in inputs.items()}
    return inputs, ops.convert_to_numpy(targets), ops.convert_to_numpy(mask)


class ReplyRewardBatches:
    """Builds each step's batch of the responder's reward tuning.

    Args:
        model: the `RoleResponder` being tuned.
        reward: `reward(texts, batch)` -> one float a reply; `batch` holds
            `"context"`, `"role"` (names), when given `"references"` (each
            reply's gold replies, a list), and the entries of `reward_data`.
        num_samples: replies sampled a context.
        reference_model: the frozen start, for the KL penalty (or `None`).
        kl_weight: the KL penalty's weight.
        teacher_forcing: the weight of the gold replies in the batch (needs
            references).
        baseline: `"mean"` (the context's other samples) or `"greedy"`
            (the greedy reply's reward; one more `generate` a step).
        sampler: a sampling `keras_hub.samplers.Sampler` (top-p, top-k or
            random; e.g. `TopPSampler(p=0.9, temperature=0.8)`), or
            `"top_p"` (p = 0.9) or `"top_k"` (k = 5) as `generate` takes
            them. No role guidance: the tuning is meant to make the role
            heard without it.
        seed: the sampler's seed (each step draws from `seed` and its step
            number, so a run is repeatable and the steps differ).

    Attributes:
        samples: the last step's sampled replies (texts), `num_samples` a
            context in turn, and `rewards`, theirs: to watch what the
            tuning reinforces.
    """

    def __init__(
        self,
        model,
        reward,
        num_samples=4,
        reference_model=None,
        kl_weight=0.0,
        teacher_forcing=0.0,
        baseline="mean",
        sampler="top_p",
        seed=0,
    ):
        self.model = model
        self.reward = reward
        self.reference_model = reference_model
        (
            self.num_samples,
            self.kl_weight,
            self.teacher_forcing,
            self.baseline,
        ) = check_tuning_settings(
            num_samples,
            kl_weight,
            reference_model,
            teacher_forcing,
            baseline,
            "context",
        )
        self.sampler = make_sampler(sampler)
        if not isinstance(self.sampler, SAMPLING_SAMPLERS):
            raise ValueError(
                "`sampler` must sample (top-p, top-k or random): reward tuning "
                "needs replies that differ. Received: "
                f"sampler={type(self.sampler).__name__}"
            )
        self.seed = int(seed)
        self.steps = 0
        self.samples, self.rewards = [], np.zeros(0)

    def _features(self, contexts, replies, roles, images):
        return reply_features(self.model, contexts, replies, roles, images)

    def __call__(
        self, contexts, roles, references=None, images=None, extras=None, step=None
    ):
        """`(inputs, targets, sample_weight, stats)` for one step.

        `extras`: more of what the reward reads, a dict of lists with one
        entry a context (e.g. a question's type and right answer). `step`:
        the step's number, for its sampling seed (default: the calls so
        far).
        """
        n, k = len(contexts), self.num_samples
        extras = extras or {}
        if images is not None:
            images = np.asarray(self.model.preprocessor.check_images(images, n))
        repeat = np.repeat(np.arange(n), k)
        batch = {
            "context": [contexts[i] for i in repeat],
            "role": [roles[i] for i in repeat],
        }
        if references is not None:
            batch["references"] = [references[i] for i in repeat]
        batch.update(
            {key: [values[i] for i in repeat] for key, values in extras.items()}
        )
        step = self.steps if step is None else int(step)
        self.steps = step + 1
        seed = (self.seed * 1_000_003 + step) % 2**32
        sampled = self.model.generate(
            batch["context"],
            role=batch["role"],
            image=None if images is None else images[repeat],
            sampler=self.sampler,
            seed=seed,
            truncate_context=True,  # long contexts keep their last tokens
        )
        sample_rewards = np.asarray(self.reward(sampled, batch), "float64")
        self.samples, self.rewards = list(sampled), sample_rewards
        greedy_rewards = None
        if self.baseline == "greedy":
            greedy = self.model.generate(
                list(contexts),
                role=list(roles),
                image=images,
                sampler="greedy",
                truncate_context=True,
            )
            own = {"context": list(contexts), "role": list(roles), **extras}
            if references is not None:
                own["references"] = list(references)
            greedy_rewards = np.asarray(self.reward(greedy, own), "float64")
        inputs, targets, mask = self._features(
            batch["context"],
            sampled,
            batch["role"],
            None if images is None else images[repeat],
        )
        kl = np.zeros(n * k)
        if self.kl_weight:
            kl = sequence_log_probs(
                self.model, inputs, targets, mask
            ) - sequence_log_probs(self.reference_model, inputs, targets, mask)
        advantage = advantages(sample_rewards - self.kl_weight * kl, k, greedy_rewards)
        weights = (1 - self.teacher_forcing) * advantage[:, None] * mask
        if self.teacher_forcing:
            if references is None:
                raise ValueError("`teacher_forcing` > 0 needs `references`.")
            gold = [refs[0] if isinstance(refs, list) else refs for refs in references]
            gold_inputs, gold_targets, gold_mask = self._features(
                contexts, gold, roles, images
            )
            inputs = {
                key: np.concatenate([inputs[key], gold_inputs[key]]) for key in inputs
            }
            targets = np.concatenate([targets, gold_targets])
            weights = np.concatenate([weights, self.teacher_forcing * gold_mask])
        stats = {
            "sample_reward": float(np.mean(sample_rewards)),
            "greedy_reward": float(
                np.mean(greedy_rewards if greedy_rewards is not None else np.nan)
            ),
            "advantage": float(np.mean(advantage)),
            "kl": float(np.mean(kl)),
        }
        return inputs, targets, weights.astype("float32"), stats


def fit_reply_rewards(
    model,
    contexts,
    roles,
    reward,
    references=None,
    images=None,
    reward_data=None,
    epochs=1,
    steps_per_epoch=None,
    batch_size=16,
    num_samples=4,
    learning_rate=5e-5,
    kl_weight=0.0,
    teacher_forcing=0.0,
    baseline="mean",
    sampler="top_p",
    seed=0,
    callbacks=(),
):
    """Reward tuning of a `RoleResponder` (see the module).

    Args:
        model: a trained `RoleResponder` (teacher forcing first: reward
            tuning refines a model that already writes replies).
        contexts: the contexts to reply to (strings).
        roles: the role of each reply (names), or one for all.
        reward: `reward(texts, batch)` -> one float a text
            (`training.rewards`).
        references: optional gold replies, one (or a list) a context: for
            rewards that compare and for `teacher_forcing`.
        images: their images, for an image model.
        reward_data: more of what `reward` reads, a dict of sequences with
            one entry a context; each sampled reply's `batch` holds its
            context's entries (e.g. `{"type": ..., "truth": ...}` for
            `rewards.AnswerContentReward`).
        epochs, steps_per_epoch, batch_size, learning_rate, seed,
            callbacks: as `training.policy_gradient.run_policy_gradient`.
        num_samples: replies sampled a context.
        kl_weight: the KL penalty's weight (to the starting weights).
        teacher_forcing: the weight of the gold replies' loss.
        baseline: `"mean"` or `"greedy"` (`ReplyRewardBatches`).
        sampler: how replies are sampled (`ReplyRewardBatches`).

    Returns:
        A `keras.callbacks.History` with each epoch's mean `loss`,
        `sample_reward`, `greedy_reward` (NaN with the mean baseline),
        `advantage` and `kl`.
    """
    contexts = list(contexts)
    if isinstance(roles, (str, int)):
        roles = [roles] * len(contexts)
    roles = list(roles)
    if len(roles) != len(contexts) or not contexts:
        raise ValueError(
            "`contexts` and `roles` must be as many, and not empty. Received: "
            f"{len(contexts)} contexts, {len(roles)} roles"
        )
    if references is not None and len(references) != len(contexts):
        raise ValueError(
            f"`references` must have one entry a context ({len(contexts)}). "
            f"Received: {len(references)}"
        )
    reward_data = dict(reward_data or {})
    for key, values in reward_data.items():
        if key in ("context", "role", "references"):
            raise ValueError(
                f"`reward_data` may not hold {key!r}: the batch has its own "
                "(use a new name). Received keys: " + repr(list(reward_data))
            )
        if len(values) != len(contexts):
            raise ValueError(
                f"`reward_data[{key!r}]` must have one entry a context "
                f"({len(contexts)}). Received: {len(values)} entries"
            )
    model.role_ids(roles, count=len(roles))  # unknown roles named now
    batches = ReplyRewardBatches(
        model,
        reward,
        num_samples=num_samples,
        reference_model=frozen_copy(model) if kl_weight else None,
        kl_weight=kl_weight,
        teacher_forcing=teacher_forcing,
        baseline=baseline,
        sampler=sampler,
        seed=seed,
    )
    images = None if images is None else np.asarray(images)

    def build_batch(rows, step):
        return batches(
            [contexts[i] for i in rows],
            [roles[i] for i in rows],
            None if references is None else [references[i] for i in rows],
            None if images is None else images[rows],
            {key: [values[i] for i in rows] for key, values in reward_data.items()},
            step=step,
        )

    return run_policy_gradient(
        model,
        build_batch,
        len(contexts),
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        callbacks=callbacks,
    )
