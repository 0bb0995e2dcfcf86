"""Compile defaults shared by the models that generate tokens."""

import keras


def compile_token_defaults(loss, metrics, kwargs):
    """The `"auto"` loss and metrics of a model trained on token ids.

    Sparse categorical cross-entropy on logits, and token accuracy as a
    weighted metric (masked by the sample weights of the padding).

    Returns:
        `(loss, metrics, kwargs)` to pass on to `keras.Model.compile`.
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
