"""CLIP's contrastive loss: symmetric InfoNCE over a batch of matched pairs."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_roleplay")
class CLIPLoss(keras.losses.Loss):
    """Symmetric InfoNCE: each text must pick its image, each image its text.

    `y_pred` is the `(batch, batch)` matrix of text-to-image logits
    (`keras_roleplay.layers.ContrastiveSimilarity`: scaled cosine
    similarities, the scale being the learned inverse temperature), where
    row `i` and column `i` are a matching pair and every other entry of the
    batch is a negative. The loss is the mean of the cross-entropy of each
    row over its columns and of each column over its rows (Radford et al.,
    2021, figure 3):

        L = (CE(logits, arange(n)) + CE(logits^T, arange(n))) / 2

    `y_true` is not read (pass `None` or any labels): the pairing is the
    batch's order. Keras has no
    such loss and KerasHub's CLIP ships none, hence this one.

    Args:
        name: the loss's name.
        reduction, dtype: as for any `keras.losses.Loss`.

    Example:

    >>> import numpy as np
    >>> perfect = np.eye(3) * 100.0
    >>> float(CLIPLoss()(None, perfect)) < 1e-6
    True
    >>> round(float(CLIPLoss()(None, np.zeros((4, 4)))), 4)  # log(4): chance
    1.3863
    """

    def __init__(self, name="clip_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if y_true is None:  # allowed: the pairing is the batch's order
            y_true = ops.zeros(ops.shape(y_pred)[:1])
        return super().__call__(y_true, y_pred, sample_weight)

    def call(self, y_true, y_pred):
        if len(y_pred.shape) != 2:
            raise ValueError(
                "`y_pred` must be a (batch, batch) matrix of text-to-image "
                f"logits. Received: y_pred with shape {tuple(y_pred.shape)}"
            )
        n = ops.shape(y_pred)[0]
        labels = ops.arange(n)
        by_text = keras.losses.sparse_categorical_crossentropy(
            labels, y_pred, from_logits=True
        )
        by_image = keras.losses.sparse_categorical_crossentropy(
            labels, ops.transpose(y_pred), from_logits=True
        )
        # Per pair: its text's and its image's loss, averaged.
        return (by_text + by_image) / 2.0
