"""Argument checks that raise errors naming the argument and the received value.

Keras' own layers raise `ValueError("... Received: arg=value")`; these helpers
keep every public constructor of keras-roleplay consistent with that style.
"""

import math
import numbers

import numpy as np


def check_positive_int(name, value, allow_zero=False):
    """Returns `value` as an int, or raises if it is not a positive integer."""
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    low = 0 if allow_zero else 1
    if not is_int:
        raise TypeError(
            f"`{name}` must be an integer >= {low}. Received: {name}={value!r} "
            f"(type {type(value).__name__})"
        )
    if value < low:
        raise ValueError(
            f"`{name}` must be an integer >= {low}. Received: {name}={value}"
        )
    return int(value)


def check_positive_number(name, value):
    """Returns `value` as a float, or raises if it is not a finite number > 0.

    Infinity is refused with NaN: a temperature or a guidance weight of
    `inf` turns every logit into noise or the reply into nothing.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{name}` must be a number > 0. Received: {name}={value!r} "
            f"(type {type(value).__name__})"
        )
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(
            f"`{name}` must be a finite number > 0. Received: {name}={value}"
        )
    return float(value)


def check_rate(name, value):
    """Returns `value` as a float in [0, 1), or raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{name}` must be a float in [0, 1). Received: {name}={value!r}"
        )
    if not 0.0 <= value < 1.0:
        raise ValueError(
            f"`{name}` must be a float in [0, 1). Received: {name}={value}"
        )
    return float(value)


def check_choice(name, value, choices):
    """Returns `value` if it is one of `choices`, else raises a `ValueError`."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}"
        )
    return value


def check_shape(name, value, ranks, what="dimensions"):
    """Returns `value` as a tuple of positive ints whose length is in `ranks`."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(
            f"`{name}` must be a tuple of {what}. Received: {name}={value!r}"
        )
    value = tuple(value)
    if len(value) not in ranks:
        expected = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"`{name}` must have {expected} entries ({what}). "
            f"Received: {name}={value} with {len(value)} entries"
        )
    for dim in value:
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim < 1:
            raise ValueError(
                f"Every entry of `{name}` must be a positive integer. "
                f"Received: {name}={value}"
            )
    return tuple(int(d) for d in value)


def check_texts(name, texts):
    """A non-empty list of strings -> a NumPy array of str, or a clear error."""
    if isinstance(texts, (str, bytes)) or not hasattr(texts, "__iter__"):
        raise TypeError(
            f"`{name}` must be a list of strings. Received: {name}={texts!r:.60}"
        )
    texts = np.asarray(list(texts), dtype=object)
    if texts.ndim != 1 or not len(texts):
        raise ValueError(
            f"`{name}` must be a non-empty list of strings. Received: {name} "
            f"with shape {texts.shape}"
        )
    if not all(isinstance(t, (str, np.str_)) for t in texts):
        raise TypeError(
            f"`{name}` must hold strings. Received: a "
            f"{type(next(t for t in texts if not isinstance(t, str))).__name__}"
        )
    return texts.astype(str)
