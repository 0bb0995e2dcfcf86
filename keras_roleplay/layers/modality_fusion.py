"""`ModalityFusion`: concatenation, a learned weighted average, or attention."""

import keras
import numpy as np
from keras import ops

from keras_roleplay.utils.validation import (
    check_choice,
    check_positive_int,
    check_rate,
)

FUSION_MODES = ("concat", "weighted", "attention")


@keras.saving.register_keras_serializable(package="keras_roleplay")
class ModalityFusion(keras.layers.Layer):
    """Fuses one feature vector per modality into a single vector.

    Three modes, the usual late-fusion methods of multimodal classifiers:

    - `"concat"`: `h = [h_1, ..., h_n]`; the vectors may differ in size.
    - `"weighted"`: `h = sum_i alpha_i h_i` with `alpha = softmax(e)` and one
      learned score `e_i` per modality, shared by every sample.
    - `"attention"`: the same weighted sum, but the scores depend on the
      sample: `e_i = v^T tanh(W h_i + b)`, so the model can lean on a
      different modality for each input (additive attention over modalities).

    Both weighted modes start as a plain average (zero scores). A branch that
    learns slowly can still be starved: its weight drops early, and its
    gradient shrinks with its weight. `uniform_share=eps` mixes a plain
    average into the weights, `alpha' = (1 - eps) alpha + eps / n`, so every
    modality keeps at least `eps / n` of the weight. On the bundled
    agreement data, `"attention"` with `eps=0` dropped the image weight to
    0.02 in the first epoch and ended at 0.5 test accuracy; with `eps=0.3` it
    reached 0.97 to 0.99.

    `"weighted"` and `"attention"` need all vectors to have the same size.
    The softmax runs in float32 so the layer is safe under mixed precision.

    Args:
        mode: one of `"concat"`, `"weighted"`, `"attention"`.
        attention_units: hidden size `W` of the scoring network in
            `"attention"` mode. Defaults to the feature size.
        uniform_share: share `eps` in `[0, 1)` of a plain average mixed into
            the weights of `"weighted"` and `"attention"` modes (see above).
            `0` is the seed's formula exactly.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a list of `n >= 1` tensors of shape `(batch, d_i)`.
        return_weights: if `True`, also return the fusion weights `alpha`,
            shape `(batch, n)` (only for `"weighted"` and `"attention"`).

    Returns:
        The fused tensor, shape `(batch, sum_i d_i)` for `"concat"`, else
        `(batch, d)`; with `return_weights=True`, a tuple `(fused, alpha)`.

    Example:

    >>> import numpy as np
    >>> fusion = ModalityFusion(mode="weighted")
    >>> fused = fusion([np.ones((2, 4)), np.zeros((2, 4))])
    >>> tuple(fused.shape)
    (2, 4)
    >>> fusion.fusion_weights().round(2).tolist()  # softmax of zero scores
    [0.5, 0.5]
    """

    def __init__(
        self, mode="concat", attention_units=None, uniform_share=0.0, **kwargs
    ):
        super().__init__(**kwargs)
        self.mode = check_choice("mode", mode, FUSION_MODES)
        self.uniform_share = check_rate("uniform_share", uniform_share)
        if attention_units is not None:
            attention_units = check_positive_int("attention_units", attention_units)
        self.attention_units = attention_units
        self.num_modalities = None

    def build(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or not input_shape
            or not all(isinstance(s, (list, tuple)) for s in input_shape)
        ):
            raise ValueError(
                "`ModalityFusion` expects a list of feature tensors, one per "
                f"modality. Received input shape: {input_shape}"
            )
        for i, shape in enumerate(input_shape):
            if len(shape) != 2 or shape[-1] is None:
                raise ValueError(
                    "Every input of `ModalityFusion` must have shape "
                    f"(batch, features) with a known feature size. Received: "
                    f"input {i} with shape {tuple(shape)}"
                )
        self.num_modalities = len(input_shape)
        sizes = [int(s[-1]) for s in input_shape]
        if self.mode != "concat" and len(set(sizes)) > 1:
            raise ValueError(
                f'`mode="{self.mode}"` averages the modality vectors, so they '
                f"must all have the same size. Received feature sizes: {sizes}. "
                'Project them to one size first, or use mode="concat".'
            )
        if self.mode == "weighted":
            self.fusion_logits = self.add_weight(
                name="fusion_logits",
                shape=(self.num_modalities,),
                initializer="zeros",
            )
        elif self.mode == "attention":
            units = self.attention_units or sizes[0]
            self.score_kernel = self.add_weight(
                name="score_kernel",
                shape=(sizes[0], units),
                initializer="glorot_uniform",
            )
            self.score_bias = self.add_weight(
                name="score_bias", shape=(units,), initializer="zeros"
            )
            self.score_vector = self.add_weight(
                name="score_vector", shape=(units, 1), initializer="zeros"
            )

    def call(self, inputs, return_weights=False):
        inputs = list(inputs)
        if self.mode == "concat":
            if return_weights:
                raise ValueError(
                    '`mode="concat"` has no fusion weights. Use mode="weighted" '
                    'or mode="attention" to read weights back.'
                )
            return ops.concatenate(inputs, axis=-1)
        stacked = ops.stack(inputs, axis=1)  # (batch, n, d)
        if self.mode == "weighted":
            scores = ops.expand_dims(ops.cast(self.fusion_logits, "float32"), 0)
            scores = ops.broadcast_to(
                scores, (ops.shape(stacked)[0], self.num_modalities)
            )
        else:
            hidden = ops.tanh(ops.matmul(stacked, self.score_kernel) + self.score_bias)
            scores = ops.cast(
                ops.squeeze(ops.matmul(hidden, self.score_vector), -1), "float32"
            )
        weights = self._mix_uniform(ops.softmax(scores, axis=-1))
        fused = ops.sum(
            ops.expand_dims(ops.cast(weights, stacked.dtype), -1) * stacked, axis=1
        )
        if return_weights:
            return fused, weights
        return fused

    def fusion_weights(self):
        """Returns the learned modality weights of `"weighted"` mode (NumPy).

        For `"attention"` mode the weights depend on the sample: call the
        layer with `return_weights=True` instead.
        """
        if self.mode != "weighted":
            raise ValueError(
                "`fusion_weights()` reads the global weights of "
                f'`mode="weighted"`; this layer has mode="{self.mode}". For '
                '"attention", call the layer with `return_weights=True`.'
            )
        if not self.built:
            raise ValueError("The layer has no weights yet: call it on inputs first.")
        logits = ops.convert_to_numpy(ops.cast(self.fusion_logits, "float32"))
        shifted = np.exp(logits - logits.max())
        return self._mix_uniform(shifted / shifted.sum())

    def _mix_uniform(self, weights):
        if not self.uniform_share:
            return weights
        return (1.0 - self.uniform_share) * weights + (
            self.uniform_share / self.num_modalities
        )

    def compute_output_shape(self, input_shape):
        batch = input_shape[0][0]
        if self.mode == "concat":
            return (batch, sum(int(s[-1]) for s in input_shape))
        return (batch, int(input_shape[0][-1]))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mode": self.mode,
                "attention_units": self.attention_units,
                "uniform_share": self.uniform_share,
            }
        )
        return config
