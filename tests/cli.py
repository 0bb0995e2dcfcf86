"""Runs an application script's `main(argv)` in the test's own process.

A fresh interpreter costs about 10 s of TensorFlow import per run on 2 CPU
cores; the application tests run their scripts some 20 times. Where the
process itself is not what a test checks, `run_main` gives what
`subprocess.run([python, script, *args])` would: the exit code, standard
output and standard error, with standard input from a pipe (`isatty()` is
False). One test per application still runs it as a real process.
"""

import contextlib
import importlib.util
import io
import os
import subprocess
import sys
import warnings

_SCRIPTS = {}


def load_script(path):
    """The script at `path` imported as a module (once per test process)."""
    if path not in _SCRIPTS:
        name = "application_" + os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _SCRIPTS[path] = module
    return _SCRIPTS[path]


def run_main(path, *args, stdin=""):
    """Runs `main(args)` of the script at `path` as the interpreter would.

    As at an interpreter's exit: `SystemExit` with a message writes it to
    standard error and exits with 1, with a number exits with it; `main`'s
    return value is the exit code (`sys.exit(main())`). Any other exception
    propagates, so the test fails with its traceback. Python warnings are
    written to standard error as the interpreter writes them (pytest would
    otherwise collect them), every time: a fresh process has no record of
    the warnings an earlier run gave.

    Args:
        path: the script.
        *args: its command-line arguments.
        stdin: standard input, `str` or `bytes` (decoded as UTF-8 by the
            script's own `sys.stdin` settings).

    Returns:
        A `subprocess.CompletedProcess` with text `stdout` and `stderr`.
    """
    module = load_script(path)
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("always")
            warnings.showwarning = _show_warning
            try:
                code = module.main(list(args)) or 0
            except SystemExit as exit:
                if exit.code is None or isinstance(exit.code, int):
                    code = exit.code or 0
                else:
                    print(exit.code, file=sys.stderr)
                    code = 1
    finally:
        sys.stdin = saved_stdin
    return subprocess.CompletedProcess(
        [path, *args], code, out.getvalue(), err.getvalue()
    )


def _show_warning(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
