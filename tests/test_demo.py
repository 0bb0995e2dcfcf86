import json
import os
import re
import subprocess
import sys

import pytest

from keras_roleplay.demo import format_table


def test_format_table_aligns_columns():
    table = format_table(
        [
            {"model": "a", "metric": "accuracy", "value": 0.5, "seconds": 1.0},
            {"model": "longer", "metric": "acc", "value": 1, "seconds": 10.5},
        ]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["model", "metric", "value", "seconds"]
    assert len({line.index(line.split()[1]) for line in lines[2:]}) == 1


def test_unknown_model_is_refused():
    result = subprocess.run(
        [sys.executable, "-m", "keras_roleplay.demo", "--models", "nope"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "unknown model(s) ['nope']" in result.stderr


@pytest.mark.slow
def test_quick_demo_trains_and_writes_results(tmp_path):
    output = tmp_path / "results.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_roleplay.demo",
            "--quick",
            # Left out to save minutes: three_branch (its models and bars are
            # tested in tests/applications/test_three_branch_ablation.py, on
            # more data) and role_vqa_zh (run_role_vqa in Chinese; the
            # Chinese model is tested through its preset).
            *("--models", "captioner", "role_vqa", "shakespeare"),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},  # as `make demo` runs it
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "model" in result.stdout and "BLEU-4" in result.stdout
    # Which job runs, and a bar per model with the time left (Keras' Progbar).
    assert "[1/3] captioner" in result.stdout
    assert "[3/3] shakespeare" in result.stdout
    assert "/epoch - loss:" in result.stdout
    # TensorFlow's own log lines are in their file, not on the screen.
    log = tmp_path / "results_tensorflow.log"
    assert not re.search(r"^[IWE]0000 ", result.stderr, re.M), result.stderr[:2000]
    assert log.exists()
    saved = json.loads(output.read_text())
    rows = saved["results"]
    # The figures are kept with what measured them (README's Results say so).
    assert saved["models"] == ["captioner", "role_vqa", "shakespeare"]
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["cpu"]
    assert saved["total_seconds"] >= sum(row["seconds"] for row in rows)
    assert all(row["seconds"] >= 0 for row in rows)
    # Every model's first row carries its training time.
    first = {}
    for row in rows:
        first.setdefault(row["model"], row)
    assert all(row["seconds"] > 0 for row in first.values())
    captioner = {r["metric"]: r["value"] for r in rows if "Captioner" in r["model"]}
    # Six quick epochs on 600 scenes: the grammar and some of the scenes.
    assert captioner["test token accuracy"] > 0.5
    assert 0.1 < captioner["test BLEU-4 (greedy)"] <= 1.0
    assert 0.1 < captioner["test BLEU-4 (beam)"] <= 1.0
    vqa = {r["metric"]: r["value"] for r in rows if "role-VQA en" in r["model"]}
    # Four quick epochs: the roles' phrasing is learned before the content;
    # the judge reads the role off the phrasing.
    assert vqa["judge role accuracy, gold answers"] > 0.9
    assert (
        vqa["judge role accuracy, generated"]
        > 0.5
        > vqa["judge chance (uniform guess)"]
    )
    assert 0.0 <= vqa["test content accuracy"] <= 1.0
    bard = {r["metric"]: r["value"] for r in rows if "Shakespeare" in r["model"]}
    assert (
        1 < bard["test perplexity, true role"] < bard["test perplexity, shuffled role"]
    )
    assert bard["training seeds (the perplexities are means)"] == 1  # quick
    assert bard["perplexity gain of the role, lowest seed"] == pytest.approx(
        bard["perplexity gain of the role"], abs=1e-3
    )
