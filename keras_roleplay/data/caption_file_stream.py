"""Image-caption pairs read from files as training needs them, not held whole.

`load_image_captions` decodes every image into one array: 118 000 COCO
images at 224x224 would take 71 GB. `image_caption_file_dataset` keeps
only the image paths and their captions, and decodes each image when the
pipeline reaches it, so its memory is bounded by the shuffle buffer and a
few batches, whatever the number of images.
"""

import os

import numpy as np

from keras_roleplay.data.caption_formats import read_split_list
from keras_roleplay.data.captions import caption_lists, read_captions_file
from keras_roleplay.data.file_checks import data_file_path, warn_skipped
from keras_roleplay.data.images import read_image_file
from keras_roleplay.utils.optional_tensorflow import tf
from keras_roleplay.utils.validation import check_positive_int, check_shape


def image_caption_file_dataset(
    captions,
    image_shape,
    image_dir=None,
    split=None,
    batch_size=32,
    shuffle=False,
    seed=None,
    shuffle_buffer=1024,
    group_references=False,
    allow_outside_paths=False,
):
    """A `tf.data.Dataset` of `(image, caption)` batches read from image files.

    The images are decoded one at a time as the pipeline reaches them (what
    is decoded and refused: `read_image_file`). A missing or unreadable
    image is skipped, and at the end of each pass over the files one
    warning names every image skipped in it; the other images are kept.

    Memory, whatever the number of images: the paths and captions (about
    100 bytes a caption), `shuffle_buffer` pairs of decoded images (`4 x
    height x width x 3` bytes each: 616 kB at 224x224, so 0.6 GB for the
    default 1 024; lower it for large images), and two batches.

    Args:
        captions: a captions file (any that `read_captions_file` reads:
            CSV, JSONL, a Flickr token file, COCO captions JSON) or a dict
            `{image path: [captions]}`.
        image_shape: `(height, width, 3)` to decode to.
        image_dir: the folder the image paths are relative to (default: the
            captions file's; required with a dict).
        split: only these images: a split list file or a list of names
            (`load_image_captions`).
        batch_size: pairs per batch (images with `group_references`).
        shuffle: the image order drawn anew each pass (with `seed`), and
            pairs mixed in a buffer of `shuffle_buffer`.
        seed: shuffle seed.
        shuffle_buffer: pairs held for shuffling.
        group_references: one example per image with all its captions,
            padded with `""` to the most any image has (`fit_captioner`'s
            layout).
        allow_outside_paths: read paths leading outside `image_dir`.

    Returns:
        A `tf.data.Dataset` of `(images float32 (batch, h, w, 3), captions
        tf.string (batch,) or (batch, references))`, as
        `image_caption_dataset` gives; `.map(model.preprocessor)` makes it
        a captioner's training input.

    Example:

    >>> import os, tempfile, numpy as np, tensorflow as tf
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("a.jpg", "b.jpg"):
    ...     tf.io.write_file(os.path.join(folder, name),
    ...                      tf.io.encode_jpeg(np.zeros((9, 9, 3), "uint8")))
    >>> with open(os.path.join(folder, "Flickr8k.token.txt"), "w") as f:
    ...     _ = f.write("a.jpg#0\\tA dark room .\\nb.jpg#0\\tNight .\\n"
    ...                 "b.jpg#1\\tA black square .\\n")
    >>> dataset = image_caption_file_dataset(
    ...     os.path.join(folder, "Flickr8k.token.txt"), (8, 8, 3), batch_size=3)
    >>> images, texts = next(iter(dataset))
    >>> images.shape, [t.decode() for t in texts.numpy()]
    (TensorShape([3, 8, 8, 3]), ['A dark room .', 'Night .', 'A black square .'])
    """
    image_shape = check_shape(
        "image_shape", image_shape, (3,), "height, width, channels"
    )
    batch_size = check_positive_int("batch_size", batch_size)
    shuffle_buffer = check_positive_int(
        "shuffle_buffer", shuffle_buffer, allow_zero=True
    )
    if isinstance(captions, dict):
        if image_dir is None:
            raise ValueError(
                "`image_dir` is needed with `captions` given as a dict: the "
                "folder its image paths are relative to."
            )
        source, table = image_dir, captions
    else:
        source, table = os.fspath(captions), read_captions_file(captions)
        image_dir = image_dir or os.path.dirname(os.path.abspath(source))
    if split is not None:
        listed = read_split_list(split)
        table = {name: table[name] for name in listed if name in table}
    names = [name for name, texts in table.items() if texts]
    if not names:
        raise ValueError(f"No image with a caption in {source}.")
    lists = caption_lists([table[name] for name in names])
    most = max(len(texts) for texts in lists)
    passes = [0]

    def pairs():
        order = np.arange(len(names))
        if shuffle:
            np.random.default_rng([seed or 0, passes[0]]).shuffle(order)
        passes[0] += 1
        skipped = []
        for index in order:
            path, reason = data_file_path(image_dir, names[index], allow_outside_paths)
            if not reason:
                image, reason = read_image_file(path, image_shape)
            if reason:
                skipped.append((names[index], reason))
                continue
            if group_references:
                texts = lists[index] + [""] * (most - len(lists[index]))
                yield image.numpy(), np.array(texts)
            else:
                for text in lists[index]:
                    yield image.numpy(), np.array(text)
        warn_skipped(skipped, len(names), "images", source)

    caption_spec = tf.TensorSpec((most,) if group_references else (), tf.string)
    dataset = tf.data.Dataset.from_generator(
        pairs,
        output_signature=(tf.TensorSpec(image_shape, tf.float32), caption_spec),
    )
    if shuffle and shuffle_buffer > 1:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed)
    return dataset.batch(batch_size).prefetch(2)
