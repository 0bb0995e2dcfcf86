"""Writing a file all at once: a reader never sees half of it."""

import contextlib
import os
import tempfile


def check_writable(path):
    """Raises a `ValueError` naming `path` unless a file can be written there.

    For applications to call before minutes of training, not after.

    Example:

    >>> check_writable("/no/such/folder/model.keras")
    Traceback (most recent call last):
    ...
    ValueError: Cannot write '/no/such/folder/model.keras': ... does not exist.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(
            f"Cannot write {path!r}: the folder {folder!r} does not exist."
        )
    if os.path.isdir(path):
        raise ValueError(f"Cannot write {path!r}: it is a folder.")
    if not os.access(folder, os.W_OK):
        raise ValueError(
            f"Cannot write {path!r}: the folder {folder!r} is not writable."
        )
    return folder


def check_new_folder(name, path):
    """Raises a `ValueError` unless `path` is a new or empty folder to fill.

    For the programs' `--save-preset`, checked before minutes of training.

    Example:

    >>> check_new_folder("--save-preset", __file__)
    Traceback (most recent call last):
    ...
    ValueError: --save-preset ... exists and is not an empty folder; name a new one
    """
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise ValueError(
            f"{name} {path} exists and is not an empty folder; name a new one"
        )


@contextlib.contextmanager
def atomic_output(path):
    """Yields a temporary path beside `path`; renames it to `path` on success.

    Write the whole file to the yielded path (`model.save(tmp)`,
    `open(tmp, "w")`). When the block ends without an error the file takes
    `path`'s name in one `os.replace` (atomic on one file system); when it
    raises, the temporary file is removed and `path` is left as it was. A
    run killed half-way leaves at most a hidden `.NAME.*.partial` file, never
    a truncated `path`. The temporary name keeps `path`'s extension, which
    `model.save` checks (`.weights.h5` whole, for `save_weights`).

    Raises:
        ValueError: the folder of `path` does not exist or is not writable
            (`check_writable`).

    Example:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "out.csv")
    >>> with atomic_output(path) as tmp:
    ...     with open(tmp, "w") as f:
    ...         _ = f.write("a,b\\n")
    >>> open(path).read()
    'a,b\\n'
    """
    path = os.fspath(path)
    folder = check_writable(path)
    name, extension = os.path.splitext(os.path.basename(path))
    if name.endswith(".weights"):  # `save_weights` wants `.weights.h5`
        name, extension = name[: -len(".weights")], ".weights" + extension
    try:
        handle, tmp = tempfile.mkstemp(
            prefix=f".{name}.", suffix=f".partial{extension}", dir=folder
        )
    except OSError as error:
        raise ValueError(
            f"Cannot write {path!r}: {error.strerror or error} (folder {folder!r})."
        ) from None
    os.close(handle)
    os.remove(tmp)  # `model.save` refuses to overwrite some files; start empty
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
