"""Preference tuning of the role responder: DPO on pairs of its own replies.

The offline alternative to reward tuning: the responder samples several
replies a context once, a reward ranks them, and the best and the worst
make a pair (chosen, rejected). Direct preference optimisation (Rafailov
et al. 2023) then trains on the fixed pairs, without sampling again:

    loss = -log sigmoid(beta * (margin(chosen) - margin(rejected)))
    margin(y) = log p(y) - log p_start(y)

with `p_start` the responder before tuning (the pairs' log-probabilities
under it are computed once). Its gradient is
`-beta * sigmoid(-beta * delta) * (grad log p(chosen) - grad log p(rejected))`,
with `delta` the bracket: a token cross-entropy whose sample weights are
`+c` on the chosen reply's tokens and `-c` on the rejected one's, with
`c = beta * sigmoid(-beta * delta)` computed from the current weights
before the step. So each step is the same `train_on_batch` as reward
tuning's (`training.policy_gradient.run_policy_gradient`), on every Keras
backend, with the DPO loss itself reported. (Keras' loss averages over
the batch's tokens: a constant factor, which the learning rate absorbs.)
Written here because no Keras library implements DPO; TRL's
`DPOTrainer` is PyTorch and Hugging Face only.

Example:

>>> import numpy as np
>>> from keras_roleplay.applications import RoleResponder
>>> model = RoleResponder.from_dialogues(["hi there", "ahoy matey"],
...     roles=["pirate"], sequence_length=8, hidden_dim=8, num_heads=2,
...     num_layers=1)
>>> def longer(texts, batch):
...     return np.array([len(t.split()) for t in texts], "float64")
>>> pairs = sample_preference_pairs(model, ["hi there"] * 4, "pirate", longer)
>>> sorted(pairs)
['chosen', 'context', 'rejected', 'reward_gap', 'role']
>>> history = fit_reply_preferences(model, pairs, epochs=1, batch_size=2)
>>> sorted(history.history)
['chosen_preferred', 'dpo_loss', 'loss']
"""

import numpy as np

from keras_roleplay.training.policy_gradient import (
    run_policy_gradient,
    sequence_log_probs,
)
from keras_roleplay.training.reply_reward_tuning import reply_features
from keras_roleplay.utils.validation import check_positive_int, check_positive_number


def sample_preference_pairs(
    model, contexts, roles, reward, num_samples=4, sampler="top_p", seed=0
):
    """Samples replies, ranks them by `reward`, keeps each context's best and worst.

    Args:
        model: a trained text-only `RoleResponder` (image models: not yet).
        contexts: the contexts (strings).
        roles: the role of each context (names), or one for all.
        reward: `reward(texts, batch)` -> one float a text
            (`training.rewards`); `batch` holds `"context"` and `"role"`.
        num_samples: replies sampled a context (2 or more).
        sampler: how they are sampled (`generate`'s `sampler`).
        seed: the sampler's seed.

    Returns:
        A dict of lists: `"context"`, `"role"`, `"chosen"`, `"rejected"`
        and `"reward_gap"` (the chosen reply's reward minus the rejected
        one's). Contexts whose samples all score the same give no pair.
    """
    if model.image_shape is not None:
        raise ValueError(
            "Preference tuning takes text-only responders for now: this one "
            f"reads images (image_shape={model.image_shape}). Use "
            "`fit_reply_rewards`, which takes `images`."
        )
    contexts = list(contexts)
    if isinstance(roles, (str, int)):
        roles = [roles] * len(contexts)
    roles = list(roles)
    if not contexts or len(roles) != len(contexts):
        raise ValueError(
            "`contexts` and `roles` must be as many, and not empty. Received: "
            f"{len(contexts)} contexts, {len(roles)} roles"
        )
    k = check_positive_int("num_samples", num_samples)
    if k < 2:
        raise ValueError(f"`num_samples` must be at least 2. Received: {k}")
    repeat = np.repeat(np.arange(len(contexts)), k)
    batch = {
        "context": [contexts[i] for i in repeat],
        "role": [roles[i] for i in repeat],
    }
    replies = model.generate(
        batch["context"],
        role=batch["role"],
        sampler=sampler,
        seed=seed,
        truncate_context=True,
    )
    scores = np.asarray(reward(replies, batch), "float64").reshape(-1, k)
    pairs = {key: [] for key in ("context", "role", "chosen", "rejected", "reward_gap")}
    for i, row in enumerate(scores):
        best, worst = int(np.argmax(row)), int(np.argmin(row))
        if row[best] == row[worst]:
            continue
        pairs["context"].append(contexts[i])
        pairs["role"].append(roles[i])
        pairs["chosen"].append(replies[i * k + best])
        pairs["rejected"].append(replies[i * k + worst])
        pairs["reward_gap"].append(float(row[best] - row[worst]))
    return pairs


class PreferenceBatches:
    """Builds each DPO step's batch from the fixed pairs (see the module).

    Args:
        model: the `RoleResponder` being tuned (its weights now are the
            start the margins are measured from).
        pairs: `sample_preference_pairs`'s dict.
        beta: DPO's inverse temperature: how far from the start the
            preferences may pull the replies (Rafailov et al.: 0.1 to 0.5).
    """

    def __init__(self, model, pairs, beta=0.1):
        self.model = model
        self.beta = check_positive_number("beta", beta)
        count = len(pairs.get("chosen", ()))
        if not count:
            raise ValueError(
                "`pairs` holds no pair (every context's samples scored the same?)."
            )
        self.pairs = pairs
        self.features = {
            side: self._features(pairs[side]) for side in ("chosen", "rejected")
        }
        self.start = {
            side: sequence_log_probs(model, *self.features[side])
            for side in ("chosen", "rejected")
        }

    def _features(self, replies):
        inputs, targets, mask = reply_features(
            self.model, self.pairs["context"], replies, self.pairs["role"]
        )
        return inputs, targets, mask.astype("float32")

    def __call__(self, rows, step=None):
        """`(inputs, targets, sample_weight, stats)` for the pairs `rows`
        (`step`, the step's number, is not needed: nothing is sampled)."""
        rows = np.asarray(rows)
        sides = {}
        for side in ("chosen", "rejected"):
            inputs, targets, mask = self.features[side]
            inputs = {key: value[rows] for key, value in inputs.items()}
            log_probs = sequence_log_probs(
                self.model, inputs, targets[rows], mask[rows]
            )
            sides[side] = (inputs, targets[rows], mask[rows], log_probs)
        delta = (sides["chosen"][3] - self.start["chosen"][rows]) - (
            sides["rejected"][3] - self.start["rejected"][rows]
        )
        scaled = self.beta * delta
        # -log sigmoid(x) = log(1 + exp(-x)), and its gradient's coefficient.
        dpo_loss = np.logaddexp(0.0, -scaled)
        coefficient = self.beta / (1.0 + np.exp(scaled))
        inputs = {
            key: np.concatenate([sides["chosen"][0][key], sides["rejected"][0][key]])
            for key in sides["chosen"][0]
        }
        targets = np.concatenate([sides["chosen"][1], sides["rejected"][1]])
        weights = np.concatenate(
            [
                coefficient[:, None] * sides["chosen"][2],
                -coefficient[:, None] * sides["rejected"][2],
            ]
        )
        stats = {
            "dpo_loss": float(np.mean(dpo_loss)),
            "chosen_preferred": float(np.mean(delta > 0)),
        }
        return inputs, targets, weights.astype("float32"), stats


def fit_reply_preferences(
    model,
    pairs,
    beta=0.1,
    epochs=1,
    steps_per_epoch=None,
    batch_size=16,
    learning_rate=5e-5,
    seed=0,
    callbacks=(),
):
    """DPO of a `RoleResponder` on fixed preference pairs (see the module).

    Args:
        model: the trained `RoleResponder` the pairs were sampled from.
        pairs: `sample_preference_pairs`'s dict.
        beta: DPO's inverse temperature.
        epochs, steps_per_epoch, batch_size, learning_rate, seed,
            callbacks: as `training.policy_gradient.run_policy_gradient`.

    Returns:
        A `keras.callbacks.History` with each epoch's mean `loss` (the
        weighted cross-entropy stepped on), `dpo_loss` (the DPO loss before
        each step) and `chosen_preferred` (the share of pairs whose chosen
        reply gained more likelihood than the rejected one since the start).
    """
    batches = PreferenceBatches(model, pairs, beta=beta)
    return run_policy_gradient(
        model,
        batches,
        len(pairs["chosen"]),
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        callbacks=callbacks,
    )
