"""`RoleResponder`: a Transformer that answers in the voice of a role."""

import functools
import numbers

import keras
import numpy as np
from keras import ops
from keras_hub.layers import (
    PositionEmbedding,
    TokenAndPositionEmbedding,
    TransformerDecoder,
    TransformerEncoder,
)

from keras_roleplay.applications.image_encoders import (
    small_cnn_encoder,
    vgg16_encoder,
)
from keras_roleplay.data.text import (
    END_ID,
    GENERATION_TOKENS,
    PAD_ID,
    START_ID,
    UNK_ID,
    check_generation_vocabulary,
    detokenize_generated,
    generation_tokenizer_and_packer,
    learn_word_piece_vocabulary,
)
from keras_roleplay.layers.cross_modal_attention import CrossModalAttention
from keras_roleplay.layers.role_embedding import RoleEmbedding
from keras_roleplay.layers.vgg16_preprocessing import VGG16Preprocessing
from keras_roleplay.utils.compiling import compile_token_defaults
from keras_roleplay.utils.generation import make_generate_function
from keras_roleplay.utils.image_size import resize_to_model
from keras_roleplay.utils.model_defaults import ModelDefaultsMixin
from keras_roleplay.utils.optional_tensorflow import require_tensorflow, tf
from keras_roleplay.utils.pipeline import PARALLEL_CALLS, finish_pipeline
from keras_roleplay.utils.presets import PresetMixin
from keras_roleplay.utils.sampling import (
    NEG_INF,
    block_banned_sequences,
    get_sampler,
    mask_next_token_logits,
    previous_tokens,
)
from keras_roleplay.utils.validation import (
    check_choice,
    check_positive_int,
    check_rate,
    check_shape,
)

IMAGE_ENCODERS = ("cnn", "vgg16")


def build_dialogue_vocabulary(texts, vocabulary_size=2000):
    """Learns a WordPiece vocabulary for `RoleResponder` from contexts and replies.

    Lower-cased, Chinese split into characters, the special tokens
    `[PAD]`, `[UNK]`, `[START]`, `[END]` first.

    Args:
        texts: strings (contexts and replies together).
        vocabulary_size: maximum vocabulary size, special tokens included.

    Returns:
        A list of tokens.

    Example:

    >>> build_dialogue_vocabulary(["how are you ?", "well , thank you ."])[:5]
    ['[PAD]', '[UNK]', '[START]', '[END]', ',']
    """
    vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
    texts = [str(t).strip() for t in np.asarray(texts, dtype=object).ravel()]
    texts = [t for t in texts if t]
    if not texts:
        raise ValueError("`texts` holds no non-empty text.")
    return learn_word_piece_vocabulary(texts, vocabulary_size, GENERATION_TOKENS)


@keras.saving.register_keras_serializable(package="keras_roleplay")
class RoleResponder(PresetMixin, ModelDefaultsMixin, keras.Model):
    """Answers a context in the voice of a role, optionally about an image.

    The role-play model of seeds 001 (§3.2-3.3: a role embedding and an
    encoder-decoder Transformer), 003 (§3.2: cross-modal attention; §4.1:
    the Transformer) and 002 (§9.1: role-specific vocabulary at decoding):

    - **role**: a learned vector per role (`RoleEmbedding`), put in front of
      the context as its first token, and a learned per-role bias on the
      output words (each role's word preferences, seed 002 §9.1). Adding
      the role vector to every reply token as well made held-out Shakespeare
      perplexity worse (101.1 against 98.4 with the two paths above), so it
      is not done;
    - **encoder**: the context tokens (KerasHub `TokenAndPositionEmbedding`)
      and the role token through `num_layers` KerasHub `TransformerEncoder`
      layers;
    - **image** (when `image_shape` is set): a grid of region features from
      a small CNN (`image_encoder="cnn"`, trains from scratch in minutes) or
      VGG16 (`"vgg16"`), projected to `hidden_dim` with a learned position
      per region; the encoded text attends over the regions
      (`CrossModalAttention`, optionally both ways), and the decoder sees
      the fused text and the regions;
    - **decoder**: `num_layers` KerasHub `TransformerDecoder` layers with
      causal self-attention and cross-attention over the encoder output,
      then logits over the vocabulary.

    Inputs are a dict: `"role"` `(batch,)` int, `"context"`
    `(batch, sequence_length)` int (0 = padding), `"image"` (if any)
    `(batch, height, width, 3)` in `[0, 255]`, and `"reply"`
    `(batch, reply_length)` int: the reply so far (teacher forcing). The
    output is `(batch, reply_length, vocabulary_size)` float32 logits.

    The model owns its vocabulary and role names, so `generate` takes and
    returns strings and a saved model keeps both. `generate` decodes with
    key/value caches (the KerasHub `call_with_cache` pattern): each new
    token costs one decoder step, not a re-run of the reply so far.

    `use_role=False` builds the same network without the role (the role
    input is ignored): the ablation that tells what the role adds.

    Args:
        vocabulary: list of tokens starting with `[PAD]`, `[UNK]`,
            `[START]`, `[END]` (see `build_dialogue_vocabulary`, or use
            `RoleResponder.from_dialogues`).
        roles: list of role names (their index is the role id).
        sequence_length: context length in tokens.
        reply_length: reply length in tokens during training; default
            `sequence_length`.
        image_shape: `(height, width, 3)`, or `None` for a text-only model.
        image_encoder: `"cnn"` or `"vgg16"`.
        image_weights: VGG16 weights: `None`, `"imagenet"` (needs internet
            access) or a weights file path. Ignored for `"cnn"`.
        cnn_filters: filters of the small CNN's convolution blocks (each
            halves the grid).
        num_layers: encoder layers, and decoder layers.
        hidden_dim: size of token, role and region vectors.
        intermediate_dim: feed-forward size in the Transformer layers;
            default `2 * hidden_dim`.
        num_heads: attention heads (`hidden_dim` must divide by it).
        dropout: dropout rate in the Transformer layers.
        bidirectional_fusion: let the image regions attend over the text too.
        use_role: condition on the role (`False`: the no-role ablation).
        name: model name.
        **kwargs: other `keras.Model` arguments.

    Example:

    >>> import numpy as np
    >>> model = RoleResponder.from_dialogues(
    ...     ["hello", "good day to you", "hi !"], roles=["knight", "pirate"],
    ...     sequence_length=8, hidden_dim=8, num_heads=2, num_layers=1)
    >>> model.compile()
    >>> data = model.dialogue_dataset(["hello", "hello"],
    ...     ["good day to you", "hi !"], ["knight", "pirate"], batch_size=2)
    >>> _ = model.fit(data, verbose=0)
    >>> reply = model.generate("hello", role="pirate", max_length=3)
    >>> isinstance(reply, str)  # a list of contexts gives a list of replies
    True
    """

    def __init__(
        self,
        vocabulary,
        roles,
        sequence_length=32,
        reply_length=None,
        image_shape=None,
        image_encoder="cnn",
        image_weights=None,
        cnn_filters=(32, 64, 128),
        num_layers=2,
        hidden_dim=128,
        intermediate_dim=None,
        num_heads=4,
        dropout=0.1,
        bidirectional_fusion=False,
        use_role=True,
        name="role_responder",
        **kwargs,
    ):
        # === Argument checks ===
        vocabulary = check_generation_vocabulary(
            vocabulary,
            "build it with `build_dialogue_vocabulary` or use "
            "`RoleResponder.from_dialogues`",
        )
        roles = _check_roles(roles)
        sequence_length = check_positive_int("sequence_length", sequence_length)
        reply_length = check_positive_int(
            "reply_length", reply_length or sequence_length
        )
        if image_shape is not None:
            image_shape = check_shape(
                "image_shape", image_shape, (3,), "height, width, 3"
            )
            if image_shape[-1] != 3:
                raise ValueError(
                    "`image_shape` must be (height, width, 3) (RGB). "
                    f"Received: image_shape={image_shape}"
                )
        image_encoder = check_choice("image_encoder", image_encoder, IMAGE_ENCODERS)
        cnn_filters = tuple(
            check_positive_int("cnn_filters", f) for f in tuple(cnn_filters)
        )
        num_layers = check_positive_int("num_layers", num_layers)
        hidden_dim = check_positive_int("hidden_dim", hidden_dim)
        num_heads = check_positive_int("num_heads", num_heads)
        if hidden_dim % num_heads:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`. Received: "
                f"hidden_dim={hidden_dim}, num_heads={num_heads}"
            )
        intermediate_dim = check_positive_int(
            "intermediate_dim", intermediate_dim or 2 * hidden_dim
        )
        dropout = check_rate("dropout", dropout)

        # === Inputs ===
        role = keras.Input(shape=(), dtype="int32", name="role")
        context = keras.Input(shape=(sequence_length,), dtype="int32", name="context")
        reply = keras.Input(shape=(reply_length,), dtype="int32", name="reply")
        inputs = {"role": role, "context": context, "reply": reply}

        # === Encoder: [role] + context ===
        context_mask = ops.not_equal(context, PAD_ID)
        x = TokenAndPositionEmbedding(
            len(vocabulary), sequence_length, hidden_dim, name="context_embedding"
        )(context)
        if use_role:
            role_vector = RoleEmbedding(len(roles), hidden_dim, name="role_embedding")(
                role
            )
        else:  # the ablation: no role weights at all, the role input unused
            role_vector = ops.zeros_like(
                ops.repeat(
                    ops.expand_dims(ops.cast(role, "float32"), -1), hidden_dim, -1
                )
            )
        x = ops.concatenate([ops.expand_dims(role_vector, 1), x], axis=1)
        text_mask = ops.concatenate(
            [ops.ones_like(context_mask[:, :1]), context_mask], axis=1
        )
        for i in range(num_layers):
            x = TransformerEncoder(
                intermediate_dim,
                num_heads,
                dropout=dropout,
                name=f"encoder_layer_{i}",
            )(x, padding_mask=text_mask)
        memory, memory_mask = x, text_mask

        # === Image: regions, fused with the text by cross-attention ===
        grid = None
        if image_shape is not None:
            image = keras.Input(shape=image_shape, name="image")
            inputs["image"] = image
            if image_encoder == "cnn":
                feature_map = small_cnn_encoder(image_shape, cnn_filters)(image)
            else:
                scaled = VGG16Preprocessing(
                    "caffe" if image_weights is not None else "symmetric",
                    name="vgg16_preprocessing",
                )(image)
                feature_map = vgg16_encoder(image_weights, image_shape, "block5_conv3")(
                    scaled
                )
            grid = tuple(int(d) for d in feature_map.shape[1:3])
            regions = keras.layers.Reshape(
                (grid[0] * grid[1], int(feature_map.shape[-1])), name="regions"
            )(feature_map)
            regions = keras.layers.Dense(hidden_dim, name="region_projection")(regions)
            regions = regions + PositionEmbedding(
                grid[0] * grid[1], name="region_position"
            )(regions)
            fusion = CrossModalAttention(
                num_heads,
                dropout=dropout,
                bidirectional=bidirectional_fusion,
                name="cross_modal_attention",
            )
            fusion_text, fusion_regions = x, regions
            fused = fusion(x, regions, text_mask=text_mask)
            if bidirectional_fusion:
                x, regions = fused
            else:
                x = fused
            memory = ops.concatenate([x, regions], axis=1)
            memory_mask = ops.concatenate(
                [text_mask, ops.ones_like(regions[:, :, 0], dtype="bool")], axis=1
            )

        # === Decoder ===
        y = TokenAndPositionEmbedding(
            len(vocabulary), reply_length, hidden_dim, name="reply_embedding"
        )(reply)
        reply_mask = ops.not_equal(reply, PAD_ID)
        for i in range(num_layers):
            y = TransformerDecoder(
                intermediate_dim,
                num_heads,
                dropout=dropout,
                name=f"decoder_layer_{i}",
            )(
                y,
                memory,
                decoder_padding_mask=reply_mask,
                encoder_padding_mask=memory_mask,
            )
        logits = keras.layers.Dense(len(vocabulary), dtype="float32", name="logits")(y)
        if use_role:
            # Each role's own word preferences (seed 002 §9.1, role-specific
            # vocabulary), learned as a bias on the logits: a direct, cheap
            # path for "Iago says 'my lord'", which the role vector alone
            # must route through every layer.
            role_bias = RoleEmbedding(
                len(roles),
                len(vocabulary),
                embeddings_initializer="zeros",
                dtype="float32",
                name="role_vocabulary_bias",
            )(role)
            logits = logits + ops.expand_dims(role_bias, 1)
        super().__init__(inputs=inputs, outputs=logits, name=name, **kwargs)
        # Intermediate tensors for the generation and attention sub-models.
        encoder_inputs = {k: v for k, v in inputs.items() if k != "reply"}
        object.__setattr__(
            self,
            "_graph",
            {
                "encoder_inputs": encoder_inputs,
                "encoder_outputs": [memory, memory_mask]
                + ([role_bias] if use_role else []),
                "fusion_inputs": (
                    [fusion_text, fusion_regions, text_mask]
                    if image_shape is not None
                    else None
                ),
            },
        )

        # === Config ===
        self.vocabulary = vocabulary
        self.roles = roles
        self.sequence_length = sequence_length
        self.reply_length = reply_length
        self.image_shape = image_shape
        self.image_encoder = image_encoder
        self.cnn_filters = cnn_filters
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.bidirectional_fusion = bool(bidirectional_fusion)
        self.use_role = bool(use_role)
        self.feature_grid = grid
        # Helpers rebuilt from the config, kept out of Keras' layer tracking
        # (not saved as part of the model); made eagerly so that several
        # tf.data pipelines can share the tokenizer's lookup tables.
        tokenizer, reply_packer = generation_tokenizer_and_packer(
            vocabulary, reply_length + 1
        )
        object.__setattr__(self, "_tokenizer", tokenizer)
        object.__setattr__(self, "_reply_packer", reply_packer)
        object.__setattr__(self, "_encoder_model", None)
        object.__setattr__(self, "_generate_functions", {})
        object.__setattr__(self, "_samplers", {})

    @classmethod
    def from_dialogues(cls, texts, roles, vocabulary_size=2000, **kwargs):
        """Builds a responder whose vocabulary is learned from `texts`.

        Args:
            texts: the contexts and replies it will be trained on (strings).
            roles: list of role names.
            vocabulary_size: maximum vocabulary size.
            **kwargs: the other constructor arguments.
        """
        vocabulary = build_dialogue_vocabulary(texts, vocabulary_size)
        return cls(vocabulary=vocabulary, roles=roles, **kwargs)

    # === Roles and text ===

    @property
    def tokenizer(self):
        """The KerasHub `WordPieceTokenizer` of this model's vocabulary."""
        if self._tokenizer is None:
            require_tensorflow("Tokenizing text")
        return self._tokenizer

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    @property
    def num_roles(self):
        return len(self.roles)

    def role_ids(self, roles, count=None):
        """Role names or ids -> an int array of ids, checked.

        Args:
            roles: a name or id, or a list of them; `None` means no role
                (id -1: the role vector and word bias are left out, as
                during role dropout).
            count: if set, a single role is repeated `count` times and a
                list must have `count` entries.

        Raises:
            ValueError: for an unknown name or an id out of range.
        """
        single = roles is None or isinstance(roles, (str, numbers.Integral))
        items = [roles] if single else list(np.asarray(roles, dtype=object).ravel())
        ids = []
        for item in items:
            if item is None:
                ids.append(-1)
            elif isinstance(item, (str, np.str_)):
                if item not in self.roles:
                    raise ValueError(
                        f"Unknown role {str(item)!r}. This model knows the roles "
                        f"{self.roles}. Received: role={str(item)!r}"
                    )
                ids.append(self.roles.index(item))
            elif isinstance(item, numbers.Integral) and not isinstance(item, bool):
                if not 0 <= int(item) < self.num_roles:
                    raise ValueError(
                        f"Role ids must be in [0, {self.num_roles}) (this model "
                        f"has {self.num_roles} roles). Received: role={int(item)}"
                    )
                ids.append(int(item))
            else:
                raise TypeError(
                    "`role` must be a role name (str), an id (int) or None (no "
                    "role), or a list of them. Received: "
                    f"role={item!r} (type {type(item).__name__})"
                )
        if count is not None:
            if single:
                ids = ids * count
            elif len(ids) != count:
                raise ValueError(
                    f"Got {len(ids)} roles for {count} contexts: pass one role, "
                    f"or one per context. Received: {len(ids)} roles"
                )
        return np.array(ids, "int32")

    def tokenize_context(self, contexts, truncate=True):
        """Contexts (strings) -> `(batch, sequence_length)` token ids.

        Args:
            contexts: a string tensor or list of strings.
            truncate: keep the last `sequence_length` tokens of a longer
                context (the most recent words). With `False`, a longer
                context raises a `ValueError` (eager inputs only).
        """
        tokens = self.tokenizer(tf.convert_to_tensor(contexts))
        if isinstance(tokens, list):  # KerasHub returns lists when eager
            tokens = tf.ragged.constant(tokens, dtype=tf.int32, ragged_rank=1)
        lengths = tokens.row_lengths()
        if not truncate and tf.executing_eagerly():
            too_long = np.flatnonzero(lengths.numpy() > self.sequence_length)
            if len(too_long):
                raise ValueError(
                    f"Context {int(too_long[0])} has "
                    f"{int(lengths[too_long[0]])} tokens; this model reads at "
                    f"most sequence_length={self.sequence_length}. Shorten it, "
                    "or build the model with a larger `sequence_length`."
                )
        # Keep the last `sequence_length` tokens: the most recent words.
        start = tf.maximum(lengths - self.sequence_length, 0)
        kept = tf.ragged.boolean_mask(
            tokens, tf.ragged.range(lengths) >= tf.expand_dims(start, 1)
        )
        return kept.to_tensor(default_value=PAD_ID, shape=(None, self.sequence_length))

    def tokenize_reply(self, replies):
        """Replies -> `(batch, reply_length + 1)` ids: `[START] ... [END]`, padded."""
        return self._reply_packer(self.tokenizer(tf.convert_to_tensor(replies)))

    def detokenize(self, token_ids):
        """Token ids -> strings, stopping at `[END]`, without special tokens."""
        return detokenize_generated(self.tokenizer, token_ids)

    def preprocess(self, features):
        """Maps a dict of strings to `(inputs, targets, sample_weight)`.

        For `tf.data` (`dataset.map(model.preprocess)`): `features` holds
        `"context"` (strings), `"reply"` (strings), `"role"` (ids) and, for
        an image model, `"image"`. Teacher forcing: the model reads
        `reply[:-1]` and predicts `reply[1:]`; the sample weights mask the
        padding out of the loss and the metrics.
        """
        ids = self.tokenize_reply(features["reply"])
        targets = ids[:, 1:]
        inputs = {
            "role": tf.cast(features["role"], tf.int32),
            "context": self.tokenize_context(features["context"]),
            "reply": ids[:, :-1],
        }
        if self.image_shape is not None:
            inputs["image"] = tf.cast(features["image"], tf.float32)
        return inputs, targets, tf.cast(tf.not_equal(targets, PAD_ID), tf.float32)

    def dialogue_dataset(
        self,
        contexts,
        replies,
        roles,
        images=None,
        batch_size=32,
        shuffle=False,
        seed=None,
        role_dropout=0.0,
    ):
        """A `tf.data` pipeline ready for `fit`/`evaluate`.

        The texts are tokenized once and kept in memory (cached); shuffling
        and role dropout happen anew every epoch.

        Args:
            contexts: `n` strings (a question, the previous speech...).
            replies: `n` strings, said by the role.
            roles: `n` role names or ids (or one for all).
            images: `(n, height, width, 3)` in `[0, 255]`, for an image model.
            batch_size: examples per batch.
            shuffle: reshuffle every epoch.
            seed: shuffle and role-dropout seed.
            role_dropout: share in `[0, 1)` of examples whose role is hidden
                (id -1, which `RoleEmbedding` maps to the zero vector), drawn
                anew every epoch. For training on small corpora: the model
                learns what all roles share and the role as a refinement,
                instead of memorising (role, context) pairs.

        Raises:
            ValueError: mismatched lengths, unknown roles, an image model
                without images or a text-only model with images.
        """
        contexts = _check_texts("contexts", contexts)
        replies = _check_texts("replies", replies)
        if len(replies) != len(contexts):
            raise ValueError(
                "`contexts` and `replies` must have the same length. Received: "
                f"{len(contexts)} contexts and {len(replies)} replies"
            )
        features = {
            "context": contexts,
            "reply": replies,
            "role": self.role_ids(roles, count=len(contexts)),
        }
        images = self._check_images(images, len(contexts))
        if images is not None:
            features["image"] = images
        role_dropout = check_rate("role_dropout", role_dropout)
        # Tokenized once and cached; shuffled (and roles hidden) every epoch.
        dataset = (
            tf.data.Dataset.from_tensor_slices(features)
            .batch(256)
            .map(self.preprocess, num_parallel_calls=PARALLEL_CALLS)
            .unbatch()
            .apply(tf.data.experimental.assert_cardinality(len(contexts)))
            .cache()
        )
        if role_dropout:

            def hide_role(inputs, targets, weights):
                hidden = tf.random.uniform((), seed=seed) < role_dropout
                role = tf.where(hidden, -1, inputs["role"])
                return {**inputs, "role": role}, targets, weights

            dataset = dataset.map(hide_role, num_parallel_calls=PARALLEL_CALLS)
        return finish_pipeline(
            dataset,
            batch_size,
            shuffle_buffer=len(contexts) if shuffle else None,
            seed=seed,
        )

    def _check_images(self, images, count):
        if self.image_shape is None:
            if images is not None:
                raise ValueError(
                    "This RoleResponder is text-only (built with "
                    "image_shape=None), so it takes no image. Received: images "
                    f"with shape {np.shape(images)}. Build it with `image_shape` "
                    "to answer about images."
                )
            return None
        if images is None:
            raise ValueError(
                f"This RoleResponder answers about images of shape "
                f"{self.image_shape}: pass `image`/`images`. Received: None"
            )
        shape = np.shape(images)
        images = resize_to_model(images, self.image_shape)
        if len(images) not in (1, count):
            raise ValueError(
                f"`images` must be one image or {count} (one per context). "
                f"Received: images with shape {shape}"
            )
        if len(images) != count:
            images = np.repeat(images, count, axis=0)
        return images

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training; `"auto"` picks what suits a responder.

        `"auto"`: AdamW(1e-3, weight decay 0.01), sparse categorical
        cross-entropy on the logits, and token accuracy, masked by the sample
        weights of `preprocess` (use `weighted_metrics` for your own).
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(1e-3, weight_decay=0.01)
        loss, metrics, kwargs = compile_token_defaults(loss, metrics, kwargs)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    # === Generation ===

    def _encoder(self):
        """(role, context[, image]) -> (memory, memory mask[, role bias]), run once."""
        if self._encoder_model is None:
            encoder = keras.Model(
                self._graph["encoder_inputs"], self._graph["encoder_outputs"]
            )
            object.__setattr__(self, "_encoder_model", encoder)
        return self._encoder_model

    def call_with_cache(
        self,
        token_ids,
        index,
        self_caches,
        cross_caches,
        memory,
        memory_mask,
        role_bias,
        seed_cross_caches=False,
    ):
        """One decoding step with key/value caches (the KerasHub pattern).

        Args:
            token_ids: `(batch, 1)` ids of the token at position `index`.
            index: int or int tensor, the position of `token_ids` in the reply.
            self_caches: `(batch, num_layers, 2, length, heads, head_dim)`.
            cross_caches: `(batch, num_layers, 2, memory_length, heads,
                head_dim)`, the keys and values of the encoder output.
            memory, memory_mask, role_bias: the encoder's outputs
                (`role_bias`: the role's logit bias, zeros without a role).
            seed_cross_caches: compute `cross_caches` from `memory` (first
                step) instead of reading them.

        Returns:
            `(logits, self_caches, cross_caches)`, logits `(batch, 1, vocab)`.
        """
        y = self.get_layer("reply_embedding")(token_ids, start_index=index)
        new_self, new_cross = [], []
        for i in range(self.num_layers):
            y, self_cache, cross_cache = self.get_layer(f"decoder_layer_{i}")(
                y,
                memory,
                encoder_padding_mask=memory_mask,
                self_attention_cache=self_caches[:, i],
                self_attention_cache_update_index=index,
                cross_attention_cache=cross_caches[:, i],
                cross_attention_cache_update_index=0 if seed_cross_caches else None,
                training=False,
            )
            new_self.append(self_cache)
            new_cross.append(cross_cache)
        logits = self.get_layer("logits")(y)
        logits = logits + ops.expand_dims(role_bias, 1)
        return logits, ops.stack(new_self, axis=1), ops.stack(new_cross, axis=1)

    def generate(
        self,
        context,
        role,
        image=None,
        max_length=None,
        sampler="greedy",
        num_beams=4,
        k=5,
        seed=None,
        allowed_tokens=None,
        banned_tokens=None,
        batch_size=32,
        truncate_context=False,
    ):
        """Replies to `context` as `role`, one token at a time, with caches.

        Role-specific vocabulary constraints (seed 002 §9.1) are logit masks:
        a banned word is never generated (like Hugging Face's
        `bad_words_ids`: a word of several word pieces is blocked at its
        last piece when the ones before it were just generated); with
        `allowed_tokens`, only the word pieces of the allowed words (and
        `[END]`) can be generated.

        Encoding, cache seeding and the sampler's loop run as one compiled
        function on every Keras backend (`generate_step`), as KerasHub's
        `CausalLM.generate` does: a TF graph, XLA-compiled when the model's
        `jit_compile` is on (`compile(jit_compile=True)`, or `"auto"` on a
        GPU); `jax.jit` on JAX; eager under `torch.no_grad()` on PyTorch.

        Args:
            context: a string or a list of strings; or token ids, an int
                array `(n, length)` (or `(length,)`) with `length <=
                sequence_length` and 0 for padding (no tokenizer needed:
                this works without TensorFlow).
            role: a role name or id, or one per context; `None` replies
                without a role (best after training with `role_dropout`).
            image: for an image model, one image `(height, width, 3)` or one
                per context `(n, height, width, 3)`, values in `[0, 255]`.
            max_length: most tokens per reply (default and maximum:
                `reply_length`).
            sampler: `"greedy"`, `"beam"`, `"top_k"` or a
                `keras_hub.samplers.Sampler`.
            num_beams: beams for `"beam"`.
            k: candidates for `"top_k"`.
            seed: random seed for `"top_k"`.
            allowed_tokens: `None`, a list of words allowed for every role,
                or a dict `{role name: list of words}` (roles left out are
                unconstrained).
            banned_tokens: `None`, a list of words banned for every role, or
                a dict `{role name: list of words}`.
            batch_size: contexts decoded at once.
            truncate_context: keep the last `sequence_length` tokens of a
                longer context (as training does) instead of raising.

        Returns:
            A reply string for one context (a string, or one row of ids), a
            list of them for a list. From token ids: an int array
            `(n, max_length)` (or `(max_length,)`), the reply's ids up to and
            including `[END]`, then `[PAD]` (0).

        Raises:
            ValueError: an unknown role or sampler, a context longer than
                `sequence_length`, an image for a text-only model or none
                for an image model, `max_length` above `reply_length`.
        """
        single = isinstance(context, str) or (
            _is_token_ids(context) and np.ndim(context) == 1
        )
        if _is_token_ids(context):
            context_ids = self._check_context_ids(context)
        else:
            contexts = _check_texts("context", [context] if single else context)
            context_ids = self.tokenize_context(contexts, truncate=truncate_context)
            context_ids = np.asarray(context_ids)
        count = len(context_ids)
        role_ids = self.role_ids(role, count=count)
        images = self._check_images(image, count)
        max_length = check_positive_int("max_length", max_length or self.reply_length)
        if max_length > self.reply_length:
            raise ValueError(
                f"`max_length` can be at most reply_length={self.reply_length} "
                f"(the reply positions this model learned). Received: "
                f"max_length={max_length}"
            )
        sampler = get_sampler(self._samplers, sampler, num_beams, k, seed)
        constraints = self._constraints(allowed_tokens, banned_tokens)
        batch_size = min(check_positive_int("batch_size", batch_size), count)
        generated = []
        for start in range(0, count, batch_size):
            stop = min(start + batch_size, count)
            batch = {"role": role_ids[start:stop], "context": context_ids[start:stop]}
            if images is not None:
                batch["image"] = images[start:stop]
            # Pad the last batch: one batch shape, one trace of the loop.
            batch = {
                key: np.concatenate(
                    [value, np.repeat(value[:1], batch_size - len(value), axis=0)]
                )
                for key, value in batch.items()
            }
            ids = self._generate_ids(batch, max_length, sampler, constraints)
            generated.append(ids[: stop - start, 1:])  # without [START]
        generated = np.concatenate(generated)
        replies = generated if _is_token_ids(context) else self.detokenize(generated)
        return replies[0] if single else replies

    def _check_context_ids(self, context_ids):
        """Token ids `(n, <= sequence_length)` (or one row), padded to the model's."""
        context_ids = np.asarray(context_ids)
        if context_ids.ndim == 1:
            context_ids = context_ids[None]
        if context_ids.ndim != 2 or context_ids.shape[1] > self.sequence_length:
            raise ValueError(
                "Token ids for `context` must have shape (n, length) with length "
                f"<= sequence_length={self.sequence_length}. Received: context "
                f"with shape {context_ids.shape}"
            )
        if context_ids.size and not (
            0 <= context_ids.min() and context_ids.max() < self.vocabulary_size
        ):
            raise ValueError(
                f"Token ids for `context` must be in [0, {self.vocabulary_size}) "
                f"(the vocabulary size). Received: ids from {context_ids.min()} "
                f"to {context_ids.max()}"
            )
        padding = self.sequence_length - context_ids.shape[1]
        return np.pad(context_ids.astype("int32"), ((0, 0), (0, padding)))

    def _word_pieces(self, words, argument):
        if isinstance(words, str) or not hasattr(words, "__iter__"):
            raise TypeError(
                f"`{argument}` must be a list of words (or a dict of such lists "
                f"per role). Received: {argument}={words!r:.60}"
            )
        pieces = []
        for word in words:
            ids = [int(i) for i in np.asarray(self.tokenizer(str(word)))]
            if not ids or any(i == UNK_ID for i in ids):
                raise ValueError(
                    f"`{argument}` holds {word!r}, which this model's vocabulary "
                    "cannot spell (it maps to [UNK] or to nothing), so it could "
                    "never be generated."
                )
            pieces.append(ids)
        return pieces

    def _per_role(self, value, argument):
        """A list (every role, and no role) or a dict by role name -> {row: words}.

        Rows are role ids, and `num_roles` for "no role" (id -1).
        """
        if value is None:
            return {}
        if isinstance(value, dict):
            return {
                int(self.role_ids(name)[0]): self._word_pieces(words, argument)
                for name, words in value.items()
            }
        pieces = self._word_pieces(value, argument)
        return {r: pieces for r in range(self.num_roles + 1)}

    def _constraints(self, allowed_tokens, banned_tokens):
        """Role-indexed masks: allowed token ids, and banned word sequences.

        One row per role and a last row for "no role".
        """
        vocabulary_size = self.vocabulary_size
        allowed = np.ones((self.num_roles + 1, vocabulary_size), bool)
        for role_id, words in self._per_role(allowed_tokens, "allowed_tokens").items():
            allowed[role_id] = False
            allowed[role_id, END_ID] = True
            for ids in words:
                allowed[role_id, ids] = True
        sequences = {}  # word-piece sequence -> roles that ban it
        for role_id, words in self._per_role(banned_tokens, "banned_tokens").items():
            for ids in words:
                if len(ids) == 1:
                    allowed[role_id, ids[0]] = False
                else:
                    roles = sequences.setdefault(
                        tuple(ids), np.zeros(self.num_roles + 1, bool)
                    )
                    roles[role_id] = True
        return allowed, sequences

    def _generate_ids(self, batch, max_length, sampler, constraints):
        allowed, sequences = constraints
        size = len(batch["role"])
        prompt = np.zeros((size, max_length + 1), "int32")
        prompt[:, 0] = START_ID
        mask = np.zeros_like(prompt, dtype=bool)
        mask[:, 0] = True
        rows = np.where(batch["role"] >= 0, batch["role"], self.num_roles)
        banned_sequences = list(sequences)
        sequence_roles = (
            np.stack([sequences[s][rows] for s in banned_sequences], axis=1)
            if banned_sequences
            else np.zeros((size, 1), bool)  # a width of 0 upsets beam search
        )
        key = (
            id(sampler),
            tuple(banned_sequences),
            bool(self.run_eagerly),
            bool(self.jit_compile),
        )
        if key not in self._generate_functions:
            self._generate_functions[key] = make_generate_function(
                self,
                functools.partial(
                    self.generate_step,
                    sampler=sampler,
                    banned_sequences=banned_sequences,
                ),
                sampler,
            )
        return self._generate_functions[key](
            {
                "model_inputs": batch,
                "prompt": prompt,
                "mask": mask,
                "allowed": allowed[rows],
                "sequence_roles": sequence_roles,
            }
        )

    def _start_cache(self, inputs, prompt):
        """Encodes the inputs and seeds the caches with `[START]`."""
        outputs = self._encoder()(inputs, training=False)
        memory, memory_mask = outputs[:2]
        size, length = ops.shape(prompt)[0], ops.shape(prompt)[1]
        role_bias = (
            outputs[2]
            if self.use_role
            else ops.zeros((size, self.vocabulary_size), "float32")
        )
        heads, head_dim = self.num_heads, self.hidden_dim // self.num_heads
        dtype = keras.backend.standardize_dtype(memory.dtype)
        self_caches = ops.zeros(
            (size, self.num_layers, 2, length, heads, head_dim), dtype
        )
        cross_caches = ops.zeros(
            (size, self.num_layers, 2, ops.shape(memory)[1], heads, head_dim), dtype
        )
        # The first step also fills the cross-attention keys/values.
        _, self_caches, cross_caches = self.call_with_cache(
            prompt[:, :1],
            0,
            self_caches,
            cross_caches,
            memory,
            memory_mask,
            role_bias,
            seed_cross_caches=True,
        )
        return {
            "self_caches": self_caches,
            "cross_caches": cross_caches,
            "memory": memory,
            "memory_mask": memory_mask,
            "role_bias": role_bias,
        }

    def generate_step(self, inputs, sampler, banned_sequences=()):
        """Encoding, cache seeding and the sampler's decoding loop, in one step.

        Backend-agnostic (`keras.ops`); `generate` compiles it for the
        backend (`keras_roleplay.utils.generation.make_generate_function`).

        Args:
            inputs: a dict: `"model_inputs"` (`"role"`, `"context"` and, for
                an image model, `"image"`), `"prompt"` `(batch, length)`
                int (`[START]` then padding), `"mask"` (True where the prompt
                is given), `"allowed"` `(batch, vocabulary_size)` bool and
                `"sequence_roles"` `(batch, max(1, len(banned_sequences)))`
                bool (which rows ban which word-piece sequence).
            sampler: a `keras_hub.samplers.Sampler`.
            banned_sequences: word-piece sequences (tuples of ids) blocked at
                their last piece.

        Returns:
            `(batch, length)` token ids.
        """
        prompt = inputs["prompt"]

        def next_token_logits(prompt, cache, index):
            tokens = previous_tokens(prompt, index)
            logits, self_caches, _ = self.call_with_cache(
                tokens,
                index - 1,
                cache["self_caches"],
                cache["cross_caches"],
                cache["memory"],
                cache["memory_mask"],
                cache["role_bias"],
            )
            keep = block_banned_sequences(
                cache["allowed"],
                prompt,
                index,
                banned_sequences,
                cache["sequence_roles"],
            )
            logits = mask_next_token_logits(logits[:, 0], tokens[:, 0], keep)
            return logits, None, {**cache, "self_caches": self_caches}

        cache = self._start_cache(inputs["model_inputs"], prompt)
        cache.update(allowed=inputs["allowed"], sequence_roles=inputs["sequence_roles"])
        return sampler(
            next_token_logits,
            prompt,
            cache=cache,
            index=1,
            mask=inputs["mask"],
            stop_token_ids=[END_ID],
            model=self,
        )

    def generate_without_cache(self, context, role, image=None, max_length=None):
        """Greedy replies by re-running the whole model on the reply so far.

        The reference `generate` is measured against (it must give the same
        greedy replies): each new token costs a full forward pass.
        """
        contexts = [context] if isinstance(context, str) else context
        contexts = _check_texts("context", contexts)
        inputs = {
            "role": self.role_ids(role, count=len(contexts)),
            "context": self.tokenize_context(contexts, truncate=False).numpy(),
        }
        images = self._check_images(image, len(contexts))
        if images is not None:
            inputs["image"] = images
        max_length = min(max_length or self.reply_length, self.reply_length)
        reply = np.zeros((len(contexts), self.reply_length + 1), "int32")
        reply[:, 0] = START_ID
        done = np.zeros(len(contexts), bool)
        for index in range(max_length):
            prefix = {**inputs, "reply": reply[:, : self.reply_length]}
            logits = np.asarray(self.predict_on_batch(prefix))[:, index].copy()
            logits[:, [PAD_ID, START_ID]] = NEG_INF
            token = np.where(done, PAD_ID, logits.argmax(-1))
            done |= token == END_ID
            reply[:, index + 1] = token
        return self.detokenize(reply)

    # === Attention for plots ===

    def attention_maps(self, context, role, image):
        """Where each context token looked in the image (cross-modal attention).

        Args:
            context: a string.
            role: a role name or id.
            image: one image `(height, width, 3)`.

        Returns:
            A dict with `"tokens"` (the role marker `"<role>"` then the
            context's word pieces) and `"maps"`, an array
            `(tokens, grid_height, grid_width)` averaged over the heads, for
            `keras_roleplay.utils.plotting.plot_caption_attention`.
        """
        if self.image_shape is None:
            raise ValueError(
                "This RoleResponder is text-only (image_shape=None): it has no "
                "image attention to show."
            )
        images = self._check_images(image, 1)
        context_ids = self.tokenize_context([context], truncate=False).numpy()
        inputs = {
            "role": self.role_ids(role, count=1),
            "context": context_ids,
            "image": images,
        }
        text, regions, text_mask = keras.Model(
            self._graph["encoder_inputs"], self._graph["fusion_inputs"]
        )(inputs, training=False)
        _, scores = self.get_layer("cross_modal_attention")(
            text, regions, text_mask=text_mask, return_attention_scores=True
        )
        maps = ops.convert_to_numpy(ops.mean(scores["text_to_image"], axis=1))[0]
        length = 1 + int((context_ids[0] != PAD_ID).sum())
        tokens = ["<role>"] + [self.vocabulary[i] for i in context_ids[0] if i]
        return {
            "tokens": tokens,
            "maps": maps[:length].reshape((length, *self.feature_grid)),
        }

    # === Config ===

    def get_config(self):
        return {
            "vocabulary": list(self.vocabulary),
            "roles": list(self.roles),
            "sequence_length": self.sequence_length,
            "reply_length": self.reply_length,
            "image_shape": self.image_shape,
            "image_encoder": self.image_encoder,
            # The weights travel in the saved file; do not fetch them again.
            "image_weights": None,
            "cnn_filters": list(self.cnn_filters),
            "num_layers": self.num_layers,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "bidirectional_fusion": self.bidirectional_fusion,
            "use_role": self.use_role,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_roles(roles):
    if isinstance(roles, (str, bytes)) or not hasattr(roles, "__iter__"):
        raise TypeError(
            f"`roles` must be a list of role names. Received: roles={roles!r:.60}"
        )
    roles = [str(r) for r in roles]
    if not roles or len(set(roles)) != len(roles) or not all(roles):
        raise ValueError(
            "`roles` must be a non-empty list of distinct, non-empty role names. "
            f"Received: roles={roles}"
        )
    return roles


def _is_token_ids(value):
    """Whether `value` is an array of integers (token ids), not strings."""
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.integer)


def _check_texts(name, texts):
    if isinstance(texts, (str, bytes)) or not hasattr(texts, "__iter__"):
        raise TypeError(
            f"`{name}` must be a list of strings. Received: {name}={texts!r:.60}"
        )
    texts = np.asarray(list(texts), dtype=object)
    if texts.ndim != 1 or not len(texts):
        raise ValueError(
            f"`{name}` must be a non-empty list of strings. Received: {name} "
            f"with shape {texts.shape}"
        )
    if not all(isinstance(t, (str, np.str_)) for t in texts):
        raise TypeError(
            f"`{name}` must hold strings. Received: a "
            f"{type(next(t for t in texts if not isinstance(t, str))).__name__}"
        )
    return texts.astype(str)
