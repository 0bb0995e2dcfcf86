"""`VGG16LSTMCaptioner`: VGG16 image features, an LSTM decoder with visual attention."""

import functools
import warnings

import keras
import numpy as np
from keras import ops

from keras_roleplay.data.captions import caption_lists
from keras_roleplay.models.generative_task import GenerativeTask, delegated
from keras_roleplay.models.vgg16_lstm_captioner.vgg16_lstm_captioner_backbone import (
    VGG16LSTMCaptionerBackbone,
)
from keras_roleplay.models.vgg16_lstm_captioner.vgg16_lstm_captioner_preprocessor import (  # noqa: E501
    VGG16LSTMCaptionerPreprocessor,
)
from keras_roleplay.models.vgg16_lstm_captioner.vgg16_lstm_captioner_tokenizer import (
    build_caption_vocabulary,
)
from keras_roleplay.utils.compiling import compile_token_defaults
from keras_roleplay.utils.sampling import mask_next_token_logits, previous_tokens
from keras_roleplay.utils.special_tokens import END_ID, START_ID
from keras_roleplay.utils.validation import check_positive_int

# The backbone's architecture arguments a flat `VGG16LSTMCaptioner(...)` takes.
BACKBONE_ARGUMENTS = (
    "sequence_length",
    "image_shape",
    "weights",
    "trainable_backbone",
    "feature_layer",
    "attention",
    "embedding_dim",
    "lstm_units",
    "dropout",
    "image_preprocessing",
)

# The longest caption `generate` writes: the LSTM could go on, but a caption
# of 10^8 tokens is a mistake (47 s and 2.9 GB before this bound).
MAX_CAPTION_TOKENS = 1024


@keras.saving.register_keras_serializable(package="keras_roleplay")
class VGG16LSTMCaptioner(GenerativeTask):
    """Image captioner: VGG16 encoder, LSTM decoder attending over the image.

    A VGG16 encoder and an LSTM decoder (Vinyals et al. 2015's show-and-tell,
    with Xu et al. 2015's visual attention), as a task of KerasHub's pattern
    (see `GenerativeTask`):

    - `model.backbone`, a `VGG16LSTMCaptionerBackbone`: VGG16 region
      features and an LSTM decoder attending over them (`attention=False`:
      the seed's plain model); its docstring tells the architecture;
    - `model.preprocessor`, a `VGG16LSTMCaptionerPreprocessor`: images
      (resized to the model's size) and captions to backbone inputs, with
      the `VGG16LSTMCaptionerTokenizer` (`model.tokenizer`);
    - here: `generate`, `compile` defaults and presets.

    Build it in one line from flat arguments (below), or from a backbone and
    a preprocessor.

    Trained with `model.fit` on teacher-forced captions (see
    `caption_dataset`), with a loss and accuracy masked to the real tokens.
    The model owns its vocabulary, so `generate` returns text and a saved
    model keeps it. Decoding carries the LSTM state from step to step, so
    its cost grows linearly with the caption length.

    Args:
        vocabulary: list of tokens whose first four are `[PAD]`, `[UNK]`,
            `[START]`, `[END]` (see `build_caption_vocabulary`, or use
            `VGG16LSTMCaptioner.from_captions`).
        **architecture: `sequence_length` (16; longer captions are
            truncated, their `[END]` kept), `image_shape` (224x224;
            images of another size are resized to it), `weights` (`None`,
            `"imagenet"`, which needs internet access, or a file),
            `trainable_backbone`, `feature_layer` (`"auto"`: an 8x8 grid or finer),
            `attention` (`False`: the seed's plain model), `embedding_dim`
            (128), `lstm_units` (256), `dropout`, `image_preprocessing`: see
            `VGG16LSTMCaptionerBackbone`.
        backbone: a `VGG16LSTMCaptionerBackbone`, instead of `vocabulary`
            and the architecture (then `preprocessor` too).
        preprocessor: a `VGG16LSTMCaptionerPreprocessor` matching `backbone`.
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

    backbone_cls = VGG16LSTMCaptionerBackbone
    preprocessor_cls = VGG16LSTMCaptionerPreprocessor
    shared_settings = ("vocabulary_size", "sequence_length", "image_shape")

    def __init__(
        self,
        vocabulary=None,
        backbone=None,
        preprocessor=None,
        name="vgg16_lstm_captioner",
        **kwargs,
    ):
        architecture = {
            key: kwargs.pop(key) for key in BACKBONE_ARGUMENTS if key in kwargs
        }
        if backbone is None:
            if vocabulary is None:
                raise ValueError(
                    "Pass `vocabulary` (or `backbone` and `preprocessor`). "
                    "Received: vocabulary=None"
                )
            # The preprocessor first: it checks the vocabulary.
            preprocessor = VGG16LSTMCaptionerPreprocessor(
                vocabulary,
                sequence_length=architecture.get("sequence_length", 16),
                image_shape=architecture.get("image_shape", (224, 224, 3)),
            )
            backbone = VGG16LSTMCaptionerBackbone(
                vocabulary_size=preprocessor.vocabulary_size, **architecture
            )
        elif vocabulary is not None or architecture:
            raise ValueError(
                "Pass either `backbone` and `preprocessor`, or `vocabulary` and "
                "the architecture arguments, not both. Received: backbone and "
                f"{sorted(architecture) + (['vocabulary'] if vocabulary else [])}"
            )
        super().__init__(backbone, preprocessor, name=name, **kwargs)

    @classmethod
    def from_captions(cls, captions, vocabulary_size=1000, **kwargs):
        """Builds a captioner whose vocabulary is learned from `captions`.

        Warns when more than 1% of the captions are longer than
        `sequence_length` allows (they would be cut in training and the
        model would learn to stop early), naming the length that fits them.

        Args:
            captions: strings, or lists of strings (several per image).
            vocabulary_size: maximum vocabulary size.
            **kwargs: the other constructor arguments.
        """
        vocabulary = build_caption_vocabulary(captions, vocabulary_size)
        model = cls(vocabulary=vocabulary, **kwargs)
        flat = [c for entry in caption_lists(captions) for c in entry]
        # [START] and the tokens must fit in sequence_length; [END] follows.
        lengths = np.asarray([len(ids) for ids in model.tokenizer(flat)]) + 1
        cut = float(np.mean(lengths > model.sequence_length))
        if cut > 0.01:
            warnings.warn(
                f"{cut:.0%} of the captions are longer than sequence_length="
                f"{model.sequence_length} allows and will be cut; "
                f"sequence_length={int(lengths.max())} fits them all.",
                stacklevel=2,
            )
        return model

    # === The parts' settings, under the names they always had ===

    sequence_length = delegated("backbone", "sequence_length")
    image_shape = delegated("backbone", "image_shape")
    trainable_backbone = delegated("backbone", "trainable_backbone")
    feature_layer = delegated("backbone", "feature_layer")
    attention = delegated("backbone", "attention")
    embedding_dim = delegated("backbone", "embedding_dim")
    lstm_units = delegated("backbone", "lstm_units")
    dropout = delegated("backbone", "dropout")
    image_preprocessing = delegated("backbone", "image_preprocessing")
    feature_grid = delegated("backbone", "feature_grid")

    # === Text (the preprocessor's) ===

    def tokenize(self, captions):
        """Captions -> `(batch, sequence_length + 1)` ids: `[START] ... [END]`."""
        return self.preprocessor.tokenize(captions)

    def preprocess(self, images, captions):
        """`(images, captions)` to `(inputs, targets, sample_weight)`."""
        return self.preprocessor(images, captions)

    def caption_dataset(self, images, captions, **kwargs):
        """A `tf.data` pipeline for `fit`/`evaluate`, images resized.

        See `VGG16LSTMCaptionerPreprocessor.caption_dataset` for the
        arguments (`batch_size`, `shuffle`, `seed`).
        """
        return self.preprocessor.caption_dataset(images, captions, **kwargs)

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training; `"auto"` picks what suits a captioner.

        `"auto"`: Adam(3e-4), sparse categorical cross-entropy on the logits,
        and token accuracy, both masked by the sample weights of
        `preprocess` (use `weighted_metrics` for your own metrics).
        `sampler=` sets the one `generate` uses by default
        (`GenerativeTask.compile`).
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(3e-4)
        loss, metrics, kwargs = compile_token_defaults(loss, metrics, kwargs)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    # === Generation ===

    def generate(
        self,
        images,
        max_length=None,
        sampler=None,
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
            max_length: most tokens per caption (default `sequence_length`;
                at most 1 024).
            sampler: how the next word is chosen: a
                `keras_hub.samplers.Sampler` with its settings (e.g.
                `BeamSampler(num_beams=4)`, `TopPSampler(p=0.9,
                temperature=0.8)`), or a name as shorthand: `"greedy"`,
                `"beam"` (4 beams), `"top_k"` (k = 5), `"top_p"` (p = 0.9).
                `None` (default): the one set with `compile(sampler=...)`,
                greedy unless set.
            seed: random seed for the sampling samplers (top-k, top-p).
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
        images = self.preprocessor.resize(images)
        max_length = check_positive_int(
            "max_length", self.sequence_length if max_length is None else max_length
        )
        if max_length > MAX_CAPTION_TOKENS:
            raise ValueError(
                f"`max_length` can be at most {MAX_CAPTION_TOKENS} tokens (the "
                "decoding buffers grow with it). Received: "
                f"max_length={max_length}"
            )
        sampler = self._get_sampler(sampler, seed)
        captions, maps = [], []
        batch_size = min(check_positive_int("batch_size", batch_size), len(images))
        for size, batch in self._padded_batches({"image": images}, batch_size):
            token_ids = self._generate_ids(batch["image"], max_length, sampler)[:size]
            captions += self.detokenize(token_ids) if detokenize else list(token_ids)
            if return_attention:
                maps += self._attention_maps(batch["image"][:size], token_ids)
        if not detokenize:
            captions = np.stack(captions)[:, 1:]  # without [START]
        if single:
            captions, maps = captions[0], maps[:1]
        if return_attention:
            return captions, (maps[0] if single else maps)
        return captions

    def _generate_ids(self, images, max_length, sampler):
        prompt = np.zeros((len(images), max_length + 1), "int32")
        prompt[:, 0] = START_ID
        mask = np.zeros_like(prompt, dtype=bool)
        mask[:, 0] = True
        generate_function = self._generate_function(
            (id(sampler),),
            functools.partial(self.generate_step, sampler=sampler),
            sampler,
        )
        return generate_function({"image": images, "prompt": prompt, "mask": mask})

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
            logits, (state_h, state_c) = self.backbone.decode(
                tokens, [state_h, state_c], regions
            )
            logits = mask_next_token_logits(logits[:, 0], tokens[:, 0])
            return logits, None, (state_h, state_c, regions)

        regions, h, c = self.backbone.encode(inputs["image"])
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
        regions, h, c = self.backbone.encode(images)
        _, _, scores = self.backbone.decode(
            ops.convert_to_tensor(token_ids[:, :-1]),
            [h, c],
            regions,
            return_scores=True,
        )
        # float32 under a mixed policy too: bfloat16 arrays do not plot.
        scores = ops.convert_to_numpy(ops.cast(scores, "float32")).reshape(
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
