"""One broken CSV row costs that row: not the file, not the rows after it."""

import numpy as np
import pytest
import tensorflow as tf

from keras_roleplay.data import csv_rows, load_image_captions
from keras_roleplay.data.csv_rows import read_csv_rows


def _images(rows):
    return [row["image"] for _, row in rows]


@pytest.mark.parametrize(
    "text, kept, broken_line",
    [
        # A quote left open in the middle, at the end, and in a quoted cell
        # that also holds a line break.
        ('image,caption\na.png,one\nb.png,"open\nc.png,three\nd.png,four\n',
         ["a.png", "c.png", "d.png"], 3),
        ('image,caption\na.png,one\nb.png,two\nc.png,"open at the end\n',
         ["a.png", "b.png"], 4),
        ('image,caption\na.png,"two\nlines"\nb.png,"open\nc.png,three\n',
         ["a.png", "c.png"], 4),
    ],
)  # fmt: skip
def test_an_unclosed_quote_loses_its_row_only(text, kept, broken_line):
    header, rows, problems = read_csv_rows(text, "captions.csv")
    assert header == ["image", "caption"]
    assert _images(rows) == kept
    assert problems == [
        (f"line {broken_line}", "a quote that is never closed (the row is skipped)")
    ]


def test_bad_quoting_is_named_and_the_rest_kept():
    text = 'image,caption\na.png,"quoted"then more\nb.png,fine\nc.png,x "y" z\n'
    _, rows, problems = read_csv_rows(text, "captions.csv")
    # A quote inside an unquoted cell is text, as CSV allows; a quoted cell
    # followed by more text is broken.
    assert _images(rows) == ["b.png", "c.png"]
    assert [where for where, _ in problems] == ["line 2"]
    assert "broken quoting" in problems[0][1]


def test_long_cells_are_read_and_too_long_ones_named(monkeypatch):
    long = "word " * 40_000  # 200 000 characters: over Python's default limit
    text = f"image,caption\na.png,{long}\nb.png,short\n"
    _, rows, problems = read_csv_rows(text, "captions.csv")
    assert _images(rows) == ["a.png", "b.png"] and not problems
    assert rows[0][1]["caption"] == long
    monkeypatch.setattr(csv_rows, "MAX_FIELD_CHARACTERS", 1000)
    text = f"image,caption\na.png,{long}\nb.png,short\nc.png,'x'\n"
    _, rows, problems = read_csv_rows(text, "captions.csv")
    assert _images(rows) == ["b.png", "c.png"]
    assert problems == [("line 2", "a cell over 1000 characters (the row is skipped)")]
    import csv

    assert csv.field_size_limit() == 131072  # the module's limit is put back


@pytest.mark.parametrize(
    "header", ["image,caption,caption", "image,image,caption", "a,b,a,b"]
)
def test_a_column_named_twice_is_refused(header):
    with pytest.raises(ValueError, match="more than once"):
        read_csv_rows(f"{header}\nx,y,z\n", "captions.csv")


def test_captions_file_keeps_the_rows_after_an_unclosed_quote(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype="uint8")
    for name in ("a", "b", "c", "d"):
        tf.io.write_file(str(tmp_path / f"{name}.png"), tf.io.encode_png(rgb))
    (tmp_path / "captions.csv").write_text(
        'image_path,caption\na.png,one\nb.png,"open\nc.png,three\nd.png,four\n'
    )
    with pytest.warns(UserWarning, match="line 3 .a quote that is never closed"):
        data = load_image_captions(str(tmp_path / "captions.csv"), (8, 8, 3))
    assert data["paths"] == ["a.png", "c.png", "d.png"]
    assert data["captions"] == [["one"], ["three"], ["four"]]


def test_captions_that_are_not_text_are_named_not_kept(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype="uint8")
    tf.io.write_file(str(tmp_path / "a.png"), tf.io.encode_png(rgb))
    (tmp_path / "captions.jsonl").write_text(
        '{"image": "a.png", "captions": ["a dog", 5, null, false]}\n'
        '{"image": "a.png", "captions": {"first": "a cat"}}\n'
    )
    with pytest.warns(UserWarning) as record:
        data = load_image_captions(str(tmp_path / "captions.jsonl"), (8, 8, 3))
    assert data["captions"] == [["a dog"]]
    message = str(record[0].message)
    for shown in ("not text: 5", "not text: None", "not text: False", "a list"):
        assert shown in message
