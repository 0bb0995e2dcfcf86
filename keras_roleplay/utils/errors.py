"""Turning decoding errors into short reasons a user can read."""

import re


def short_error_reason(error):
    """The first line of a decoding error, without TensorFlow's op prefix."""
    message = getattr(error, "message", None) or str(error)
    message = re.sub(r"\{\{[^}]*\}\}\s*", "", message)
    message = re.sub(r"\s*\[Op:[^\]]*\].*", "", message).strip()
    return message.splitlines()[0][:100] if message else type(error).__name__
