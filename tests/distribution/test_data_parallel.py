"""Data-parallel training on 2 devices gives what 1 device gives.

`tf.distribute.MirroredStrategy` over 2 logical CPUs, and
`keras.distribution.DataParallel` on JAX over 2 host devices; each engine
in its own process (`tests/distribution/worker.py`), since devices are set
up before the backend starts.
"""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from tests.distribution import cases

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module", params=["tf", "jax"])
def runs(request, tmp_path_factory):
    output = tmp_path_factory.mktemp("data_parallel") / "results.pkl"
    process = subprocess.run(
        [sys.executable, "-m", "tests.distribution.worker", request.param, str(output)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    with open(output, "rb") as f:
        return pickle.load(f)


@pytest.mark.slow
@pytest.mark.parametrize("name", cases.MODELS)
def test_two_devices_train_as_one(runs, name):
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
