"""Folders of images: read batch by batch (memory bounded by one batch), or
all at once."""

import os

import keras
import numpy as np

from keras_roleplay.data.file_checks import warn_skipped
from keras_roleplay.data.images import IMAGE_EXTENSIONS, read_image_file
from keras_roleplay.utils.validation import check_positive_int


class ImageFolderStream:
    """Reads the images of a folder in batches, skipping bad files by name.

    For folders too large to hold in memory at once (`load_image_folder`
    holds every image): iterate to get `(images, names)` batches, decoded
    one file at a time. What it holds at any moment, whatever the folder's
    size:

    - two batches (the one handed out and the one filling):
      `2 x batch_size x height x width x channels x 4` bytes (float32),
      6.3 MB for batches of 64 images of 64x64x3;
    - the file being decoded, at its own size before resizing: at most
      `MAX_IMAGE_PIXELS` (50 megapixels, checked in the header before
      decoding), so about 0.8 GB for the largest accepted file, a few
      hundred kB for ordinary photos;
    - the sorted list of file names, about 100 bytes per file.

    Measured by `benchmarks/image_folder_memory.py` (48x48 PNG files
    decoded to 64x64x3, batches of 64, 2 CPU cores): the peak resident
    memory grows by 10.6 MB over the process's after reading 1 000, 5 000
    and 20 000 files alike, at 3.5 to 4.0 ms a file; `load_image_folder`
    grows by 95, 470 and 1 875 MB at the same speed.

    Files are taken in name order; the extensions read are
    `IMAGE_EXTENSIONS`, other files are ignored. What is decoded and what is
    refused is `read_image_file`'s: a refused file is listed in `skipped`
    with its reason, and named in one warning when the pass ends; every
    good file is kept.

    Args:
        directory: the folder.
        image_shape: `(height, width, channels)` to decode to.
        batch_size: images per batch (the last may be smaller).
        verbose: 1 draws a progress bar over the files (Keras' `Progbar`),
            0 is silent.

    Attributes:
        names: the file names that will be read, sorted.
        skipped: `(name, reason)` for each file refused so far.

    Example:

    >>> import os, tempfile, numpy as np, tensorflow as tf
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("a.png", "b.png", "c.png"):
    ...     tf.io.write_file(os.path.join(folder, name),
    ...                      tf.io.encode_png(np.zeros((5, 5, 3), "uint8")))
    >>> stream = ImageFolderStream(folder, (4, 4, 3), batch_size=2)
    >>> [(images.shape, names) for images, names in stream]
    [((2, 4, 4, 3), ['a.png', 'b.png']), ((1, 4, 4, 3), ['c.png'])]
    >>> len(stream), stream.skipped
    (3, [])
    """

    def __init__(self, directory, image_shape, batch_size=64, verbose=0):
        if not os.path.isdir(directory):
            raise FileNotFoundError(
                f"Image folder not found. Received: directory={directory!r}"
            )
        if len(tuple(image_shape)) != 3 or tuple(image_shape)[-1] not in (1, 3):
            raise ValueError(
                "`image_shape` must be (height, width, channels) with 1 or 3 "
                f"channels. Received: image_shape={image_shape!r}"
            )
        if verbose not in (0, 1):
            raise ValueError(f"`verbose` must be 0 or 1. Received: verbose={verbose!r}")
        self.directory = directory
        self.image_shape = tuple(int(d) for d in image_shape)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.verbose = verbose
        with os.scandir(directory) as entries:
            self.names = sorted(
                e.name for e in entries if e.name.lower().endswith(IMAGE_EXTENSIONS)
            )
        self.skipped = []

    def __len__(self):
        """The number of files to read (some may be skipped)."""
        return len(self.names)

    def batch_bytes(self):
        """The bytes one full batch of decoded images takes."""
        return self.batch_size * int(np.prod(self.image_shape)) * 4

    def __iter__(self):
        self.skipped = []
        bar = keras.utils.Progbar(
            len(self.names), unit_name="file", stateful_metrics=["skipped"]
        )
        batch = np.empty((self.batch_size, *self.image_shape), "float32")
        names = []
        for done, name in enumerate(self.names, start=1):
            image, reason = read_image_file(
                os.path.join(self.directory, name), self.image_shape
            )
            if reason:
                self.skipped.append((name, reason))
            else:
                batch[len(names)] = image
                names.append(name)
            if self.verbose:
                bar.update(done, values=[("skipped", len(self.skipped))])
            if len(names) == self.batch_size:
                # A copy: the caller may keep batches while the next fills.
                yield batch.copy(), names
                names = []
        if names:
            yield batch[: len(names)].copy(), names
        warn_skipped(self.skipped, len(self.names), "images", self.directory)


def load_image_folder(directory, image_shape):
    """Loads every image of a folder (sorted by name), skipping bad files.

    Holds every image in memory at once (`n x height x width x channels x
    4` bytes); for large folders iterate an `ImageFolderStream` instead,
    which holds one batch.

    Args:
        directory: the folder; files with other extensions are ignored.
        image_shape: `(height, width, channels)` to decode to.

    Returns:
        `(images, paths, skipped)`: float32 `(n, h, w, c)` in `[0, 255]`, the
        file names kept, and `(name, reason)` for each unreadable file (also
        named in a warning).

    Example:

    >>> import os, tempfile, numpy as np, tensorflow as tf
    >>> folder = tempfile.mkdtemp()
    >>> tf.io.write_file(os.path.join(folder, "b.png"),
    ...                  tf.io.encode_png(np.zeros((5, 5, 1), "uint8")))
    >>> images, paths, skipped = load_image_folder(folder, (4, 4, 3))
    >>> images.shape, paths, skipped
    ((1, 4, 4, 3), ['b.png'], [])
    """
    stream = ImageFolderStream(directory, image_shape)
    images, paths = [], []
    for batch, names in stream:
        images.append(batch)
        paths.extend(names)
    if not images:
        raise ValueError(
            f"No readable image in {directory} (looked for {IMAGE_EXTENSIONS})."
        )
    return np.concatenate(images), paths, stream.skipped
