import json
import os
import re
import subprocess
import sys

import pytest

from keras_roleplay import demo
from keras_roleplay.datasets import (
    paraphrased_scenes,
    role_vqa,
    shakespeare,
    shapes_captions,
)
from keras_roleplay.demo import (
    QUICK_MINUTES,
    QUICK_NOTE,
    format_table,
    run_captioner,
    run_reward_tuning,
    run_shakespeare,
)
from keras_roleplay.training.recipes import shakespeare_recipe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
            # tests/models, tests/applications and the tutorials),
            # three_branch's bars in benchmarks/three_branch_ablation.py
            # (and its fusions in tests/applications), and
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
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "model" in result.stdout and "BLEU-4" in result.stdout
    # Which job runs, and a bar per model with the time left (Keras' Progbar).
    assert "[1/1] role_vqa" in result.stdout
    assert "/epoch - loss:" in result.stdout
    # TensorFlow's own log lines are in their file, not on the screen
    # (without any TF_CPP_MIN_LOG_LEVEL, as `make demo` runs it).
    log = tmp_path / "results_tensorflow.log"
    assert not re.search(r"^[IWE]0000 ", result.stderr, re.M), result.stderr[:2000]
    assert log.exists()
    saved = json.loads(output.read_text())
    rows = saved["results"]
    # The figures are kept with what measured them (README's Results say so).
    assert saved["models"] == ["role_vqa"]
    assert {row["job"] for row in rows} == {"role_vqa"}
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
    # The run says its figures are short-training figures, and how long the
    # job takes; it took no more than 5x that: a test worker computes on one
    # thread beside the other worker, and CI machines differ by 2x.
    assert QUICK_NOTE in result.stdout and "(quick: about 0.7 min)" in result.stdout
    job_seconds = sum(row["seconds"] for row in rows)
    assert job_seconds <= 5 * 60 * QUICK_MINUTES["role_vqa"], job_seconds


def test_the_readme_states_the_quick_demos_measured_time():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    stated = re.search(
        r"make demo-quick` trains everything briefly \(about (\d+) min", readme
    )
    assert stated, "README: the quick demo's time"
    assert int(stated.group(1)) == round(sum(QUICK_MINUTES.values()))
    assert all(minutes > 0 for minutes in QUICK_MINUTES.values())


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
    monkeypatch.setattr(shakespeare_recipe, "SHAKESPEARE_QUICK_EXCHANGES", 300)
    lines = []
    rows = {
        (row["model"].split(", ")[1].rstrip("]"), row["metric"]): row
        for row in run_shakespeare(quick=True, log=lines.append)
    }
    pretrained, scratch = "pretrained + roles", "from scratch"
    assert (
        rows["10 characters", "training seeds (the figures above are means)"]["value"]
        == 1
    )
    for start in (pretrained, scratch):
        for key in ("true role", "no role", "shuffled role"):
            value = rows[start, f"test perplexity, {key}"]["value"]
            assert 1 < value < 3000  # the vocabulary's size
        assert rows[start, "test perplexity, true role"]["seconds"] > 0
        # One seed: its lowest and highest are the mean.
        assert rows[start, "test perplexity, true role, lowest seed"][
            "value"
        ] == pytest.approx(rows[start, "test perplexity, true role"]["value"], abs=1e-3)
        assert rows[start, "seeds with the true role below the shuffled one"][
            "value"
        ] in (0, 1)
        for key in ("speaker named by the model itself", "distinct-2"):
            assert 0 <= rows[start, key]["value"] <= 1
    # Pretraining on 300 more exchanges already helps on 300 speeches.
    ratio = rows["10 characters", "perplexity, pretrained / from scratch"]["value"]
    assert ratio == pytest.approx(
        rows[pretrained, "test perplexity, true role"]["value"]
        / rows[scratch, "test perplexity, true role"]["value"],
        abs=1e-3,
    )
    assert ratio < 1
    assert rows["10 characters", "judge chance (uniform guess)"]["value"] == 0.1
    # Sampled (top-p), not greedy: replies that do not all repeat one phrase.
    assert rows[pretrained, "distinct-2"]["value"] > 0.1
    # A new character from 2 of its speeches: no role, MAML, plain fine-tuning.
    new_roles = {
        metric.split(" speeches, ", 1)[1]: row["value"]
        for (model, metric), row in rows.items()
        if model == "1 new characters"
    }
    assert list(new_roles) == [
        "no role",
        "MAML",
        "plain, Adam 0.01",
        "plain, Adam 0.03",
    ]
    assert all(1 < value < 3000 for value in new_roles.values())
    assert lines[-1].startswith("  e.g. [")


def test_reward_tuning_job_on_a_few_scenes(monkeypatch):
    """The demo's reward-tuning job end to end: 24 captioned scenes, 16
    questions to tune on, 30 held out, a few seconds an arm."""
    load_data, generate_examples = (
        paraphrased_scenes.load_data,
        role_vqa.generate_examples,
    )
    monkeypatch.setattr(
        paraphrased_scenes,
        "load_data",
        lambda **kwargs: load_data(num_train=24, num_test=8, image_size=32),
    )
    monkeypatch.setattr(
        role_vqa,
        "generate_examples",
        lambda n, **kwargs: generate_examples(min(n, 16 if n == 200 else 30), **kwargs),
    )
    monkeypatch.setattr(demo, "REWARD_SECONDS_QUICK", {"start": 4, "arm": 3})
    lines = []
    rows = run_reward_tuning(quick=True, log=lines.append)
    values = {(row["model"].split("[")[0], row["metric"]): row for row in rows}
    captioner, responder = "VGG16LSTMCaptioner", "RoleResponder"
    assert len(rows) == 9
    for label in ("after 4 s teacher forcing", "+ 3 s teacher forcing", "+ 3 s SCST"):
        assert values[captioner, f"held-out CIDEr-D, {label}"]["value"] >= 0
        assert 0 <= values[captioner, f"held-out BLEU-4, {label}"]["value"] <= 1
    for label in ("+ 3 s teacher forcing", "+ 3 s SCST"):
        # Each arm ran its budget (the first batch may overrun it).
        assert values[captioner, f"held-out CIDEr-D, {label}"]["seconds"] >= 3
    accuracy = {
        label: values[responder, f"content accuracy, held-out phrasings, {label}"]
        for label in ("as shipped", "+ 3 s teacher forcing", "+ 3 s content reward")
    }
    # The shipped preset answers most held-out questions right (0.887 on the
    # card's 300); 30 of them here.
    assert accuracy["as shipped"]["value"] >= 0.6
    assert all(0 <= row["value"] <= 1 for row in accuracy.values())
    assert accuracy["+ 3 s content reward"]["seconds"] >= 3
    assert lines[-1].startswith("  RoleResponder[role_vqa_en preset] content accuracy")
