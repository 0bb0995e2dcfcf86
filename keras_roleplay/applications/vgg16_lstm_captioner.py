"""`VGG16LSTMCaptioner`: VGG16 image features, an LSTM decoder with visual attention."""

import functools

import keras
import numpy as np
from keras import ops

from keras_roleplay.applications.image_encoders import (
    VGG16_FEATURE_LAYERS,
    vgg16_encoder,
)
from keras_roleplay.data.captions import caption_lists, image_caption_dataset
from keras_roleplay.data.text import (
    END_ID,
    GENERATION_TOKENS,
    PAD_ID,
    START_ID,
    check_generation_vocabulary,
    detokenize_generated,
    generation_tokenizer_and_packer,
    learn_word_piece_vocabulary,
)
from keras_roleplay.layers.vgg16_preprocessing import VGG16Preprocessing
from keras_roleplay.utils.compiling import compile_token_defaults
from keras_roleplay.utils.generation import make_generate_function
from keras_roleplay.utils.image_size import resize_to_model
from keras_roleplay.utils.model_defaults import ModelDefaultsMixin
from keras_roleplay.utils.optional_tensorflow import require_tensorflow, tf
from keras_roleplay.utils.pipeline import PARALLEL_CALLS
from keras_roleplay.utils.presets import PresetMixin
from keras_roleplay.utils.sampling import (
    get_sampler,
    mask_next_token_logits,
    previous_tokens,
)
from keras_roleplay.utils.validation import check_positive_int, check_rate, check_shape

SPECIAL_TOKENS = GENERATION_TOKENS


def build_caption_vocabulary(captions, vocabulary_size=1000):
    """Learns a WordPiece vocabulary for `VGG16LSTMCaptioner` from captions.

    KerasHub's `compute_word_piece_vocabulary`, lower-cased, Chinese split
    into characters, with the captioner's special tokens first
    (`[PAD]`, `[UNK]`, `[START]`, `[END]`).

    Args:
        captions: strings, or lists of strings (several captions per image).
        vocabulary_size: maximum vocabulary size, special tokens included.

    Returns:
        A list of tokens.

    Example:

    >>> vocabulary = build_caption_vocabulary([["a red circle", "a circle"]])
    >>> vocabulary[:4]
    ['[PAD]', '[UNK]', '[START]', '[END]']
    """
    vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
    texts = [c.strip() for entry in caption_lists(captions) for c in entry if c.strip()]
    if not texts:
        raise ValueError("`captions` holds no non-empty caption.")
    return learn_word_piece_vocabulary(texts, vocabulary_size, SPECIAL_TOKENS)


@keras.saving.register_keras_serializable(package="keras_roleplay")
class VGG16LSTMCaptioner(PresetMixin, ModelDefaultsMixin, keras.Model):
    """Image captioner: VGG16 encoder, LSTM decoder attending over the image.

    The model of seed 002 §5.1, made real. `keras.applications.VGG16`
    (without its top) turns the image into a grid of region features; an LSTM
    reads the caption so far, starting from a state computed from the mean
    region; at every step its output attends over the regions (additive,
    Bahdanau-style scoring, applied after the LSTM as in Luong et al.), and
    the word distribution is read from the output and the attended context.
    `attention=False` gives the seed's plain model: the image only sets the
    LSTM's initial state.

    Trained with `model.fit` on teacher-forced captions (see
    `caption_dataset`), with a loss and accuracy masked to the real tokens.
    The model owns its vocabulary, so `generate` returns text and a saved
    model keeps it. Decoding carries the LSTM state from step to step, so
    its cost grows linearly with the caption length.

    The LSTM never uses the cuDNN kernel (`use_cudnn=False`), so training
    compiles with XLA (`jit_compile=True`), which the cuDNN kernel does not
    (keras-team/keras#18456).

    Args:
        vocabulary: list of tokens whose first four are `[PAD]`, `[UNK]`,
            `[START]`, `[END]` (see `build_caption_vocabulary`, or use
            `VGG16LSTMCaptioner.from_captions`).
        sequence_length: caption length in tokens during training; longer
            captions are truncated (their `[END]` token kept).
        image_shape: `(height, width, 3)`, at least 32x32.
        weights: `None` (train from scratch), `"imagenet"` (downloads the
            ImageNet weights; needs internet access) or the path of a VGG16
            "notop" weights file.
        trainable_backbone: whether `fit` updates the VGG16 weights.
        feature_layer: the VGG16 layer whose feature map the decoder attends
            over, from `VGG16_FEATURE_LAYERS`.
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
    >>> captions = [["a red circle"], ["a blue square"]]
    >>> model = VGG16LSTMCaptioner.from_captions(
    ...     captions, image_shape=(32, 32, 3), sequence_length=6,
    ...     embedding_dim=8, lstm_units=8)
    >>> images = np.zeros((2, 32, 32, 3), "float32")
    >>> model.compile()
    >>> _ = model.fit(model.caption_dataset(images, captions), verbose=0)
    >>> len(model.generate(images, max_length=4))  # two (untrained) captions
    2
    """

    def __init__(
        self,
        vocabulary,
        sequence_length=16,
        image_shape=(224, 224, 3),
        weights=None,
        trainable_backbone=True,
        feature_layer="block5_conv3",
        attention=True,
        embedding_dim=128,
        lstm_units=256,
        dropout=0.0,
        image_preprocessing=None,
        name="vgg16_lstm_captioner",
        **kwargs,
    ):
        # === Argument checks ===
        vocabulary = check_generation_vocabulary(
            vocabulary,
            "build it with `build_caption_vocabulary` or use "
            "`VGG16LSTMCaptioner.from_captions`",
        )
        sequence_length = check_positive_int("sequence_length", sequence_length)
        image_shape = check_shape("image_shape", image_shape, (3,), "height, width, 3")
        if image_shape[-1] != 3 or min(image_shape[:2]) < 32:
            raise ValueError(
                "VGG16 needs RGB images of at least 32x32: `image_shape` must be "
                f"(height >= 32, width >= 32, 3). Received: image_shape={image_shape}"
            )
        if feature_layer not in VGG16_FEATURE_LAYERS:
            raise ValueError(
                f"`feature_layer` must be one of {list(VGG16_FEATURE_LAYERS)}. "
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
            len(vocabulary), embedding_dim, mask_zero=True, name="token_embedding"
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
            len(vocabulary), dtype="float32", name="logits"
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

        # === Config ===
        self.vocabulary = vocabulary
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
        # Helpers rebuilt from the config, kept out of Keras' layer tracking
        # so they are not saved as part of the model. The tokenizer and packer
        # are made here, eagerly: made lazily inside a first `dataset.map`,
        # their lookup tables would belong to that graph and break the next.
        tokenizer, packer = generation_tokenizer_and_packer(
            vocabulary, sequence_length + 1
        )
        object.__setattr__(self, "_tokenizer", tokenizer)
        object.__setattr__(self, "_packer", packer)
        object.__setattr__(self, "_encoder_model", None)
        object.__setattr__(self, "_generate_functions", {})
        object.__setattr__(self, "_samplers", {})

    @classmethod
    def from_captions(cls, captions, vocabulary_size=1000, **kwargs):
        """Builds a captioner whose vocabulary is learned from `captions`.

        Args:
            captions: strings, or lists of strings (several per image).
            vocabulary_size: maximum vocabulary size.
            **kwargs: the other constructor arguments.
        """
        vocabulary = build_caption_vocabulary(captions, vocabulary_size)
        return cls(vocabulary=vocabulary, **kwargs)

    # === Text ===

    @property
    def tokenizer(self):
        """The KerasHub `WordPieceTokenizer` of this model's vocabulary."""
        if self._tokenizer is None:
            require_tensorflow("Tokenizing text")
        return self._tokenizer

    def tokenize(self, captions):
        """Captions (strings) -> `(batch, sequence_length + 1)` token ids.

        Each caption becomes `[START] tokens [END]`, padded with `[PAD]` (0);
        a caption too long for `sequence_length` is truncated, keeping its
        `[END]`.
        """
        return self._packer(self.tokenizer(captions))

    def detokenize(self, token_ids):
        """Token ids -> strings, stopping at `[END]`, without special tokens."""
        return detokenize_generated(self.tokenizer, token_ids)

    def preprocess(self, images, captions):
        """Maps `(images, captions)` to `(inputs, targets, sample_weight)`.

        For `tf.data` (`dataset.map(model.preprocess)`): teacher forcing, the
        model reads `tokens[:-1]` and predicts `tokens[1:]`; the sample
        weights mask the padding out of the loss and the metrics.
        """
        ids = self.tokenize(captions)
        targets = ids[:, 1:]
        inputs = {"image": tf.cast(images, tf.float32), "tokens": ids[:, :-1]}
        return inputs, targets, tf.cast(tf.not_equal(targets, PAD_ID), tf.float32)

    def caption_dataset(
        self, images, captions, batch_size=32, shuffle=False, seed=None
    ):
        """A `tf.data` pipeline ready for `fit`/`evaluate` from images and captions.

        Args:
            images: array `(n, height, width, 3)`, values in `[0, 255]`
                (resized to the model's `image_shape` if they differ).
            captions: `n` captions or `n` lists of captions.
            batch_size: pairs per batch.
            shuffle: reshuffle every epoch.
            seed: shuffle seed.

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
        )
        return dataset.map(self.preprocess, num_parallel_calls=PARALLEL_CALLS)

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training; `"auto"` picks what suits a captioner.

        `"auto"`: Adam(3e-4), sparse categorical cross-entropy on the logits,
        and token accuracy, both masked by the sample weights of
        `preprocess` (use `weighted_metrics` for your own metrics).
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(3e-4)
        loss, metrics, kwargs = compile_token_defaults(loss, metrics, kwargs)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    # === Generation ===

    def _encoder(self):
        """image -> (regions, initial h, initial c): the image side, run once."""
        if self._encoder_model is None:
            outputs = [
                self.get_layer("region_projection").output,
                self.get_layer("init_h").output,
                self.get_layer("init_c").output,
            ]
            encoder = keras.Model(self.input["image"], outputs)
            object.__setattr__(self, "_encoder_model", encoder)
        return self._encoder_model

    def _decode(self, tokens, state, regions, return_scores=False):
        """Runs the decoder on `tokens` from `state`: logits, new state, scores."""
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
        logits = self.get_layer("logits")(outputs)
        if return_scores:
            return logits, [h, c], scores
        return logits, [h, c]

    def generate(
        self,
        images,
        max_length=None,
        sampler="greedy",
        num_beams=4,
        k=5,
        seed=None,
        return_attention=False,
        batch_size=32,
        detokenize=True,
    ):
        """Captions images, one token at a time, carrying the LSTM state.

        Encoding and the decoding loop run as one compiled function on every
        Keras backend (`generate_step`), as KerasHub's `CausalLM.generate`
        does: a TF graph, XLA-compiled when the model's `jit_compile` is on
        (`compile(jit_compile=True)`, or `"auto"` on a GPU); `jax.jit` on
        JAX; eager under `torch.no_grad()` on PyTorch.

        Args:
            images: array `(n, height, width, 3)` (or one image) in
                `[0, 255]`; images of another size are resized to the
                model's `image_shape`.
            max_length: most tokens per caption (default `sequence_length`).
            sampler: `"greedy"`, `"beam"`, `"top_k"`, or a
                `keras_hub.samplers.Sampler` instance.
            num_beams: beams for `"beam"`.
            k: candidates for `"top_k"`.
            seed: random seed for `"top_k"`.
            return_attention: also return, for each caption, a dict with
                `"tokens"` (the generated tokens, `[END]` included) and
                `"maps"` (an array `(tokens, grid_height, grid_width)`: where
                the model looked for each token), for
                `keras_roleplay.utils.plotting.plot_caption_attention`.
            batch_size: images decoded at once.
            detokenize: `False` returns token ids instead of strings (no
                tokenizer needed: this works without TensorFlow).

        Returns:
            A caption for one image, a list of captions for `(n, ...)`
            images (with `detokenize=False`: an int array `(n, max_length)`
            of token ids up to and including `[END]`, then `[PAD]`); with
            `return_attention`, `(captions, attention)`.
        """
        single = np.ndim(images) == 3
        images = resize_to_model(images, self.image_shape)
        max_length = check_positive_int(
            "max_length", max_length or self.sequence_length
        )
        sampler = self._get_sampler(sampler, num_beams, k, seed)
        captions, maps = [], []
        batch_size = min(check_positive_int("batch_size", batch_size), len(images))
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            # Pad the last batch: one batch shape, one trace of the decoding loop.
            padded = np.concatenate(
                [
                    batch,
                    np.zeros((batch_size - len(batch), *batch.shape[1:]), "float32"),
                ]
            )
            token_ids = self._generate_ids(padded, max_length, sampler)[: len(batch)]
            captions += self.detokenize(token_ids) if detokenize else list(token_ids)
            if return_attention:
                maps += self._attention_maps(batch, token_ids)
        if not detokenize:
            captions = np.stack(captions)[:, 1:]  # without [START]
        if single:
            captions, maps = captions[0], maps[:1]
        if return_attention:
            return captions, (maps[0] if single else maps)
        return captions

    def _get_sampler(self, sampler, num_beams, k, seed):
        return get_sampler(self._samplers, sampler, num_beams, k, seed)

    def _generate_ids(self, images, max_length, sampler):
        prompt = np.zeros((len(images), max_length + 1), "int32")
        prompt[:, 0] = START_ID
        mask = np.zeros_like(prompt, dtype=bool)
        mask[:, 0] = True
        # One compiled function per sampler (kept alive by it, so its id is
        # not reused) and compilation setting.
        key = (id(sampler), bool(self.run_eagerly), bool(self.jit_compile))
        if key not in self._generate_functions:
            self._generate_functions[key] = make_generate_function(
                self, functools.partial(self.generate_step, sampler=sampler), sampler
            )
        return self._generate_functions[key](
            {"image": images, "prompt": prompt, "mask": mask}
        )

    def generate_step(self, inputs, sampler):
        """Encoding and the sampler's decoding loop, carrying the LSTM state.

        Backend-agnostic (`keras.ops`); `generate` compiles it for the
        backend (`keras_roleplay.utils.generation.make_generate_function`).

        Args:
            inputs: a dict: `"image"` `(batch, height, width, 3)`,
                `"prompt"` `(batch, length)` int (`[START]` then padding) and
                `"mask"` (True where the prompt is given).
            sampler: a `keras_hub.samplers.Sampler`.

        Returns:
            `(batch, length)` token ids.
        """

        def next_token_logits(prompt, cache, index):
            state_h, state_c, regions = cache
            tokens = previous_tokens(prompt, index)
            logits, (state_h, state_c) = self._decode(
                tokens, [state_h, state_c], regions
            )
            logits = mask_next_token_logits(logits[:, 0], tokens[:, 0])
            return logits, None, (state_h, state_c, regions)

        regions, h, c = self._encoder()(inputs["image"], training=False)
        return sampler(
            next_token_logits,
            inputs["prompt"],
            cache=(h, c, regions),
            index=1,
            mask=inputs["mask"],
            stop_token_ids=[END_ID],
            model=self,
        )

    def _attention_maps(self, images, token_ids):
        """Re-reads generated captions to get the attention map of each token."""
        if not self.attention:
            raise ValueError(
                "This captioner was built with `attention=False`: it has no "
                "attention maps. Build it with attention=True."
            )
        regions, h, c = self._encoder()(images, training=False)
        _, _, scores = self._decode(
            ops.convert_to_tensor(token_ids[:, :-1]),
            [h, c],
            regions,
            return_scores=True,
        )
        scores = ops.convert_to_numpy(scores).reshape(
            (len(images), token_ids.shape[1] - 1, *self.feature_grid)
        )
        attention = []
        for row, score in zip(token_ids, scores, strict=True):
            generated = [int(i) for i in row[1:]]
            length = (
                generated.index(END_ID) + 1 if END_ID in generated else len(generated)
            )
            tokens = [self.vocabulary[i] for i in generated[:length]]
            attention.append({"tokens": tokens, "maps": score[:length]})
        return attention

    # === Config ===

    def get_config(self):
        return {
            "vocabulary": list(self.vocabulary),
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
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
