"""Training under a wall-clock budget, its learning rate following the budget."""

import math
import time

import keras

from keras_roleplay.utils.validation import check_positive_number


def warmup_cosine_rate(fraction, peak_learning_rate, warmup=0.05, alpha=0.02):
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
