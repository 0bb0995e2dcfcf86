"""`VGG16LSTMCaptionerTokenizer` and the vocabulary it is built from."""

import keras

from keras_roleplay.data.captions import caption_lists
from keras_roleplay.data.text import GENERATION_TOKENS, learn_word_piece_vocabulary
from keras_roleplay.models.generation_tokenizer import GenerationTokenizer
from keras_roleplay.utils.validation import check_positive_int


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
    return learn_word_piece_vocabulary(texts, vocabulary_size, GENERATION_TOKENS)


@keras.saving.register_keras_serializable(package="keras_roleplay")
class VGG16LSTMCaptionerTokenizer(GenerationTokenizer):
    """The `VGG16LSTMCaptioner`'s tokenizer: WordPiece over captions.

    Args:
        vocabulary: tokens starting with `[PAD]`, `[UNK]`, `[START]`,
            `[END]` (see `build_caption_vocabulary`).
        **kwargs: other `keras_hub.tokenizers.WordPieceTokenizer` arguments.

    Example:

    >>> tokenizer = VGG16LSTMCaptionerTokenizer(
    ...     build_caption_vocabulary(["一个红色的圆形"]))
    >>> tokenizer.detokenize_generated([tokenizer("红色")])
    ['红色']
    """

    how_to_build = (
        "build it with `build_caption_vocabulary` or use "
        "`VGG16LSTMCaptioner.from_captions`"
    )
