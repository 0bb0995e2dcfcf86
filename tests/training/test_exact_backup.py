"""`ExactBackupAndRestore` in one process (the SIGKILL test runs in child
processes: `test_exact_resume.py`)."""

import json
import os

import keras
import numpy as np
import pytest

from keras_roleplay.data import multimodal_dataset_from_arrays
from keras_roleplay.training import ExactBackupAndRestore, fit_captioner


class Crash(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("crash")


def _model(dropout=0.5):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,), name="text")
    hidden = keras.layers.Dropout(dropout, seed=1)(keras.layers.Dense(8)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def _data():
    rng = np.random.default_rng(0)
    text = rng.normal(size=(24, 4)).astype("float32")
    return multimodal_dataset_from_arrays(
        (text.sum(axis=1) > 0).astype("int32"),
        text=text,
        batch_size=8,
        shuffle=True,
        seed=0,
    )


def test_a_crashed_fit_resumes_at_the_last_finished_epoch(tmp_path):
    backup = str(tmp_path / "backup")
    straight = _model()
    straight.fit(
        _data(),
        epochs=4,
        callbacks=[ExactBackupAndRestore(str(tmp_path / "s"))],
        verbose=0,
    )

    crashed = _model()
    with pytest.raises(RuntimeError, match="crash"):
        crashed.fit(
            _data(),
            epochs=4,
            callbacks=[ExactBackupAndRestore(backup), Crash(2)],
            verbose=0,
        )
    with open(os.path.join(backup, "state.json")) as file:
        state = json.load(file)
    assert state["epoch"] == 2 and state["weights"] == "epoch-2.weights.h5"
    # One weights file: older ones are removed once the state names the new one.
    assert sorted(os.listdir(backup)) == ["epoch-2.weights.h5", "state.json"]

    resumed = _model()
    history = resumed.fit(
        _data(), epochs=4, callbacks=[ExactBackupAndRestore(backup)], verbose=0
    )
    assert history.epoch == [2, 3]
    for a, b in zip(resumed.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not os.path.exists(backup)  # removed once the run completed
    # A later fit starts at epoch 0 again (Keras would keep the resumed start).
    assert resumed.fit(_data(), epochs=1, verbose=0).epoch == [0]


def test_dropout_state_is_restored(tmp_path):
    backup = str(tmp_path / "b")
    model = _model()
    model.fit(
        _data(),
        epochs=2,
        callbacks=[ExactBackupAndRestore(backup, delete_checkpoint=False)],
        verbose=0,
    )
    trained = [
        np.asarray(v) for v in model.variables if v.name == "seed_generator_state"
    ]
    fresh = _model()
    before = [
        np.asarray(v) for v in fresh.variables if v.name == "seed_generator_state"
    ]
    assert len(trained) == 1 and not np.array_equal(trained[0], before[0])
    # Nothing left to train: restoring is all this fit does.
    fresh.fit(_data(), epochs=2, callbacks=[ExactBackupAndRestore(backup)], verbose=0)
    after = [np.asarray(v) for v in fresh.variables if v.name == "seed_generator_state"]
    np.testing.assert_array_equal(after[0], trained[0])


def test_a_backup_of_another_model_is_refused(tmp_path):
    backup = str(tmp_path / "b")
    _model().fit(
        _data(),
        epochs=1,
        callbacks=[ExactBackupAndRestore(backup, delete_checkpoint=False)],
        verbose=0,
    )
    inputs = keras.Input((4,), name="text")
    other = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    other.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="another model"):
        other.fit(
            _data(), epochs=2, callbacks=[ExactBackupAndRestore(backup)], verbose=0
        )


def test_a_damaged_backup_is_named(tmp_path):
    backup = tmp_path / "b"
    backup.mkdir()
    (backup / "state.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not a backup this callback wrote"):
        _model().fit(
            _data(), epochs=1, callbacks=[ExactBackupAndRestore(str(backup))], verbose=0
        )
    # A state naming a file outside the folder is refused before any reading.
    (backup / "state.json").write_text(
        '{"epoch": 1, "weights": "../x.weights.h5", "seed_states": [[1, 0]]}'
    )
    with pytest.raises(ValueError, match="weights file '../x.weights.h5'"):
        _model().fit(
            _data(), epochs=1, callbacks=[ExactBackupAndRestore(str(backup))], verbose=0
        )
    (backup / "state.json").write_text(
        '{"epoch": 1, "weights": "epoch-1.weights.h5", "seed_states": [[1, 0]]}'
    )
    with pytest.raises(ValueError, match="does not fit this model"):
        _model().fit(
            _data(), epochs=1, callbacks=[ExactBackupAndRestore(str(backup))], verbose=0
        )


def test_bad_arguments():
    with pytest.raises(ValueError, match="backup_dir"):
        ExactBackupAndRestore("")
    with pytest.raises(ValueError, match="backup_dir"):
        ExactBackupAndRestore(None)
    with pytest.raises(ValueError, match="time_budget"):
        fit_captioner(None, None, None, time_budget=10, backup_dir="/tmp/x")
