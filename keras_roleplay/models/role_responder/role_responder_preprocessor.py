"""`RoleResponderPreprocessor`: texts, roles and images to backbone inputs."""

import numbers
import warnings

import keras
import numpy as np

from keras_roleplay.data.text import token_id_lists
from keras_roleplay.models.generation_preprocessor import (
    GenerationPreprocessor,
    fixed_at_construction,
)
from keras_roleplay.models.role_responder.role_responder_tokenizer import (
    RoleResponderTokenizer,
)
from keras_roleplay.utils.image_size import resize_to_model
from keras_roleplay.utils.optional_tensorflow import tf
from keras_roleplay.utils.pipeline import PARALLEL_CALLS, finish_pipeline
from keras_roleplay.utils.special_tokens import PAD_ID
from keras_roleplay.utils.validation import (
    check_positive_int,
    check_rate,
    check_shape,
    check_texts,
)
from keras_roleplay.utils.word_trie import WordPieceTrie, lexicon_words


@keras.saving.register_keras_serializable(package="keras_roleplay")
class RoleResponderPreprocessor(GenerationPreprocessor):
    """Strings, role names and images -> `RoleResponderBackbone` inputs.

    Owns the vocabulary (its `RoleResponderTokenizer`) and the role names,
    so the task's `generate` takes and returns strings. Called on a dict of
    strings it returns `(inputs, targets, sample_weight)` for teacher
    forcing, usable in `tf.data` (`dataset.map(preprocessor)`);
    `dialogue_dataset` builds the whole pipeline.

    Args:
        vocabulary: tokens starting with `[PAD]`, `[UNK]`, `[START]`,
            `[END]` (see `build_dialogue_vocabulary`).
        roles: list of role names (their index is the role id).
        sequence_length: context length in tokens.
        reply_length: reply length in tokens; default `sequence_length`.
        image_shape: the backbone's `(height, width, 3)`, or `None` for a
            text-only model (images are resized to it).
        lexicon: `None`, or the words the model may write, each as its word
            pieces joined by spaces (`"ham ##let"`; `learn_lexicon` makes
            them from texts): `generate` then never joins pieces into a word
            outside it (`utils.word_trie`).

    Example:

    >>> import numpy as np
    >>> from keras_roleplay.models.role_responder.role_responder_tokenizer import (
    ...     build_dialogue_vocabulary)
    >>> preprocessor = RoleResponderPreprocessor(
    ...     build_dialogue_vocabulary(["hello", "good day"]), roles=["knight"],
    ...     sequence_length=8)
    >>> inputs, targets, weights = preprocessor(
    ...     {"context": ["hello"], "reply": ["good day"], "role": [0]})
    >>> inputs["reply"].shape, preprocessor.detokenize(np.asarray(targets))
    (TensorShape([1, 8]), ['good day'])
    """

    tokenizer_cls = RoleResponderTokenizer
    sequence_length = fixed_at_construction("sequence_length")
    reply_length = fixed_at_construction("reply_length")

    def __init__(
        self,
        vocabulary,
        roles,
        sequence_length=32,
        reply_length=None,
        image_shape=None,
        lexicon=None,
    ):
        self.sequence_length = check_positive_int("sequence_length", sequence_length)
        self.reply_length = check_positive_int(
            "reply_length", reply_length or sequence_length
        )
        super().__init__(vocabulary, self.reply_length + 1)
        self.roles = _check_roles(roles)
        if image_shape is not None:
            image_shape = check_shape(
                "image_shape", image_shape, (3,), "height, width, 3"
            )
        self.image_shape = image_shape
        self.lexicon = lexicon

    # === The words the model may write ===

    @property
    def lexicon(self):
        """The words `generate` may write (pieces joined by spaces), or `None`."""
        return self._lexicon

    @lexicon.setter
    def lexicon(self, words):
        if words is not None:
            if isinstance(words, (str, bytes)) or not hasattr(words, "__iter__"):
                raise TypeError(
                    "`lexicon` must be None or a list of words (word pieces "
                    f"joined by spaces). Received: lexicon={words!r:.60}"
                )
            words = [str(w) for w in words]
            pieces = {p for w in words for p in w.split()}
            unknown = sorted(pieces - set(self.vocabulary))
            headless = [w for w in words if not w.split() or w.startswith("##")]
            if unknown or headless or not words:
                raise ValueError(
                    "`lexicon` must be a non-empty list of words spelt in this "
                    "model's word pieces, each starting with a first piece "
                    "(make it with `learn_lexicon`). Received: "
                    f"{len(words)} words, pieces outside the vocabulary: "
                    f"{unknown[:5]}, words without a first piece: {headless[:5]}"
                )
        self._lexicon = words
        self._word_trie = None

    @property
    def word_trie(self):
        """The `utils.word_trie.WordPieceTrie` of `lexicon` (`None` without one)."""
        if self._lexicon is None:
            return None
        if self._word_trie is None:
            index = {token: i for i, token in enumerate(self.vocabulary)}
            words = [[index[p] for p in w.split()] for w in self._lexicon]
            self._word_trie = WordPieceTrie(self.vocabulary, words)
        return self._word_trie

    def learn_lexicon(self, texts):
        """The words of `texts` as this model writes them, for `lexicon`.

        Args:
            texts: strings (the training text: every word a reply may use).

        Returns:
            A sorted list of words, each its word pieces joined by spaces;
            words with an unknown piece are left out.

        Example:

        >>> from keras_roleplay.models.role_responder.role_responder_tokenizer import (
        ...     build_dialogue_vocabulary)
        >>> preprocessor = RoleResponderPreprocessor(
        ...     build_dialogue_vocabulary(["good day , my lord"]), roles=["a"])
        >>> preprocessor.learn_lexicon(["Good day, my lord."])[:3]  # no "." piece
        [',', 'd ##a ##y', 'g ##o ##o ##d']
        """
        texts = check_texts("texts", texts)
        ids = token_id_lists(self.tokenizer(texts))
        return sorted(
            " ".join(self.vocabulary[i] for i in word)
            for word in lexicon_words(ids, self.vocabulary)
        )

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
            truncate: `True` keeps the last `sequence_length` tokens of a
                longer context (the most recent words), as training does;
                `"warn"` does the same and warns (eager inputs only);
                `False` raises a `ValueError` (eager inputs only).
        """
        if truncate not in (True, False, "warn"):
            raise ValueError(
                '`truncate` must be True, False or "warn". Received: '
                f"truncate={truncate!r}"
            )
        tokens = self.tokenizer(tf.convert_to_tensor(contexts))
        if isinstance(tokens, list):  # KerasHub returns lists when eager
            tokens = tf.ragged.constant(tokens, dtype=tf.int32, ragged_rank=1)
        lengths = tokens.row_lengths()
        if truncate is not True and tf.executing_eagerly():
            too_long = np.flatnonzero(lengths.numpy() > self.sequence_length)
            if len(too_long):
                first = int(too_long[0])
                message = (
                    f"Context {first} has {int(lengths[first])} tokens; this "
                    f"model reads at most sequence_length={self.sequence_length}"
                )
                if truncate is False:
                    raise ValueError(
                        f"{message}. Shorten it, or build the model with a "
                        "larger `sequence_length`."
                    )
                warnings.warn(
                    f"{message}: {len(too_long)} context(s) shortened to their "
                    f"last {self.sequence_length} tokens.",
                    stacklevel=4,
                )
        # Keep the last `sequence_length` tokens: the most recent words.
        start = tf.maximum(lengths - self.sequence_length, 0)
        kept = tf.ragged.boolean_mask(
            tokens, tf.ragged.range(lengths) >= tf.expand_dims(start, 1)
        )
        return kept.to_tensor(default_value=PAD_ID, shape=(None, self.sequence_length))

    def tokenize_reply(self, replies):
        """Replies -> `(batch, reply_length + 1)` ids: `[START] ... [END]`, padded."""
        return self.pack(replies)

    def __call__(self, features):
        """Maps a dict of strings to `(inputs, targets, sample_weight)`.

        For `tf.data` (`dataset.map(preprocessor)`): `features` holds
        `"context"` (strings), `"reply"` (strings), `"role"` (ids) and, for
        an image model, `"image"`; a batch, or one unbatched example (a
        string reply: the outputs then have no batch axis). Teacher forcing:
        the model reads `reply[:-1]` and predicts `reply[1:]`; the sample
        weights mask the padding out of the loss and the metrics.
        """
        if tf.convert_to_tensor(features["reply"]).shape.rank == 0:
            # One example, unbatched (as KerasHub preprocessors take it).
            batch = {k: tf.expand_dims(v, 0) for k, v in features.items()}
            inputs, targets, weights = self(batch)
            inputs = {k: tf.squeeze(v, 0) for k, v in inputs.items()}
            return inputs, tf.squeeze(targets, 0), tf.squeeze(weights, 0)
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
        contexts = check_texts("contexts", contexts)
        replies = check_texts("replies", replies)
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
        images = self.check_images(images, len(contexts))
        if images is not None:
            features["image"] = images
        role_dropout = check_rate("role_dropout", role_dropout)
        # Tokenized once and cached; shuffled (and roles hidden) every epoch.
        dataset = (
            tf.data.Dataset.from_tensor_slices(features)
            .batch(256)
            .map(self.__call__, num_parallel_calls=PARALLEL_CALLS)
            .unbatch()
            .apply(tf.data.experimental.assert_cardinality(len(contexts)))
            .cache()
        )
        hide_roles = None
        if role_dropout:

            def hide_roles(examples, epoch_seed):
                # Stateless draws keyed by (epoch, position): a resumed run
                # hides the roles the uninterrupted one hid.
                def hide_role(index, example):
                    inputs, targets, weights = example
                    draw = tf.random.stateless_uniform(
                        (), seed=tf.stack([epoch_seed, index])
                    )
                    role = tf.where(draw < role_dropout, -1, inputs["role"])
                    return {**inputs, "role": role}, targets, weights

                return examples.enumerate().map(
                    hide_role,
                    num_parallel_calls=PARALLEL_CALLS,
                )

        return finish_pipeline(
            dataset,
            batch_size,
            shuffle_buffer=len(contexts) if shuffle else None,
            seed=seed,
            per_epoch=hide_roles,
        )

    def check_images(self, images, count):
        """`None`, one image or `count` images -> `(count, *image_shape)` or `None`.

        Images of another size are resized to `image_shape`; one image is
        repeated for every context.
        """
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

    def check_context_ids(self, context_ids):
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
        if not context_ids.shape[0] or not np.any(context_ids, axis=1).all():
            raise ValueError(
                "Token ids for `context` must hold at least one row, each with a "
                f"token other than [PAD]. Received: context with shape "
                f"{context_ids.shape}"
            )
        if not (0 <= context_ids.min() and context_ids.max() < self.vocabulary_size):
            raise ValueError(
                f"Token ids for `context` must be in [0, {self.vocabulary_size}) "
                f"(the vocabulary size). Received: ids from {context_ids.min()} "
                f"to {context_ids.max()}"
            )
        padding = self.sequence_length - context_ids.shape[1]
        return np.pad(context_ids.astype("int32"), ((0, 0), (0, padding)))

    def get_config(self):
        return {
            "vocabulary": list(self.vocabulary),
            "roles": list(self.roles),
            "sequence_length": self.sequence_length,
            "reply_length": self.reply_length,
            "image_shape": self.image_shape,
            "lexicon": None if self.lexicon is None else list(self.lexicon),
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


def is_token_ids(value):
    """Whether `value` is an array of integers (token ids), not strings."""
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.integer)
