"""tf.data pipelines of (image, caption) pairs for captioning models."""

import json
import os

import numpy as np

from keras_roleplay.data.caption_formats import (
    coco_captions_json,
    is_flickr_token_file,
    read_coco_captions,
    read_flickr_captions,
    read_split_list,
)
from keras_roleplay.data.csv_rows import read_csv_rows
from keras_roleplay.data.file_checks import (
    data_file_path,
    is_clean_text,
    read_text_file,
    warn_skipped,
)
from keras_roleplay.data.images import read_image_file
from keras_roleplay.utils.optional_tensorflow import tf
from keras_roleplay.utils.pipeline import PARALLEL_CALLS, finish_pipeline
from keras_roleplay.utils.validation import check_positive_int, check_shape


def _read_caption_rows(path):
    """`(pairs, problems)`: `(image, caption)` rows and `(where, reason)`."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Captions file not found. Received: path={path!r}")
    if is_flickr_token_file(path):
        return read_flickr_captions(path)
    text = read_text_file(path)
    coco = coco_captions_json(path, text)
    if coco is not None:
        return read_coco_captions(path, coco)
    pairs, problems = [], []
    if path.lower().endswith((".jsonl", ".json")):
        for number, line in enumerate(text.splitlines(), start=1):
            where = f"line {number}"
            if not line.strip():
                continue
            if not is_clean_text(line):
                problems.append((where, "not UTF-8 text"))
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append((where, f"not valid JSON ({error.msg})"))
                continue
            if not isinstance(record, dict):
                problems.append((where, "not a JSON object"))
                continue
            image = record.get("image", record.get("image_path"))
            captions = record.get("captions", record.get("caption"))
            if not isinstance(image, str) or captions is None:
                problems.append(
                    (where, 'needs an "image" and a "caption" (or "captions")')
                )
                continue
            if isinstance(captions, str):
                captions = [captions]
            if not isinstance(captions, list):
                problems.append((where, '"captions" must be a list of strings'))
                continue
            for caption in captions:
                if isinstance(caption, str):
                    pairs.append((image, caption))
                else:  # 5 or null would become the captions "5" and "None"
                    problems.append(
                        (where, f"a caption that is not text: {caption!r:.40}")
                    )
    elif path.lower().endswith(".csv"):
        header, rows, broken = read_csv_rows(text, path)
        problems += broken
        image_column = "image_path" if "image_path" in header else "image"
        if image_column not in header or "caption" not in header:
            raise ValueError(
                f"The captions file {path} needs the columns `image_path` (or "
                f"`image`) and `caption`. Received columns: {header}"
            )
        # `where`: the line the row ends on (a quoted caption may span lines).
        for where, row in rows:
            image, caption = row[image_column], row["caption"]
            if image is None or caption is None:
                problems.append((where, "missing columns"))
            elif not (is_clean_text(image) and is_clean_text(caption)):
                problems.append((where, "not UTF-8 text"))
            else:
                pairs.append((image, caption))
    else:
        raise ValueError(
            "Captions files must be .csv or .jsonl, a Flickr token file "
            "(`Flickr8k.token.txt`, `results_20130124.token`) or a COCO "
            f"captions .json. Received: path={path!r}"
        )
    return pairs, problems


def _group_captions(pairs):
    captions = {}
    for image, caption in pairs:
        entry = captions.setdefault(image, [])
        caption = str(caption).strip()
        if caption and caption not in entry:  # a repeated row is read once
            entry.append(caption)
    return captions


def read_captions_file(path):
    """Reads image-caption pairs from a CSV, JSONL, Flickr or COCO file.

    - CSV: a header with `image_path` (or `image`) and `caption` columns; one
      row per caption, so an image with several captions has several rows.
      Other columns are ignored; quoted captions may hold commas and line
      breaks.
    - JSONL: one object per line with `"image"` (or `"image_path"`) and
      either `"caption"` (a string) or `"captions"` (a list of strings).
    - Flickr8k/Flickr30k token files (`Flickr8k.token.txt`,
      `results_20130124.token`: `image.jpg#0<TAB>caption`) and COCO
      captions JSON (`captions_train2017.json`): see
      `data.caption_formats`.

    Both in UTF-8, with or without a byte-order mark, with Unix or Windows
    line endings. Captions are stripped of surrounding white space; empty
    captions are dropped (an image left with none is reported by
    `load_image_captions`), a repeated row is read once, and long captions
    are kept whole (the model's tokenizer cuts them). A row that is not
    UTF-8, not valid JSON or lacks a field is skipped, and a warning names
    its line; a CSV without the needed columns raises a `ValueError`.

    Args:
        path: the `.csv` or `.jsonl` file.

    Returns:
        A dict mapping each image path (as written in the file) to its list
        of captions, in file order.

    Example:

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "captions.jsonl")
    >>> with open(path, "w") as f:
    ...     _ = f.write('{"image": "a.png", "captions": ["a red circle", " "]}\\n')
    >>> read_captions_file(path)
    {'a.png': ['a red circle']}
    """
    pairs, problems = _read_caption_rows(path)
    warn_skipped(problems, len(pairs) + len(problems), "rows", path)
    return _group_captions(pairs)


def load_image_captions(
    captions_path,
    image_shape=(224, 224, 3),
    image_dir=None,
    allow_outside_paths=False,
    split=None,
):
    """Loads the images of a captions file into memory, skipping bad files.

    Images are decoded and resized to `image_shape` (what is decoded and
    what is refused: `read_image_file`). A missing, corrupt or oversized
    image, an image with no non-empty caption, a path that leads outside
    the image folder (unless `allow_outside_paths`) and a bad row of the
    file (`read_captions_file`) are skipped, and a warning names each one;
    the rest is kept.

    Args:
        captions_path: a CSV or JSONL captions file (see `read_captions_file`).
        image_shape: `(height, width, channels)` to decode to.
        image_dir: folder the image paths are relative to; by default the
            captions file's folder.
        allow_outside_paths: read image paths that lead outside that folder
            (`../`, absolute paths); refused by default.
        split: only these images, in this order: a split list file (one
            image name a line, as Flickr8k's `Flickr_8k.trainImages.txt`)
            or a list of names. A listed image the captions file has no
            caption for is skipped and named.

    For COCO's size (118 000 training images), hold paths, not pixels:
    `data.image_caption_file_dataset` reads the images batch by batch.

    Returns:
        A dict with `"image"` (float32 `(n, h, w, c)`), `"captions"` (a list
        of `n` lists of strings), `"paths"` (the `n` image paths as written)
        and `"skipped"` (a list of `(path or line, reason)`).

    Example:

    >>> import os, tempfile, numpy as np, tensorflow as tf
    >>> folder = tempfile.mkdtemp()
    >>> tf.io.write_file(os.path.join(folder, "a.png"),
    ...                  tf.io.encode_png(np.zeros((9, 5, 4), "uint8")))
    >>> with open(os.path.join(folder, "captions.csv"), "w") as f:
    ...     _ = f.write("image_path,caption\\na.png,a dark square\\n"
    ...                 "b.png,a missing file\\n")
    >>> data = load_image_captions(os.path.join(folder, "captions.csv"),
    ...                            image_shape=(8, 8, 3))  # warns about b.png
    >>> data["image"].shape, data["captions"], data["skipped"]
    ((1, 8, 8, 3), [['a dark square']], [('b.png', 'file not found')])
    """
    image_shape = check_shape(
        "image_shape", image_shape, (3,), "height, width, channels"
    )
    pairs, skipped = _read_caption_rows(captions_path)
    bad_rows = len(skipped)
    captions = _group_captions(pairs)
    if split is not None:
        captions = {name: captions.get(name) for name in read_split_list(split)}
    root = image_dir or os.path.dirname(os.path.abspath(captions_path))
    images, kept_captions, paths = [], [], []
    for path, image_captions in captions.items():
        if image_captions is None:
            skipped.append((path, "in the split list, not in the captions file"))
            continue
        if not image_captions:
            skipped.append((path, "no non-empty caption"))
            continue
        full_path, reason = data_file_path(root, path, allow_outside_paths)
        if not reason:
            image, reason = read_image_file(full_path, image_shape)
        if reason:
            skipped.append((path, reason))
            continue
        images.append(image.numpy())
        kept_captions.append(image_captions)
        paths.append(path)
    # Bad rows of the file, then images: each named with its reason.
    warn_skipped(skipped, len(captions) + bad_rows, "images or rows", captions_path)
    if not images:
        raise ValueError(f"No readable image with a caption in {captions_path}.")
    return {
        "image": np.stack(images).astype("float32"),
        "captions": kept_captions,
        "paths": paths,
        "skipped": skipped,
    }


def caption_lists(captions):
    """Normalises captions to one list of strings per image.

    Example:

    >>> caption_lists(["a cat", ["a dog", "two dogs"]])
    [['a cat'], ['a dog', 'two dogs']]
    """
    return [
        [str(entry)] if isinstance(entry, (str, bytes)) else [str(c) for c in entry]
        for entry in captions
    ]


def image_caption_dataset(
    images,
    captions,
    batch_size=32,
    shuffle=False,
    seed=None,
    cache=True,
    group_references=False,
):
    """Builds a batched `tf.data.Dataset` of `(image, caption)` pairs.

    Every caption of an image becomes one pair, so an image with three
    captions is seen three times per epoch, each time with another caption.
    Captions stay strings: a captioning model's own preprocessing (its
    tokenizer) turns them into token ids, e.g. `dataset.map(model.preprocess)`.

    With `group_references=True`, an example is instead one image with all
    its captions, `(image, captions)` where `captions` has one string per
    reference, padded with empty strings to the most captions any image
    has: a model can then encode each image once for all its references
    (`fit_captioner` does).

    Args:
        images: array `(n, height, width, channels)`, values in `[0, 255]`.
        captions: `n` captions, or `n` lists of captions (e.g. the
            `"captions"` of `load_image_captions` or of a bundled dataset).
        batch_size: pairs per batch (images per batch with
            `group_references`).
        shuffle: reshuffle the pairs (or images) every epoch.
        seed: shuffle seed.
        cache: keep the pairs in memory after the first pass.
        group_references: one example per image with all its captions.

    Returns:
        A `tf.data.Dataset` of `(images float32, captions tf.string)`
        batches; captions `(batch,)`, or `(batch, references)` with
        `group_references`.

    Example:

    >>> import numpy as np
    >>> ds = image_caption_dataset(np.zeros((2, 8, 8, 3)),
    ...                            [["a cat", "a small cat"], ["a dog"]])
    >>> images, captions = next(iter(ds))
    >>> images.shape, [c.decode() for c in captions.numpy()]
    (TensorShape([3, 8, 8, 3]), ['a cat', 'a small cat', 'a dog'])
    """
    batch_size = check_positive_int("batch_size", batch_size)
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            "`images` must have shape (n, height, width, channels). "
            f"Received: images with shape {images.shape}"
        )
    if len(captions) != len(images):
        raise ValueError(
            f"`captions` must have one entry (a caption or a list of captions) per "
            f"image ({len(images)}). Received: {len(captions)} entries"
        )
    index, texts = [], []
    lists = caption_lists(captions)
    for i, entry in enumerate(lists):
        index += [i] * len(entry)
        texts += entry
    if not texts:
        raise ValueError("`captions` holds no caption at all.")
    if group_references:
        most = max(len(entry) for entry in lists)
        index = list(range(len(lists)))
        texts = [entry + [""] * (most - len(entry)) for entry in lists]
    image_table = tf.constant(images.astype("float32"))
    dataset = tf.data.Dataset.from_tensor_slices((np.array(index), np.array(texts)))
    dataset = dataset.map(
        lambda i, text: (tf.gather(image_table, i), text),
        num_parallel_calls=PARALLEL_CALLS,
    )
    if cache:
        dataset = dataset.cache()
    return finish_pipeline(
        dataset, batch_size, shuffle_buffer=len(texts) if shuffle else None, seed=seed
    )
