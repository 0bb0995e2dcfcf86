import json
import os
import re
import subprocess
import sys

import pytest

from keras_roleplay.datasets import shakespeare, shapes_captions
from keras_roleplay.demo import format_table, run_captioner, run_shakespeare


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
            # role_vqa only: it trains an image model, a judge and scores
            # both, which is what a demo job does; the other jobs run on a
            # few examples below (their recipes learn in tests/training,
            # tests/applications and the tutorials), three_branch's bars
            # in tests/applications/test_three_branch_ablation.py, and
            # role_vqa_zh is run_role_vqa in Chinese (the Chinese model is
            # tested through its preset). Each job here costs minutes on
            # the CI machine's single thread per worker.
            *("--models", "role_vqa"),
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
    assert "[1/1] role_vqa" in result.stdout
    assert "/epoch - loss:" in result.stdout
    # TensorFlow's own log lines are in their file, not on the screen.
    log = tmp_path / "results_tensorflow.log"
    assert not re.search(r"^[IWE]0000 ", result.stderr, re.M), result.stderr[:2000]
    assert log.exists()
    saved = json.loads(output.read_text())
    rows = saved["results"]
    # The figures are kept with what measured them (README's Results say so).
    assert saved["models"] == ["role_vqa"]
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["cpu"]
    assert saved["total_seconds"] >= sum(row["seconds"] for row in rows)
    assert all(row["seconds"] >= 0 for row in rows)
    # Every model's first row carries its training time.
    first = {}
    for row in rows:
        first.setdefault(row["model"], row)
    assert all(row["seconds"] > 0 for row in first.values())
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


def test_captioner_job_on_a_few_scenes(monkeypatch):
    """The demo's captioner job end to end, on 40 scenes instead of 600."""
    load_data = shapes_captions.load_data

    def few_scenes(**kwargs):
        return load_data(
            **{**kwargs, "num_train": 40, "num_validation": 8, "num_test": 8}
        )

    monkeypatch.setattr(shapes_captions, "load_data", few_scenes)
    lines = []
    rows = run_captioner(quick=True, log=lines.append)
    assert [row["metric"] for row in rows] == [
        "test token accuracy",
        "test BLEU-4 (greedy)",
        "test BLEU-4 (beam)",
    ]
    assert all(0.0 <= row["value"] <= 1.0 for row in rows)
    assert rows[0]["seconds"] > 0
    assert len(lines) == 4 and lines[-1].startswith("  e.g. ")


def test_shakespeare_job_on_a_few_speeches(monkeypatch):
    """The demo's Shakespeare job end to end, on 300 of its 1 690 speeches."""
    load_data = shakespeare.load_data

    def few_speeches(num_characters, **kwargs):
        splits = load_data(num_characters, **kwargs)
        return tuple(
            {key: values[:count] for key, values in split.items()}
            for split, count in zip(splits, (300, 60, 60), strict=True)
        )

    monkeypatch.setattr(shakespeare, "load_data", few_speeches)
    lines = []
    rows = {row["metric"]: row for row in run_shakespeare(quick=True, log=lines.append)}
    assert rows["training seeds (the perplexities are means)"]["value"] == 1
    for key in ("true role", "no role (ablation)", "shuffled role"):
        assert 1 < rows[f"test perplexity, {key}"]["value"] < 3000  # vocabulary 3000
    assert rows["test perplexity, true role"]["seconds"] > 0
    assert rows["perplexity gain of the role, lowest seed"]["value"] == pytest.approx(
        rows["perplexity gain of the role"]["value"], abs=1e-3
    )
    assert rows["judge chance (uniform guess)"]["value"] == pytest.approx(0.1)
    assert 0 <= rows["distinct-2"]["value"] <= 1
    assert lines[-1].startswith("  e.g. [")
