"""CSV rows read so that one broken row costs that row, not the file.

Python's `csv` module, read as the loaders used to read it, fails two ways
on files people make by hand:

- a cell longer than its field size limit (131 072 characters) raises
  `_csv.Error` and ends the reading: every row is lost;
- a quote left open swallows every row after it into one cell, silently.

`read_csv_rows` reads in strict mode with a large field limit; a row whose
quoting is broken is named by its first line and the reading goes on from
the line after it, so the rows that follow are kept.
"""

import csv
import io

# The longest cell read: far above any caption, far below memory trouble.
MAX_FIELD_CHARACTERS = 2**27  # 134 million characters


def read_csv_rows(text, source):
    """Parses CSV `text` (header first) into rows, naming the broken ones.

    Args:
        text: the file's text.
        source: the file's name, for errors.

    Returns:
        `(header, rows, problems)`: the column names; `[(where, row)]` with
        `where` like `"line 7"` (the line a row ends on) and `row` a dict
        (a missing column is `None`); `[(where, reason)]` for rows that
        could not be read.

    Raises:
        ValueError: a header that names a column twice.

    Example:

    >>> header, rows, problems = read_csv_rows(
    ...     'image,caption\\na.png,"an open quote\\nb.png,a square\\n', "c.csv")
    >>> [row["image"] for _, row in rows], problems
    (['b.png'], [('line 2', 'a quote that is never closed (the row is skipped)')])
    """
    lines = text.splitlines(keepends=True)
    if not lines:
        return [], [], []
    header = next(csv.reader([lines[0]]), [])
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ValueError(
            f"The CSV file {source} names the columns {repeated} more than once "
            f"in its header; each column must be named once. Header: {header}"
        )
    rows, problems = [], []
    previous_limit = csv.field_size_limit(MAX_FIELD_CHARACTERS)
    try:
        start = 1  # index in `lines` of the first line this pass reads
        while start < len(lines):
            reader = csv.DictReader(
                io.StringIO("".join([lines[0], *lines[start:]]), newline=""),
                strict=True,
            )
            last = 1  # the reader's line of the last complete row (1: header)
            try:
                for row in reader:
                    last = reader.line_num
                    rows.append((f"line {last + start - 1}", row))
                break
            except csv.Error as error:
                broken = last + start  # the file line the broken row starts on
                reason = str(error)
                if "unexpected end of data" in reason:
                    reason = "a quote that is never closed (the row is skipped)"
                elif "field larger than field limit" in reason:
                    reason = (
                        f"a cell over {MAX_FIELD_CHARACTERS} characters "
                        "(the row is skipped)"
                    )
                else:
                    reason = f"broken quoting ({reason})"
                problems.append((f"line {broken}", reason))
                start = broken  # go on from the line after its first line
    finally:
        csv.field_size_limit(previous_limit)
    return header, rows, problems
