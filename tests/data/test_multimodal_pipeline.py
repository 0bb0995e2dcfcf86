import os

import numpy as np
import pytest
import tensorflow as tf

from keras_roleplay.data import (
    LogMelSpectrogram,
    build_word_piece_tokenizer,
    decode_image,
    decode_wav,
    multimodal_dataset_from_arrays,
    multimodal_dataset_from_manifest,
)

FEATURES = LogMelSpectrogram(
    sample_rate=8000,
    num_samples=2000,
    num_mel_bins=16,
    frame_length=256,
    frame_step=128,
)
TEXTS = ["a red circle on the left", "一个红色的圆形", "a blue square", "蓝色的正方形"]


def _write(path, contents):
    tf.io.write_file(path, contents)
    return os.path.basename(path)


def _tone(rate, seconds=0.25, channels=1, frequency=440.0):
    t = np.arange(int(rate * seconds)) / rate
    wave = (0.5 * np.sin(2 * np.pi * frequency * t)).astype("float32")
    return tf.audio.encode_wav(np.repeat(wave[:, None], channels, axis=1), rate)


@pytest.fixture
def manifest(tmp_path):
    """A folder of mixed real files, two of them broken and one missing."""
    d = str(tmp_path)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (20, 30, 3), dtype="uint8")
    images = [
        _write(f"{d}/rgb.png", tf.io.encode_png(rgb)),
        _write(f"{d}/gray.png", tf.io.encode_png(rgb[..., :1])),
        _write(
            f"{d}/rgba.png", tf.io.encode_png(np.concatenate([rgb, rgb[..., :1]], -1))
        ),
        _write(f"{d}/photo.jpg", tf.io.encode_jpeg(rgb)),
        _write(f"{d}/broken.png", b"\x89PNG not really"),
        "missing.png",
    ]
    sounds = [
        _write(f"{d}/a.wav", _tone(8000)),
        _write(f"{d}/b16k.wav", _tone(16000)),
        _write(f"{d}/stereo.wav", _tone(8000, channels=2)),
        _write(f"{d}/c.wav", _tone(8000, frequency=880)),
        _write(f"{d}/d.wav", _tone(8000)),
        _write(f"{d}/garbage.wav", b"RIFF....WAVEfmt nonsense"),
    ]
    labels = ["circle", "square", "circle", "square", "circle", "square"]
    lines = ["image_path,text,audio_path,label"]
    for image, text, sound, label in zip(
        images, TEXTS + TEXTS[:2], sounds, labels, strict=True
    ):
        lines.append(f"{image},{text},{sound},{label}")
    # Row 4 (d.wav) has a broken image; row 5 has a missing image and a corrupt WAV.
    with open(f"{d}/manifest.csv", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return f"{d}/manifest.csv"


def test_manifest_keeps_good_rows_and_names_bad_files(manifest):
    tokenizer = build_word_piece_tokenizer(
        TEXTS, vocabulary_size=60, sequence_length=10
    )
    with pytest.warns(UserWarning, match=r"Skipped 2 of 6 rows") as record:
        dataset = multimodal_dataset_from_manifest(
            manifest,
            image_shape=(16, 16, 3),
            tokenizer=tokenizer,
            audio_features=FEATURES,
            batch_size=8,
        )
    message = str(record[0].message)
    for name in ("broken.png", "missing.png", "garbage.wav"):
        assert name in message
    assert [path for path, _ in dataset.skipped_files] == [
        "broken.png",
        "missing.png",
        "garbage.wav",
    ]
    assert dict(dataset.skipped_files)["missing.png"] == "file not found"
    reasons = dict(dataset.skipped_files)
    assert reasons["broken.png"].startswith("not a readable image: Unknown image file")
    # Its header is read before TensorFlow decodes it.
    assert reasons["garbage.wav"] == "a WAV file cut inside its format chunk"
    assert "{{" not in reasons["garbage.wav"] and "[Op:" not in reasons["garbage.wav"]
    assert dataset.class_names == ["circle", "square"]
    features, labels = next(iter(dataset))
    assert features["image"].shape == (4, 16, 16, 3)
    assert features["text"].shape == (4, 10)
    assert features["audio"].shape == (4, *FEATURES.output_shape)
    np.testing.assert_array_equal(labels, [0, 1, 0, 1])
    # Grayscale became 3 equal channels; RGBA kept its RGB colours.
    gray = features["image"][1].numpy()
    np.testing.assert_allclose(gray[..., 0], gray[..., 2])
    np.testing.assert_allclose(features["image"][2], features["image"][0], atol=1e-3)
    # 16 kHz and stereo WAVs give the same features as the 8 kHz mono tone.
    np.testing.assert_allclose(features["audio"][1], features["audio"][0], atol=0.05)
    np.testing.assert_allclose(features["audio"][2], features["audio"][0], atol=1e-5)
    assert np.abs(features["audio"][3] - features["audio"][0]).max() > 0.2  # 880 Hz


def test_manifest_subset_of_modalities_and_given_class_names(manifest):
    dataset = multimodal_dataset_from_manifest(
        manifest,
        image_shape=(8, 8, 1),
        modalities=("image",),
        class_names=["square", "circle"],
        batch_size=16,
    )
    features, labels = next(iter(dataset))
    assert sorted(features) == ["image"] and features["image"].shape == (4, 8, 8, 1)
    np.testing.assert_array_equal(labels, [1, 0, 1, 0])
    assert [p for p, _ in dataset.skipped_files] == ["broken.png", "missing.png"]


def test_manifest_errors(manifest, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("image,text,label\na.png,hi,0\n")
    with pytest.raises(ValueError, match=r"lacks the columns \['image_path'\]"):
        multimodal_dataset_from_manifest(str(bad), modalities=("image",))
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        multimodal_dataset_from_manifest(str(tmp_path / "nowhere.csv"))
    with pytest.raises(ValueError, match="needs a `tokenizer`"):
        multimodal_dataset_from_manifest(manifest, modalities=("text",))
    with pytest.raises(ValueError, match="needs `audio_features`"):
        multimodal_dataset_from_manifest(manifest, modalities=("audio",))
    with pytest.raises(ValueError, match=r"not in `class_names`"):
        multimodal_dataset_from_manifest(
            manifest, modalities=("image",), class_names=["circle"]
        )
    with pytest.raises(ValueError, match="modalities=.*video"):
        multimodal_dataset_from_manifest(manifest, modalities=("video",))


def test_arrays_pipeline_tokenizes_and_computes_features():
    rng = np.random.default_rng(0)
    tokenizer = build_word_piece_tokenizer(
        TEXTS, vocabulary_size=60, sequence_length=12
    )
    dataset = multimodal_dataset_from_arrays(
        labels=np.array([0, 1, 0, 1]),
        image=rng.integers(0, 255, (4, 8, 8, 3)).astype("uint8"),
        text=np.array(TEXTS),
        audio=rng.normal(size=(4, 2000)).astype("float32"),
        tokenizer=tokenizer,
        audio_features=FEATURES,
        batch_size=3,
        shuffle=True,
        seed=0,
    )
    batches = list(dataset)
    assert [int(b[1].shape[0]) for b in batches] == [3, 1]
    features = batches[0][0]
    assert features["image"].dtype == tf.float32
    assert features["text"].dtype == tf.int32 and features["text"].shape == (3, 12)
    assert features["audio"].shape == (3, *FEATURES.output_shape)
    # Same seed, same order on a rebuilt pipeline.
    again = multimodal_dataset_from_arrays(
        labels=np.array([0, 1, 0, 1]),
        image=np.zeros((4, 8, 8, 3)),
        batch_size=4,
        shuffle=True,
        seed=0,
    )
    assert again.element_spec[0]["image"].shape.as_list() == [None, 8, 8, 3]


def test_chinese_and_english_tokenize_to_known_tokens():
    tokenizer = build_word_piece_tokenizer(
        TEXTS, vocabulary_size=200, sequence_length=12
    )
    ids = np.asarray(tokenizer(["一个红色的圆形", "a red circle"]))
    assert 1 not in ids  # no [UNK]: every character and word was learned
    assert (ids[0] > 0).sum() == 7  # one token per Chinese character
    vocabulary = tokenizer.get_vocabulary()
    assert vocabulary[:2] == ["[PAD]", "[UNK]"]
    assert "圆" in vocabulary
    round_trip = tokenizer.detokenize(tokenizer(["A Red Circle"]))[0]
    assert round_trip.replace(" [PAD]", "") == "a red circle"


def test_arrays_errors():
    with pytest.raises(ValueError, match="one entry per label"):
        multimodal_dataset_from_arrays(labels=[0, 1], image=np.zeros((3, 8, 8, 3)))
    with pytest.raises(ValueError, match="tokenizer=None"):
        multimodal_dataset_from_arrays(labels=[0], text=np.array(["hello"]))
    with pytest.raises(ValueError, match="at least one"):
        multimodal_dataset_from_arrays(labels=[0])
    with pytest.raises(ValueError, match=r"image with shape \(1, 8, 8\)"):
        multimodal_dataset_from_arrays(labels=[0], image=np.zeros((1, 8, 8)))
    with pytest.raises(ValueError, match="batch_size=0"):
        multimodal_dataset_from_arrays(
            labels=[0], image=np.zeros((1, 8, 8, 3)), batch_size=0
        )
    with pytest.raises(TypeError, match="single string"):
        build_word_piece_tokenizer("just one text")


def test_log_mel_features_values():
    t = np.arange(2000) / 8000
    low = FEATURES(np.sin(2 * np.pi * 300 * t).astype("float32")).numpy()
    high = FEATURES(np.sin(2 * np.pi * 2400 * t).astype("float32")).numpy()
    assert low.shape == FEATURES.output_shape
    assert 0.0 <= low.min() and low.max() == pytest.approx(1.0)
    # The loudest mel band follows the pitch.
    assert low.mean(axis=0).argmax() < high.mean(axis=0).argmax()
    with pytest.raises(ValueError, match="num_samples=100"):
        LogMelSpectrogram(num_samples=100, frame_length=256)


def test_decoders_resize_and_resample():
    image = decode_image(tf.io.encode_png(np.full((5, 7, 1), 200, "uint8")), (4, 4, 3))
    np.testing.assert_allclose(image, 200.0, atol=1e-3)
    wave = decode_wav(_tone(16000, seconds=0.5), sample_rate=8000)
    assert wave.shape == (4000,)
    wave = decode_wav(_tone(8000, seconds=0.5), sample_rate=8000, num_samples=100)
    assert wave.shape == (100,)


@pytest.mark.parametrize("empty", ["", "   "])
def test_a_row_with_an_empty_label_is_named_and_skipped(manifest, empty):
    with open(manifest, encoding="utf-8") as f:
        lines = f.read().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + "," + empty  # rgb.png's row
    with open(manifest, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    tokenizer = build_word_piece_tokenizer(
        TEXTS, vocabulary_size=60, sequence_length=10
    )
    with pytest.warns(UserWarning, match=r"Skipped 3 of 6 rows") as record:
        dataset = multimodal_dataset_from_manifest(
            manifest,
            image_shape=(16, 16, 3),
            tokenizer=tokenizer,
            audio_features=FEATURES,
        )
    assert "line 2 (an empty label)" in str(record[0].message)
    assert dataset.class_names == ["circle", "square"]
