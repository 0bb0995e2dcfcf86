"""Two seeded runs of each model family's recipe give bitwise-equal weights
(`keras_roleplay.utils.make_reproducible`), in a child process."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_seeded_runs_are_bitwise_equal():
    families = ["classifier", "captioner", "responder"]
    process = subprocess.run(
        [sys.executable, "-m", "tests.training.reproducibility_worker", *families],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    report = json.loads(process.stdout.strip().splitlines()[-1])
    for family in families:
        # Trained (the weights moved from their start), and the same twice.
        assert report[family]["changed"], report
        assert report[family]["bitwise_equal"], report
