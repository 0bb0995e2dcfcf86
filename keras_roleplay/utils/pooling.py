"""The mean over a sequence's real tokens, padding left out."""

from keras import ops


def masked_mean(x, mask):
    """Means `(batch, length, dim)` over the positions where `mask` is true.

    A sequence of padding only averages to the zero vector: Keras' masked
    `GlobalAveragePooling1D` divides 0 by 0 there (NaN on JAX and PyTorch).

    Example:

    >>> import numpy as np
    >>> x = np.array([[[1.0], [3.0], [9.0]], [[5.0], [7.0], [2.0]]])
    >>> mask = np.array([[True, True, False], [False, False, False]])
    >>> ops.convert_to_numpy(masked_mean(x, mask)).tolist()
    [[2.0], [0.0]]
    """
    weights = ops.expand_dims(ops.cast(mask, x.dtype), -1)
    return ops.divide(
        ops.sum(x * weights, axis=1), ops.maximum(ops.sum(weights, axis=1), 1.0)
    )
