"""Role-play evaluation: role consistency, fluency, content.

- role consistency: a `RoleJudge`, a classifier trained on gold replies to
  name the role that spoke, reads generated replies (`role_accuracy`);
- fluency: per-token perplexity of gold replies (`reply_perplexity`, with
  KerasHub's `Perplexity`), with the true role, a shuffled role, or none;
  the speaker the responder itself finds most likely (`speaker_accuracy`);
  distinct-1/2 (`distinct_n`) for the variety of generated text;
- overlap with references: BLEU (`caption_bleu`) and ROUGE-L (`rouge_l`,
  KerasHub's `RougeL`);
- task completion: content accuracy, for datasets whose ground truth can
  check an answer (`keras_roleplay.datasets.role_vqa.answer_is_correct`).
"""

import re

import keras
import keras_hub
import numpy as np
from keras import ops
from keras_hub.layers import TokenAndPositionEmbedding, TransformerEncoder
from keras_hub.tokenizers import WordPieceTokenizer

from keras_roleplay.data.text import PAD_ID
from keras_roleplay.utils.model_defaults import ModelDefaultsMixin
from keras_roleplay.utils.optional_tensorflow import require_tensorflow, tf
from keras_roleplay.utils.pipeline import finish_pipeline
from keras_roleplay.utils.presets import PresetMixin
from keras_roleplay.utils.validation import check_positive_int, check_rate

_CJK = re.compile(r"([\u3000-\u9fff\uff00-\uffef])")


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
        # it drops a Keras mask, though the sum keeps it).
        mask = keras.ops.not_equal(tokens, PAD_ID)
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
        texts = np.asarray(texts, dtype=str).ravel()
        if not len(texts):
            return []
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
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def role_accuracy(judge, texts, roles):
    """The share of `texts` the judge attributes to the given `roles`.

    Args:
        judge: a trained `RoleJudge`.
        texts: replies (generated or gold).
        roles: the role each reply should sound like (names or ids).

    Returns:
        float in `[0, 1]`.

    Example:

    >>> class Judge:  # any object with `roles` and `predict_roles`
    ...     roles = ["a", "b"]
    ...     def predict_roles(self, texts):
    ...         return ["a" if "x" in t else "b" for t in texts]
    >>> role_accuracy(Judge(), ["x", "y", "x"], ["a", "b", "b"])
    0.6666666666666666
    """
    texts = np.asarray(texts, dtype=str).ravel()
    names = [
        judge.roles[int(r)] if not isinstance(r, (str, np.str_)) else str(r)
        for r in np.asarray(roles, dtype=object).ravel()
    ]
    unknown = sorted(set(names) - set(judge.roles))
    if unknown:
        raise ValueError(
            f"Unknown role {unknown[0]!r}; the judge knows {list(judge.roles)}."
        )
    if len(names) != len(texts):
        raise ValueError(
            f"`texts` and `roles` must have the same length. Received: "
            f"{len(texts)} texts and {len(names)} roles"
        )
    predicted = judge.predict_roles(texts)
    return float(np.mean([p == r for p, r in zip(predicted, names, strict=True)]))


def reply_perplexity(model, dataset):
    """Per-token perplexity of the replies in `dataset` under `model`.

    KerasHub's `Perplexity` over every real token (padding masked), i.e.
    `exp(mean negative log-likelihood per token)`.

    Args:
        model: a `RoleResponder` (or any model mapping the dataset's inputs
            to logits).
        dataset: batches `(inputs, targets, sample_weight)` as made by
            `RoleResponder.dialogue_dataset`. To score with a shuffled role,
            build the dataset with shuffled roles.

    Returns:
        float.

    Example:

    >>> from keras_roleplay.applications import RoleResponder
    >>> model = RoleResponder.from_dialogues(["hi", "hello"], roles=["a", "b"],
    ...     sequence_length=4, hidden_dim=8, num_heads=2, num_layers=1)
    >>> data = model.dialogue_dataset(["hi"], ["hello"], ["a"])
    >>> reply_perplexity(model, data) > 1.0  # untrained: high
    True
    """
    metric = keras_hub.metrics.Perplexity(from_logits=True, mask_token_id=PAD_ID)
    for inputs, targets, _ in dataset:
        logits = model(inputs, training=False)
        metric.update_state(targets, logits)
    return float(metric.result())


def reply_nats_per_character(model, contexts, replies, roles=None, batch_size=64):
    """Held-out nats per character of whole replies, beside their perplexity.

    Perplexity per token depends on the tokenizer: a vocabulary of longer
    pieces gives fewer, harder tokens. Nats per character (the summed
    negative log-likelihood of a reply's tokens and its `[END]`, over its
    characters plus one for its end) can be set against models with another
    vocabulary, and against character-level models (whose end of line is a
    character too). Only the replies that fit whole in the model's
    `reply_length` are scored: a cut reply's loss covers only part of its
    text.

    Args:
        model: a `RoleResponder`.
        contexts: `n` strings.
        replies: `n` strings.
        roles: role names or ids (or `None`: no role).
        batch_size: replies scored at once.

    Returns:
        A dict: `"nats_per_character"`, `"perplexity"` (per token, over
        the same replies) and `"whole"` (the share of replies scored).

    Example:

    >>> from keras_roleplay.applications import RoleResponder
    >>> model = RoleResponder.from_dialogues(["hi", "hello"], roles=["a"],
    ...     sequence_length=4, reply_length=8, hidden_dim=8, num_heads=2,
    ...     num_layers=1)
    >>> scores = reply_nats_per_character(model, ["hi"], ["hello"], ["a"])
    >>> scores["whole"], scores["nats_per_character"] > 0
    (1.0, True)
    """
    replies = [str(r) for r in replies]
    lengths = np.array([len(ids) for ids in _token_lists(model.tokenizer(replies))])
    whole = np.flatnonzero(lengths + 1 <= model.reply_length)
    if not len(whole):
        raise ValueError(
            f"No reply fits whole in reply_length={model.reply_length} tokens."
        )
    pick = lambda values: [values[i] for i in whole]  # noqa: E731
    roles = None if roles is None else pick(list(np.asarray(roles).tolist()))
    dataset = model.dialogue_dataset(
        pick(list(contexts)), pick(replies), roles, batch_size=batch_size
    )
    total, tokens = 0.0, 0
    for inputs, targets, _ in dataset:
        logits = ops.cast(model(inputs, training=False), "float32")
        losses = keras.losses.sparse_categorical_crossentropy(
            targets, logits, from_logits=True
        )
        weights = ops.cast(ops.not_equal(targets, PAD_ID), "float32")
        total += float(ops.sum(losses * weights))
        tokens += int(ops.sum(weights))
    characters = sum(len(replies[i]) + 1 for i in whole)
    return {
        "nats_per_character": total / characters,
        "perplexity": float(np.exp(total / tokens)),
        "whole": len(whole) / len(replies),
    }


def _token_lists(ids):
    return ids.to_list() if hasattr(ids, "to_list") else [list(r) for r in ids]


def speaker_accuracy(model, contexts, replies, roles, images=None, batch_size=64):
    """How often the responder itself names who said a reply.

    For each reply, its log-likelihood under every role of `model`; the
    role that makes the real reply most likely is the model's guess of the
    speaker. Unlike `role_accuracy`, no judge is trained: it reads how much
    of the role the responder has learnt (chance is `1 / len(model.roles)`).
    It runs `len(model.roles)` forward passes per batch. Hand-written: KerasHub's
    `Perplexity` averages over a corpus and keeps no per-example scores.

    Args:
        model: a `RoleResponder`.
        contexts: `n` strings.
        replies: `n` strings, each said by its role.
        roles: `n` role names or ids: who really said them.
        images: `(n, height, width, 3)` for an image model.
        batch_size: examples per forward pass.

    Returns:
        float in `[0, 1]`: the share of replies whose true role is the most
        likely one.

    Example:

    >>> from keras_roleplay.applications import RoleResponder
    >>> model = RoleResponder.from_dialogues(["hi", "hello"], roles=["a", "b"],
    ...     sequence_length=4, hidden_dim=8, num_heads=2, num_layers=1)
    >>> 0.0 <= speaker_accuracy(model, ["hi", "hi"], ["hello", "hi"], ["a", "b"])
    True
    """
    truth = np.asarray(model.role_ids(roles, count=len(replies)))
    # Tokenized once; each batch is read under every role in turn.
    data = model.dialogue_dataset(
        contexts, replies, truth, images=images, batch_size=batch_size
    )
    losses = []
    for inputs, targets, weights in data:
        per_role = []
        for role in range(len(model.roles)):
            role_ids = keras.ops.full_like(inputs["role"], role)
            logits = model({**inputs, "role": role_ids}, training=False)
            nll = keras.losses.sparse_categorical_crossentropy(
                targets, logits, from_logits=True
            )
            # Summed over the reply's real tokens (padding weighs 0).
            per_role.append(keras.ops.sum(nll * weights, axis=-1))
        losses.append(keras.ops.convert_to_numpy(keras.ops.stack(per_role, axis=1)))
    guesses = np.argmin(np.concatenate(losses), axis=1)
    return float(np.mean(guesses == truth))


def distinct_n(texts, n=1, language="en"):
    """Distinct-n: unique n-grams over all n-grams of the texts (variety).

    Args:
        texts: generated texts.
        n: n-gram order.
        language: `"en"` (words) or `"zh"` (characters).

    Returns:
        float in `[0, 1]` (0 for texts with no n-gram).

    Example:

    >>> distinct_n(["a b a b"], n=1), distinct_n(["a b a b"], n=2)
    (0.5, 0.6666666666666666)
    """
    n = check_positive_int("n", n)
    grams = []
    for text in texts:
        words = _words(text, language).split()
        grams += [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def rouge_l(references, hypotheses, language="en"):
    """ROUGE-L F1 of hypotheses against references (KerasHub's `RougeL`).

    Args:
        references: one reference text per hypothesis.
        hypotheses: generated texts.
        language: `"en"` (words) or `"zh"` (characters).

    Returns:
        float in `[0, 1]`.

    Example:

    >>> round(rouge_l(["the circle is red"], ["the circle is red"]), 3)
    1.0
    """
    if len(references) != len(hypotheses) or not len(hypotheses):
        raise ValueError(
            "`references` and `hypotheses` must be non-empty and of the same "
            f"length. Received: {len(references)} and {len(hypotheses)}"
        )
    metric = keras_hub.metrics.RougeL(use_stemmer=False)
    metric.update_state(
        tf.constant([_latin(_words(r, language)) for r in references]),
        tf.constant([_latin(_words(h, language)) for h in hypotheses]),
    )
    return float(metric.result()["f1_score"])


def _words(text, language):
    text = str(text)
    return " ".join(_CJK.sub(r" \1 ", text).split()) if language == "zh" else text


def _latin(text):
    """rouge-score's tokenizer drops non-Latin characters: spell them as ids."""
    return " ".join(
        word if word.isascii() else f"u{'_'.join(str(ord(c)) for c in word)}"
        for word in text.split()
    )
