"""A dialogue file streamed into `fit`: read, tokenized and batched as needed.

`RoleResponder.dialogue_dataset` tokenizes every exchange once and keeps
them all (fast epochs, memory that grows with the file). For a file too
large for that, `dialogue_file_dataset` reads the file anew each epoch, an
exchange at a time, so what it holds is bounded whatever the file's size.
"""

from keras_roleplay.data.dialogues import iter_exchanges
from keras_roleplay.data.file_checks import warn_skipped
from keras_roleplay.data.records import check_record_file
from keras_roleplay.utils.optional_tensorflow import tf
from keras_roleplay.utils.pipeline import PARALLEL_CALLS
from keras_roleplay.utils.validation import check_positive_int


def dialogue_file_dataset(path, model, batch_size=32, shuffle_buffer=0, seed=None):
    """A `tf.data.Dataset` of a text-only responder's batches from a dialogue file.

    The file (either layout of `data.dialogues`) is read line by line each
    epoch; each batch is tokenized by the model's preprocessor when the
    pipeline reaches it. A line that cannot be read, and an exchange whose
    role the model does not have, are skipped, and one warning names them
    at the end of each pass.

    Memory, whatever the number of lines: `shuffle_buffer` exchanges as
    text (about their length in bytes, plus ~200 bytes of Python object
    each), and three batches of token ids (`batch_size x (sequence_length
    + 2 x reply_length) x 4` bytes each). A JSONL file is read a line at a
    time; a CSV file is parsed whole each pass (its quoted cells may span
    lines), so its text is held too. Measured by
    `benchmarks/dialogue_stream_memory.py` (one epoch, batches of 64,
    shuffle buffer 1 024, a small model; 2 CPU cores): the peak resident
    memory grew 11.8 MB over the process's for a 20 000-line JSONL and
    14.3 MB for 200 000 lines; loading the file and `dialogue_dataset`
    grew it 47 MB and 382 MB. The stream's epoch took 1.2-1.4x as long
    (63.7 s against 51.2 s at 200 000 lines): each epoch reads and
    tokenizes the file again.

    Args:
        path: a `.jsonl` (streamed) or `.csv` dialogue file.
        model: a text-only `RoleResponder` (or its preprocessor): its roles
            and tokenizer.
        batch_size: exchanges per batch.
        shuffle_buffer: exchanges held for shuffling (0: file order).
        seed: the shuffle's seed.

    Returns:
        A dataset of `(inputs, targets, sample_weight)` batches for `fit`.

    Example:

    >>> import os, tempfile
    >>> from keras_roleplay.applications import RoleResponder
    >>> path = os.path.join(tempfile.mkdtemp(), "rows.jsonl")
    >>> with open(path, "w") as f:
    ...     for _ in range(5):
    ...         _ = f.write('{"role": "guard", "context": "May I pass?", '
    ...                     '"reply": "Not tonight."}\\n')
    >>> model = RoleResponder.from_dialogues(["May I pass?", "Not tonight."],
    ...     roles=["guard"], sequence_length=8, hidden_dim=8, num_heads=2,
    ...     num_layers=1)
    >>> inputs, targets, weights = next(iter(dialogue_file_dataset(path, model, 4)))
    >>> inputs["context"].shape, inputs["role"].numpy().tolist()
    (TensorShape([4, 8]), [0, 0, 0, 0])
    """
    preprocessor = getattr(model, "preprocessor", model)
    if not hasattr(preprocessor, "tokenize_reply"):
        raise TypeError(
            "`model` must be a RoleResponder or its preprocessor. Received: "
            f"{type(model).__name__}"
        )
    if preprocessor.image_shape is not None:
        raise ValueError(
            "`dialogue_file_dataset` streams text-only dialogue; this model reads "
            "images. Load the file with `load_dialogues(path, image_shape=...)` "
            "and use `model.dialogue_dataset`."
        )
    batch_size = check_positive_int("batch_size", batch_size)
    shuffle_buffer = check_positive_int("shuffle_buffer", shuffle_buffer, True)
    roles = {name: index for index, name in enumerate(preprocessor.roles)}
    path = check_record_file("path", path)  # now, not at the first batch

    def exchanges():
        skipped, counts = [], {}
        for exchange in iter_exchanges(path, skipped, counts):
            role = roles.get(exchange["role"])
            if role is None:
                skipped.append(
                    (exchange["line"], f"a role the model lacks: {exchange['role']}")
                )
                continue
            yield {
                "context": exchange["context"],
                "reply": exchange["reply"],
                "role": role,
            }
        warn_skipped(skipped, counts["lines"], "lines", path)

    dataset = tf.data.Dataset.from_generator(
        exchanges,
        output_signature={
            "context": tf.TensorSpec((), tf.string),
            "reply": tf.TensorSpec((), tf.string),
            "role": tf.TensorSpec((), tf.int32),
        },
    )
    if shuffle_buffer > 1:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed)
    return (
        dataset.batch(batch_size)
        .map(preprocessor, num_parallel_calls=PARALLEL_CALLS)
        .prefetch(2)
    )
