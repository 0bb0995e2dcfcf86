"""Resuming a killed training run exactly where its last epoch ended."""

import glob
import json
import os
import re
import shutil

import keras
import numpy as np

from keras_roleplay.utils.atomic_files import atomic_output
from keras_roleplay.utils.pipeline import set_pipeline_epoch

STATE_FILE = "state.json"


class ExactBackupAndRestore(keras.callbacks.Callback):
    """Backs up training at every epoch's end; a restarted `fit` resumes there.

    Keras' `BackupAndRestore`, with what an *exact* resume also needs, so
    that a run killed at any moment (even `SIGKILL` in the middle of an
    epoch) and started again with the same script ends with the weights of
    the uninterrupted run (tested to 1e-6 for the three model families,
    `tests/training/test_exact_resume.py`). Written here because Keras'
    callback leaves out three things:

    - the dropout generators' state (`SeedGenerator`s are not in the
      weights file): saved beside the weights and restored;
    - the order of the data: at every epoch's start this sets the library's
      pipelines to that epoch (`utils.pipeline.set_pipeline_epoch`), whose
      shuffling (and role dropout) depends on `(seed, epoch)` alone, where
      `Dataset.shuffle` would start again from the first epoch's order;
    - a consistent backup: the weights go to a new file, then one small
      state file naming it is renamed into place; a run killed while saving
      leaves the previous backup whole (Keras writes the weights and the
      epoch number in two steps).

    The optimizer's state (moments, step count, hence the learning-rate
    schedule) is in the weights file, as with Keras' callback. The epoch
    that was under way when the run died is trained again from its start.
    What is not restored: other callbacks' state (`EarlyStopping`'s
    patience, `TimeBudget`'s clock) and datasets not built by this library
    (their shuffling is theirs). Use the same seed (`make_reproducible`),
    model, data and `fit` arguments on restart; on the same machine the
    resumed weights then equal the uninterrupted run's.

    Args:
        backup_dir: a folder of its own for the backup (made if missing).
        delete_checkpoint: remove the backup when `fit` completes.

    Example:

    >>> import tempfile
    >>> import numpy as np
    >>> from keras_roleplay.data import multimodal_dataset_from_arrays
    >>> inputs = keras.Input((3,), name="text")
    >>> model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    >>> model.compile("adam", "sparse_categorical_crossentropy")
    >>> data = multimodal_dataset_from_arrays(np.zeros(8, "int32"),
    ...     text=np.ones((8, 3)), batch_size=4, shuffle=True, seed=0)
    >>> backup = ExactBackupAndRestore(tempfile.mkdtemp())
    >>> history = model.fit(data, epochs=2, callbacks=[backup], verbose=0,
    ...                     shuffle=False)  # the pipeline shuffles
    >>> len(history.history["loss"])
    2
    """

    def __init__(self, backup_dir, delete_checkpoint=True):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ValueError(
                "`backup_dir` must be a folder path. Received: "
                f"backup_dir={backup_dir!r}"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.delete_checkpoint = delete_checkpoint
        self._restored = False

    def _seed_states(self):
        # Every `SeedGenerator`'s state variable, in the model's fixed order.
        return [v for v in self.model.variables if v.name == "seed_generator_state"]

    def on_train_begin(self, logs=None):
        self._restored = False
        state_path = os.path.join(self.backup_dir, STATE_FILE)
        if not os.path.exists(state_path):
            return
        try:
            with open(state_path, encoding="utf-8") as file:
                state = json.load(file)
            name = state["weights"]
            # Only a weights file of this folder, never a path elsewhere.
            if not re.fullmatch(r"epoch-\d+\.weights\.h5", name):
                raise ValueError(f"weights file {name!r}")
            weights = os.path.join(self.backup_dir, name)
            saved_seed_states, epoch = state["seed_states"], int(state["epoch"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"{state_path!r} is not a backup this callback wrote "
                f"({type(error).__name__}: {error}). Remove the folder to start "
                "anew, or give another `backup_dir`."
            ) from None
        seed_states = self._seed_states()
        if len(saved_seed_states) != len(seed_states):
            raise ValueError(
                f"The backup in {self.backup_dir!r} is of another model: it holds "
                f"{len(saved_seed_states)} dropout generator states, this "
                f"model has {len(seed_states)}. Remove the folder to start anew."
            )
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        try:
            self.model.load_weights(weights)
        except (OSError, ValueError) as error:
            raise ValueError(
                f"The backup in {self.backup_dir!r} does not fit this model "
                f"({error}). Remove the folder to start anew."
            ) from None
        for variable, value in zip(seed_states, saved_seed_states, strict=True):
            variable.assign(np.asarray(value, dtype=variable.dtype))
        # Where Keras' own callback tells `fit` to start.
        self.model._initial_epoch = epoch
        self._restored = True

    def on_epoch_begin(self, epoch, logs=None):
        set_pipeline_epoch(epoch)

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        weights = f"epoch-{epoch + 1}.weights.h5"
        with atomic_output(os.path.join(self.backup_dir, weights)) as tmp:
            self.model.save_weights(tmp)
        state = {
            "epoch": epoch + 1,
            "weights": weights,
            "seed_states": [
                keras.ops.convert_to_numpy(v).tolist() for v in self._seed_states()
            ],
        }
        with atomic_output(os.path.join(self.backup_dir, STATE_FILE)) as tmp:
            with open(tmp, "w", encoding="utf-8") as file:
                json.dump(state, file)
        for old in glob.glob(os.path.join(self.backup_dir, "epoch-*.weights.h5")):
            if os.path.basename(old) != weights:
                os.remove(old)

    def on_train_end(self, logs=None):
        if self._restored:
            # Keras keeps it, and would start the next `fit` there too.
            self.model._initial_epoch = None
        if self.delete_checkpoint:
            shutil.rmtree(self.backup_dir, ignore_errors=True)
