"""Scaled cosine similarity between two batches of embeddings (CLIP's head)."""

import math

import keras
from keras import ops

from keras_roleplay.utils.validation import check_positive_number


@keras.saving.register_keras_serializable(package="keras_roleplay")
class ContrastiveSimilarity(keras.layers.Layer):
    """Every text against every image: cosine similarities times a learned scale.

    CLIP's head (Radford et al., 2021): both embeddings are L2-normalised,
    their dot products form a `(texts, images)` matrix, multiplied by
    `exp(logit_scale)`, a learned inverse temperature that starts at
    `1 / temperature` and is capped at `max_scale` (100 in CLIP) so that it
    cannot grow without bound. The logits feed `keras_roleplay.losses.CLIPLoss`.

    KerasHub's `CLIPHead` does the same but is not part of its public API
    and has no cap, hence this layer.

    Args:
        temperature: the starting temperature (CLIP: 0.07).
        max_scale: the largest scale `exp(logit_scale)` may reach.

    Call arguments:
        text_embedding: `(batch_texts, dim)`.
        image_embedding: `(batch_images, dim)`.

    Returns:
        `(batch_texts, batch_images)` logits.

    Example:

    >>> import numpy as np
    >>> layer = ContrastiveSimilarity(temperature=0.5)
    >>> logits = layer(np.eye(2, 3), np.eye(2, 3) * 4.0)
    >>> np.round(keras.ops.convert_to_numpy(logits), 3).tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """

    def __init__(self, temperature=0.07, max_scale=100.0, **kwargs):
        super().__init__(**kwargs)
        self.temperature = check_positive_number("temperature", temperature)
        self.max_scale = check_positive_number("max_scale", max_scale)
        if 1.0 / self.temperature > self.max_scale:
            raise ValueError(
                "`temperature` starts the scale above `max_scale`: 1 / "
                f"{temperature} > {max_scale}. Received: temperature="
                f"{temperature!r}, max_scale={max_scale!r}"
            )

    def build(self, text_embedding_shape, image_embedding_shape):
        self.logit_scale = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(math.log(1.0 / self.temperature)),
            name="logit_scale",
        )

    def scale(self):
        """The current multiplier, `exp(logit_scale)` capped at `max_scale`."""
        return ops.exp(ops.minimum(self.logit_scale, math.log(self.max_scale)))

    def call(self, text_embedding, image_embedding):
        text = _l2_normalize(text_embedding)
        image = _l2_normalize(image_embedding)
        similarity = ops.matmul(text, ops.transpose(image))
        return similarity * ops.cast(self.scale(), similarity.dtype)

    def compute_output_shape(self, text_embedding_shape, image_embedding_shape):
        return (text_embedding_shape[0], image_embedding_shape[0])

    def compute_output_spec(self, text_embedding, image_embedding):
        # Keras' default cannot take both tensors by keyword.
        return keras.KerasTensor(
            self.compute_output_shape(text_embedding.shape, image_embedding.shape),
            dtype=self.compute_dtype,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "temperature": self.temperature,
            "max_scale": self.max_scale,
        }


def _l2_normalize(x):
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), -1, keepdims=True), 1e-12))
