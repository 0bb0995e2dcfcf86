import re

import keras
import numpy as np

from keras_roleplay.utils.progress import EpochProgress


def test_one_bar_over_the_epochs_with_each_epochs_loss(capsys):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(0).normal(size=(32, 2))
    history = model.fit(
        x, x[:, :1] * 3, epochs=4, verbose=0, callbacks=[EpochProgress("tiny")]
    )
    out = capsys.readouterr().out
    assert out.startswith("tiny\n")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "4/4" in plain and "/epoch" in plain
    # The last loss shown is the last epoch's, not the mean of the four.
    shown = float(re.findall(r"loss: ([0-9.e+-]+)", plain)[-1])
    assert np.isclose(shown, history.history["loss"][-1], rtol=1e-3)
    assert not np.isclose(shown, np.mean(history.history["loss"]), rtol=1e-3)


def test_a_run_stopped_early_ends_its_bar_where_it_stopped(capsys):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(loss="mse")
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    model.fit(
        np.zeros((8, 2)),
        np.zeros((8, 1)),
        epochs=10,
        verbose=0,
        callbacks=[EpochProgress("stops"), stop],
    )
    plain = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert "1/10" in plain and "10/10" not in plain and plain.endswith("\n")
