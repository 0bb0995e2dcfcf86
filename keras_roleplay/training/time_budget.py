"""Training under a wall-clock budget, its learning rate following the budget."""

import math
import time

import keras

from keras_roleplay.utils.validation import check_positive_int, check_positive_number

WARMUP_SHARE = 0.05  # of the run spent warming up
FINAL_SHARE = 0.02  # of the peak rate left at the end


def warmup_cosine_schedule(total_steps, peak_learning_rate):
    """Keras' `CosineDecay` with its warm-up: the recipes' schedule by steps.

    A linear warm-up over the first 5% of `total_steps` to
    `peak_learning_rate`, then a cosine decay to 2% of it; used by
    `warmup_cosine_adamw` (the responder) and `fit_captioner`.
    `warmup_cosine_rate` is the same curve by share of a run. (Keras counts
    the decay's `total_steps` after the warm-up, so the floor comes 5%
    later than the last step; kept as the recipes have always trained.)

    Example:

    >>> schedule = warmup_cosine_schedule(100, 1e-3)
    >>> [round(float(schedule(s)), 5) for s in (0, 5, 105)]
    [0.0, 0.001, 2e-05]
    """
    total_steps = check_positive_int("total_steps", total_steps)
    return keras.optimizers.schedules.CosineDecay(
        0.0,
        total_steps,
        alpha=FINAL_SHARE,
        warmup_target=peak_learning_rate,
        warmup_steps=max(1, int(total_steps * WARMUP_SHARE)),
    )


def warmup_cosine_rate(
    fraction, peak_learning_rate, warmup=WARMUP_SHARE, alpha=FINAL_SHARE
):
    """The learning rate at `fraction` (0 to 1) of a run: warm-up, then cosine.

    The same shape as `keras.optimizers.schedules.CosineDecay` with its
    warm-up (what `warmup_cosine_adamw` uses), as a function of the share
    of the run done rather than of the step, for runs whose length is a
    time budget: a linear warm-up over the first `warmup` of the run, then a
    cosine decay to `alpha` times the peak.

    Example:

    >>> [round(warmup_cosine_rate(f, 1.0), 3) for f in (0.0, 0.05, 0.525, 1.0)]
    [0.0, 1.0, 0.51, 0.02]
    """
    fraction = min(max(float(fraction), 0.0), 1.0)
    if fraction < warmup:
        return peak_learning_rate * fraction / warmup
    progress = (fraction - warmup) / (1.0 - warmup)
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return peak_learning_rate * (alpha + (1.0 - alpha) * cosine)


class TimeBudget(keras.callbacks.Callback):
    """Stops `fit` once `seconds` of wall-clock time have gone by.

    Checked after every batch, so the run ends within one batch of the
    budget (`fit`'s `epochs` is then only an upper bound). With
    `peak_learning_rate`, it also sets the optimizer's learning rate
    before every batch from the share of the budget spent
    (`warmup_cosine_rate`): a schedule over a run whose number of steps is
    not known in advance ("budgeted training", Li et al., ICLR 2020, found
    a decay tied to the budget beats a fixed rate cut short). Keras has an
    `EarlyStopping` on metrics but nothing on time, hence this callback.

    The time counts from the start of `fit`: tracing and compilation are in
    the budget, as they are in a user's wait. The schedule runs over the
    time left after the first batch (which holds the tracing), so the
    warm-up is spent on real steps however long tracing takes.

    Args:
        seconds: the budget.
        peak_learning_rate: optional; the optimizer's learning rate must
            then be a number (not a schedule).

    Attributes:
        steps: batches trained. `elapsed`: seconds used.

    Example:

    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(loss="mse")
    >>> budget = TimeBudget(0.5)
    >>> _ = model.fit(np.zeros((64, 2)), np.zeros((64, 1)), batch_size=8,
    ...               epochs=10_000, verbose=0, callbacks=[budget])
    >>> 0.5 <= budget.elapsed < 10
    True
    """

    def __init__(self, seconds, peak_learning_rate=None):
        super().__init__()
        self.seconds = check_positive_number("seconds", seconds)
        self.peak_learning_rate = peak_learning_rate
        self.steps = 0
        self.elapsed = 0.0

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.schedule_start = None
        self.steps = 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.peak_learning_rate is None:
            return
        fraction = 0.0
        if self.schedule_start is not None:
            left = max(self.seconds - (self.schedule_start - self.start), 1e-9)
            fraction = (time.perf_counter() - self.schedule_start) / left
        self.model.optimizer.learning_rate = warmup_cosine_rate(
            fraction, self.peak_learning_rate
        )

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        self.elapsed = time.perf_counter() - self.start
        if self.schedule_start is None:
            self.schedule_start = time.perf_counter()
        if self.elapsed >= self.seconds:
            self.model.stop_training = True
