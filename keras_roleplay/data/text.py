"""Tokenizer building with KerasHub (English and Chinese)."""

import numpy as np
import tensorflow as tf
from keras_hub.tokenizers import WordPieceTokenizer, compute_word_piece_vocabulary

from keras_roleplay.utils.validation import check_positive_int

PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"


def learn_word_piece_vocabulary(texts, vocabulary_size, reserved_tokens):
    """Learns a lower-cased WordPiece vocabulary (KerasHub), reserved tokens first.

    Chinese (CJK) characters become single-character tokens.

    Args:
        texts: a list or array of strings, or a `tf.data.Dataset` of strings.
        vocabulary_size: maximum vocabulary size, reserved tokens included.
        reserved_tokens: tokens placed first, in order.

    Returns:
        A list of tokens.

    Example:

    >>> learn_word_piece_vocabulary(["a b"], 10, ("[PAD]",))[:3]
    ['[PAD]', 'a', 'b']
    """
    if isinstance(texts, str):
        raise TypeError(
            "`texts` must be a collection of strings, not a single string. "
            f"Received: texts={texts[:40]!r}"
        )
    if not isinstance(texts, tf.data.Dataset):
        texts = np.asarray(texts, dtype=object).astype(str)
        if texts.ndim != 1 or texts.size == 0:
            raise ValueError(
                "`texts` must be a non-empty 1-D collection of strings. "
                f"Received: texts with shape {texts.shape}"
            )
        # A plain list would be read as file names by the vocabulary learner.
        texts = tf.data.Dataset.from_tensor_slices(texts.tolist()).batch(1024)
    return compute_word_piece_vocabulary(
        texts,
        vocabulary_size=vocabulary_size,
        lowercase=True,
        reserved_tokens=list(reserved_tokens),
    )


def build_word_piece_tokenizer(texts, vocabulary_size=1000, sequence_length=None):
    """Learns a WordPiece vocabulary from `texts` and returns the tokenizer.

    A thin wrapper over KerasHub's `compute_word_piece_vocabulary` and
    `WordPieceTokenizer`: lower-cased, accents kept, Chinese (CJK) characters
    split into single-character tokens so Chinese needs no word segmenter.
    Token id 0 is `[PAD]` (the models mask it) and 1 is `[UNK]`.

    Args:
        texts: a list or array of strings, or a `tf.data.Dataset` of strings.
        vocabulary_size: maximum vocabulary size, reserved tokens included.
        sequence_length: if set, the tokenizer pads or truncates every text to
            this many ids and returns a dense tensor.

    Returns:
        A `keras_hub.tokenizers.WordPieceTokenizer`.

    Example:

    >>> tokenizer = build_word_piece_tokenizer(
    ...     ["a red circle", "一个红色的圆形"], vocabulary_size=100,
    ...     sequence_length=8)
    >>> tokenizer.detokenize(tokenizer(["红色的圆形"]))[0]  # a token per character
    '红 色 的 圆 形 [PAD] [PAD] [PAD]'
    """
    vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
    if sequence_length is not None:
        sequence_length = check_positive_int("sequence_length", sequence_length)
    vocabulary = learn_word_piece_vocabulary(
        texts, vocabulary_size, reserved_tokens=(PAD_TOKEN, UNK_TOKEN)
    )
    return WordPieceTokenizer(
        vocabulary=vocabulary,
        sequence_length=sequence_length,
        lowercase=True,
        oov_token=UNK_TOKEN,
    )
