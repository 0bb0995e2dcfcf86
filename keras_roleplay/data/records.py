"""Records of a JSONL or CSV file, one at a time, the broken ones named.

The row loaders (dialogues, characters) read files people write by hand
or export from other tools. `iter_records` gives each record as a dict of
strings with the line it came from, or the reason it could not be read, so
a loader keeps every good row and names every bad one. JSONL is read line
by line (a file of any size streams); a CSV is parsed whole by
`read_csv_rows` (its quoted cells may span lines).
"""

import json
import os

from keras_roleplay.data.csv_rows import read_csv_rows
from keras_roleplay.data.file_checks import is_clean_text, read_text_file

RECORD_SUFFIXES = (".jsonl", ".csv")


def check_record_file(name, path):
    """`path` as a string, or a clear error for a missing or unknown file."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"`{name}` must be the path of a .jsonl or .csv file. Received: "
            f"{type(path).__name__}"
        )
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"`{name}` file not found. Received: {name}={path!r}")
    if not path.lower().endswith(RECORD_SUFFIXES):
        raise ValueError(
            f"`{name}` must be a .jsonl (one JSON object a line) or .csv file "
            f"(a header, then a row a record). Received: {name}={path!r}"
        )
    return path


def iter_records(path):
    """Yields `(where, record, problem)` for each record of a JSONL or CSV file.

    `record` is a dict (JSON values, or CSV cells as strings; a missing CSV
    cell is `None`) and `problem` `None`, or `record` is `None` and
    `problem` says why the line could not be read: not UTF-8, not JSON, not
    a JSON object, broken CSV quoting. `where` is `"line N"`. Blank lines
    are passed over.

    Example:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "rows.jsonl")
    >>> with open(path, "w") as f:
    ...     _ = f.write('{"speaker": "Ann", "text": "Hi."}\\n[1, 2]\\n')
    >>> list(iter_records(path))
    [('line 1', {'speaker': 'Ann', 'text': 'Hi.'}, None), ('line 2', None, 'not a JSON object')]
    """  # noqa: E501
    if path.lower().endswith(".csv"):
        header, rows, problems = read_csv_rows(read_text_file(path), path)
        broken = dict(problems)
        records = [(where, row, None) for where, row in rows]
        records += [(where, None, reason) for where, reason in broken.items()]
        records.sort(key=lambda entry: int(entry[0].split()[1]))
        for where, row, problem in records:
            if row is not None and not all(
                is_clean_text(value) for value in row.values() if value is not None
            ):
                yield where, None, "not UTF-8 text"
            else:
                yield where, row, problem
        return
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            where = f"line {number}"
            line = raw.decode("utf-8", errors="surrogateescape")
            if number == 1:
                line = line.removeprefix("\ufeff")
            if not line.strip():
                continue
            if not is_clean_text(line):
                yield where, None, "not UTF-8 text"
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                yield where, None, f"not valid JSON ({error.msg})"
                continue
            except RecursionError:
                yield where, None, "JSON nested too deep"
                continue
            if not isinstance(record, dict):
                yield where, None, "not a JSON object"
                continue
            yield where, record, None


def text_field(record, names):
    """The first of `names` that `record` holds, stripped; `None` if none is text.

    Returns `(value, problem)`: a field that is present but not a string
    (a number, a list, null) is a problem, not the text `"5"`.
    """
    for name in names:
        if name in record and record[name] is not None:
            value = record[name]
            if not isinstance(value, str):
                return None, f'"{name}" is not text: {value!r:.40}'
            return value.strip(), None
    return None, None
