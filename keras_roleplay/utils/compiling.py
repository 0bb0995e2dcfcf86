"""Compile defaults shared by the models that generate tokens."""

import keras


def compile_token_defaults(loss, metrics, kwargs):
    """The `"auto"` loss and metrics of a model trained on token ids.

    Sparse categorical cross-entropy on logits, and token accuracy as a
    weighted metric (masked by the sample weights of the padding).

    Args:
        loss: the `loss` given to `compile`; `"auto"` is replaced.
        metrics: the `metrics` given to `compile`; with `"auto"`, token
            accuracy goes to `weighted_metrics` (unless given there).
        kwargs: the other `compile` keyword arguments (a dict, updated).

    Returns:
        `(loss, metrics, kwargs)` to pass on to `keras.Model.compile`.

    Example:

    >>> loss, metrics, kwargs = compile_token_defaults("auto", "auto", {})
    >>> type(loss).__name__, loss.from_logits, metrics
    ('SparseCategoricalCrossentropy', True, None)
    >>> [m.name for m in kwargs["weighted_metrics"]]
    ['accuracy']
    >>> compile_token_defaults("mse", ["mae"], {})
    ('mse', ['mae'], {})
    """
    if loss == "auto":
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if metrics == "auto":
        metrics = None
        kwargs.setdefault(
            "weighted_metrics",
            [keras.metrics.SparseCategoricalAccuracy("accuracy")],
        )
    return loss, metrics, kwargs
