"""Warnings as one clean line each, for the programs."""

import warnings


def format_warning_line(message, category, filename, lineno, line=None):
    """`warnings.formatwarning` without the source line that raised it.

    Python's default shows the file, line number and line of code that
    issued the warning, which in a program reads as a crash; a program's
    warnings are about its input (a skipped image, a long line) and say
    everything in their message.

    Example:

    >>> format_warning_line("Skipped 1 of 3 images of photos/: a.png", UserWarning,
    ...     "stream.py", 12, "for images, names in stream:")
    'warning: Skipped 1 of 3 images of photos/: a.png\\n'
    """
    return f"warning: {message}\n"


def one_line_warnings():
    """Makes every warning print as `warning: message` (programs call it first)."""
    warnings.formatwarning = format_warning_line
