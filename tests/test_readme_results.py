"""`scripts/update_readme_results.py` writes the demo's figures into README."""

import importlib.util
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "update_readme_results.py")
spec = importlib.util.spec_from_file_location("update_readme_results", SCRIPT)
update_readme_results = importlib.util.module_from_spec(spec)
spec.loader.exec_module(update_readme_results)

RESULTS = {
    "quick": False,
    "models": ["dual_encoder"],
    "date": "2026-11-30",
    "total_seconds": 300.0,
    "machine": {
        "cpu": "AMD EPYC",
        "cores": 2,
        "cpu_bf16": False,
        "python": "3.11.7",
        "keras": "3.15.0",
        "keras_backend": "tensorflow",
    },
    "results": [
        {"model": "M", "metric": "recall@1", "value": 0.94, "seconds": 151.3},
        {"model": "M", "metric": "seeds", "value": 3.0, "seconds": 0.0},
        {"model": "N", "metric": "gain", "value": -0.0242, "seconds": 0.0},
    ],
}
README = f"""# title

## Results

{update_readme_results.BEGIN}
old table
{update_readme_results.END}

## Next
"""


def test_the_block_is_the_table_of_the_results():
    block = update_readme_results.render(RESULTS)
    lines = block.splitlines()
    assert "2 cores of AMD EPYC (float32, no native bf16)" in lines[0]
    assert "Keras 3.15.0 on tensorflow, 5 minutes in all" in lines[0]
    assert lines[2:] == [
        "| model | metric | value | seconds |",
        "| --- | --- | ---: | ---: |",
        "| M | recall@1 | 0.94 | 151 |",
        "|  | seeds | 3 |  |",
        "| N | gain | -0.0242 |  |",
    ]


def test_only_the_block_changes_and_a_changed_figure_shows():
    block = update_readme_results.render(RESULTS)
    updated = update_readme_results.replace_block(README, block)
    assert "old table" not in updated and block in updated
    assert updated.startswith("# title\n") and updated.endswith("## Next\n")
    # Written again from the same results: nothing changes.
    assert update_readme_results.replace_block(updated, block) == updated
    changed = {**RESULTS, "results": [{**RESULTS["results"][0], "value": 0.95}]}
    assert update_readme_results.render(changed) != block


def test_quick_runs_and_missing_markers_are_refused():
    with pytest.raises(ValueError, match="--quick"):
        update_readme_results.render({**RESULTS, "quick": True})
    with pytest.raises(ValueError, match="demo-results"):
        update_readme_results.replace_block("no markers here", "block")


def test_the_readme_shows_the_stored_full_demo_run():
    from keras_roleplay.demo import JOBS

    with open(update_readme_results.STORED, encoding="utf-8") as f:
        results = json.load(f)
    assert not results["quick"] and results["models"] == list(JOBS)
    assert update_readme_results.main(["--check"]) == 0
