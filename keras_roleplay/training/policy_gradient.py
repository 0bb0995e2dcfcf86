"""The loop shared by reward tuning: sample, score, one weighted step.

Sequence-level reward tuning (self-critical sequence training of the
captioner, reward tuning of the responder) samples texts with the model's
own compiled `generate`, scores them in Python, and takes a Keras step on
the samples' token cross-entropy weighted by each sample's advantage (the
policy gradient of REINFORCE, Williams 1992). Sampling must use the
current weights, so each step's batch is built just before the step: a
loop of `train_on_batch` with Keras callbacks, not `fit` over a dataset
(which would be sampled ahead, by older weights).

The loop resumes exactly: with `training.ExactBackupAndRestore` among the
callbacks, a run killed at any moment and started again with the same
arguments restores the weights, the optimizer and the dropout state of
its last finished epoch and goes on from there; each epoch's example
order depends on `(seed, epoch)` alone and each step's sampling on
`(seed, step)`, so the resumed run ends with the weights of the
uninterrupted one (tested, `tests/training/test_exact_resume.py`). A
reward that learns as it goes (`AdversarialRoleReward`'s discriminator)
is not backed up: its state starts again with the run.
"""

import keras
import numpy as np
from keras import ops

from keras_roleplay.utils.validation import (
    check_choice,
    check_positive_int,
    check_rate,
)

BASELINES = ("greedy", "mean")


def check_tuning_settings(
    num_samples, kl_weight, reference_model, teacher_forcing, baseline, per
):
    """The settings both reward tuners share, checked.

    Args:
        num_samples: texts sampled an input.
        kl_weight: the KL penalty's weight (>= 0; > 0 needs
            `reference_model`).
        reference_model: the frozen start, or `None`.
        teacher_forcing: the gold texts' weight, in `[0, 1)`.
        baseline: one of `BASELINES` (`"mean"` needs two samples or more).
        per: what one input is, for errors (`"image"`, `"context"`).

    Returns:
        `(num_samples, kl_weight, teacher_forcing, baseline)`.
    """
    num_samples = check_positive_int("num_samples", num_samples)
    if float(kl_weight) < 0:
        raise ValueError(f"`kl_weight` must be >= 0. Received: {kl_weight}")
    if kl_weight and reference_model is None:
        raise ValueError("`kl_weight` > 0 needs `reference_model`.")
    baseline = check_choice("baseline", baseline, BASELINES)
    if baseline == "mean" and num_samples < 2:
        raise ValueError(
            '`baseline="mean"` needs `num_samples` >= 2 (the other samples '
            f"of the {per}). Received: num_samples={num_samples}"
        )
    teacher_forcing = check_rate("teacher_forcing", teacher_forcing)
    return num_samples, float(kl_weight), teacher_forcing, baseline


def frozen_copy(model):
    """A copy of `model` with its current weights: the KL penalty's start."""
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def sequence_log_probs(model, inputs, targets, mask):
    """`log p(targets)` of each sequence under `model`, teacher-forced (numpy).

    Args:
        model: a model mapping `inputs` to logits `(n, length, vocabulary)`.
        inputs: its inputs for the `n` sequences.
        targets: `(n, length)` token ids.
        mask: `(n, length)`, 1 on real tokens.
    """
    logits = model(inputs, training=False)
    log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
    picked = ops.take_along_axis(log_probs, ops.expand_dims(targets, -1), axis=-1)
    return np.sum(ops.convert_to_numpy(picked)[..., 0] * np.asarray(mask), axis=1)


def run_policy_gradient(
    model,
    build_batch,
    count,
    epochs=1,
    steps_per_epoch=None,
    batch_size=16,
    learning_rate=5e-5,
    seed=0,
    callbacks=(),
):
    """Trains `model` on batches `build_batch` makes, step by step.

    Args:
        model: the model tuned (compiled here with Adam at `learning_rate`
            and its own default loss).
        build_batch: `build_batch(rows, step)` -> `(inputs, targets,
            sample_weight, stats)` for the examples at the indices `rows`
            at the run's `step`-th step (counted over epochs, for the
            sampling seed); `stats` is a dict of floats, averaged into the
            epoch's logs.
        count: how many examples there are.
        epochs: passes of `steps_per_epoch` steps.
        steps_per_epoch: batches per epoch (default: one pass).
        batch_size: examples a step.
        learning_rate: Adam's learning rate.
        seed: the example order's seed (each epoch's order is drawn from
            `(seed, epoch)`).
        callbacks: Keras callbacks; one that sets `model.stop_training`
            (`training.TimeBudget`, `EarlyStopping`) ends training after
            the batch; `training.ExactBackupAndRestore` makes a killed run
            resume where its last epoch ended.

    Returns:
        A `keras.callbacks.History` of the epochs' mean `loss` and stats.
    """
    epochs = check_positive_int("epochs", epochs)
    batch_size = min(check_positive_int("batch_size", batch_size), count)
    steps = check_positive_int(
        "steps_per_epoch", steps_per_epoch or -(-count // batch_size)
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, history], model=model, epochs=epochs, steps=steps, verbose=0
    )
    model.stop_training = False
    model._initial_epoch = None
    callback_list.on_train_begin()
    # Where `ExactBackupAndRestore` (like Keras' `BackupAndRestore`) tells
    # training to start after restoring a backup.
    initial_epoch = model._initial_epoch or 0
    model._initial_epoch = None
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch)
        totals, done = {}, 0
        indices = np.random.default_rng([seed, epoch]).permutation(count)
        for step in range(steps):
            start = (step * batch_size) % count
            rows = np.take(indices, range(start, start + batch_size), mode="wrap")
            callback_list.on_train_batch_begin(step)
            inputs, targets, weights, stats = build_batch(rows, epoch * steps + step)
            logs = model.train_on_batch(
                inputs, targets, sample_weight=weights, return_dict=True
            )
            logs = {"loss": float(logs["loss"]), **stats}
            for key, value in logs.items():
                totals[key] = totals.get(key, 0.0) + value
            done += 1
            callback_list.on_train_batch_end(step, logs)
            if model.stop_training:  # a callback's decision (`TimeBudget`)
                break
        callback_list.on_epoch_end(epoch, {k: v / done for k, v in totals.items()})
        if model.stop_training:
            break
    callback_list.on_train_end()
    return history


def advantages(rewards, num_samples, baseline_rewards=None):
    """Each sample's reward minus its baseline, `(n * k,)` from `(n * k,)`.

    Args:
        rewards: the samples' (shaped) rewards, `num_samples` a row in turn.
        num_samples: samples a row (`k`).
        baseline_rewards: `(n,)` rewards of each row's greedy output (the
            self-critical baseline of Rennie et al. 2017); `None`: for each
            sample the mean of its row's other samples (Luo 2020), so the
            advantages of a row sum to zero.
    """
    shaped = np.asarray(rewards, "float64").reshape(-1, num_samples)
    if baseline_rewards is not None:
        baseline = np.asarray(baseline_rewards, "float64")[:, None]
    else:
        baseline = (shaped.sum(axis=1, keepdims=True) - shaped) / (num_samples - 1)
    return (shaped - baseline).reshape(-1)
