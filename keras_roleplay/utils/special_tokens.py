"""The special tokens that open every vocabulary a generating model owns.

Kept apart from the tokenizers (which need TensorFlow) so that decoding,
which needs only the ids, runs on any Keras backend.
"""

# The first four tokens of every vocabulary a generating model owns.
GENERATION_TOKENS = ("[PAD]", "[UNK]", "[START]", "[END]")
PAD_ID, UNK_ID, START_ID, END_ID = range(4)
