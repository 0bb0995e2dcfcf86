"""Tokenizer building with KerasHub (English and Chinese)."""

import re

import numpy as np
from keras_hub.tokenizers import WordPieceTokenizer, compute_word_piece_vocabulary

from keras_roleplay.utils.optional_tensorflow import require_tensorflow, tf
from keras_roleplay.utils.special_tokens import (  # noqa: F401 (re-exported)
    END_ID,
    GENERATION_TOKENS,
    PAD_ID,
    START_ID,
    UNK_ID,
)
from keras_roleplay.utils.validation import check_positive_int

PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"
# Masked-LM pretraining's stand-in for a hidden token (BERT's name).
MASK_TOKEN = "[MASK]"
# A CJK character next to another (or next to punctuation, which the
# tokenizer's normalisation may have made ASCII): the tokenizer splits
# Chinese into characters, and generated Chinese text should not keep the
# spaces.
_CJK = "\u3000-\u9fff\uff00-\uffef"
_CJK_SPACE = re.compile(
    rf"(?<=[{_CJK}]) (?=[{_CJK},.!?:;])|(?<=[{_CJK},.!?:;]) (?=[{_CJK}])"
)


def token_id_lists(ids):
    """A tokenizer's output for a list of texts as plain lists of ids.

    KerasHub tokenizers give a ragged tensor (or, for a list input, lists);
    counting tokens and splitting them into words wants Python lists.

    Example:

    >>> token_id_lists([[5, 6], [7]])
    [[5, 6], [7]]
    """
    if hasattr(ids, "to_list"):
        return ids.to_list()
    return [[int(i) for i in np.asarray(row)] for row in ids]


def join_cjk(text):
    """Removes the spaces a detokenizer puts between Chinese characters.

    Example:

    >>> join_cjk("红 色 的 circle")
    '红色的 circle'
    >>> join_cjk("中 间 , 一 个 . hello , you")
    '中间,一个. hello , you'
    """
    return _CJK_SPACE.sub("", text)


def check_generation_vocabulary(vocabulary, how_to_build):
    """Checks a generating model's vocabulary: a list starting with `GENERATION_TOKENS`.

    Args:
        vocabulary: the received vocabulary.
        how_to_build: what the error message suggests, e.g.
            "build it with `build_dialogue_vocabulary`".

    Returns:
        The vocabulary as a list of str.
    """
    if isinstance(vocabulary, (str, bytes)) or not hasattr(vocabulary, "__iter__"):
        raise TypeError(
            "`vocabulary` must be a list of tokens. Received: "
            f"vocabulary={vocabulary!r:.60}"
        )
    vocabulary = [str(t) for t in vocabulary]
    if tuple(vocabulary[:4]) != GENERATION_TOKENS or len(vocabulary) < 5:
        raise ValueError(
            f"`vocabulary` must start with the special tokens "
            f"{list(GENERATION_TOKENS)} and hold at least one word; "
            f"{how_to_build}. Received: {vocabulary[:6]}"
        )
    return vocabulary


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
    require_tensorflow("Learning a WordPiece vocabulary")
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
