"""`ThreeBranchClassifier`: image, text and audio branches fused into one head."""

import contextlib

import keras
import numpy as np
from keras import ops

from keras_roleplay.layers.modality_fusion import FUSION_MODES, ModalityFusion
from keras_roleplay.utils.mixed_precision import dtype_policy
from keras_roleplay.utils.model_defaults import ModelDefaultsMixin
from keras_roleplay.utils.pooling import masked_mean
from keras_roleplay.utils.presets import PresetMixin
from keras_roleplay.utils.quantization import dtype_config, requantize, split_dtype
from keras_roleplay.utils.validation import (
    check_choice,
    check_positive_int,
    check_rate,
    check_shape,
)

MODALITIES = ("image", "text", "audio")
IMAGE_POOLINGS = ("max", "avg", "flatten")


@keras.saving.register_keras_serializable(package="keras_roleplay")
class ThreeBranchClassifier(PresetMixin, ModelDefaultsMixin, keras.Model):
    """Three-branch multimodal classifier: image + text + audio, fused.

    A late-fusion multimodal classifier: an image branch (a small
    Conv2D stack), a text branch and an audio branch each turn their input
    into a feature vector; a `ModalityFusion` layer fuses them
    (`"concat"`, `"weighted"` or `"attention"`) and a dense
    head predicts the class.

    Inputs are a dict with keys `"image"`, `"text"` and `"audio"` (only those
    in `modalities`). Each input comes in one of two forms:

    - image: `(height, width, channels)` pixels in `[0, 255]`, rescaled
      inside the model.
    - text: with `text_vocabulary_size=None` (the seed's form), a float
      feature vector of size `text_length` fed to a dense layer; with an
      integer `text_vocabulary_size`, `text_length` token ids (0 = padding)
      embedded and mean-pooled over the non-padding tokens.
    - audio: with a 1-D `audio_shape=(d,)` (the seed's form), a feature
      vector; with a 2-D `audio_shape=(frames, mel_bins)`, a log-mel
      spectrogram (see `keras_roleplay.data.log_mel_spectrogram`) read by a
      Conv1D stack over time.

    Inputs for modalities the model does not use (an ablation built with
    `modalities=("image", "audio")`, say) are ignored, so one dataset feeds
    every ablation.

    The minimal three-branch network (one convolution, one dense layer a
    branch, concatenated into the output) is `ThreeBranchClassifier(image_filters=(32,),
    image_pooling="flatten", image_units=0, head_units=0)`.

    Args:
        num_classes: number of classes. `1` gives a sigmoid output for binary
            labels, `>= 2` a softmax over integer labels.
        image_shape: `(height, width, channels)`, channels 1 or 3.
        text_length: number of token ids, or the text feature size when
            `text_vocabulary_size` is `None`.
        text_vocabulary_size: size of the token vocabulary, or `None` for
            float text features.
        audio_shape: `(features,)` for a feature vector or `(frames,
            mel_bins)` for a spectrogram.
        modalities: the branches to build, any non-empty subset of
            `("image", "text", "audio")`.
        fusion: `"concat"`, `"weighted"` or `"attention"`.
        fusion_uniform_share: share of a plain average mixed into the
            `"weighted"`/`"attention"` fusion weights, so that no branch is
            starved while it learns (see `ModalityFusion`); ignored by
            `"concat"`.
        image_filters: filters of each 3x3 Conv2D of the image branch
            (2x2 max-pooling between them).
        image_pooling: how the last feature map becomes a vector: `"max"`,
            `"avg"` (global pooling) or `"flatten"` (the seed's form).
        image_units: size of the dense projection that ends the image
            branch; defaults to `branch_units`. `0` feeds the pooled
            features to the fusion directly (the seed's form; `"concat"`
            fusion only, since the sizes then differ).
        branch_units: size of the feature vector of each text and audio
            branch (and of the image branch, see `image_units`).
        text_embedding_dim: token embedding size (token-id text only).
        audio_filters: filters of each Conv1D of a spectrogram audio branch.
        head_units: hidden units of the head after fusion; `0` for a linear
            head (the seed's form).
        dropout: dropout rate before the output layer.
        name: model name.
        **kwargs: other `keras.Model` arguments; `dtype` (a dtype policy such
            as `"mixed_bfloat16"`) goes to every layer but the float32
            predictions, and is saved in the config.

    Example:

    >>> import numpy as np
    >>> model = ThreeBranchClassifier(
    ...     num_classes=4, image_shape=(32, 32, 3), text_length=8,
    ...     text_vocabulary_size=50, audio_shape=(20, 16), fusion="attention")
    >>> batch = {
    ...     "image": np.zeros((2, 32, 32, 3), "float32"),
    ...     "text": np.ones((2, 8), "int32"),
    ...     "audio": np.zeros((2, 20, 16), "float32"),
    ... }
    >>> model.predict(batch, verbose=0).shape
    (2, 4)
    >>> model.fusion_weights(batch).shape  # per-sample attention weights
    (2, 3)
    """

    def __init__(
        self,
        num_classes=1,
        image_shape=(64, 64, 3),
        text_length=128,
        text_vocabulary_size=None,
        audio_shape=(128,),
        modalities=MODALITIES,
        fusion="concat",
        fusion_uniform_share=0.3,
        image_filters=(16, 32, 64),
        image_pooling="max",
        image_units=None,
        branch_units=64,
        text_embedding_dim=32,
        audio_filters=(32, 64),
        head_units=64,
        dropout=0.0,
        name="three_branch_classifier",
        **kwargs,
    ):
        # === Argument checks ===
        num_classes = check_positive_int("num_classes", num_classes)
        modalities = _check_modalities(modalities)
        fusion = check_choice("fusion", fusion, FUSION_MODES)
        fusion_uniform_share = check_rate("fusion_uniform_share", fusion_uniform_share)
        branch_units = check_positive_int("branch_units", branch_units)
        if image_units is None:
            image_units = branch_units
        image_units = check_positive_int("image_units", image_units, allow_zero=True)
        head_units = check_positive_int("head_units", head_units, allow_zero=True)
        dropout = check_rate("dropout", dropout)
        image_shape = check_shape(
            "image_shape", image_shape, (3,), "height, width, channels"
        )
        if image_shape[-1] not in (1, 3):
            raise ValueError(
                "`image_shape` must end with 1 (grayscale) or 3 (RGB) channels; "
                "the data pipelines convert RGBA and palette images to RGB. "
                f"Received: image_shape={image_shape}"
            )
        image_pooling = check_choice("image_pooling", image_pooling, IMAGE_POOLINGS)
        image_filters = _check_filters("image_filters", image_filters)
        text_length = check_positive_int("text_length", text_length)
        if text_vocabulary_size is not None:
            text_vocabulary_size = check_positive_int(
                "text_vocabulary_size", text_vocabulary_size
            )
        text_embedding_dim = check_positive_int(
            "text_embedding_dim", text_embedding_dim
        )
        audio_shape = check_shape("audio_shape", audio_shape, (1, 2), "dimensions")
        audio_filters = _check_filters("audio_filters", audio_filters)
        if "image" in modalities:
            _check_conv_stack_fits(
                min(image_shape[:2]),
                image_filters,
                f"`image_shape={image_shape}` is too small for "
                f"{len(image_filters)} conv layers (`image_filters={image_filters}`):"
                " the feature map would vanish. Use larger images or fewer filters.",
            )
        if "audio" in modalities and len(audio_shape) == 2:
            _check_conv_stack_fits(
                audio_shape[0],
                audio_filters,
                f"`audio_shape={audio_shape}` has too few frames for "
                f"{len(audio_filters)} Conv1D layers (`audio_filters={audio_filters}`)."
                " Use longer clips or fewer filters.",
            )
        if image_units == 0 and "image" in modalities and fusion != "concat":
            raise ValueError(
                f"`image_units=0` leaves the image features unprojected, so "
                f'`fusion="{fusion}"` cannot average them with the other '
                f'branches. Received: image_units=0, fusion="{fusion}". Use '
                'fusion="concat" or image_units > 0.'
            )

        # === Layers and functional model ===
        # Every layer under the model's dtype policy, if one is given (built
        # before `Model.__init__`, they would take the global one).
        # A quantized model's saved `dtype` also names its int8 layers.
        dtype, quantized = split_dtype(kwargs.pop("dtype", None))
        with dtype_policy(dtype) if dtype is not None else contextlib.nullcontext():
            inputs = {}
            features = []
            if "image" in modalities:
                inputs["image"] = keras.Input(shape=image_shape, name="image")
                features.append(
                    _image_branch(
                        inputs["image"], image_filters, image_pooling, image_units
                    )
                )
            if "text" in modalities:
                if text_vocabulary_size is None:
                    inputs["text"] = keras.Input(shape=(text_length,), name="text")
                else:
                    inputs["text"] = keras.Input(
                        shape=(text_length,), dtype="int32", name="text"
                    )
                features.append(
                    _text_branch(
                        inputs["text"],
                        text_vocabulary_size,
                        text_embedding_dim,
                        branch_units,
                    )
                )
            if "audio" in modalities:
                inputs["audio"] = keras.Input(shape=audio_shape, name="audio")
                features.append(
                    _audio_branch(inputs["audio"], audio_filters, branch_units)
                )
            x = ModalityFusion(
                mode=fusion, uniform_share=fusion_uniform_share, name="fusion"
            )(features)
            if head_units:
                x = keras.layers.Dense(
                    head_units, activation="relu", name="head_dense"
                )(x)
            if dropout:
                x = keras.layers.Dropout(dropout, name="head_dropout")(x)
            outputs = keras.layers.Dense(
                num_classes,
                activation="sigmoid" if num_classes == 1 else "softmax",
                dtype="float32",  # probabilities in float32 under mixed precision
                name="predictions",
            )(x)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        requantize(self, quantized)
        self._dtype_argument = (
            None if dtype is None else keras.dtype_policies.get(dtype).name
        )

        # === Config ===
        self.num_classes = num_classes
        self.image_shape = image_shape
        self.text_length = text_length
        self.text_vocabulary_size = text_vocabulary_size
        self.audio_shape = audio_shape
        self.modalities = modalities
        self.fusion = fusion
        self.fusion_uniform_share = fusion_uniform_share
        self.image_filters = image_filters
        self.image_pooling = image_pooling
        self.image_units = image_units
        self.branch_units = branch_units
        self.text_embedding_dim = text_embedding_dim
        self.audio_filters = audio_filters
        self.head_units = head_units
        self.dropout = dropout

    def call(self, inputs, training=None, mask=None):
        return super().call(self._select_inputs(inputs), training=training, mask=mask)

    def _select_inputs(self, inputs):
        """Checks the input dict and drops the modalities this model does not use."""
        if not isinstance(inputs, dict):
            raise TypeError(
                f"`{self.name}` takes a dict of inputs with keys "
                f"{list(self.modalities)}. Received: inputs of type "
                f"{type(inputs).__name__}"
            )
        unknown = sorted(set(inputs) - set(MODALITIES))
        missing = [m for m in self.modalities if m not in inputs]
        if unknown or missing:
            raise ValueError(
                f"`{self.name}` expects input keys {list(self.modalities)} (other "
                f"known modalities are ignored). Received keys: {sorted(inputs)}"
                + (f"; unknown: {unknown}" if unknown else "")
                + (f"; missing: {missing}" if missing else "")
            )
        selected = {}
        for modality in self.modalities:
            value = inputs[modality]
            expected = self._expected_shape(modality)
            shape = tuple(getattr(value, "shape", np.shape(value)))
            if len(shape) != len(expected) + 1 or any(
                got is not None and got != want
                for got, want in zip(shape[1:], expected, strict=True)
            ):
                raise ValueError(
                    f'Input "{modality}" must have shape (batch, '
                    f"{', '.join(str(d) for d in expected)}). Received: "
                    f"{modality} with shape {shape}"
                )
            selected[modality] = value
        return selected

    def _expected_shape(self, modality):
        if modality == "image":
            return self.image_shape
        if modality == "text":
            return (self.text_length,)
        return self.audio_shape

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training; `"auto"` picks defaults that suit this model.

        `"auto"` means Adam(1e-3), binary or sparse categorical cross-entropy
        (from `num_classes`) and accuracy. Any Keras value works instead.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3)
        if loss == "auto":
            loss = (
                "binary_crossentropy"
                if self.num_classes == 1
                else "sparse_categorical_crossentropy"
            )
        if metrics == "auto":
            metrics = ["accuracy"]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def fusion_weights(self, inputs=None, batch_size=64):
        """Returns how much the fusion leans on each modality.

        Args:
            inputs: a batch (dict of arrays). Not needed for `"weighted"`
                fusion, whose weights are global; required for
                `"attention"`, whose weights depend on the sample.
            batch_size: batch size used to compute the branch features.

        Returns:
            `"weighted"` without inputs: NumPy array `(num_modalities,)`;
            with inputs: `(batch, num_modalities)`, columns in the order of
            `modalities`. Raises `ValueError` for `"concat"` fusion, which has
            no weights.
        """
        fusion = self.get_layer("fusion")
        if self.fusion == "concat":
            raise ValueError(
                '`fusion="concat"` has no fusion weights: it keeps every branch '
                'whole. Build the model with fusion="weighted" or '
                'fusion="attention" to read how it weighs the modalities.'
            )
        if inputs is None:
            if self.fusion == "attention":
                raise ValueError(
                    '`fusion="attention"` weighs each sample differently: pass '
                    "`inputs` (a batch dict) to `fusion_weights`. Received: inputs=None"
                )
            return fusion.fusion_weights()
        inputs = self._select_inputs(inputs)
        branch_model = keras.Model(self.input, fusion.input)
        features = branch_model.predict(inputs, batch_size=batch_size, verbose=0)
        if not isinstance(features, (list, tuple)):
            features = [features]
        _, weights = fusion(list(features), return_weights=True)
        return keras.ops.convert_to_numpy(weights)

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "image_shape": self.image_shape,
            "text_length": self.text_length,
            "text_vocabulary_size": self.text_vocabulary_size,
            "audio_shape": self.audio_shape,
            "modalities": self.modalities,
            "fusion": self.fusion,
            "fusion_uniform_share": self.fusion_uniform_share,
            "image_filters": self.image_filters,
            "image_pooling": self.image_pooling,
            "image_units": self.image_units,
            "branch_units": self.branch_units,
            "text_embedding_dim": self.text_embedding_dim,
            "audio_filters": self.audio_filters,
            "head_units": self.head_units,
            "dropout": self.dropout,
            **dtype_config(self, self._dtype_argument),
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _conv_stack(x, filters, conv, pooling, prefix):
    """3-wide "valid" convolutions with 2x max-pooling between them."""
    for i, num_filters in enumerate(filters):
        if i > 0:
            x = pooling(2, name=f"{prefix}_pool_{i}")(x)
        x = conv(num_filters, 3, activation="relu", name=f"{prefix}_conv_{i + 1}")(x)
    return x


def _image_branch(image, filters, pooling, units):
    x = keras.layers.Rescaling(1.0 / 255, name="image_rescaling")(image)
    x = _conv_stack(x, filters, keras.layers.Conv2D, keras.layers.MaxPooling2D, "image")
    if pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="image_global_pool")(x)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="image_global_pool")(x)
    else:
        x = keras.layers.Flatten(name="image_flatten")(x)
    if units:
        x = keras.layers.Dense(units, activation="relu", name="image_dense")(x)
    return x


def _text_branch(text, vocabulary_size, embedding_dim, units):
    x = text
    if vocabulary_size is not None:
        # Token ids: embed, then average over the non-padding tokens (id 0).
        embedded = keras.layers.Embedding(
            vocabulary_size, embedding_dim, name="text_embedding"
        )(x)
        x = masked_mean(embedded, ops.not_equal(x, 0))
    return keras.layers.Dense(units, activation="relu", name="text_dense")(x)


def _audio_branch(audio, filters, units):
    x = audio
    if len(audio.shape) == 3:  # (batch, frames, mel_bins): a spectrogram
        x = _conv_stack(
            x, filters, keras.layers.Conv1D, keras.layers.MaxPooling1D, "audio"
        )
        x = keras.layers.GlobalMaxPooling1D(name="audio_global_pool")(x)
    return keras.layers.Dense(units, activation="relu", name="audio_dense")(x)


def _check_modalities(modalities):
    if isinstance(modalities, str):
        modalities = (modalities,)
    try:
        modalities = tuple(modalities)
    except TypeError:
        raise TypeError(
            "`modalities` must be a sequence of modality names from "
            f"{list(MODALITIES)}. Received: modalities={modalities!r}"
        ) from None
    unknown = [m for m in modalities if m not in MODALITIES]
    if unknown or not modalities or len(set(modalities)) != len(modalities):
        raise ValueError(
            "`modalities` must be a non-empty subset of "
            f"{list(MODALITIES)} without repeats. Received: modalities={modalities!r}"
        )
    # Canonical order, so that fusion weights always read image, text, audio.
    return tuple(m for m in MODALITIES if m in modalities)


def _check_filters(name, filters):
    if isinstance(filters, (str, bytes)) or not hasattr(filters, "__len__"):
        raise TypeError(
            f"`{name}` must be a sequence of positive filter counts. "
            f"Received: {name}={filters!r}"
        )
    if len(filters) == 0:
        raise ValueError(
            f"`{name}` needs at least one entry. Received: {name}={filters!r}"
        )
    return tuple(check_positive_int(name, f) for f in filters)


def _check_conv_stack_fits(size, filters, message):
    """Raises `ValueError(message)` if `len(filters)` convs would eat `size` up."""
    # Each 3-wide "valid" conv removes 2 positions, each 2x pooling halves them.
    for i in range(len(filters)):
        if i > 0:
            size //= 2
        size -= 2
        if size < 1:
            raise ValueError(message)
