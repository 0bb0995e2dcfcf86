"""Writes the demo's figures into README.md from a `demo_results.json`.

    python -m keras_roleplay.demo                       # writes demo_results.json
    python scripts/update_readme_results.py demo_results.json
    python scripts/update_readme_results.py --check     # README up to date?

The given results file is copied to `docs/demo_results.json` (kept in the
repository) and the README's block between the two `demo-results` markers is
rewritten from it, so the figures there are the ones the demo printed, never
typed by hand. `--check` exits with 1 when the block differs from the file.
"""

import argparse
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
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
    machine = results["machine"]
    bf16 = "mixed bfloat16" if machine["cpu_bf16"] else "float32, no native bf16"
    lines = [
        f"Measured by `make demo` on {results['date']}: {machine['cores']} cores of "
        f"{machine['cpu']} ({bf16}), Keras {machine['keras']} on "
        f"{machine['keras_backend']}, {results['total_seconds'] / 60:.0f} minutes "
        "in all. Seconds are each model's training time; held-out splits are "
        "never trained on.",
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


def replace_block(text, block):
    """`text` with the part between the markers replaced by `block`."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(
            f"README.md: expected the markers {BEGIN!r} and {END!r} once each"
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
        "--check", action="store_true", help="only say whether README is up to date"
    )
    args = parser.parse_args(argv)
    if args.results and not args.check:
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
            print("README.md: the demo-results block differs from the results file;")
            print("run `python scripts/update_readme_results.py`")
            return 1
        print("README.md: the demo-results block matches the results file")
        return 0
    with open(README, "w", encoding="utf-8") as f:
        f.write(updated)
    print(f"README.md: demo-results block written from {args.results or STORED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
