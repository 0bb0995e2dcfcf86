"""tf.data pipelines of (image, text, audio) examples for multimodal classifiers."""

import os

import numpy as np

from keras_roleplay.data.audio import decode_wav, read_wav_file
from keras_roleplay.data.csv_rows import read_csv_rows
from keras_roleplay.data.file_checks import (
    data_file_path,
    is_clean_text,
    read_text_file,
    warn_skipped,
)
from keras_roleplay.data.images import decode_image, read_image_file
from keras_roleplay.utils.optional_tensorflow import tf
from keras_roleplay.utils.pipeline import PARALLEL_CALLS, finish_pipeline
from keras_roleplay.utils.validation import check_positive_int, check_shape

CHUNK = 256
MANIFEST_COLUMNS = {"image": "image_path", "text": "text", "audio": "audio_path"}


def multimodal_dataset_from_arrays(
    labels,
    image=None,
    text=None,
    audio=None,
    tokenizer=None,
    audio_features=None,
    batch_size=32,
    shuffle=False,
    seed=None,
    cache=True,
):
    """Builds a batched `tf.data.Dataset` of `({"image", "text", "audio"}, label)`.

    Each modality is optional (give at least one). Text is either ready
    numbers (token ids or feature vectors) or strings, tokenized in the
    pipeline by `tokenizer`; audio is either ready features or raw waveforms,
    turned into log-mel spectrograms in the pipeline by `audio_features`.
    Preprocessing runs on chunks of examples and, by default, its results are
    cached in memory after the first epoch.

    Args:
        labels: array `(n,)` of integer (or 0/1) labels.
        image: array `(n, height, width, channels)`, values in `[0, 255]`.
        text: array `(n, length)` of numbers, or `(n,)` of strings.
        audio: array `(n, ...)` of features, or `(n, samples)` waveforms.
        tokenizer: a KerasHub tokenizer with a fixed `sequence_length`, used
            when `text` holds strings.
        audio_features: a callable such as `LogMelSpectrogram`, applied to
            a batch of waveforms `(n, samples)`.
        batch_size: examples per batch.
        shuffle: reshuffle the examples every epoch.
        seed: shuffle seed (makes the order reproducible).
        cache: keep the preprocessed examples in memory after the first pass
            (set `False` for data larger than memory).

    Returns:
        A `tf.data.Dataset` yielding `(features_dict, labels)` batches.

    Example:

    >>> import numpy as np
    >>> ds = multimodal_dataset_from_arrays(
    ...     labels=np.array([0, 1]), image=np.zeros((2, 8, 8, 3)),
    ...     audio=np.zeros((2, 16)), batch_size=2)
    >>> features, labels = next(iter(ds))
    >>> sorted(features), tuple(features["image"].shape)
    (['audio', 'image'], (2, 8, 8, 3))
    """
    batch_size = check_positive_int("batch_size", batch_size)
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(
            f"`labels` must be a 1-D array. Received: labels with shape {labels.shape}"
        )
    arrays = {}
    for modality, value in (("image", image), ("text", text), ("audio", audio)):
        if value is None:
            continue
        value = np.asarray(value)
        if len(value) != len(labels):
            raise ValueError(
                f"`{modality}` must have one entry per label ({len(labels)}). "
                f"Received: {modality} with {len(value)} entries"
            )
        if value.dtype.kind in "OUS":
            if modality != "text":
                raise TypeError(
                    f"`{modality}` must be numeric. Received: dtype {value.dtype}"
                )
            value = value.astype(str)
        elif modality == "image" and value.ndim != 4:
            raise ValueError(
                "`image` must have shape (n, height, width, channels). "
                f"Received: image with shape {value.shape}"
            )
        arrays[modality] = value
    if not arrays:
        raise ValueError(
            "Give at least one of `image`, `text`, `audio`. Received none."
        )
    if "text" in arrays and arrays["text"].dtype.kind == "U" and tokenizer is None:
        raise ValueError(
            "`text` holds strings, so a `tokenizer` is needed to turn them into "
            "token ids (see `keras_roleplay.data.build_word_piece_tokenizer`). "
            "Received: tokenizer=None"
        )
    dataset = tf.data.Dataset.from_tensor_slices((arrays, labels))
    dataset = _transform_in_chunks(
        dataset, tokenizer, audio_features, cache, len(labels)
    )
    return finish_pipeline(
        dataset, batch_size, shuffle_buffer=len(labels) if shuffle else None, seed=seed
    )


def _transform_in_chunks(dataset, tokenizer, audio_features, cache, num_examples):
    """Tokenizes text and computes audio features, CHUNK examples at a time.

    Vectorised over chunks, then split back into examples (so shuffling still
    mixes examples): run one example at a time, tokenization and the STFT
    cost more in tf.data overhead than in work (see benchmarks/three_branch.py).
    """

    def transform(features, labels):
        features = dict(features)
        if "image" in features:
            features["image"] = tf.cast(features["image"], tf.float32)
        if "text" in features and features["text"].dtype == tf.string:
            features["text"] = tokenizer(features["text"])
        if "audio" in features:
            audio = tf.cast(features["audio"], tf.float32)
            if audio_features is not None:
                audio = audio_features(audio)
            features["audio"] = audio
        return features, labels

    dataset = dataset.batch(CHUNK).map(transform, num_parallel_calls=PARALLEL_CALLS)
    # `unbatch` forgets the length; Keras needs it to size epochs without an
    # "input ran out of data" warning at the end of the first one.
    dataset = dataset.unbatch().apply(
        tf.data.experimental.assert_cardinality(num_examples)
    )
    return dataset.cache() if cache else dataset


def multimodal_dataset_from_manifest(
    manifest_path,
    image_shape=(64, 64, 3),
    tokenizer=None,
    audio_features=None,
    modalities=("image", "text", "audio"),
    class_names=None,
    batch_size=32,
    shuffle=False,
    seed=None,
    cache=True,
    allow_outside_paths=False,
):
    """Builds a batched dataset from a CSV manifest of real files.

    The CSV has the columns `image_path,text,audio_path,label` (only those of
    the requested `modalities`, plus `label`). Paths are relative to the CSV's
    folder. Images (PNG/JPEG/GIF/BMP; grayscale and RGBA converted) are
    decoded and resized; text is tokenized by `tokenizer`; WAV files are
    decoded with `tf.audio.decode_wav` and turned into features by
    `audio_features` (a `LogMelSpectrogram`, whose sample rate they are
    resampled to). Labels are integers or class names.

    Every file is checked once before the pipeline is built: a missing,
    corrupt or oversized file (images: `read_image_file`; audio: 16-bit PCM
    WAV is read, other WAV formats are named and refused), a path that
    leads outside the manifest's folder (unless `allow_outside_paths`) or
    a row whose text is not UTF-8 drops its row, the rest is kept, and a
    warning names each bad file. The manifest may have a byte-order mark,
    Windows line endings and extra columns. The returned dataset carries
    `class_names` (list of str) and `skipped_files` (list of
    `(path, reason)`).

    Args:
        manifest_path: path to the CSV file.
        image_shape: `(height, width, channels)` to decode images to.
        tokenizer: a KerasHub tokenizer with a fixed `sequence_length`.
        audio_features: a `LogMelSpectrogram` (or a callable on a batch of
            waveforms with `sample_rate` and `num_samples` attributes) turning
            waveforms into features.
        modalities: which modalities to read.
        class_names: label names in class-index order; by default the sorted
            distinct names (or integer labels as they are).
        batch_size: examples per batch.
        shuffle: reshuffle every epoch.
        seed: shuffle seed.
        cache: keep the decoded examples in memory after the first pass (set
            `False` for folders larger than memory).
        allow_outside_paths: read files whose paths lead outside the
            manifest's folder (`../`, absolute paths); refused by default.

    Returns:
        A `tf.data.Dataset` of `(features_dict, labels)` batches.

    Example:

    >>> import os, tempfile, numpy as np, tensorflow as tf
    >>> folder = tempfile.mkdtemp()
    >>> tf.io.write_file(os.path.join(folder, "a.png"),
    ...                  tf.io.encode_png(np.zeros((4, 4, 3), "uint8")))
    >>> with open(os.path.join(folder, "data.csv"), "w") as f:
    ...     _ = f.write("image_path,label\\na.png,cat\\nmissing.png,dog\\n")
    >>> ds = multimodal_dataset_from_manifest(
    ...     os.path.join(folder, "data.csv"), image_shape=(8, 8, 3),
    ...     modalities=("image",))  # warns: Skipped 1 of 2 rows ... missing.png
    >>> ds.skipped_files
    [('missing.png', 'file not found')]
    """
    image_shape = check_shape(
        "image_shape", image_shape, (3,), "height, width, channels"
    )
    batch_size = check_positive_int("batch_size", batch_size)
    rows, unreadable_rows = _read_manifest(manifest_path, modalities)
    root = os.path.dirname(os.path.abspath(manifest_path))
    if "text" in modalities and tokenizer is None:
        raise ValueError(
            "Reading the `text` column needs a `tokenizer`. Received: tokenizer=None"
        )
    if "audio" in modalities and audio_features is None:
        raise ValueError(
            "Reading `audio_path` needs `audio_features` (e.g. "
            "`LogMelSpectrogram(sample_rate=16000)`). Received: audio_features=None"
        )
    sample_rate = getattr(audio_features, "sample_rate", None)
    if "audio" in modalities and sample_rate is None:
        raise ValueError(
            "`audio_features` must have a `sample_rate` attribute (the rate WAV "
            f"files are resampled to). Received: audio_features={audio_features!r}"
        )

    good_rows, skipped = [], list(unreadable_rows)
    for row in rows:
        problems = _check_row_files(
            row, root, modalities, image_shape, sample_rate, allow_outside_paths
        )
        if problems:
            skipped.extend(problems)
        else:
            good_rows.append(row)
    # A row is skipped whole; each of its bad files is named.
    total = len(rows) + len(unreadable_rows)
    warn_skipped(skipped, total, "rows", manifest_path, count=total - len(good_rows))
    if not good_rows:
        raise ValueError(f"No readable rows left in {manifest_path}.")

    labels, class_names = _encode_labels([r["label"] for r in good_rows], class_names)
    columns = {}
    for modality in modalities:
        column = MANIFEST_COLUMNS[modality]
        values = [r[column] for r in good_rows]
        if modality != "text":
            values = [data_file_path(root, v, allow_outside_paths)[0] for v in values]
        columns[modality] = values
    num_samples = getattr(audio_features, "num_samples", None)

    def read_files(features, label):
        features = dict(features)
        if "image" in features:
            features["image"] = decode_image(
                tf.io.read_file(features["image"]), image_shape
            )
        if "audio" in features:
            features["audio"] = decode_wav(
                tf.io.read_file(features["audio"]), sample_rate, num_samples
            )
        return features, label

    dataset = tf.data.Dataset.from_tensor_slices((columns, labels))
    dataset = dataset.map(read_files, num_parallel_calls=PARALLEL_CALLS)
    dataset = _transform_in_chunks(
        dataset, tokenizer, audio_features, cache, len(labels)
    )
    dataset = finish_pipeline(
        dataset, batch_size, shuffle_buffer=len(labels) if shuffle else None, seed=seed
    )
    dataset.class_names = class_names
    dataset.skipped_files = skipped
    return dataset


def _read_manifest(manifest_path, modalities):
    if not os.path.isfile(manifest_path):
        raise FileNotFoundError(
            f"Manifest not found. Received: manifest_path={manifest_path!r}"
        )
    unknown = [m for m in modalities if m not in MANIFEST_COLUMNS]
    if unknown or not modalities:
        raise ValueError(
            f"`modalities` must be a non-empty subset of {list(MANIFEST_COLUMNS)}. "
            f"Received: modalities={modalities!r}"
        )
    header, csv_rows, broken = read_csv_rows(
        read_text_file(manifest_path), manifest_path
    )
    needed = [MANIFEST_COLUMNS[m] for m in modalities] + ["label"]
    missing = [c for c in needed if c not in header]
    if missing:
        raise ValueError(
            f"The manifest {manifest_path} lacks the columns {missing}. "
            f"Expected columns {needed}; received columns {header}"
        )
    rows = []
    for where, row in csv_rows:
        row["_line"] = where
        row["_needed"] = needed
        rows.append(row)
    return rows, broken


def _check_row_files(row, root, modalities, image_shape, sample_rate, allow_outside):
    """Returns `[(path or line, reason), ...]` for the problems of one row."""
    values = [row.get(column) for column in row["_needed"]]
    if any(value is None for value in values):
        return [(row["_line"], "missing columns")]
    if not all(is_clean_text(value) for value in values):
        return [(row["_line"], "not UTF-8 text")]
    if not row["label"].strip():
        return [(row["_line"], "an empty label")]
    readers = {
        "image": ("image_path", lambda path: read_image_file(path, image_shape)),
        "audio": ("audio_path", lambda path: read_wav_file(path, sample_rate)),
    }
    problems = []
    for modality, (column, read) in readers.items():
        if modality in modalities:
            name = row[column]
            path, reason = data_file_path(root, name, allow_outside)
            if not reason:
                _, reason = read(path)
            if reason:
                problems.append((name, reason))
    return problems


def _encode_labels(raw_labels, class_names):
    if class_names is not None:
        class_names = [str(c) for c in class_names]
        index = {name: i for i, name in enumerate(class_names)}
        unknown = sorted({r for r in raw_labels if r not in index})
        if unknown:
            raise ValueError(
                f"Labels {unknown} are not in `class_names`. Received: "
                f"class_names={class_names}"
            )
        return np.array([index[r] for r in raw_labels], "int32"), class_names
    if all(r.strip().lstrip("-").isdigit() for r in raw_labels):
        labels = np.array([int(r) for r in raw_labels], "int32")
        return labels, [str(i) for i in range(int(labels.max()) + 1)]
    class_names = sorted(set(raw_labels))
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index[r] for r in raw_labels], "int32"), class_names


__all__ = [
    "multimodal_dataset_from_arrays",
    "multimodal_dataset_from_manifest",
]
