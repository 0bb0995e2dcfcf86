"""Reading files one by one, so that a bad file is named and the rest kept."""

import os
import re
import warnings

from keras_roleplay.utils.optional_tensorflow import tf


def decode_file(path, decode, kind):
    """Reads and decodes one file; never raises for a bad file.

    Args:
        path: the file's path.
        decode: a function from the file's bytes (a string tensor) to a value,
            e.g. `lambda b: decode_image(b, (64, 64, 3))`.
        kind: what the file should be, for the reason (`"image"`, `"WAV file"`).

    Returns:
        `(value, None)`, or `(None, reason)` where `reason` is a short
        sentence such as `"file not found"`.

    Example:

    >>> decode_file("/nowhere.png", tf.io.decode_png, "image")
    (None, 'file not found')
    """
    if not path or not os.path.isfile(path):
        return None, "file not found"
    try:
        return decode(tf.io.read_file(path)), None
    except (tf.errors.OpError, ValueError) as error:
        return None, f"not a readable {kind}: {short_error_reason(error)}"


def short_error_reason(error):
    """The first line of a decoding error, without TensorFlow's op prefix."""
    message = getattr(error, "message", None) or str(error)
    message = re.sub(r"\{\{[^}]*\}\}\s*", "", message)
    message = re.sub(r"\s*\[Op:[^\]]*\].*", "", message).strip()
    return message.splitlines()[0][:100] if message else type(error).__name__


def warn_skipped(skipped, total, what, source, count=None):
    """Warns once, naming every skipped file and why, if any was skipped.

    Args:
        skipped: a list of `(path, reason)`.
        total: how many `what` there were.
        what: what was skipped, plural (`"rows"`, `"images"`).
        source: the file they were listed in.
        count: how many `what` were skipped, if not one per file (a row
            with two bad files is one skipped row).
    """
    if skipped:
        names = ", ".join(f"{path} ({reason})" for path, reason in skipped)
        count = len(skipped) if count is None else count
        warnings.warn(
            f"Skipped {count} of {total} {what} of {source}: {names}", stacklevel=3
        )
