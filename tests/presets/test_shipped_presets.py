"""The presets shipped in the package: cards, scores, the wheel, the quick start."""

import glob
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile

import pytest

from keras_roleplay import presets
from keras_roleplay.training.recipes import RECIPES
from keras_roleplay.utils.presets import SHIPPED

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_SHIPPED_BYTES = 40e6
MAX_WHEEL_BYTES = 40e6

# Run in a fresh process with every network connection refused: loads each
# shipped preset as a user would and scores it on its held-out split.
SCORE_IN_A_FRESH_PROCESS = textwrap.dedent(
    """
    import json, os, socket, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

    def no_network(*args, **kwargs):
        raise OSError("network access in a preset test")

    socket.socket.connect = no_network
    socket.create_connection = no_network
    from keras_roleplay import presets
    from keras_roleplay.training.recipes import RECIPES

    scores = {}
    for name in sys.argv[1:]:
        model = presets.load(name)
        scores[name] = RECIPES[name].evaluate(model, load=presets.load)
    print(json.dumps(scores))
    """
)


def _run_in_checkout(args, timeout=600):
    """Runs `python *args` in a child process that imports this checkout."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_every_recipe_is_shipped_with_a_card():
    assert presets.list_presets() == sorted(RECIPES)
    for name in presets.list_presets():
        card = presets.card(name)
        recipe = RECIPES[name]
        assert card["name"] == name
        assert card["class_name"] == recipe.model_class.__name__
        assert card["bars"] == recipe.bars
        assert set(card["metrics"]) >= set(recipe.bars)
        folder = os.path.join(SHIPPED, name)
        files = [
            f for f in glob.glob(f"{folder}/**", recursive=True) if os.path.isfile(f)
        ]
        # The card's size is the folder's, less the card itself (written last).
        card_bytes = os.path.getsize(os.path.join(folder, presets.CARD_FILE))
        assert card["size_bytes"] == sum(map(os.path.getsize, files)) - card_bytes
        assert "quick" not in card["trained_on"]  # not a smoke-run preset
        assert card["domain"] == recipe.domain and recipe.domain  # what it knows


def test_shipped_presets_fit_the_size_budget():
    total = sum(presets.card(name)["size_bytes"] for name in presets.list_presets())
    assert total <= MAX_SHIPPED_BYTES, f"{total / 1e6:.1f} MB"


def test_cards_meet_their_bars_and_the_summary_lists_them():
    for name in presets.list_presets():
        card = presets.card(name)
        for metric, bar in card["bars"].items():
            assert card["metrics"][metric] >= bar, (name, metric)
    summary = presets.summary()
    assert all(name in summary for name in presets.list_presets())
    assert "knows: coloured shapes (circles, squares" in summary


def test_unknown_names_are_refused_with_the_list():
    with pytest.raises(ValueError, match="no_such.*role_vqa_en"):
        presets.card("no_such")
    from keras_roleplay.applications import RoleResponder

    with pytest.raises(ValueError, match="holds a 'VGG16LSTMCaptioner'"):
        RoleResponder.from_preset("captioner_shapes_en")


@pytest.mark.slow
def test_shipped_presets_score_what_their_cards_say_offline():
    names = presets.list_presets()
    process = _run_in_checkout(["-c", SCORE_IN_A_FRESH_PROCESS, *names], 900)
    assert process.returncode == 0, process.stderr[-3000:]
    scores = json.loads(process.stdout.strip().splitlines()[-1])
    for name in names:
        card = presets.card(name)
        for metric, value in card["metrics"].items():
            # The same files and code: equal up to float summation order.
            assert scores[name][metric] == pytest.approx(value, abs=0.01), (
                name,
                metric,
            )
        for metric, bar in card["bars"].items():
            assert scores[name][metric] >= bar, (name, metric)


def quick_start_snippets():
    """The Python blocks of the README's "Quick start" section."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.slow
def test_the_wheel_holds_the_presets_and_runs_the_quick_start(tmp_path):
    build = subprocess.run(
        [
            sys.executable,
            *("-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation"),
            *("-q", "-w", str(tmp_path / "dist")),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = glob.glob(str(tmp_path / "dist" / "keras_roleplay-*.whl"))
    assert os.path.getsize(wheel) <= MAX_WHEEL_BYTES
    with zipfile.ZipFile(wheel) as archive:
        members = set(archive.namelist())
    for name in presets.list_presets():
        for file in ("config.json", "model.weights.h5", "card.json"):
            assert f"keras_roleplay/presets/{name}/{file}" in members
    # Installed into a fresh virtual environment, alone: its dependencies
    # (TensorFlow, Keras...) come from this one through a .pth line (no
    # download), which does not bring this checkout's editable install.
    fresh = tmp_path / "fresh"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True
    )
    python = fresh / "bin" / "python"
    (site,) = glob.glob(str(fresh / "lib" / "python3*" / "site-packages"))
    dependencies = [p for p in sys.path if p.endswith("site-packages")]
    with open(os.path.join(site, "dependencies.pth"), "w") as f:
        f.write("\n".join(dependencies) + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps"]
        + ["--target", site, wheel],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # Each snippet alone, as a reader pastes it, prints what the README shows
    # (the sampled Shakespeare reply is only checked to be a reply).
    snippets = quick_start_snippets()
    assert len(snippets) == 3
    outputs = []
    for snippet in snippets:
        code = "import keras_roleplay\nprint('from', keras_roleplay.__file__)\n"
        run = subprocess.run(
            [str(python), "-c", code + snippet],
            cwd=tmp_path,  # not the checkout: nothing imported from the source tree
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        assert f"from {site}" in run.stdout
        outputs.append(run.stdout.splitlines()[-1])
    assert outputs[0] == snippets[0].split("\n# ")[1].splitlines()[0]
    assert "the circle is green" in outputs[1]  # the README's answer
    assert len(outputs[2].split()) > 1


@pytest.mark.slow
def test_the_script_builds_a_loadable_preset_with_its_card(tmp_path):
    script = os.path.join(ROOT, "scripts", "train_presets.py")
    name = "three_branch_agreement"
    run = _run_in_checkout(
        [script, "--quick", "--only", name, "--output", str(tmp_path)]
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"[1/1] {name}" in run.stdout
    with open(tmp_path / name / "card.json", encoding="utf-8") as f:
        card = json.load(f)
    assert card["trained_on"].endswith("(quick smoke run)")
    assert sorted(os.listdir(tmp_path)) == [name]  # no staging folder left
    model = RECIPES[name].model_class.from_preset(tmp_path / name)
    scores = RECIPES[name].evaluate(model, quick=True)
    assert scores == pytest.approx(card["metrics"], abs=0.02)
    # A responder needs its judge: refused before any training.
    run = _run_in_checkout([script, "--only", "role_vqa_en", "--output", str(tmp_path)])
    assert run.returncode == 2 and "build them first" in run.stderr
    # --trained: scored and carded again from the files, not retrained.
    again = tmp_path / "again"
    run = _run_in_checkout(
        [script, "--quick", "--only", name, "--output", str(again)]
        + ["--trained", str(tmp_path / name)]
    )
    assert run.returncode == 0, run.stderr[-3000:]
    with open(again / name / "card.json", encoding="utf-8") as f:
        rescored = json.load(f)
    assert rescored["training_seconds"] == card["training_seconds"]
    assert rescored["metrics"] == pytest.approx(card["metrics"], abs=1e-4)
    run = _run_in_checkout([script, "--trained", str(tmp_path / name)])
    assert run.returncode == 2 and "--trained takes one preset" in run.stderr
