"""`GenerationPreprocessor`: what both generating models' preprocessors share."""

from keras_hub.layers import StartEndPacker

from keras_roleplay.data.text import check_generation_vocabulary
from keras_roleplay.models.generation_tokenizer import GenerationTokenizer
from keras_roleplay.utils.optional_tensorflow import require_tensorflow, tf
from keras_roleplay.utils.special_tokens import END_ID, PAD_ID, START_ID


def fixed_at_construction(name):
    """A setting set once, in `__init__`: setting it again raises.

    The packers are built with the lengths, and the backbone's positions
    match them: a length changed afterwards would be saved in the config
    while the preprocessor went on packing to the old one.
    """
    private = f"_{name}"

    def get(self):
        return getattr(self, private)

    def set_once(self, value):
        if hasattr(self, private):
            raise AttributeError(
                f"`{name}` is fixed when the preprocessor is built (its packer "
                f"and the backbone's positions use it): it is "
                f"{getattr(self, private)!r}. Build a new model with "
                f"{name}={value!r} instead."
            )
        setattr(self, private, value)

    return property(get, set_once, doc=f"The `{name}` set at construction.")


class GenerationPreprocessor:
    """A vocabulary, its tokenizer, and a `[START] ... [END]` packer.

    The base of `RoleResponderPreprocessor` and
    `VGG16LSTMCaptionerPreprocessor`, which turn strings and images into
    their backbone's inputs inside `tf.data`. As in KerasHub, the
    preprocessor owns the tokenizer and the task owns the preprocessor; it
    is a plain (serializable) object rather than a Keras layer because it
    runs only in `tf.data` and around `generate`, never inside the model.

    The tokenizer and packer are made here, eagerly: made lazily inside a
    first `dataset.map`, their lookup tables would belong to that graph and
    break the next pipeline. Without TensorFlow there is no tokenizer (the
    model then works on token ids) and `tokenizer` says how to get one.

    Args:
        vocabulary: tokens starting with `[PAD]`, `[UNK]`, `[START]`,
            `[END]`.
        packed_length: length of a packed sequence, `[START]` and `[END]`
            included.
    """

    tokenizer_cls = GenerationTokenizer

    def __init__(self, vocabulary, packed_length):
        self.vocabulary = check_generation_vocabulary(
            vocabulary, self.tokenizer_cls.how_to_build
        )
        self._tokenizer = self._packer = None
        if tf is not None:
            self._tokenizer = self.tokenizer_cls(vocabulary=self.vocabulary)
            self._packer = StartEndPacker(
                sequence_length=packed_length,
                start_value=START_ID,
                end_value=END_ID,
                pad_value=PAD_ID,
            )

    @property
    def tokenizer(self):
        """The model's `GenerationTokenizer` (a KerasHub `WordPieceTokenizer`)."""
        if self._tokenizer is None:
            require_tensorflow("Tokenizing text")
        return self._tokenizer

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def pack(self, texts):
        """Strings -> `[START] tokens [END]` ids, padded or cut (`[END]` kept)."""
        return self._packer(self.tokenizer(tf.convert_to_tensor(texts)))

    def detokenize(self, token_ids):
        """Token ids -> strings, stopping at `[END]`, without special tokens."""
        return self.tokenizer.detokenize_generated(token_ids)
