"""A training run killed with SIGKILL in the middle of an epoch and started
again ends with the weights of the uninterrupted run, for each model family
(`ExactBackupAndRestore`), in child processes."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAMILIES = [
    "classifier",
    "captioner",
    "responder",
    "captioner_scst",
    "responder_reward",
]


def _worker(out, mode):
    return subprocess.run(
        [sys.executable, "-m", "tests.training.resume_worker", out, mode, *FAMILIES],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=900,
    )


def _weights(path):
    with np.load(path) as arrays:
        return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]


@pytest.mark.slow
def test_killed_runs_resume_to_the_uninterrupted_weights(tmp_path):
    out = str(tmp_path)
    straight = _worker(out, "straight")
    assert straight.returncode == 0, straight.stderr[-3000:]
    # Killed once per family, then the last run completes.
    exits = []
    for _ in range(len(FAMILIES) + 1):
        run = _worker(out, "killed")
        exits.append(run.returncode)
        if run.returncode == 0:
            break
        assert run.returncode == -signal.SIGKILL, run.stderr[-3000:]
    assert exits == [-signal.SIGKILL] * len(FAMILIES) + [0]
    for family in FAMILIES:
        assert os.path.exists(os.path.join(out, f"killed-{family}"))
        # The backup is removed once the run completes.
        assert not os.path.exists(os.path.join(out, f"backup-killed-{family}"))
        resumed = _weights(os.path.join(out, f"killed-{family}.npz"))
        uninterrupted = _weights(os.path.join(out, f"straight-{family}.npz"))
        for a, b in zip(resumed, uninterrupted, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-6, rtol=0, err_msg=family)
