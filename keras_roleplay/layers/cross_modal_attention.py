"""`CrossModalAttention`: text attends over image regions."""

import keras

from keras_roleplay.utils.validation import check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="keras_roleplay")
class CrossModalAttention(keras.layers.Layer):
    """Fuses a text sequence with image regions by cross-attention.

    Each text token (the query) attends over the image
    regions (keys and values), and the attended image content is added to
    the token, `text' = LayerNorm(text + MHA(text, regions))`. With
    `bidirectional=True` the regions also attend over the text,
    `regions' = LayerNorm(regions + MHA(regions, text))`, both from the
    inputs (not one after the other). Masks are respected: padded text
    tokens are never attended to, masked regions are never looked at.

    Built from `keras.layers.MultiHeadAttention` and `LayerNormalization`;
    the layer adds the residual wiring, the masks and the score read-out.

    Args:
        num_heads: attention heads.
        key_dim: size of each head; default `feature size / num_heads`.
        dropout: dropout on the attention probabilities.
        bidirectional: also let the regions attend over the text.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        text: `(batch, text_length, dim)`.
        regions: `(batch, num_regions, dim)`.
        text_mask: optional bool `(batch, text_length)`, `True` for tokens.
        region_mask: optional bool `(batch, num_regions)`.
        return_attention_scores: also return a dict of scores,
            `"text_to_image"`: `(batch, heads, text_length, num_regions)`
            (and `"image_to_text"` when bidirectional), for plots.
        training: dropout on or off.

    Returns:
        The fused text, or `(text, regions)` when bidirectional; with
        `return_attention_scores=True`, a tuple `(outputs, scores)`.

    Example:

    >>> import numpy as np
    >>> layer = CrossModalAttention(num_heads=2)
    >>> text, regions = np.ones((1, 3, 8)), np.ones((1, 4, 8))
    >>> fused, scores = layer(text, regions, return_attention_scores=True)
    >>> tuple(fused.shape), tuple(scores["text_to_image"].shape)
    ((1, 3, 8), (1, 2, 3, 4))
    """

    def __init__(
        self, num_heads, key_dim=None, dropout=0.0, bidirectional=False, **kwargs
    ):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        if key_dim is not None:
            key_dim = check_positive_int("key_dim", key_dim)
        self.key_dim = key_dim
        self.dropout = check_rate("dropout", dropout)
        self.bidirectional = bool(bidirectional)

    def build(self, text_shape, regions_shape):
        for name, shape in (("text", text_shape), ("regions", regions_shape)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(
                    f"`{name}` must have shape (batch, length, features) with a "
                    f"known feature size. Received: {name} with shape {tuple(shape)}"
                )
        dim = int(text_shape[-1])
        if int(regions_shape[-1]) != dim:
            raise ValueError(
                "`text` and `regions` must have the same feature size (project "
                f"them first). Received: text features {dim}, region features "
                f"{int(regions_shape[-1])}"
            )
        key_dim = self.key_dim or max(1, dim // self.num_heads)
        self.text_to_image = keras.layers.MultiHeadAttention(
            self.num_heads,
            key_dim,
            dropout=self.dropout,
            dtype=self.dtype_policy,
            name="text_to_image",
        )
        self.text_to_image.build(text_shape, regions_shape)
        self.text_norm = keras.layers.LayerNormalization(
            dtype=self.dtype_policy, name="text_norm"
        )
        self.text_norm.build(text_shape)
        if self.bidirectional:
            self.image_to_text = keras.layers.MultiHeadAttention(
                self.num_heads,
                key_dim,
                dropout=self.dropout,
                dtype=self.dtype_policy,
                name="image_to_text",
            )
            self.image_to_text.build(regions_shape, text_shape)
            self.image_norm = keras.layers.LayerNormalization(
                dtype=self.dtype_policy, name="image_norm"
            )
            self.image_norm.build(regions_shape)

    def call(
        self,
        text,
        regions,
        text_mask=None,
        region_mask=None,
        return_attention_scores=False,
        training=None,
    ):
        attended, text_scores = self.text_to_image(
            query=text,
            value=regions,
            query_mask=text_mask,
            value_mask=region_mask,
            return_attention_scores=True,
            training=training,
        )
        fused_text = self.text_norm(text + attended)
        scores = {"text_to_image": text_scores}
        outputs = fused_text
        if self.bidirectional:
            attended, image_scores = self.image_to_text(
                query=regions,
                value=text,
                query_mask=region_mask,
                value_mask=text_mask,
                return_attention_scores=True,
                training=training,
            )
            outputs = (fused_text, self.image_norm(regions + attended))
            scores["image_to_text"] = image_scores
        if return_attention_scores:
            return outputs, scores
        return outputs

    def compute_output_shape(self, text_shape, regions_shape):
        if self.bidirectional:
            return tuple(text_shape), tuple(regions_shape)
        return tuple(text_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "dropout": self.dropout,
                "bidirectional": self.bidirectional,
            }
        )
        return config
