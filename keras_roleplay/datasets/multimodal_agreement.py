"""Multimodal agreement: (image, text, audio) triplets where every branch is needed.

Each example shows a shape three times: an image of it, a sentence naming it
(English or Chinese) and a tone whose pitch stands for it. Either all three
agree, or one modality (image, text or audio, equally likely) shows another
shape. The label names both the shape the majority shows and which modality
disagrees, e.g. `"circle, all agree"` or `"triangle, audio differs"`: 4
shapes x 4 agreement states = 16 classes, all equally likely.

A model that sees all three modalities can reach 100%. A model missing one
modality cannot: when the two it sees agree, it cannot tell "all agree" from
"the missing one differs"; when they disagree, it cannot tell which of the
two is the odd one (and so which shape is the majority). Either way it is
left with a coin flip, so its best accuracy is 50%. One modality alone does
worse still. The ablation is built into the data: fusion must beat every pair
of branches. Each modality still carries first-order signal (it usually shows
the majority shape), which is what lets the branches learn quickly.

Everything is generated procedurally and deterministically from `seed`: no
download, and the same seed gives the same data on every machine.
"""

import csv
import dataclasses
import os

import numpy as np

from keras_roleplay.data.audio import LogMelSpectrogram
from keras_roleplay.data.multimodal import multimodal_dataset_from_arrays
from keras_roleplay.data.text import build_word_piece_tokenizer
from keras_roleplay.datasets.shapes import SHAPES, WORDS, random_scene
from keras_roleplay.utils.optional_tensorflow import tf
from keras_roleplay.utils.validation import check_choice, check_positive_int

AGREEMENTS = ("all agree", "image differs", "text differs", "audio differs")
# Class index = shape index * 4 + agreement index.
CLASS_NAMES = tuple(
    f"{shape}, {agreement}" for shape in SHAPES for agreement in AGREEMENTS
)
SAMPLE_RATE = 8000
NUM_SAMPLES = 4000  # half a second
# One pitch per shape, an octave apart so jitter never confuses them.
SHAPE_PITCH_HZ = {"circle": 300.0, "square": 600.0, "triangle": 1200.0, "cross": 2400.0}
TEXT_LENGTH = 16

_EN = {
    **WORDS["en"],
    "templates": (
        "a {size} {colour} {shape}",
        "there is a {colour} {shape} {place}",
        "i see a {size} {shape} {place}",
        "{place} there is a {size} {colour} {shape}",
        "look at the {colour} {shape}",
    ),
}
_ZH = {
    **WORDS["zh"],
    "templates": (
        "一个{size}的{colour}{shape}",
        "{place}有一个{colour}的{shape}",
        "我看到{place}有一个{size}{shape}",
        "{place}是一个{size}的{colour}{shape}",
        "看这个{colour}的{shape}",
    ),
}
LANGUAGES = {"en": _EN, "zh": _ZH}


@dataclasses.dataclass
class DatasetInfo:
    """What a model needs to know about a loaded dataset.

    Attributes:
        class_names: label names in class-index order.
        tokenizer: the KerasHub tokenizer that turned text into token ids.
        audio_features: the `LogMelSpectrogram` applied to the waveforms.
        image_shape: `(height, width, channels)` of the images.
        classifier_kwargs: keyword arguments that fit
            `ThreeBranchClassifier` to this data:
            `ThreeBranchClassifier(**info.classifier_kwargs)`.
    """

    class_names: tuple
    tokenizer: object
    audio_features: LogMelSpectrogram
    image_shape: tuple
    classifier_kwargs: dict


def generate_examples(num_examples, language="en", image_size=32, seed=0):
    """Generates raw examples as NumPy arrays (before any tokenizing or features).

    Args:
        num_examples: how many examples.
        language: `"en"` or `"zh"`, the language of the sentences.
        image_size: side of the square images, in pixels.
        seed: random seed; the same seed gives the same examples.

    Returns:
        A dict with `"image"` (uint8 `(n, size, size, 3)`), `"text"`
        (str `(n,)`), `"audio"` (float32 waveforms `(n, 4000)` at 8 kHz),
        `"label"` (int32 `(n,)`, an index into `CLASS_NAMES`) and `"shapes"`
        (int32 `(n, 3)`: the shape index each modality shows, in the order
        image, text, audio).

    Example:

    >>> examples = generate_examples(4, seed=1)
    >>> examples["image"].shape, examples["audio"].shape
    ((4, 32, 32, 3), (4, 4000))
    """
    num_examples = check_positive_int("num_examples", num_examples)
    language = check_choice("language", language, tuple(LANGUAGES))
    image_size = check_positive_int("image_size", image_size)
    if image_size < 16:
        raise ValueError(
            f"`image_size` must be at least 16. Received: image_size={image_size}"
        )
    rng = np.random.default_rng(seed)
    words = LANGUAGES[language]
    majority = rng.integers(0, len(SHAPES), size=num_examples)
    agreement = rng.integers(0, len(AGREEMENTS), size=num_examples)
    labels = (majority * len(AGREEMENTS) + agreement).astype("int32")
    shapes = np.zeros((num_examples, 3), "int32")
    images = np.zeros((num_examples, image_size, image_size, 3), "uint8")
    texts, waveforms = [], np.zeros((num_examples, NUM_SAMPLES), "float32")
    for i in range(num_examples):
        shapes[i] = majority[i]
        if agreement[i] > 0:  # agreement k > 0: modality k - 1 shows another shape
            others = [s for s in range(len(SHAPES)) if s != majority[i]]
            shapes[i, agreement[i] - 1] = rng.choice(others)
        images[i], _ = random_scene(rng, SHAPES[shapes[i, 0]], image_size)
        texts.append(_sentence(rng, words, SHAPES[shapes[i, 1]]))
        waveforms[i] = _tone(rng, SHAPE_PITCH_HZ[SHAPES[shapes[i, 2]]])
    return {
        "image": images,
        "text": np.array(texts),
        "audio": waveforms,
        "label": labels,
        "shapes": shapes,
    }


def _sentence(rng, words, shape):
    template = str(rng.choice(words["templates"]))
    return template.format(
        shape=words["shape"][shape],
        colour=words["colour"][str(rng.choice(list(words["colour"])))],
        size=words["size"][str(rng.choice(list(words["size"])))],
        place=words["place"][str(rng.choice(list(words["place"])))],
    )


def _tone(rng, pitch):
    """A short tone near `pitch` Hz with a random onset, length, timbre and noise."""
    t = np.arange(NUM_SAMPLES) / SAMPLE_RATE
    frequency = pitch * rng.uniform(0.9, 1.1)
    onset = rng.uniform(0.0, 0.2)
    length = rng.uniform(0.15, 0.3)
    envelope = ((t >= onset) & (t < onset + length)).astype("float32")
    tone = np.sin(2 * np.pi * frequency * t) + rng.uniform(0, 0.5) * np.sin(
        4 * np.pi * frequency * t
    )
    noise = rng.normal(0, rng.uniform(0.02, 0.1), size=NUM_SAMPLES)
    return (rng.uniform(0.3, 0.9) * envelope * tone / 1.5 + noise).astype("float32")


def load_data(
    num_train=4000,
    num_validation=800,
    num_test=800,
    language="en",
    image_size=32,
    batch_size=32,
    vocabulary_size=200,
    seed=0,
):
    """Loads the multimodal agreement dataset as ready `tf.data` splits.

    Text is tokenized with a WordPiece vocabulary learned on the training
    split (KerasHub), and audio becomes 30x32 log-mel spectrograms
    (tensorflow-io), both inside the pipelines.

    Args:
        num_train: number of training examples.
        num_validation: number of validation examples.
        num_test: number of test examples.
        language: `"en"` or `"zh"`.
        image_size: side of the square images, in pixels.
        batch_size: examples per batch.
        vocabulary_size: maximum WordPiece vocabulary size.
        seed: random seed; the splits use `seed`, `seed + 1` and `seed + 2`.

    Returns:
        `((train, validation, test), info)`: three `tf.data.Dataset`s of
        `({"image", "text", "audio"}, label)` batches (training shuffled every
        epoch) and a `DatasetInfo`.

    Example:

    >>> (train, val, test), info = load_data(num_train=64, num_validation=8,
    ...                                      num_test=8)
    >>> info.class_names[:2]
    ('circle, all agree', 'circle, image differs')
    >>> features, labels = next(iter(train))
    >>> tuple(features["audio"].shape), tuple(features["text"].shape)
    ((32, 30, 32), (32, 16))
    """
    splits = [
        generate_examples(n, language=language, image_size=image_size, seed=seed + i)
        for i, n in enumerate((num_train, num_validation, num_test))
    ]
    tokenizer = build_word_piece_tokenizer(
        splits[0]["text"], vocabulary_size=vocabulary_size, sequence_length=TEXT_LENGTH
    )
    audio_features = LogMelSpectrogram(
        sample_rate=SAMPLE_RATE,
        num_samples=NUM_SAMPLES,
        num_mel_bins=32,
        frame_length=256,
        frame_step=128,
    )
    datasets = tuple(
        multimodal_dataset_from_arrays(
            labels=split["label"],
            image=split["image"],
            text=split["text"],
            audio=split["audio"],
            tokenizer=tokenizer,
            audio_features=audio_features,
            batch_size=batch_size,
            shuffle=i == 0,
            seed=seed,
        )
        for i, split in enumerate(splits)
    )
    image_shape = (image_size, image_size, 3)
    info = DatasetInfo(
        class_names=CLASS_NAMES,
        tokenizer=tokenizer,
        audio_features=audio_features,
        image_shape=image_shape,
        classifier_kwargs={
            "num_classes": len(CLASS_NAMES),
            "image_shape": image_shape,
            "text_length": TEXT_LENGTH,
            "text_vocabulary_size": int(tokenizer.vocabulary_size()),
            "audio_shape": audio_features.output_shape,
        },
    )
    return datasets, info


def write_files(examples, directory):
    """Writes examples as PNG and WAV files plus a `manifest.csv`.

    Gives the bundled data the shape of a practitioner's folder, for
    `keras_roleplay.data.multimodal_dataset_from_manifest`.

    Args:
        examples: the dict returned by `generate_examples`.
        directory: folder to write into (created if needed).

    Returns:
        The path of the manifest CSV (`image_path,text,audio_path,label`).

    Example:

    >>> import tempfile
    >>> path = write_files(generate_examples(2), tempfile.mkdtemp())
    >>> open(path).readline().strip()
    'image_path,text,audio_path,label'
    """
    os.makedirs(directory, exist_ok=True)
    manifest = os.path.join(directory, "manifest.csv")
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["image_path", "text", "audio_path", "label"])
        for i, label in enumerate(examples["label"]):
            image_name, audio_name = f"{i:05d}.png", f"{i:05d}.wav"
            tf.io.write_file(
                os.path.join(directory, image_name),
                tf.io.encode_png(examples["image"][i]),
            )
            tf.io.write_file(
                os.path.join(directory, audio_name),
                tf.audio.encode_wav(examples["audio"][i][:, None], SAMPLE_RATE),
            )
            writer.writerow(
                [image_name, examples["text"][i], audio_name, CLASS_NAMES[label]]
            )
    return manifest
