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

from keras_roleplay.data.text import PAD_ID, token_id_lists

# RoleJudge lives in its own module; it is named here too (saved configs
# name this module).
from keras_roleplay.metrics.role_judge import RoleJudge  # noqa: E402, F401
from keras_roleplay.utils.optional_tensorflow import tf
from keras_roleplay.utils.validation import check_positive_int

_CJK = re.compile(r"([\u3000-\u9fff\uff00-\uffef])")


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
    lengths = np.array([len(ids) for ids in token_id_lists(model.tokenizer(replies))])
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
