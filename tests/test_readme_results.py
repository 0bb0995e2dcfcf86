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
    # Every job has its rows, in the demo's order (re-runs included).
    jobs = [row["job"] for row in results["results"]]
    assert list(dict.fromkeys(jobs)) == list(JOBS)
    assert update_readme_results.main(["--check"]) == 0


def _tagged(results, job, rows):
    return {**results, "results": [{"job": job, **row} for row in rows]}


def test_a_job_run_alone_replaces_its_rows_and_is_named():
    stored = {
        **RESULTS,
        "models": ["dual_encoder", "shakespeare"],
        "results": [
            {"job": "dual_encoder", **RESULTS["results"][0]},
            {"job": "shakespeare", **RESULTS["results"][2]},
        ],
    }
    rerun = _tagged(
        {**RESULTS, "models": ["shakespeare"], "date": "2026-12-01"},
        "shakespeare",
        [{"model": "S", "metric": "ppl", "value": 90.5, "seconds": 700.0}],
    )
    rerun["total_seconds"] = 1200.0
    merged = update_readme_results.merge_rerun(stored, rerun)
    assert [row["model"] for row in merged["results"]] == ["M", "S"]
    assert merged["reruns"] == [
        {key: rerun[key] for key in ("models", "date", "total_seconds", "machine")}
    ]
    first = update_readme_results.render(merged).splitlines()[0]
    assert "5 minutes in all. The job `shakespeare` re-run alone" in first
    assert "on 2026-12-01: 2 cores of AMD EPYC" in first and "20 minutes." in first
    # A second re-run of the same job replaces the first in the record.
    again = update_readme_results.merge_rerun(merged, {**rerun, "date": "2026-12-02"})
    assert [r["date"] for r in again["reruns"]] == ["2026-12-02"]
    with pytest.raises(ValueError, match="quick"):
        update_readme_results.merge_rerun(stored, {**rerun, "quick": True})
    with pytest.raises(ValueError, match="captioner.*--add-jobs"):
        update_readme_results.merge_rerun(stored, {**rerun, "models": ["captioner"]})
    with pytest.raises(ValueError, match="job"):
        update_readme_results.merge_rerun(
            stored, {**rerun, "results": RESULTS["results"]}
        )


def test_a_job_added_to_the_demo_since_comes_after_the_stored_jobs():
    stored = {
        **RESULTS,
        "models": ["dual_encoder", "shakespeare"],
        "results": [
            {"job": "dual_encoder", **RESULTS["results"][0]},
            {"job": "shakespeare", **RESULTS["results"][2]},
        ],
    }
    added = _tagged(
        {**RESULTS, "models": ["reward_tuning"], "date": "2026-12-07"},
        "reward_tuning",
        [{"model": "R", "metric": "CIDEr-D", "value": 3.03, "seconds": 123.0}],
    )
    merged = update_readme_results.merge_rerun(stored, added, add_jobs=True)
    assert merged["models"] == ["dual_encoder", "shakespeare", "reward_tuning"]
    assert [row["model"] for row in merged["results"]] == ["M", "N", "R"]
    assert stored["models"] == ["dual_encoder", "shakespeare"]  # not changed
    first = update_readme_results.render(merged).splitlines()[0]
    assert "The job `reward_tuning` added to the demo since, run alone" in first
    # Run again, the job is now the stored run's own: replaced, not added.
    again = update_readme_results.merge_rerun(merged, added)
    assert [row["model"] for row in again["results"]] == ["M", "N", "R"]
