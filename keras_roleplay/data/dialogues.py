"""Role-play dialogue files: rows of exchanges or scripts of turns.

Two layouts, JSONL or CSV, told apart by their fields:

- **rows**, one exchange each: `role` (or `character`), `context`, `reply`,
  optional `image` (a path, relative to the file's folder), `language`
  and `scene`;
- **scripts of turns**, one speech each, in order: `speaker` (or
  `character`), `text` (or `line`), optional `scene`. Consecutive turns by
  two different speakers in the same scene become an exchange: the first
  turn is the context, the second the reply, in the second speaker's
  voice (as `datasets.shakespeare` pairs the plays' speeches). A scene's
  first turn answers nobody; a speaker who goes on after their own turn is
  not answering.

A characters file (JSONL or CSV of `name`, `description`) gives each
character a short description, for `RoleEmbedding.from_descriptions` or
for a reader. `split_dialogues` splits whole scenes into training,
validation and test, so that no scene is read in training and scored.
"""

import os

import numpy as np

from keras_roleplay.data.file_checks import data_file_path, warn_skipped
from keras_roleplay.data.images import read_image_file
from keras_roleplay.data.records import check_record_file, iter_records, text_field
from keras_roleplay.utils.validation import check_rate, check_shape

ROLE_FIELDS = ("role", "character")
SPEAKER_FIELDS = ("speaker", "character", "role")
TEXT_FIELDS = ("text", "line")


def _layout(record):
    if "reply" in record:
        return "rows"
    if any(name in record for name in TEXT_FIELDS):
        return "turns"
    return None


def _exchange_from_row(record):
    """`(exchange, problem)` for a row with `role`, `context` and `reply`."""
    exchange = {}
    for key, names in (
        ("role", ROLE_FIELDS),
        ("context", ("context",)),
        ("reply", ("reply",)),
    ):
        value, problem = text_field(record, names)
        if problem:
            return None, problem
        if not value:
            return None, f'an empty or missing "{names[0]}"'
        exchange[key] = value
    for key in ("image", "language", "scene"):
        value = record.get(key)
        if value is not None and not isinstance(value, (str, int)):
            return None, f'"{key}" is not text: {value!r:.40}'
        exchange[key] = None if value in (None, "") else str(value)
    return exchange, None


def iter_exchanges(path, skipped=None, counts=None):
    """Yields the exchanges of a dialogue file one at a time (see the module).

    Reads JSONL line by line, so a file of any size streams (a CSV is
    parsed whole: `data.records`). Each exchange is a dict with
    `"context"`, `"reply"`, `"role"`, `"image"`, `"language"`, `"scene"`
    (`None` where absent) and `"line"` (where its reply is).

    Args:
        path: a `.jsonl` or `.csv` dialogue file.
        skipped: a list that receives `(line, reason)` for every line that
            is skipped (the caller names them; `read_dialogues` warns).
        counts: a dict whose `"lines"` counts the records read.

    Raises:
        ValueError: a file whose records are neither layout.
    """
    path = check_record_file("path", path)
    skipped = [] if skipped is None else skipped
    counts = {} if counts is None else counts
    counts["lines"] = 0
    layout = None
    previous = None  # the last turn: (scene, speaker, text)
    for where, record, problem in iter_records(path):
        counts["lines"] += 1
        if problem:
            skipped.append((where, problem))
            continue
        layout = layout or _layout(record)
        if layout is None:
            raise ValueError(
                f"The dialogue file {path} must hold rows with `role`, `context` "
                "and `reply`, or turns with `speaker` and `text`. Received "
                f"fields {sorted(record)} ({where})."
            )
        if layout == "rows":
            exchange, problem = _exchange_from_row(record)
            if problem:
                skipped.append((where, problem))
                continue
        else:
            speaker, problem = text_field(record, SPEAKER_FIELDS)
            text, text_problem = text_field(record, TEXT_FIELDS)
            problem = problem or text_problem
            if not problem and not (speaker and text):
                problem = 'an empty or missing "speaker" or "text"'
            if problem:
                skipped.append((where, problem))
                previous = None  # the next turn answers a line we lost
                continue
            scene = record.get("scene")
            scene = None if scene in (None, "") else str(scene)
            turn, previous = previous, (scene, speaker, text)
            if turn is None or turn[0] != scene or turn[1] == speaker:
                continue
            exchange = {"role": speaker, "context": turn[2], "reply": text}
            exchange.update(image=None, language=None, scene=scene)
        exchange["layout"] = layout
        exchange["line"] = where
        yield exchange


def read_dialogues(path):
    """Reads the exchanges of a dialogue file, naming the rows it skips.

    See the module for the two layouts. A row without a role, context or
    reply (or a turn without a speaker or text), a field that is not text,
    and a line that is not JSON or not UTF-8 are skipped, and one warning
    names each by line; the rest is kept. For files too large to hold,
    `dialogue_file_dataset` streams them into `fit`.

    Args:
        path: a `.jsonl` or `.csv` file.

    Returns:
        A dict of lists, one entry an exchange: `"context"`, `"reply"`,
        `"role"`, `"image"` (a path as written, or `None`), `"language"`
        and `"scene"` (or `None`), `"line"` (where the reply is); plus
        `"roles"` (the names in order of first reply), `"layout"`
        (`"rows"` or `"turns"`) and `"skipped"` (`[(line, reason)]`).

    Raises:
        ValueError: a file whose records are neither layout, or that holds
            no exchange.

    Example:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "script.jsonl")
    >>> with open(path, "w") as f:
    ...     for speaker, text in [("Ann", "Who goes there?"), ("Bo", "A friend."),
    ...                           ("Ann", "Come in, then.")]:
    ...         _ = f.write(f'{{"speaker": "{speaker}", "text": "{text}"}}\\n')
    >>> data = read_dialogues(path)
    >>> list(zip(data["role"], data["context"], data["reply"]))
    [('Bo', 'Who goes there?', 'A friend.'), ('Ann', 'A friend.', 'Come in, then.')]
    """  # noqa: E501
    keys = ("context", "reply", "role", "image", "language", "scene", "line")
    columns = {key: [] for key in keys}
    skipped, counts, layout = [], {}, None
    for exchange in iter_exchanges(path, skipped, counts):
        layout = exchange["layout"]
        for key in keys:
            columns[key].append(exchange[key])
    warn_skipped(skipped, counts["lines"], "lines", path)
    if not columns["reply"]:
        raise ValueError(
            f"No exchange could be read from the dialogue file {path}"
            + (f" ({len(skipped)} lines skipped)." if skipped else ".")
        )
    return {
        **columns,
        "roles": list(dict.fromkeys(columns["role"])),
        "layout": layout,
        "skipped": skipped,
    }


def read_characters(path):
    """Reads a characters file: `{name: description}` in file order.

    A JSONL or CSV file of `name` and `description`. A row without both,
    or a name given twice, is skipped and named in one warning.

    Example:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "characters.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("name,description\\nAnn,a night guard who trusts nobody\\n")
    >>> read_characters(path)
    {'Ann': 'a night guard who trusts nobody'}
    """
    path = check_record_file("characters", path)
    characters, skipped, seen = {}, [], 0
    for where, record, problem in iter_records(path):
        seen += 1
        if not problem:
            name, problem = text_field(record, ("name",) + ROLE_FIELDS)
            description, other = text_field(record, ("description",))
            problem = problem or other
            if not problem and not (name and description):
                problem = 'an empty or missing "name" or "description"'
            if not problem and name in characters:
                problem = f"{name!r} described a second time (the first is kept)"
        if problem:
            skipped.append((where, problem))
            continue
        characters[name] = description
    warn_skipped(skipped, seen, "lines", path)
    return characters


def load_dialogues(path, characters=None, image_shape=None, image_dir=None):
    """Loads a dialogue file for `RoleResponder` training.

    Reads the exchanges (`read_dialogues`) and, with `characters`, their
    descriptions (`read_characters`). With `image_shape`, the images the
    rows name are read and resized, and an exchange whose image is
    missing or unreadable is skipped and named (as `load_image_captions`
    does).

    Args:
        path: a dialogue `.jsonl` or `.csv` file (rows or turns).
        characters: optional characters file (`name`, `description`).
        image_shape: `(height, width, 3)` to read the rows' images at; `None`
            keeps the paths.
        image_dir: the folder image paths are relative to (default: the
            dialogue file's).

    Returns:
        The dict of `read_dialogues`, with `"image"` a float32 array
        `(n, height, width, 3)` when `image_shape` is given, and
        `"characters"` (`{name: description}`, empty without a file).
        `data["context"], data["reply"], data["role"]` are what
        `RoleResponder.from_dialogues`, `dialogue_dataset` and
        `training.fit_responder` take.

    Example:

    >>> import os, tempfile
    >>> from keras_roleplay.applications import RoleResponder
    >>> path = os.path.join(tempfile.mkdtemp(), "rows.jsonl")
    >>> with open(path, "w") as f:
    ...     _ = f.write('{"role": "guard", "context": "May I pass?", '
    ...                 '"reply": "Not tonight."}\\n')
    >>> data = load_dialogues(path)
    >>> model = RoleResponder.from_dialogues(
    ...     data["context"] + data["reply"], roles=data["roles"],
    ...     sequence_length=8, hidden_dim=8, num_heads=2, num_layers=1)
    >>> dataset = model.dialogue_dataset(data["context"], data["reply"], data["role"])
    """
    data = read_dialogues(path)
    data["characters"] = {} if characters is None else read_characters(characters)
    if image_shape is None:
        return data
    image_shape = check_shape(
        "image_shape", image_shape, (3,), "height, width, channels"
    )
    root = image_dir or os.path.dirname(os.path.abspath(path))
    keep, images, skipped, cache = [], [], [], {}
    for index, name in enumerate(data["image"]):
        if name is None:
            skipped.append((data["line"][index], 'no "image"'))
            continue
        if name not in cache:
            full_path, reason = data_file_path(root, name, False)
            image = None
            if not reason:
                image, reason = read_image_file(full_path, image_shape)
            cache[name] = (None if reason else image.numpy(), reason)
        image, reason = cache[name]
        if reason:
            skipped.append((f"{data['line'][index]}: {name}", reason))
            continue
        keep.append(index)
        images.append(image)
    warn_skipped(skipped, len(data["image"]), "exchanges", path)
    if not keep:
        raise ValueError(f"No exchange of {path} has a readable image.")
    for key in ("context", "reply", "role", "image", "language", "scene", "line"):
        data[key] = [data[key][i] for i in keep]
    data["image"] = np.stack(images).astype("float32")
    data["roles"] = list(dict.fromkeys(data["role"]))
    data["skipped"] += skipped
    return data


def split_dialogues(data, validation_split=0.1, test_split=0.1, seed=0):
    """Splits loaded dialogues into training, validation and test, by scene.

    Whole scenes go to one split (exchanges without a scene are each their
    own), drawn at random with `seed`, so that a model is never scored on
    a scene it was trained on.

    Args:
        data: what `load_dialogues` or `read_dialogues` returns.
        validation_split: share of the scenes for validation.
        test_split: share of the scenes for test.
        seed: the draw's seed.

    Returns:
        `(train, validation, test)`, each a dict of the same per-exchange
        lists (and arrays) as `data`, with its own `"roles"`; `"characters"`
        and `"layout"` are carried over.

    Example:

    >>> data = {"context": list("abcd"), "reply": list("efgh"),
    ...         "role": ["x", "y", "x", "y"], "scene": ["1", "1", "2", "3"]}
    >>> train, validation, test = split_dialogues(data, 1 / 3, 1 / 3)
    >>> sorted(len(split["reply"]) for split in (train, validation, test))
    [1, 1, 2]
    """
    validation_split = check_rate("validation_split", validation_split)
    test_split = check_rate("test_split", test_split)
    if validation_split + test_split >= 1:
        raise ValueError(
            "`validation_split + test_split` must leave scenes for training. "
            f"Received: validation_split={validation_split}, test_split={test_split}"
        )
    count = len(data["reply"])
    scenes = data.get("scene") or [None] * count
    keys = [
        ("scene", scene) if scene is not None else ("exchange", i)
        for i, scene in enumerate(scenes)
    ]
    unique = list(dict.fromkeys(keys))
    order = np.random.default_rng(seed).permutation(len(unique))
    num_test = int(round(test_split * len(unique)))
    num_validation = int(round(validation_split * len(unique)))
    split_of = {}
    for rank, index in enumerate(order):
        split_of[unique[index]] = (
            2 if rank < num_test else 1 if rank < num_test + num_validation else 0
        )
    chosen = [[i for i in range(count) if split_of[keys[i]] == s] for s in range(3)]
    splits = []
    for indices in chosen:
        split = {}
        for key, value in data.items():
            if isinstance(value, np.ndarray) and len(value) == count:
                split[key] = value[indices]
            elif (
                isinstance(value, list)
                and len(value) == count
                and key not in ("roles", "skipped")
            ):
                split[key] = [value[i] for i in indices]
            elif key in ("characters", "layout"):
                split[key] = value
        split["roles"] = list(dict.fromkeys(split["role"]))
        splits.append(split)
    return tuple(splits)
