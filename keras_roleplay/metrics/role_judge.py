"""`RoleJudge`: a small classifier that names the role that spoke a reply."""

import keras
import numpy as np
from keras_hub.layers import TokenAndPositionEmbedding, TransformerEncoder
from keras_hub.tokenizers import WordPieceTokenizer

from keras_roleplay.data.text import PAD_ID
from keras_roleplay.utils.model_defaults import ModelDefaultsMixin
from keras_roleplay.utils.optional_tensorflow import require_tensorflow, tf
from keras_roleplay.utils.pipeline import finish_pipeline
from keras_roleplay.utils.presets import PresetMixin
from keras_roleplay.utils.quantization import dtype_config, requantize, split_dtype
from keras_roleplay.utils.validation import (
    check_positive_int,
    check_rate,
    check_texts,
)


@keras.saving.register_keras_serializable(package="keras_roleplay")
class RoleJudge(PresetMixin, ModelDefaultsMixin, keras.Model):
    """A classifier that names the role who said a text: the role-consistency judge.

    Does generated text fit the role? A judge
    trained on gold replies answers it with a number: the share of
    generated replies it attributes to the role that was asked for. Its
    accuracy on held-out gold replies is the ceiling to read that number
    against, and `1 / num_roles` is chance.

    A small Transformer classifier: KerasHub token and position embedding,
    one `TransformerEncoder` layer, masked mean pooling, softmax over roles.
    It owns its vocabulary (usually the responder's) and role names.

    Args:
        vocabulary: list of tokens, `[PAD]` first (a responder's
            `vocabulary` will do).
        roles: list of role names.
        sequence_length: tokens read per text (longer texts are cut).
        hidden_dim: embedding size.
        num_heads: attention heads.
        dropout: dropout rate.
        name: model name.
        **kwargs: other `keras.Model` arguments.

    Example:

    >>> judge = RoleJudge(["[PAD]", "[UNK]", "ahoy", "hello"], ["pirate", "clerk"],
    ...                   sequence_length=4, hidden_dim=8, num_heads=2)
    >>> judge.compile()
    >>> data = judge.text_dataset(["ahoy", "hello"] * 8, ["pirate", "clerk"] * 8)
    >>> _ = judge.fit(data, epochs=30, verbose=0)
    >>> judge.predict_roles(["ahoy ahoy", "hello"])
    ['pirate', 'clerk']
    """

    def __init__(
        self,
        vocabulary,
        roles,
        sequence_length=48,
        hidden_dim=64,
        num_heads=2,
        dropout=0.1,
        name="role_judge",
        **kwargs,
    ):
        # A quantized model's saved `dtype` names its int8 layers.
        dtype, quantized = split_dtype(kwargs.pop("dtype", None))
        if dtype is not None:
            kwargs["dtype"] = dtype
        if isinstance(vocabulary, (str, bytes)) or not hasattr(vocabulary, "__iter__"):
            raise TypeError(
                f"`vocabulary` must be a list of tokens. Received: {vocabulary!r:.60}"
            )
        vocabulary = [str(t) for t in vocabulary]
        if len(vocabulary) < 3 or vocabulary[0] != "[PAD]" or "[UNK]" not in vocabulary:
            raise ValueError(
                "`vocabulary` must start with [PAD] and hold [UNK] and at least "
                f"one word. Received: {vocabulary[:6]}"
            )
        if isinstance(roles, (str, bytes)) or not hasattr(roles, "__iter__"):
            raise TypeError(f"`roles` must be a list of names. Received: {roles!r:.60}")
        roles = [str(r) for r in roles]
        if len(roles) < 2 or len(set(roles)) != len(roles):
            raise ValueError(
                f"`roles` must hold at least two distinct names. Received: {roles}"
            )
        sequence_length = check_positive_int("sequence_length", sequence_length)
        hidden_dim = check_positive_int("hidden_dim", hidden_dim)
        num_heads = check_positive_int("num_heads", num_heads)
        dropout = check_rate("dropout", dropout)

        tokens = keras.Input(shape=(sequence_length,), dtype="int32", name="tokens")
        # An explicit padding mask (KerasHub's position embedding warns that
        # it drops a Keras mask, though the sum keeps it). The first position
        # always counts: an empty text (all padding) would otherwise pool
        # over nothing, 0 / 0, and its NaN would poison a batch's loss.
        first = keras.ops.arange(sequence_length) == 0
        mask = keras.ops.logical_or(keras.ops.not_equal(tokens, PAD_ID), first)
        x = TokenAndPositionEmbedding(
            len(vocabulary), sequence_length, hidden_dim, name="embedding"
        )(tokens)
        x = TransformerEncoder(
            2 * hidden_dim, num_heads, dropout=dropout, name="encoder"
        )(x, padding_mask=mask)
        x = keras.layers.GlobalAveragePooling1D(name="pooling")(x, mask=mask)
        x = keras.layers.Dropout(dropout, name="dropout")(x)
        outputs = keras.layers.Dense(len(roles), dtype="float32", name="role_logits")(x)
        super().__init__(inputs=tokens, outputs=outputs, name=name, **kwargs)
        requantize(self, quantized)
        self.vocabulary = vocabulary
        self.roles = roles
        self.sequence_length = sequence_length
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.dropout = dropout
        # Only where TensorFlow is (KerasHub's tokenizers need it): without
        # it the judge builds, trains and predicts on token ids.
        tokenizer = None
        if tf is not None:
            tokenizer = WordPieceTokenizer(
                vocabulary=vocabulary,
                lowercase=True,
                oov_token="[UNK]",
                sequence_length=sequence_length,
            )
        object.__setattr__(self, "_tokenizer", tokenizer)

    def tokenize(self, texts):
        """Texts -> `(batch, sequence_length)` token ids, padded or cut."""
        if self._tokenizer is None:
            require_tensorflow("Tokenizing text")
        return self._tokenizer(tf.convert_to_tensor(texts))

    def role_ids(self, roles, count):
        """Role names or ids -> int array of length `count`, checked."""
        values = np.asarray(roles, dtype=object).ravel()
        ids = []
        for value in values:
            if isinstance(value, (str, np.str_)):
                if value not in self.roles:
                    raise ValueError(
                        f"Unknown role {str(value)!r}; the judge knows {self.roles}."
                    )
                ids.append(self.roles.index(value))
            elif 0 <= int(value) < len(self.roles):
                ids.append(int(value))
            else:
                raise ValueError(
                    f"Role ids must be in [0, {len(self.roles)}). Received: {value}"
                )
        if len(ids) != count:
            raise ValueError(
                f"Got {len(ids)} roles for {count} texts: one role per text."
            )
        return np.array(ids, "int32")

    def text_dataset(self, texts, roles, batch_size=64, shuffle=False, seed=None):
        """A `tf.data` pipeline of `(token ids, role id)` for `fit`/`evaluate`."""
        texts = np.asarray(texts, dtype=str).ravel()
        ids = self.role_ids(roles, len(texts))
        dataset = tf.data.Dataset.from_tensor_slices((texts, ids))
        dataset = finish_pipeline(
            dataset,
            batch_size,
            shuffle_buffer=len(texts) if shuffle else None,
            seed=seed,
        )
        return dataset.map(lambda t, r: (self.tokenize(t), r))

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """`"auto"`: Adam(1e-3), sparse categorical cross-entropy, accuracy."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy("accuracy")]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def predict_roles(self, texts, batch_size=256):
        """The role the judge attributes each text to (names)."""
        if isinstance(texts, str):
            texts = [texts]
        if texts is None or not hasattr(texts, "__iter__"):
            raise TypeError(
                f"`texts` must be a list of strings. Received: texts={texts!r:.60}"
            )
        texts = list(texts)
        if not texts:
            return []
        texts = check_texts("texts", texts)
        logits = self.predict(self.tokenize(texts), batch_size=batch_size, verbose=0)
        return [self.roles[i] for i in np.argmax(logits, axis=-1)]

    def get_config(self):
        return {
            "vocabulary": list(self.vocabulary),
            "roles": list(self.roles),
            "sequence_length": self.sequence_length,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            **dtype_config(self, None),
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
