"""TensorFlow's own log lines, kept out of what people read.

TensorFlow 2.21 prints C++ log lines ("I0000 ... oneDNN custom operations
are on", "Could not find cuda drivers", "E0000 ... failed call to cuInit")
straight to the process's standard error, before its logging is set up, so
`TF_CPP_MIN_LOG_LEVEL` does not hide them. Nothing in TensorFlow or Keras
filters them, hence this module:

- `import_tensorflow_quietly()` imports TensorFlow with its start-up lines
  dropped (keras_roleplay calls it first thing). By default every start-up
  line but a fatal one is dropped and `TF_CPP_MIN_LOG_LEVEL` is set to 3
  for what TensorFlow logs later; a `TF_CPP_MIN_LOG_LEVEL` of your own is
  honoured as the variable promises, and `KERAS_ROLEPLAY_TF_LOGS=1` shows
  everything, as plain TensorFlow does;
- `tensorflow_logs_to(path)` sends TensorFlow's log lines to a file while
  a block runs, and everything else on standard error (Python warnings,
  errors) on to the terminal; the demo uses it.

Programs import `keras_roleplay` before `keras` for this (`import keras`
imports TensorFlow).

No Keras or TensorFlow import here: this runs before them.
"""

import contextlib
import os
import re
import sys
import tempfile
import threading

# "I0000 00:00:1795549332.577648   26353 port.cc:153] message"
_CPP_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:[\d.]+\s+\d+ \S+:\d+\]")
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog()"
# The second line of the "I0000 ... cpu_feature_guard.cc" notice.
_CPU_FEATURES_NOTICE = "To enable the following instructions:"
_PYTHON_LINE = re.compile(r"^(INFO|WARNING|ERROR):tensorflow:")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
SHOW_LOGS_VARIABLE = "KERAS_ROLEPLAY_TF_LOGS"
# Without a level of the user's: every line below fatal is dropped.
DEFAULT_LEVEL = 3


def min_log_level():
    """`TF_CPP_MIN_LOG_LEVEL` as an int (0 when unset or not a number)."""
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def shows_tensorflow_logs():
    """Whether `KERAS_ROLEPLAY_TF_LOGS` asks for TensorFlow's lines (1/true/yes)."""
    value = os.environ.get(SHOW_LOGS_VARIABLE, "").strip().lower()
    return value in ("1", "true", "yes", "on")


def quiet_by_default():
    """Sets `TF_CPP_MIN_LOG_LEVEL` to 3 unless the user chose a level or asked
    for the logs (`KERAS_ROLEPLAY_TF_LOGS=1`). Returns the level to filter at.
    """
    if shows_tensorflow_logs():
        return 0
    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = str(DEFAULT_LEVEL)
    return min_log_level()


def is_tensorflow_log(line, level=3):
    """Whether `line` is a TensorFlow log line below severity `level` (0-3).

    Example:

    >>> is_tensorflow_log("I0000 00:00:1.5   26353 port.cc:153] oneDNN on", level=1)
    True
    >>> is_tensorflow_log("E0000 00:00:1.5   26353 util.cc:131] oneDNN", level=2)
    False
    >>> is_tensorflow_log("Traceback (most recent call last):")
    False
    """
    match = _CPP_LINE.match(line)
    if match:
        return _SEVERITY[match.group(1)] < level
    if line.startswith((_ABSL_PREAMBLE, _CPU_FEATURES_NOTICE)):
        return level > 0
    return bool(_PYTHON_LINE.match(line)) and level >= 3


def import_tensorflow_quietly():
    """Imports TensorFlow (if installed) without its start-up lines.

    Standard error is captured during the import and written back without
    the log lines below `TF_CPP_MIN_LOG_LEVEL` (3 unless the user set it:
    `quiet_by_default`). With the level 0 or `KERAS_ROLEPLAY_TF_LOGS=1`
    this is a plain import. Does nothing if TensorFlow is already imported
    or not installed.
    """
    level = quiet_by_default()
    if level <= 0 or "tensorflow" in sys.modules:
        return
    with tempfile.TemporaryFile(mode="w+b") as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except ImportError:
            pass  # keras_roleplay also works without TensorFlow
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        text = captured.read().decode("utf-8", errors="replace")
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if not is_tensorflow_log(line, level)
    ]
    sys.stderr.write("".join(kept))
    sys.stderr.flush()


@contextlib.contextmanager
def tensorflow_logs_to(path):
    """Sends TensorFlow's log lines on standard error to `path` in a block.

    Standard error (file descriptor 2, which C++ code writes to) goes
    through a pipe; a thread writes TensorFlow's log lines (C++ lines of
    any severity, `WARNING:tensorflow:` lines) to `path` and every other
    line on to the real standard error, so warnings and errors still show.

    Args:
        path: the log file (appended to).

    Yields:
        `path`.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    terminal_fd = os.dup(saved)  # the thread's own: `saved` is closed first
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward():
        with (
            open(read_end, "rb") as pipe,
            open(path, "ab") as log,
            open(terminal_fd, "wb") as terminal,
        ):
            for raw in pipe:
                line = raw.decode("utf-8", errors="replace")
                target = log if is_tensorflow_log(line, level=4) else terminal
                target.write(raw)
                target.flush()

    thread = threading.Thread(target=forward, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the thread ends
        os.close(saved)
        thread.join(timeout=10)
