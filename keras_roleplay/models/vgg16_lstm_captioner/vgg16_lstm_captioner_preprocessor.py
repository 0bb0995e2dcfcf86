"""`VGG16LSTMCaptionerPreprocessor`: images and captions to backbone inputs."""

import keras
import numpy as np

from keras_roleplay.data.captions import caption_lists, image_caption_dataset
from keras_roleplay.models.generation_preprocessor import (
    GenerationPreprocessor,
    fixed_at_construction,
)
from keras_roleplay.models.vgg16_lstm_captioner.vgg16_lstm_captioner_tokenizer import (
    VGG16LSTMCaptionerTokenizer,
)
from keras_roleplay.utils.image_size import resize_to_model
from keras_roleplay.utils.optional_tensorflow import tf
from keras_roleplay.utils.pipeline import PARALLEL_CALLS
from keras_roleplay.utils.special_tokens import PAD_ID
from keras_roleplay.utils.validation import check_positive_int, check_shape


@keras.saving.register_keras_serializable(package="keras_roleplay")
class VGG16LSTMCaptionerPreprocessor(GenerationPreprocessor):
    """Images and captions -> `VGG16LSTMCaptionerBackbone` inputs.

    Owns the vocabulary (its `VGG16LSTMCaptionerTokenizer`), so the task's
    `generate` returns text. Called on `(images, captions)` it returns
    `(inputs, targets, sample_weight)` for teacher forcing, usable in
    `tf.data` (`dataset.map(preprocessor)`); `caption_dataset` builds the
    whole pipeline and resizes images to `image_shape`, as KerasHub's
    `ImageConverter` does.

    Args:
        vocabulary: tokens starting with `[PAD]`, `[UNK]`, `[START]`,
            `[END]` (see `build_caption_vocabulary`).
        sequence_length: caption length in tokens; longer captions are
            truncated (their `[END]` kept).
        image_shape: the backbone's `(height, width, 3)`.

    Example:

    >>> import numpy as np
    >>> from keras_roleplay.models.vgg16_lstm_captioner import (
    ...     build_caption_vocabulary)
    >>> preprocessor = VGG16LSTMCaptionerPreprocessor(
    ...     build_caption_vocabulary(["a red circle"]), sequence_length=12,
    ...     image_shape=(32, 32, 3))
    >>> ids = np.asarray(preprocessor.tokenize(["a red circle"]))
    >>> ids[:, 0], preprocessor.detokenize(ids)  # [START] ... [END]
    (array([2], dtype=int32), ['a red circle'])
    """

    tokenizer_cls = VGG16LSTMCaptionerTokenizer
    sequence_length = fixed_at_construction("sequence_length")

    def __init__(self, vocabulary, sequence_length=16, image_shape=(224, 224, 3)):
        self.sequence_length = check_positive_int("sequence_length", sequence_length)
        self.image_shape = check_shape(
            "image_shape", image_shape, (3,), "height, width, 3"
        )
        super().__init__(vocabulary, self.sequence_length + 1)

    def tokenize(self, captions):
        """Captions (strings) -> `(batch, sequence_length + 1)` token ids.

        Each caption becomes `[START] tokens [END]`, padded with `[PAD]` (0);
        a caption too long for `sequence_length` is truncated, keeping its
        `[END]`.
        """
        return self.pack(captions)

    def __call__(self, images, captions):
        """Maps `(images, captions)` to `(inputs, targets, sample_weight)`.

        For `tf.data` (`dataset.map(preprocessor)`): teacher forcing, the
        model reads `tokens[:-1]` and predicts `tokens[1:]`; the sample
        weights mask the padding out of the loss and the metrics.

        Captions `(batch, references)` (a dataset built with
        `group_references=True`) give tokens, targets and weights `(batch,
        references, sequence_length)`; an empty string (a missing
        reference) gives a row of `[PAD]` with zero weights.
        """
        captions = tf.convert_to_tensor(captions)
        if captions.shape.rank == 2:
            flat = tf.reshape(captions, [-1])
            ids = self.tokenize(flat)
            ids = ids * tf.cast(tf.not_equal(flat, ""), ids.dtype)[:, None]
            # The number of references stays static: the trainer needs it.
            references = captions.shape[1] if captions.shape[1] is not None else -1
            shape = [tf.shape(captions)[0], references, self.sequence_length + 1]
            ids = tf.reshape(ids, shape)
        else:
            ids = self.tokenize(captions)
        targets = ids[..., 1:]
        inputs = {"image": tf.cast(images, tf.float32), "tokens": ids[..., :-1]}
        return inputs, targets, tf.cast(tf.not_equal(targets, PAD_ID), tf.float32)

    def caption_dataset(
        self,
        images,
        captions,
        batch_size=32,
        shuffle=False,
        seed=None,
        group_references=False,
    ):
        """A `tf.data` pipeline ready for `fit`/`evaluate` from images and captions.

        Args:
            images: array `(n, height, width, 3)`, values in `[0, 255]`
                (resized to `image_shape` if they differ).
            captions: `n` captions or `n` lists of captions.
            batch_size: pairs per batch (images per batch with
                `group_references`).
            shuffle: reshuffle every epoch.
            seed: shuffle seed.
            group_references: one example per image with all its captions,
                tokens `(batch, references, sequence_length)` (see
                `image_caption_dataset`), for `ReferenceGroupTrainer`.

        Raises:
            ValueError: for an empty caption (it would teach the model to stop
                at once), naming the images that have one.
        """
        empty = [
            i
            for i, entry in enumerate(caption_lists(captions))
            if any(not c.strip() for c in entry)
        ]
        if empty:
            raise ValueError(
                f"Empty captions would teach the model to say nothing: images "
                f"{empty[:10]}{' ...' if len(empty) > 10 else ''} have one. Drop "
                "them (`load_image_captions` does) and try again."
            )
        if np.shape(images)[1:3] != self.image_shape[:2]:
            # Only then: the arrays stay as given (uint8 scenes stay small).
            images = resize_to_model(images, self.image_shape)
        dataset = image_caption_dataset(
            images,
            captions,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            group_references=group_references,
        )
        return dataset.map(self.__call__, num_parallel_calls=PARALLEL_CALLS)

    def resize(self, images):
        """One image or `(n, height, width, 3)` -> float32 `(n, *image_shape)`."""
        return resize_to_model(images, self.image_shape)

    def get_config(self):
        return {
            "vocabulary": list(self.vocabulary),
            "sequence_length": self.sequence_length,
            "image_shape": self.image_shape,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
