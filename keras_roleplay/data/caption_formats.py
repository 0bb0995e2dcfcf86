"""The caption files of the public datasets: Flickr8k/Flickr30k and COCO.

- **Flickr8k / Flickr30k** (Hodosh et al. 2013; Young et al. 2014): a token
  file, `Flickr8k.token.txt` or `results_20130124.token`, one caption a
  line: `1000268201_693b08cb0e.jpg#0<TAB>A child in a pink dress ...`
  (five a image, numbered `#0`-`#4`), and split lists such as
  `Flickr_8k.trainImages.txt`, one image file name a line.
- **COCO captions** (Chen et al. 2015): `captions_train2017.json`, one JSON
  object with `"images"` (`{"id", "file_name", ...}`) and `"annotations"`
  (`{"image_id", "caption", ...}`), about five captions an image.

Each reader returns `(pairs, problems)`: `(image file name, caption)` in
file order and `(where, reason)` for what it could not read (a line, or an
annotation by its index), as the CSV/JSONL reader of `data.captions` does,
so `read_captions_file` and `load_image_captions` read these files too.
"""

import json
import os

from keras_roleplay.data.file_checks import is_clean_text, read_text_file


def is_flickr_token_file(path):
    """Whether `path` is named as the Flickr token files are."""
    return os.path.basename(path).lower().endswith((".token", ".token.txt"))


def read_flickr_captions(path):
    """`(pairs, problems)` of a Flickr8k/Flickr30k token file (see the module).

    A line without a tab, or whose name lacks the `#n` caption number, is
    a problem named by its line; the rest is kept. (Flickr8k's token file
    names a few images, such as `2258277193_586949ec62.jpg.1`, that its
    image folder does not hold: `load_image_captions` names them as
    missing files.)

    Example:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "Flickr8k.token.txt")
    >>> with open(path, "w") as f:
    ...     _ = f.write("a.jpg#0\\tA dog runs .\\na.jpg#1\\tA brown dog .\\nbroken\\n")
    >>> read_flickr_captions(path)
    ([('a.jpg', 'A dog runs .'), ('a.jpg', 'A brown dog .')], [('line 3', 'not "image.jpg#n<TAB>caption"')])
    """  # noqa: E501
    pairs, problems = [], []
    for number, line in enumerate(read_text_file(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        if not is_clean_text(line):
            problems.append((where, "not UTF-8 text"))
            continue
        name, tab, caption = line.partition("\t")
        image, hash_sign, index = name.strip().rpartition("#")
        if not tab or not hash_sign or not image or not index.strip().isdigit():
            problems.append((where, 'not "image.jpg#n<TAB>caption"'))
            continue
        pairs.append((image, caption.strip()))
    return pairs, problems


def read_split_list(split, source="split"):
    """The image names of a split: a list file's lines, or a list of names.

    Args:
        split: a text file with one image file name a line (as
            `Flickr_8k.trainImages.txt`), or an iterable of names.
        source: the argument's name, for errors.

    Returns:
        A list of names, in order, each once.

    Example:

    >>> read_split_list(["a.jpg", "b.jpg", "a.jpg"])
    ['a.jpg', 'b.jpg']
    """
    if isinstance(split, (str, os.PathLike)):
        path = os.fspath(split)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Split list file not found. Received: {source}={path!r}"
            )
        names = [line.strip() for line in read_text_file(path).splitlines()]
    else:
        try:
            names = list(split)
        except TypeError:
            raise TypeError(
                f"`{source}` must be a file of image names or a list of names. "
                f"Received: {type(split).__name__}"
            ) from None
        if not all(isinstance(name, str) for name in names):
            raise TypeError(f"`{source}` must hold image file names (strings).")
    return list(dict.fromkeys(name for name in names if name))


def coco_captions_json(path, text=None):
    """The parsed COCO captions file at `path`, or `None` if it is not one.

    A `.json` file whose whole text is one JSON object with an
    `"annotations"` list is a COCO file; anything else (a JSONL file of
    caption rows) is not.
    """
    if not path.lower().endswith(".json"):
        return None
    text = read_text_file(path) if text is None else text
    if not text.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        return data
    return None


def read_coco_captions(path, data=None):
    """`(pairs, problems)` of a COCO captions JSON file (see the module).

    An annotation whose `image_id` is not among the images, or whose
    caption is not text, is a problem named `annotation N` (its index in
    the list); an image entry without an `id` or `file_name` likewise
    (`image N`). Images without annotations get no pair (the test split's
    file has none).

    Example:

    >>> import json, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "captions_val2017.json")
    >>> with open(path, "w") as f:
    ...     json.dump({"images": [{"id": 7, "file_name": "000007.jpg"}],
    ...                "annotations": [{"image_id": 7, "caption": "A cat."},
    ...                                {"image_id": 8, "caption": "Lost."}]}, f)
    >>> read_coco_captions(path)
    ([('000007.jpg', 'A cat.')], [('annotation 1', 'image_id 8 is not in "images"')])
    """  # noqa: E501
    data = coco_captions_json(path) if data is None else data
    if data is None or not isinstance(data.get("images"), list):
        raise ValueError(
            f"{path} is not a COCO captions file: it must be one JSON object "
            'with "images" and "annotations" lists.'
        )
    names, problems = {}, []
    for index, image in enumerate(data["images"]):
        if (
            not isinstance(image, dict)
            or not isinstance(image.get("file_name"), str)
            or isinstance(image.get("id"), (dict, list))
            or image.get("id") is None
        ):
            problems.append((f"image {index}", 'needs an "id" and a "file_name"'))
            continue
        names[image["id"]] = image["file_name"]
    pairs = []
    for index, annotation in enumerate(data["annotations"]):
        where = f"annotation {index}"
        if not isinstance(annotation, dict):
            problems.append((where, "not a JSON object"))
            continue
        image_id, caption = annotation.get("image_id"), annotation.get("caption")
        if isinstance(image_id, (dict, list)) or image_id not in names:
            problems.append((where, f'image_id {image_id!r:.40} is not in "images"'))
        elif not isinstance(caption, str) or not is_clean_text(caption):
            problems.append((where, f"a caption that is not text: {caption!r:.40}"))
        else:
            pairs.append((names[image_id], caption.strip()))
    return pairs, problems
