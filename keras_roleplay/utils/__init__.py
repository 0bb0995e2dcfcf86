"""Small helpers shared across keras-roleplay (argument checks, tf.data options,
the mixed-precision switch, repeatable runs)."""

from keras_roleplay.utils.mixed_precision import (
    best_dtype_policy,
    dtype_policy,
    set_best_dtype_policy,
)
from keras_roleplay.utils.reproducibility import make_reproducible

__all__ = [
    "best_dtype_policy",
    "dtype_policy",
    "make_reproducible",
    "set_best_dtype_policy",
]
