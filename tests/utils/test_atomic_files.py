import os

import pytest

from keras_roleplay.utils.atomic_files import atomic_output, check_writable


def test_a_failed_write_leaves_the_old_file_and_no_partial_file(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError, match="crashed"):
        with atomic_output(path) as tmp:
            with open(tmp, "w") as f:
                f.write("half of the new")
            raise RuntimeError("crashed half-way")
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["results.csv"]
    with atomic_output(path) as tmp:
        assert tmp.endswith(".csv") and os.path.dirname(tmp) == str(tmp_path)
        with open(tmp, "w") as f:
            f.write("new\n")
    assert path.read_text() == "new\n" and os.listdir(tmp_path) == ["results.csv"]


def test_unwritable_places_are_named(tmp_path):
    with pytest.raises(ValueError, match="folder .* does not exist"):
        check_writable(tmp_path / "missing" / "x.keras")
    with pytest.raises(ValueError, match="it is a folder"):
        check_writable(tmp_path)
