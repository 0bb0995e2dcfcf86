"""Every public file loader through the corpus of bad inputs (`bad_inputs.py`):
each file is decoded or skipped with its name and reason, every good row is
kept, and no error comes from deep inside TensorFlow."""

import os
import warnings

import numpy as np
import pytest

from keras_roleplay.data import (
    ImageFolderStream,
    LogMelSpectrogram,
    load_image_captions,
    load_image_folder,
    multimodal_dataset_from_manifest,
    read_captions_file,
)
from tests.data import bad_inputs

SHAPE = (16, 16, 3)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_inputs")
    bad_inputs.write_images(str(root))
    bad_inputs.write_audio(str(root))
    return root


def _outcomes(kept, skipped):
    """`{name: None or reason}` from kept names and `(name, reason)` pairs."""
    outcome = dict.fromkeys(kept)
    for name, reason in skipped:
        assert name not in outcome, f"{name} both kept and skipped"
        outcome[name] = reason
    return outcome


def _assert_matches(outcome, expected):
    assert sorted(outcome) == sorted(expected), (outcome, expected)
    for name, want in expected.items():
        got = outcome[name]
        if want is None or isinstance(want, list):
            assert got is None, (name, got)
        else:
            assert got is not None and want in got, (name, got, want)


def test_image_folder(corpus):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images, paths, skipped = load_image_folder(str(corpus), SHAPE)
    expected = bad_inputs.EXPECTED_IMAGES
    _assert_matches(_outcomes(paths, skipped), expected)
    assert images.shape == (sum(v is None for v in expected.values()), *SHAPE)
    assert np.all((images >= 0) & (images <= 255))
    # One warning names every skipped file.
    (warning,) = [w for w in caught if "Skipped" in str(w.message)]
    assert all(name in str(warning.message) for name, _ in skipped)


def test_image_folder_stream(corpus):
    stream = ImageFolderStream(str(corpus), SHAPE, batch_size=3)
    expected = bad_inputs.EXPECTED_IMAGES
    good = sum(v is None for v in expected.values())
    # One warning at the end of the pass names every skipped file.
    with pytest.warns(UserWarning, match=f"Skipped {len(expected) - good} of "):
        batches = list(stream)
    paths = [name for _, names in batches for name in names]
    _assert_matches(_outcomes(paths, stream.skipped), expected)
    assert [len(names) for _, names in batches] == [3, 3, good - 6]
    assert all(images.shape == (len(names), *SHAPE) for images, names in batches)


def test_captions_csv(corpus):
    path, expected = bad_inputs.write_captions_csv(str(corpus))
    with pytest.warns(UserWarning, match="Skipped 5 of 8 images or rows"):
        data = load_image_captions(path, image_shape=SHAPE)
    _assert_matches(_outcomes(data["paths"], data["skipped"]), expected)
    kept = dict(zip(data["paths"], data["captions"], strict=True))
    assert kept == {k: v for k, v in expected.items() if isinstance(v, list)}
    assert len(kept["grey.bmp"][0]) > 99_000  # long captions are kept whole
    # read_captions_file alone: the rows, with the bad lines named.
    with pytest.warns(UserWarning, match="line 10 \\(missing columns\\)"):
        rows = read_captions_file(path)
    assert rows["good.png"] == ["a red square"] and rows["palette.png"] == []


def test_captions_jsonl(corpus):
    path, expected = bad_inputs.write_captions_jsonl(str(corpus))
    with pytest.warns(UserWarning, match="line 3 \\(not valid JSON"):
        data = load_image_captions(path, image_shape=SHAPE)
    _assert_matches(_outcomes(data["paths"], data["skipped"]), expected)
    assert data["captions"] == [["a red square", "red"], ["deep colours"]]


def test_paths_outside_the_folder_are_read_only_when_allowed(corpus, tmp_path):
    outside = tmp_path / "elsewhere"
    bad_inputs.write_images(str(outside))
    captions = corpus / "outside.csv"
    captions.write_text(
        f"image_path,caption\n{outside / 'good.png'},absolute\n"
        f"../{os.path.relpath(outside, corpus.parent)}/good.jpg,relative\n"
    )
    with pytest.warns(UserWarning, match="outside the data folder"):
        with pytest.raises(ValueError, match="No readable image"):
            load_image_captions(str(captions), image_shape=SHAPE)
    data = load_image_captions(str(captions), SHAPE, allow_outside_paths=True)
    assert data["captions"] == [["absolute"], ["relative"]]


def test_manifest_of_images_and_audio(corpus):
    images = sorted(bad_inputs.EXPECTED_IMAGES)
    audio = sorted(bad_inputs.EXPECTED_AUDIO)
    good_image, good_audio = "good.png", "good.wav"
    rows = [f"{name},{good_audio},cat" for name in images]
    rows += [f"{good_image},{name},dog" for name in audio]
    rows += ["../outside.png,good.wav,cat", "good.png,good.wav"]  # escape; short
    manifest = corpus / "manifest.csv"
    text = "\ufeffimage_path,audio_path,label,notes\r\n" + "\r\n".join(rows) + "\r\n"
    manifest.write_bytes(text.encode() + b"good.png,good.wav,caf\xe9\r\n")
    features = LogMelSpectrogram(sample_rate=16000, num_samples=4000)
    with pytest.warns(UserWarning, match="Skipped"):
        dataset = multimodal_dataset_from_manifest(
            str(manifest),
            image_shape=SHAPE,
            audio_features=features,
            modalities=("image", "audio"),
            batch_size=64,
        )
    skipped = dict(dataset.skipped_files)
    for name, want in {
        **bad_inputs.EXPECTED_IMAGES,
        **bad_inputs.EXPECTED_AUDIO,
    }.items():
        if want is None:
            assert name not in skipped, (name, skipped.get(name))
        else:
            assert want in skipped[name], (name, skipped[name])
    assert "outside the data folder" in skipped["../outside.png"]
    assert any(reason == "missing columns" for reason in skipped.values())
    assert any(reason == "not UTF-8 text" for reason in skipped.values())
    # Every good row is there, and every one decodes to finite features.
    good = sum(v is None for v in bad_inputs.EXPECTED_IMAGES.values())
    good += sum(v is None for v in bad_inputs.EXPECTED_AUDIO.values())
    (batch, labels), *_ = list(dataset)
    assert len(labels) == good
    assert np.isfinite(batch["audio"].numpy()).all()
    assert batch["image"].shape[1:] == SHAPE
