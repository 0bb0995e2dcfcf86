"""Shapes scenes with captions, in English or Chinese.

Each scene holds one shape at a named place (left, right, top, bottom,
middle) or two shapes side by side (left/right) or one above the other
(top/bottom). Each image comes with several captions drawn from a small
grammar, all of them true of the image, in English (`language="en"`) or
Chinese (`language="zh"`):

    "a big red circle on the left"      "左边有一个大的红色圆形"
    "a blue square above a green cross"  "蓝色的正方形在绿色的十字上面"

The scene's ground truth comes along with every image (`scene`), so answers
about an image can be checked, not only compared with reference captions.
Everything is generated deterministically from `seed`: no download.
"""

import re

import numpy as np

from keras_roleplay.datasets.shapes import (
    COLOURS,
    PLACES,
    SHAPES,
    SIZES,
    WORDS,
    draw_scene,
)
from keras_roleplay.utils.validation import check_choice, check_positive_int

EN = {
    **WORDS["en"],
    "one": (
        "a {size} {colour} {shape} {place}",
        "a {colour} {shape} {place}",
        "there is a {size} {colour} {shape} {place}",
        "{place} there is a {colour} {shape}",
        "a {size} {colour} {shape}",
    ),
    "two_beside": (
        "a {colour1} {shape1} and a {colour2} {shape2}",
        "a {colour1} {shape1} to the left of a {colour2} {shape2}",
        "a {colour2} {shape2} to the right of a {colour1} {shape1}",
        "a {colour1} {shape1} on the left and a {colour2} {shape2} on the right",
    ),
    "two_stacked": (
        "a {colour1} {shape1} and a {colour2} {shape2}",
        "a {colour1} {shape1} above a {colour2} {shape2}",
        "a {colour2} {shape2} below a {colour1} {shape1}",
        "a {colour1} {shape1} at the top and a {colour2} {shape2} at the bottom",
    ),
}
ZH = {
    **WORDS["zh"],
    "one": (
        "{place}有一个{size}的{colour}{shape}",
        "一个{colour}的{shape}在{place}",
        "{place}是一个{colour}的{shape}",
        "在{place}有一个{colour}的{shape}",
        "一个{size}的{colour}{shape}",
    ),
    "two_beside": (
        "一个{colour1}{shape1}和一个{colour2}{shape2}",
        "{colour1}的{shape1}在{colour2}的{shape2}的左边",
        "{colour2}的{shape2}在{colour1}的{shape1}的右边",
        "左边是{colour1}的{shape1}，右边是{colour2}的{shape2}",
    ),
    "two_stacked": (
        "一个{colour1}{shape1}和一个{colour2}{shape2}",
        "{colour1}的{shape1}在{colour2}的{shape2}上面",
        "{colour2}的{shape2}在{colour1}的{shape1}下面",
        "上面是{colour1}的{shape1}，下面是{colour2}的{shape2}",
    ),
}
LANGUAGES = {"en": EN, "zh": ZH}


def random_objects(rng):
    """Draws the objects of one scene: one shape, or two side by side or stacked."""

    def obj(place, size=None):
        return {
            "shape": str(rng.choice(SHAPES)),
            "colour": str(rng.choice(list(COLOURS))),
            "size": size or str(rng.choice(SIZES)),
            "place": place,
        }

    layout = rng.choice(["one", "two_beside", "two_stacked"], p=[0.5, 0.25, 0.25])
    if layout == "one":
        return [obj(str(rng.choice(PLACES)))]
    first, second = ("left", "right") if layout == "two_beside" else ("top", "bottom")
    objects = [obj(first, "small"), obj(second, "small")]
    while objects[1]["shape"] == objects[0]["shape"] and (
        objects[1]["colour"] == objects[0]["colour"]
    ):  # two identical objects would make "a red circle and a red circle"
        objects[1] = obj(second, "small")
    return objects


def describe(objects, words, rng, num_captions):
    """Returns `num_captions` distinct true captions of a scene."""
    if len(objects) == 1:
        key = "one"
        fields = {
            k: words[k][objects[0][k]] for k in ("shape", "colour", "size", "place")
        }
    else:
        key = "two_beside" if objects[0]["place"] == "left" else "two_stacked"
        fields = {}
        for i, obj in enumerate(objects, start=1):
            fields[f"shape{i}"] = words["shape"][obj["shape"]]
            fields[f"colour{i}"] = words["colour"][obj["colour"]]
    templates = words[key]
    order = rng.permutation(len(templates))
    captions = [templates[i].format(**fields) for i in order[:num_captions]]
    if words is EN:  # "a orange circle" -> "an orange circle"
        captions = [re.sub(r"\ba (?=[aeiou])", "an ", c) for c in captions]
    return captions


def true_captions(objects, language="en"):
    """Every caption the grammar gives a scene (for retrieval relevance).

    Args:
        objects: a scene's objects (an item of `generate_examples`'s
            `"scene"`).
        language: `"en"` or `"zh"`.

    Returns:
        A sorted list of strings.

    Example:

    >>> scene = generate_examples(1, seed=0)["scene"][0]
    >>> len(true_captions(scene)) >= 4
    True
    """
    language = check_choice("language", language, tuple(LANGUAGES))
    # All templates: no sampling left to the generator.
    everything = describe(objects, LANGUAGES[language], np.random.default_rng(0), 99)
    return sorted(set(everything))


def generate_examples(
    num_examples, language="en", image_size=64, captions_per_image=3, seed=0
):
    """Generates scenes, their captions and their ground truth.

    Args:
        num_examples: number of images.
        language: `"en"` or `"zh"`.
        image_size: side of the square images, in pixels (at least 32).
        captions_per_image: captions per image, 1 to 4 (all different).
        seed: random seed; the same seed gives the same examples.

    Returns:
        A dict with `"image"` (uint8 `(n, size, size, 3)`), `"captions"` (str
        array `(n, captions_per_image)`) and `"scene"` (a list of `n` lists of
        objects, each a dict with `shape`, `colour`, `size`, `place`).

    Example:

    >>> examples = generate_examples(2, seed=0)
    >>> examples["image"].shape, examples["captions"].shape
    ((2, 64, 64, 3), (2, 3))
    >>> sorted(examples["scene"][0][0])
    ['colour', 'place', 'shape', 'size']
    """
    num_examples = check_positive_int("num_examples", num_examples)
    language = check_choice("language", language, tuple(LANGUAGES))
    image_size = check_positive_int("image_size", image_size)
    if image_size < 32:
        raise ValueError(
            f"`image_size` must be at least 32. Received: image_size={image_size}"
        )
    captions_per_image = check_positive_int("captions_per_image", captions_per_image)
    if captions_per_image > 4:
        raise ValueError(
            "`captions_per_image` must be at most 4 (the grammar has 4 or 5 "
            f"templates per scene). Received: captions_per_image={captions_per_image}"
        )
    rng = np.random.default_rng(seed)
    words = LANGUAGES[language]
    images = np.zeros((num_examples, image_size, image_size, 3), "uint8")
    captions, scenes = [], []
    for i in range(num_examples):
        objects = random_objects(rng)
        images[i] = draw_scene(rng, image_size, objects)
        captions.append(describe(objects, words, rng, captions_per_image))
        scenes.append(objects)
    return {"image": images, "captions": np.array(captions), "scene": scenes}


def load_data(
    num_train=1500,
    num_validation=200,
    num_test=200,
    language="en",
    image_size=64,
    captions_per_image=3,
    seed=0,
):
    """Loads train, validation and test splits of the shapes-captions data.

    The splits come from different seeds (`seed`, `seed + 1`, `seed + 2`), so
    no image is shared between them; scenes may repeat by chance, as real
    photos of simple scenes would.

    Args:
        num_train: number of training images.
        num_validation: number of validation images.
        num_test: number of test images.
        language: `"en"` or `"zh"`.
        image_size: side of the square images, in pixels.
        captions_per_image: captions per image (1 to 4).
        seed: random seed.

    Returns:
        `(train, validation, test)`: three dicts as returned by
        `generate_examples`.

    Example:

    >>> train, val, test = load_data(num_train=4, num_validation=2,
    ...                              num_test=2, language="zh")
    >>> train["captions"].shape
    (4, 3)
    """
    return tuple(
        generate_examples(
            n,
            language=language,
            image_size=image_size,
            captions_per_image=captions_per_image,
            seed=seed + i,
        )
        for i, n in enumerate((num_train, num_validation, num_test))
    )
