"""`RoleResponderTokenizer` and the vocabulary it is built from."""

import keras
import numpy as np

from keras_roleplay.data.text import GENERATION_TOKENS, learn_word_piece_vocabulary
from keras_roleplay.models.generation_tokenizer import GenerationTokenizer
from keras_roleplay.utils.validation import check_positive_int


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
class RoleResponderTokenizer(GenerationTokenizer):
    """The `RoleResponder`'s tokenizer: WordPiece over contexts and replies.

    Args:
        vocabulary: tokens starting with `[PAD]`, `[UNK]`, `[START]`,
            `[END]` (see `build_dialogue_vocabulary`).
        **kwargs: other `keras_hub.tokenizers.WordPieceTokenizer` arguments.

    Example:

    >>> tokenizer = RoleResponderTokenizer(
    ...     build_dialogue_vocabulary(["good day , my lord"]))
    >>> tokenizer.detokenize(tokenizer(["Good day"]))
    ['good day']
    """

    how_to_build = (
        "build it with `build_dialogue_vocabulary` or use "
        "`RoleResponder.from_dialogues`"
    )
