"""Small helpers shared across keras-roleplay (argument checks, tf.data options,
the mixed-precision switch)."""

from keras_roleplay.utils.mixed_precision import (
    best_dtype_policy,
    dtype_policy,
    set_best_dtype_policy,
)

__all__ = ["best_dtype_policy", "dtype_policy", "set_best_dtype_policy"]
