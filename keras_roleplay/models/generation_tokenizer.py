"""`GenerationTokenizer`: the WordPiece tokenizer of both generating models."""

import keras
import numpy as np
from keras_hub.tokenizers import WordPieceTokenizer

from keras_roleplay.data.text import (
    UNK_TOKEN,
    check_generation_vocabulary,
    join_cjk,
)
from keras_roleplay.utils.special_tokens import END_ID, PAD_ID, START_ID


@keras.saving.register_keras_serializable(package="keras_roleplay")
class GenerationTokenizer(WordPieceTokenizer):
    """KerasHub's `WordPieceTokenizer` with the generating models' settings.

    Lower-cased, `[UNK]` for unknown words, Chinese split into characters
    (KerasHub's default `split_on_cjk`), and a vocabulary that starts with
    `[PAD]`, `[UNK]`, `[START]`, `[END]` (ids 0-3), which every generating
    model's decoding relies on. `detokenize_generated` reads generated ids
    back as text. A subclass, as KerasHub's model tokenizers
    (`GPT2Tokenizer`, `BertTokenizer`) are, so a model's tokenizer is one
    object with one name; it needs TensorFlow, as KerasHub's tokenizers do.

    Args:
        vocabulary: tokens starting with the four special tokens.
        **kwargs: other `WordPieceTokenizer` arguments.

    Example:

    >>> tokenizer = GenerationTokenizer(
    ...     ["[PAD]", "[UNK]", "[START]", "[END]", "hi", "you"])
    >>> [int(i) for i in tokenizer("Hi you")]
    [4, 5]
    >>> tokenizer.detokenize_generated([[2, 4, 5, 3, 4]])
    ['hi you']
    """

    how_to_build = (
        "build it with `build_dialogue_vocabulary` or `build_caption_vocabulary`"
    )

    def __init__(self, vocabulary=None, **kwargs):
        if vocabulary is not None:
            vocabulary = check_generation_vocabulary(vocabulary, self.how_to_build)
        kwargs.setdefault("lowercase", True)
        kwargs.setdefault("oov_token", UNK_TOKEN)
        super().__init__(vocabulary=vocabulary, **kwargs)

    def detokenize_generated(self, token_ids):
        """Generated ids -> strings: stops at `[END]`, drops `[PAD]`/`[START]`.

        Args:
            token_ids: an int array `(batch, length)`.

        Returns:
            A list of strings, Chinese characters joined.
        """
        texts = []
        for row in np.asarray(token_ids):
            ids = [int(i) for i in row if int(i) not in (PAD_ID, START_ID)]
            if END_ID in ids:
                ids = ids[: ids.index(END_ID)]
            text = self.detokenize([ids])[0] if ids else ""
            text = text.decode() if isinstance(text, bytes) else str(text)
            texts.append(join_cjk(text))
        return texts
