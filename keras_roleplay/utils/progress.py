"""A progress bar over the epochs of a training run, with the time left."""

import sys
import time

import keras


class EpochProgress(keras.callbacks.Callback):
    """One bar per `fit` over its epochs, with an estimate of the time left.

    `fit(verbose=1)` draws a bar over each epoch's steps, which scrolls away
    in a run of many epochs or many models; this draws one bar for the
    whole run, after a line naming it, with Keras' own `Progbar` (which
    estimates the time left from the epochs so far). A run stopped early
    (early stopping) ends its bar where it stopped.

    Args:
        label: what is training, printed above the bar.
        stream: where the label goes (default: standard output, where
            `Progbar` draws).

    Example:

    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(loss="mse")
    >>> history = model.fit(np.zeros((8, 2)), np.zeros((8, 1)), epochs=2,
    ...                     verbose=0, callbacks=[EpochProgress("tiny model")])
    ... # doctest: +ELLIPSIS
    tiny model
    ...
    """

    def __init__(self, label, stream=None):
        super().__init__()
        self.label = label
        self.stream = stream

    def on_train_begin(self, logs=None):
        print(self.label, file=self.stream or sys.stdout, flush=True)
        # Stateful: show each epoch's losses, not their running mean.
        self.bar = keras.utils.Progbar(
            self.params.get("epochs"),
            unit_name="epoch",
            stateful_metrics=["loss", "val_loss"],
        )
        self.seen = 0

    def on_epoch_end(self, epoch, logs=None):
        self.seen = epoch + 1
        values = [(k, v) for k, v in (logs or {}).items() if k in ("loss", "val_loss")]
        self.bar.update(self.seen, values=values)

    def on_train_end(self, logs=None):
        if self.seen < (self.bar.target or 0):  # stopped early
            self.bar.target = self.seen
            self.bar.update(self.seen, finalize=True)
        print(file=sys.stdout, flush=True)


class EpochLog(keras.callbacks.Callback):
    """One line per epoch, loss and seconds, through a `log` function.

    For programs whose standard output is for something else (the chat's
    replies) or whose progress a test reads: `log` decides where the line
    goes (`EpochProgress` draws a bar on standard output instead).

    Example:

    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(loss="mse")
    >>> lines = []
    >>> _ = model.fit(np.zeros((8, 2)), np.zeros((8, 1)), epochs=2, verbose=0,
    ...               callbacks=[EpochLog(lines.append)])
    >>> [line.split(" (")[0] for line in lines]
    ['  epoch 1: loss 0.0000', '  epoch 2: loss 0.0000']
    """

    def __init__(self, log):
        super().__init__()
        self.log = log

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss", float("nan"))
        seconds = time.perf_counter() - self.start
        self.log(f"  epoch {epoch + 1}: loss {loss:.4f} ({seconds:.0f} s)")
