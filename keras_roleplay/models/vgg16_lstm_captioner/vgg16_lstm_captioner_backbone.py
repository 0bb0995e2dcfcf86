"""`VGG16LSTMCaptionerBackbone`: VGG16 regions and an attending LSTM."""

import keras

from keras_roleplay.layers.vgg16_preprocessing import VGG16Preprocessing
from keras_roleplay.models.image_encoders import (
    VGG16_FEATURE_LAYERS,
    vgg16_auto_feature_layer,
    vgg16_encoder,
)
from keras_roleplay.utils.quantization import dtype_config, requantize, split_dtype
from keras_roleplay.utils.validation import check_positive_int, check_rate, check_shape


@keras.saving.register_keras_serializable(package="keras_roleplay")
class VGG16LSTMCaptionerBackbone(keras.Model):
    """The captioner's functional network: image and caption ids in, logits out.

    Show and tell (Vinyals et al. 2015) with visual attention (Xu et al.
    2015). `keras.applications.VGG16`
    (without its top) turns the image into a grid of region features; an LSTM
    reads the caption so far, starting from a state computed from the mean
    region; at every step its output attends over the regions (additive,
    Bahdanau-style scoring, applied after the LSTM as in Luong et al.), and
    the word distribution is read from the output and the attended context.
    `attention=False` gives the seed's plain model: the image only sets the
    LSTM's initial state.

    Inputs are a dict: `"image"` `(batch, height, width, 3)` in `[0, 255]`
    and `"tokens"` `(batch, sequence_length)` int, the caption so far
    (teacher forcing). The output is `(batch, sequence_length,
    vocabulary_size)` float32 logits. For decoding, `encode` runs the image
    side once and `decode` carries the LSTM state from step to step;
    `VGG16LSTMCaptioner` (the task) drives them.

    The LSTM never uses the cuDNN kernel (`use_cudnn=False`), so training
    compiles with XLA (`jit_compile=True`), which the cuDNN kernel does not
    (keras-team/keras#18456).

    Args:
        vocabulary_size: number of tokens.
        sequence_length: caption length in tokens during training.
        image_shape: `(height, width, 3)`, at least 32x32.
        weights: `None` (train from scratch), `"imagenet"` (downloads the
            ImageNet weights; needs internet access) or the path of a VGG16
            "notop" weights file.
        trainable_backbone: whether `fit` updates the VGG16 weights.
        feature_layer: the VGG16 layer whose feature map the decoder attends
            over, from `VGG16_FEATURE_LAYERS`, or `"auto"` (the default):
            the deepest `blockN_conv3` with a grid of at least 8x8
            (`vgg16_auto_feature_layer`: `block5_conv3` at 224x224,
            `block3_conv3` at 32x32). The chosen name is what `feature_layer`
            and the saved config hold.
        attention: attend over image regions at every step.
        embedding_dim: size of the token embeddings.
        lstm_units: size of the LSTM state and of the region features.
        dropout: dropout rate before the output layer.
        image_preprocessing: `"caffe"` or `"symmetric"` (see
            `VGG16Preprocessing`); by default `"caffe"` with pretrained
            weights (what they were trained on), `"symmetric"` without.
        name: model name.
        **kwargs: other `keras.Model` arguments.

    Example:

    >>> import numpy as np
    >>> backbone = VGG16LSTMCaptionerBackbone(vocabulary_size=12,
    ...     sequence_length=5, image_shape=(32, 32, 3), embedding_dim=8,
    ...     lstm_units=8)
    >>> logits = backbone({"image": np.zeros((1, 32, 32, 3)),
    ...     "tokens": np.ones((1, 5))})
    >>> tuple(logits.shape), backbone.feature_layer, backbone.feature_grid
    ((1, 5, 12), 'block3_conv3', (8, 8))
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length=16,
        image_shape=(224, 224, 3),
        weights=None,
        trainable_backbone=True,
        feature_layer="auto",
        attention=True,
        embedding_dim=128,
        lstm_units=256,
        dropout=0.0,
        image_preprocessing=None,
        name="vgg16_lstm_captioner_backbone",
        **kwargs,
    ):
        # === Argument checks ===
        # A quantized model's saved `dtype` names its int8 layers.
        dtype, quantized = split_dtype(kwargs.pop("dtype", None))
        if dtype is not None:
            kwargs["dtype"] = dtype
        vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
        sequence_length = check_positive_int("sequence_length", sequence_length)
        image_shape = check_shape("image_shape", image_shape, (3,), "height, width, 3")
        if image_shape[-1] != 3 or min(image_shape[:2]) < 32:
            raise ValueError(
                "VGG16 needs RGB images of at least 32x32: `image_shape` must be "
                f"(height >= 32, width >= 32, 3). Received: image_shape={image_shape}"
            )
        if feature_layer == "auto":
            feature_layer = vgg16_auto_feature_layer(image_shape)
        if feature_layer not in VGG16_FEATURE_LAYERS:
            raise ValueError(
                '`feature_layer` must be "auto" or one of '
                f"{list(VGG16_FEATURE_LAYERS)}. "
                f"Received: feature_layer={feature_layer!r}"
            )
        embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        lstm_units = check_positive_int("lstm_units", lstm_units)
        dropout = check_rate("dropout", dropout)
        if image_preprocessing is None:
            image_preprocessing = "caffe" if weights is not None else "symmetric"

        # === Layers ===
        encoder = vgg16_encoder(weights, image_shape, feature_layer)
        encoder.trainable = bool(trainable_backbone)
        region_projection = keras.layers.Dense(
            lstm_units, activation="relu", name="region_projection"
        )
        init_h = keras.layers.Dense(lstm_units, activation="tanh", name="init_h")
        init_c = keras.layers.Dense(lstm_units, activation="tanh", name="init_c")
        embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, mask_zero=True, name="token_embedding"
        )
        lstm = keras.layers.LSTM(
            lstm_units,
            return_sequences=True,
            return_state=True,
            use_cudnn=False,
            name="decoder_lstm",
        )
        visual_attention = keras.layers.AdditiveAttention(name="visual_attention")
        attention_output = keras.layers.Dense(
            lstm_units, activation="tanh", name="attention_output"
        )
        output_dropout = keras.layers.Dropout(dropout, name="output_dropout")
        logits_layer = keras.layers.Dense(
            vocabulary_size, dtype="float32", name="logits"
        )

        # === Functional model ===
        image = keras.Input(shape=image_shape, name="image")
        tokens = keras.Input(shape=(sequence_length,), dtype="int32", name="tokens")
        x = VGG16Preprocessing(image_preprocessing, name="vgg16_preprocessing")(image)
        feature_map = encoder(x)
        height, width, channels = feature_map.shape[1:]
        regions = keras.layers.Reshape((height * width, channels), name="regions")(
            feature_map
        )
        regions = region_projection(regions)
        pooled = keras.layers.GlobalAveragePooling1D(name="mean_region")(regions)
        state = [init_h(pooled), init_c(pooled)]
        sequence, _, _ = lstm(embedding(tokens), initial_state=state)
        if attention:
            context = visual_attention([sequence, regions])
            outputs = keras.layers.Concatenate(name="sequence_and_context")(
                [sequence, context]
            )
            outputs = attention_output(outputs)
        else:
            outputs = sequence
        outputs = logits_layer(output_dropout(outputs))
        super().__init__(
            inputs={"image": image, "tokens": tokens},
            outputs=outputs,
            name=name,
            **kwargs,
        )
        object.__setattr__(
            self, "_encoder_model", keras.Model(image, [regions, *state])
        )
        requantize(self, quantized)

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.image_shape = image_shape
        self.trainable_backbone = bool(trainable_backbone)
        self.feature_layer = feature_layer
        self.attention = bool(attention)
        self.embedding_dim = embedding_dim
        self.lstm_units = lstm_units
        self.dropout = dropout
        self.image_preprocessing = image_preprocessing
        self.feature_grid = (height, width)

    def encode(self, images, training=False):
        """The image side, run once: `(regions, initial h, initial c)`."""
        return self._encoder_model(images, training=training)

    def decode(self, tokens, state, regions, return_scores=False, training=False):
        """Runs the decoder on `tokens` from `state`.

        Args:
            tokens: `(batch, length)` ids.
            state: `[h, c]`, the LSTM state to start from.
            regions: the region features from `encode`.
            return_scores: also return the attention scores
                `(batch, length, regions)` (`None` without attention).
            training: apply the output dropout (as `fit` does).

        Returns:
            `(logits, [h, c])`, or `(logits, [h, c], scores)`.
        """
        embedded = self.get_layer("token_embedding")(tokens)
        sequence, h, c = self.get_layer("decoder_lstm")(embedded, initial_state=state)
        scores = None
        outputs = sequence
        if self.attention:
            context, scores = self.get_layer("visual_attention")(
                [sequence, regions], return_attention_scores=True
            )
            outputs = self.get_layer("sequence_and_context")([sequence, context])
            outputs = self.get_layer("attention_output")(outputs)
        outputs = self.get_layer("output_dropout")(outputs, training=training)
        logits = self.get_layer("logits")(outputs)
        if return_scores:
            return logits, [h, c], scores
        return logits, [h, c]

    def get_config(self):
        return {
            "vocabulary_size": self.vocabulary_size,
            "sequence_length": self.sequence_length,
            "image_shape": self.image_shape,
            # The weights travel in the saved file; do not fetch them again.
            "weights": None,
            "trainable_backbone": self.trainable_backbone,
            "feature_layer": self.feature_layer,
            "attention": self.attention,
            "embedding_dim": self.embedding_dim,
            "lstm_units": self.lstm_units,
            "dropout": self.dropout,
            "image_preprocessing": self.image_preprocessing,
            **dtype_config(self, None),
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
