"""Data-parallel training on 2 devices gives what 1 device gives.

`tf.distribute.MirroredStrategy` over 2 logical CPUs, and
`keras.distribution.DataParallel` on JAX over 2 host devices; each engine
in its own process (`tests/distribution/worker.py`), since devices are set
up before the backend starts. On JAX the reward-tuning loop too
(`fit_reply_rewards`: sampling with `generate`, then `train_on_batch`).
"""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from tests.distribution import cases

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def engine_runs(tmp_path_factory):
    """`engine_runs(engine)`: the worker's results for an engine, run once."""
    done = {}

    def run(engine):
        if engine not in done:
            output = tmp_path_factory.mktemp("data_parallel") / "results.pkl"
            process = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tests.distribution.worker",
                    engine,
                    str(output),
                ],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": ROOT},
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert process.returncode == 0, process.stderr[-4000:]
            with open(output, "rb") as f:
                done[engine] = pickle.load(f)
        return done[engine]

    return run


CASES = [(engine, name) for engine in ("tf", "jax") for name in cases.MODELS] + [
    ("jax", "responder_reward")
]


@pytest.mark.slow
@pytest.mark.parametrize("engine,name", CASES)
def test_two_devices_train_as_one(engine_runs, engine, name):
    runs = engine_runs(engine)
    (loss_one, weights_one), (loss_two, weights_two) = (
        runs[name]["one"],
        runs[name]["two"],
    )
    assert np.isfinite(loss_one)
    assert abs(loss_two - loss_one) <= 1e-5
    for one, two in zip(weights_one, weights_two, strict=True):
        # Adam's step size divides by the root of tiny second moments, so
        # the weights agree less tightly than the loss.
        np.testing.assert_allclose(two, one, atol=1e-4)
    # Training moved the weights: the comparison is not between two
    # untouched copies.
    initial = runs[name]["initial"]
    moved = [np.abs(a - b).max() for a, b in zip(weights_one, initial, strict=True)]
    assert max(moved) > 1e-3
