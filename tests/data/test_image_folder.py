"""`ImageFolderStream`: batches in name order, progress, argument checks."""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_roleplay.data import ImageFolderStream, load_image_folder


def _folder(path, count):
    for i in range(count):
        image = np.full((6, 6, 3), i * 10, "uint8")
        tf.io.write_file(os.path.join(path, f"{i:03d}.png"), tf.io.encode_png(image))
    (path / "notes.txt").write_text("not an image")
    return str(path)


def test_batches_in_name_order_with_the_pixels_of_each_file(tmp_path):
    folder = _folder(tmp_path, 7)
    stream = ImageFolderStream(folder, (6, 6, 3), batch_size=3)
    assert len(stream) == 7 and stream.batch_bytes() == 3 * 6 * 6 * 3 * 4
    batches = list(stream)
    assert [names for _, names in batches] == [
        ["000.png", "001.png", "002.png"],
        ["003.png", "004.png", "005.png"],
        ["006.png"],
    ]
    values = np.concatenate([images[:, 0, 0, 0] for images, _ in batches])
    np.testing.assert_array_equal(values, np.arange(7) * 10)
    # Batches already handed out are not overwritten by the next ones.
    assert batches[0][0][0, 0, 0, 0] == 0
    # A second pass reads the folder again, and load_image_folder agrees.
    again = np.concatenate([images for images, _ in stream])
    images, paths, skipped = load_image_folder(folder, (6, 6, 3))
    np.testing.assert_array_equal(again, images)
    assert paths == stream.names and skipped == []


def test_progress_bar_over_the_files(tmp_path, capsys):
    folder = _folder(tmp_path, 4)
    list(ImageFolderStream(folder, (6, 6, 1), batch_size=2, verbose=1))
    out = capsys.readouterr().out
    assert "4/4" in out and "skipped: 0" in out


def test_bad_arguments(tmp_path):
    folder = _folder(tmp_path, 1)
    with pytest.raises(FileNotFoundError, match="directory="):
        ImageFolderStream(str(tmp_path / "missing"), (6, 6, 3))
    with pytest.raises(ValueError, match="image_shape=\\(6, 6\\)"):
        ImageFolderStream(folder, (6, 6))
    with pytest.raises(ValueError, match="batch_size"):
        ImageFolderStream(folder, (6, 6, 3), batch_size=0)
    with pytest.raises(ValueError, match="verbose=2"):
        ImageFolderStream(folder, (6, 6, 3), verbose=2)
