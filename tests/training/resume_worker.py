"""Trains each model family for 3 epochs through its recipe with an
`ExactBackupAndRestore`, and saves the final weights; run by
`tests/training/test_exact_resume.py`.

    python -m tests.training.resume_worker OUT_DIR straight|killed FAMILY...

In `killed` mode the first attempt at each family kills its own process with
SIGKILL in the middle of the second epoch (after its first batch); run the
worker again and it resumes that family from its backup, then goes on to the
next. Families already finished (their weights saved) are skipped.
"""

import os
import signal
import sys

import keras
import numpy as np

from tests.training.families import train_family


class KillMidEpoch(keras.callbacks.Callback):
    """SIGKILL (no clean-up, no `finally`) after the first batch of epoch 1
    (each family's epochs have two batches or more)."""

    def __init__(self, marker):
        super().__init__()
        self.marker = marker
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 0:
            open(self.marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)


def main():
    out, mode, families = sys.argv[1], sys.argv[2], sys.argv[3:]
    for family in families:
        result = os.path.join(out, f"{mode}-{family}.npz")
        if os.path.exists(result):
            continue
        marker = os.path.join(out, f"killed-{family}")
        callbacks = []
        if mode == "killed" and not os.path.exists(marker):
            callbacks.append(KillMidEpoch(marker))
        backup_dir = os.path.join(out, f"backup-{mode}-{family}")
        weights = train_family(family, backup_dir, callbacks)
        np.savez(result, *weights)


if __name__ == "__main__":
    main()
