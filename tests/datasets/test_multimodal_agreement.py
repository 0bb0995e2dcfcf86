import collections
import itertools

import numpy as np
import pytest

from keras_roleplay.data import multimodal_dataset_from_manifest
from keras_roleplay.datasets import multimodal_agreement as ma
from keras_roleplay.datasets.shapes import SHAPES


@pytest.fixture(scope="module")
def examples():
    return ma.generate_examples(4000, seed=0)


def test_deterministic_from_seed():
    a, b = ma.generate_examples(20, seed=3), ma.generate_examples(20, seed=3)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    c = ma.generate_examples(20, seed=4)
    assert not np.array_equal(a["image"], c["image"])


def test_labels_describe_the_shapes_each_modality_shows(examples):
    shapes, labels = examples["shapes"], examples["label"]
    majority, agreement = labels // 4, labels % 4
    for shown, major, agree in zip(shapes, majority, agreement, strict=True):
        if agree == 0:
            assert set(shown) == {major}
        else:
            odd = agree - 1
            assert shown[odd] != major
            assert all(shown[m] == major for m in range(3) if m != odd)
    assert ma.CLASS_NAMES[labels[0]].startswith(SHAPES[majority[0]])


def test_classes_are_balanced(examples):
    counts = np.bincount(examples["label"], minlength=16) / len(examples["label"])
    assert counts.min() > 0.045 and counts.max() < 0.08


@pytest.mark.parametrize("missing", [0, 1, 2])
def test_no_model_missing_a_modality_can_beat_fifty_percent(examples, missing):
    # Even a perfect reader of the two remaining modalities can only pick the
    # most common label for what it sees: the Bayes-optimal accuracy.
    seen = [m for m in range(3) if m != missing]
    groups = collections.defaultdict(collections.Counter)
    for shown, label in zip(examples["shapes"], examples["label"], strict=True):
        groups[tuple(shown[seen])][label] += 1
    best = sum(max(c.values()) for c in groups.values()) / len(examples["label"])
    assert 0.45 < best < 0.55
    # With all three modalities, the label is a function of what is shown.
    full = collections.defaultdict(set)
    for shown, label in zip(examples["shapes"], examples["label"], strict=True):
        full[tuple(shown)].add(label)
    assert all(len(labels) == 1 for labels in full.values())


def test_text_names_the_shape_in_both_languages():
    for language in ("en", "zh"):
        ex = ma.generate_examples(50, language=language, seed=1)
        words = ma.LANGUAGES[language]["shape"]
        for text, shown in zip(ex["text"], ex["shapes"], strict=True):
            named = [s for s in SHAPES if words[s] in text]
            assert named == [SHAPES[shown[1]]], text


def test_audio_pitch_follows_the_shape():
    ex = ma.generate_examples(40, seed=2)
    for wave, shown in zip(ex["audio"], ex["shapes"], strict=True):
        spectrum = np.abs(np.fft.rfft(wave))
        peak_hz = spectrum.argmax() * ma.SAMPLE_RATE / len(wave)
        pitch = ma.SHAPE_PITCH_HZ[SHAPES[shown[2]]]
        assert 0.85 * pitch < peak_hz < 1.15 * pitch


def test_images_differ_by_shape():
    ex = ma.generate_examples(200, seed=5)
    # Shape pixels are far from the light grey background: the drawn area is
    # about the same for squares and circles but much smaller for crosses.
    area = (np.abs(ex["image"].astype(int) - 200).max(axis=-1) > 60).mean(axis=(1, 2))
    by_shape = {s: area[ex["shapes"][:, 0] == i].mean() for i, s in enumerate(SHAPES)}
    assert (
        by_shape["cross"] < by_shape["circle"]
        and by_shape["triangle"] < by_shape["square"]
    )


def test_load_data_splits_and_info():
    (train, val, test), info = ma.load_data(
        num_train=64, num_validation=16, num_test=16, language="zh", batch_size=16
    )
    assert len(info.class_names) == info.classifier_kwargs["num_classes"] == 16
    features, labels = next(iter(test))
    assert features["image"].shape == (16, 32, 32, 3)
    assert features["text"].shape == (16, ma.TEXT_LENGTH)
    assert features["audio"].shape == (16, *info.audio_features.output_shape)
    assert (
        int(np.asarray(features["text"]).max())
        < info.classifier_kwargs["text_vocabulary_size"]
    )
    assert sum(int(b[1].shape[0]) for b in train) == 64
    assert sum(int(b[1].shape[0]) for b in val) == 16
    # The test split is not shuffled: its labels come in generation order.
    np.testing.assert_array_equal(labels, ma.generate_examples(16, seed=2)["label"])


def test_written_files_read_back_like_the_arrays(tmp_path):
    examples = ma.generate_examples(12, seed=7)
    manifest = ma.write_files(examples, str(tmp_path))
    (_, _, _), info = ma.load_data(num_train=64, num_validation=4, num_test=4)
    dataset = multimodal_dataset_from_manifest(
        manifest,
        image_shape=info.image_shape,
        tokenizer=info.tokenizer,
        audio_features=info.audio_features,
        class_names=ma.CLASS_NAMES,
        batch_size=12,
    )
    features, labels = next(iter(dataset))
    np.testing.assert_array_equal(labels, examples["label"])
    np.testing.assert_allclose(features["image"], examples["image"], atol=1e-3)
    expected_audio = info.audio_features(examples["audio"])
    np.testing.assert_allclose(features["audio"], expected_audio, atol=2e-3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"language": "fr"}, "language='fr'"),
        ({"num_examples": 0}, "num_examples=0"),
        ({"image_size": 8}, "image_size=8"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ma.generate_examples(**{"num_examples": 4, **kwargs})


def test_shapes_module_rejects_unknown_shape():
    from keras_roleplay.datasets.shapes import draw_shape

    with pytest.raises(ValueError, match="shape='hexagon'"):
        draw_shape(np.zeros((8, 8, 3), "uint8"), "hexagon", (1, 2, 3), (4, 4), 2)


def test_every_pair_of_shapes_appears(examples):
    pairs = {tuple(s[:2]) for s in examples["shapes"]}
    assert pairs == set(itertools.product(range(4), repeat=2))
