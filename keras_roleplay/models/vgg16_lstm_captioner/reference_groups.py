"""`ReferenceGroupTrainer`: trains the captioner on images with all their references."""

import keras
from keras import ops

from keras_roleplay.models.vgg16_lstm_captioner.vgg16_lstm_captioner_backbone import (
    VGG16LSTMCaptionerBackbone,
)
from keras_roleplay.utils.model_defaults import ModelDefaultsMixin
from keras_roleplay.utils.special_tokens import PAD_ID


class ReferenceGroupTrainer(ModelDefaultsMixin, keras.Model):
    """Trains a captioner's backbone on each image with all its references at once.

    A dataset of `(image, caption)` pairs runs VGG16 on an image once per
    reference: with three references, three times per epoch on the same
    picture. VGG16 is most of a training step's cost on a CPU, so this
    model takes one image with all its references (`caption_dataset(...,
    group_references=True)`), encodes the image once, and decodes every
    reference from the same regions and initial state. The loss is the
    same as over the pairs (the padding of missing references weighs
    nothing); training on 11 images of 3 references a batch ran 1.93x the
    pairs per second of 32 pairs a batch (2 CPU cores, float32, 32x32
    scenes: `benchmarks/captioner.py`).

    It shares the backbone's layers (and so its weights): train it, then
    caption with the task. `fit_captioner` uses it by default. It is a
    training device, not a model to save: save the task.

    Inputs are a dict: `"image"` `(batch, height, width, 3)` and `"tokens"`
    `(batch, references, sequence_length)`; the output is logits `(batch,
    references, sequence_length, vocabulary_size)`.

    Args:
        backbone: a `VGG16LSTMCaptionerBackbone`.
        **kwargs: other `keras.Model` arguments.

    Example:

    >>> import numpy as np
    >>> from keras_roleplay.applications import VGG16LSTMCaptioner
    >>> captions = [["a red circle", "a circle"], ["a blue square", "a square"]]
    >>> model = VGG16LSTMCaptioner.from_captions(captions,
    ...     image_shape=(32, 32, 3), sequence_length=6, embedding_dim=8,
    ...     lstm_units=8)
    >>> trainer = ReferenceGroupTrainer(model.backbone)
    >>> data = model.caption_dataset(np.zeros((2, 32, 32, 3)), captions,
    ...     group_references=True)
    >>> inputs, targets, weights = next(iter(data))
    >>> logits = trainer(inputs)
    >>> tuple(inputs["tokens"].shape), tuple(logits.shape[:3])
    ((2, 2, 6), (2, 2, 6))
    >>> logits.shape[3] == model.vocabulary_size
    True
    """

    def __init__(self, backbone, **kwargs):
        if not isinstance(backbone, VGG16LSTMCaptionerBackbone):
            raise TypeError(
                "`backbone` must be a VGG16LSTMCaptionerBackbone. Received: "
                f"backbone={backbone!r:.80} (type {type(backbone).__name__})"
            )
        kwargs.setdefault("name", "reference_group_trainer")
        super().__init__(**kwargs)
        self.backbone = backbone
        # The logits carry the tokens' padding mask, as the task's do, so
        # that Keras averages the loss over the same tokens (the real ones).
        self.supports_masking = True
        # Its only weights are the backbone's, built already: a backup can
        # be restored into it before its first step.
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs["tokens"], PAD_ID)

    def call(self, inputs, training=False):
        tokens = inputs["tokens"]
        if len(tokens.shape) != 3 or tokens.shape[1] is None:
            raise ValueError(
                "`tokens` must have shape (batch, references, sequence_length) "
                "with a known number of references (build the data with "
                f"group_references=True). Received: shape {tokens.shape}"
            )
        references, length = tokens.shape[1], tokens.shape[2]
        regions, h, c = self.backbone.encode(inputs["image"], training=training)
        # Row b * references + r of the flat batch is reference r of image b.
        regions, h, c = (ops.repeat(x, references, axis=0) for x in (regions, h, c))
        logits, _ = self.backbone.decode(
            ops.reshape(tokens, (-1, length)), [h, c], regions, training=training
        )
        return ops.reshape(logits, (-1, references, length, logits.shape[-1]))
