"""Writes the demo's figures into docs/results.md from a `demo_results.json`.

    python -m keras_roleplay.demo                       # writes demo_results.json
    python scripts/update_readme_results.py demo_results.json
    python scripts/update_readme_results.py --check     # docs/results.md up to date?

    # One job changed: run it alone, and replace its rows in the stored run.
    python -m keras_roleplay.demo --models shakespeare --output shakespeare.json
    python scripts/update_readme_results.py --rerun shakespeare.json

    # A job added to the demo since the stored run: its rows go last.
    python scripts/update_readme_results.py --rerun reward.json --add-jobs

The given results file is copied to `docs/demo_results.json` (kept in the
repository) and the results page's block between the two `demo-results` markers is
rewritten from it, so the figures there are the ones the demo printed, never
typed by hand. `--check` exits with 1 when the block differs from the file.
With `--rerun`, the file's jobs replace their rows in the stored full run
(every demo row names its job), and the page says which jobs were re-run,
when, on what, and how long they took.
"""

import argparse
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "docs", "results.md")  # the README links to it
STORED = os.path.join(ROOT, "docs", "demo_results.json")
BEGIN = "<!-- demo-results: written by scripts/update_readme_results.py -->"
END = "<!-- /demo-results -->"


def format_value(value):
    """`3` for a whole number (a count), else the demo's four decimals."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0")


def render(results):
    """The README block (without its markers) for a demo results dict."""
    if results.get("quick"):
        raise ValueError(
            "results: a `--quick` run's figures are not the demo's; "
            "run `make demo` (without --quick) for the README"
        )
    lines = [
        f"Measured by `make demo` on {results['date']}: {_machine(results)}, "
        f"{results['total_seconds'] / 60:.0f} minutes in all."
        + "".join(
            f" The {_jobs(rerun['models'])} "
            + (
                "added to the demo since, run alone with `--models`"
                if rerun.get("added")
                else "re-run alone with `--models` after a change"
            )
            + f", on {rerun['date']}: {_machine(rerun)}, "
            f"{rerun['total_seconds'] / 60:.0f} minutes."
            for rerun in results.get("reruns", [])
        )
        + " Seconds are each model's training time; held-out splits are never "
        "trained on.",
        "",
        "| model | metric | value | seconds |",
        "| --- | --- | ---: | ---: |",
    ]
    previous = None
    for row in results["results"]:
        # The model's name once, on its first row, for a table one can scan.
        model = row["model"] if row["model"] != previous else ""
        previous = row["model"]
        seconds = f"{row['seconds']:.0f}" if row["seconds"] else ""
        lines.append(
            f"| {model} | {row['metric']} | {format_value(row['value'])} | {seconds} |"
        )
    return "\n".join(lines)


def _machine(run):
    machine = run["machine"]
    bf16 = "mixed bfloat16" if machine["cpu_bf16"] else "float32, no native bf16"
    return (
        f"{machine['cores']} cores of {machine['cpu']} ({bf16}), Keras "
        f"{machine['keras']} on {machine['keras_backend']}"
    )


def _jobs(names):
    quoted = [f"`{name}`" for name in names]
    return ("job " if len(names) == 1 else "jobs ") + ", ".join(quoted)


def merge_rerun(stored, rerun, add_jobs=False):
    """`stored` (a full run) with the jobs of `rerun` replaced by its rows.

    The rows keep the full run's job order; `stored["reruns"]` records the
    re-run (its jobs, date, machine and time), replacing an earlier re-run
    of the same jobs. With `add_jobs`, jobs the stored run does not have
    (added to the demo since) come after its own.
    """
    if rerun.get("quick"):
        raise ValueError("--rerun: a `--quick` run's figures are not the demo's")
    unknown = [job for job in rerun["models"] if job not in stored["models"]]
    if unknown and not add_jobs:
        raise ValueError(
            f"--rerun: jobs {unknown} are not in the stored run's "
            f"{stored['models']} (a job added to the demo since: --add-jobs)"
        )
    stored = {**stored, "models": stored["models"] + unknown}
    untagged = [row for row in stored["results"] + rerun["results"] if "job" not in row]
    if untagged:
        raise ValueError(
            "--rerun: every row must name its job (`job`); the demo writes it. "
            f"Received a row without one: {untagged[0]}"
        )
    rows = [
        row
        for job in stored["models"]
        for row in (rerun if job in rerun["models"] else stored)["results"]
        if row["job"] == job
    ]
    reruns = [
        r
        for r in stored.get("reruns", [])
        if not set(r["models"]) & set(rerun["models"])
    ]
    record = {key: rerun[key] for key in ("models", "date", "total_seconds", "machine")}
    if unknown:
        record["added"] = True
    reruns.append(record)
    return {**stored, "results": rows, "reruns": reruns}


def replace_block(text, block):
    """`text` with the part between the markers replaced by `block`."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(
            f"docs/results.md: expected the markers {BEGIN!r} and {END!r} once each"
        )
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    return f"{head}{BEGIN}\n{block}\n{END}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "results",
        nargs="?",
        help="a demo_results.json to store and write in (default: the stored one)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only say whether docs/results.md is up to date",
    )
    parser.add_argument(
        "--rerun",
        metavar="RESULTS",
        help="a run of some jobs alone: replaces their rows in the stored run",
    )
    parser.add_argument(
        "--add-jobs",
        action="store_true",
        help="with --rerun: jobs the stored run lacks are added after its own",
    )
    args = parser.parse_args(argv)
    if args.rerun:
        with open(STORED, encoding="utf-8") as f:
            stored = json.load(f)
        with open(args.rerun, encoding="utf-8") as f:
            merged = merge_rerun(stored, json.load(f), add_jobs=args.add_jobs)
        render(merged)
        with open(STORED, "w", encoding="utf-8") as f:
            json.dump(merged, f, indent=2, ensure_ascii=False)
            f.write("\n")
    elif args.results and not args.check:
        with open(args.results, encoding="utf-8") as f:
            render(json.load(f))  # refuse a quick run before copying it
        os.makedirs(os.path.dirname(STORED), exist_ok=True)
        shutil.copyfile(args.results, STORED)
    with open(args.results or STORED, encoding="utf-8") as f:
        block = render(json.load(f))
    with open(README, encoding="utf-8") as f:
        text = f.read()
    updated = replace_block(text, block)
    if args.check:
        if updated != text:
            print("docs/results.md: the demo-results block differs from the results;")
            print("run `python scripts/update_readme_results.py`")
            return 1
        print("docs/results.md: the demo-results block matches the results file")
        return 0
    with open(README, "w", encoding="utf-8") as f:
        f.write(updated)
    print(f"docs/results.md: demo-results block written from {args.results or STORED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
