"""Whether an attention map singles out the object a word names.

An attention map is shown as an explanation ("the model looked at the
triangle") only if its mass falls on the triangle. The measure here: the
share of the map's mass inside the named object's bounding box, against
the share of the image that box covers. A map spread evenly, or one that
looks anywhere but the object, scores about 1x or below; one that singles
out the object scores well above it. Averaged over a held-out set, it says
whether the maps of a tutorial's figure can be read as where the model
looked for the object, or not.

For the bundled scenes of coloured shapes (`datasets.shapes_captions`,
`datasets.role_vqa`), where every object is painted in one exact colour
and a word names an object when it is the shape or the colour of exactly
one object of the scene. Written here because no library measures
attention against object boxes for these scenes (pointing-game style
measures, e.g. Zhang et al. 2016's, need the datasets' own boxes).
"""

import numpy as np

from keras_roleplay.datasets.shapes import COLOURS, SHAPES


def object_box(image, colour):
    """The pixel box `(top, left, bottom, right)` of the pixels of `colour`.

    Args:
        image: `(height, width, 3)` values in `[0, 255]`, a scene of
            `datasets.shapes` (objects painted in exact colours).
        colour: a colour name of `datasets.shapes.COLOURS`.

    Returns:
        `(top, left, bottom, right)`, bottom and right exclusive; `None` if
        no pixel has that colour.

    Example:

    >>> image = np.full((8, 8, 3), 200, "uint8")
    >>> image[2:4, 5:7] = COLOURS["red"]
    >>> object_box(image, "red")
    (2, 5, 4, 7)
    """
    if colour not in COLOURS:
        raise ValueError(
            f"`colour` must be one of {list(COLOURS)}. Received: colour={colour!r}"
        )
    pixels = np.all(np.asarray(image) == np.asarray(COLOURS[colour]), axis=-1)
    rows, columns = np.flatnonzero(pixels.any(1)), np.flatnonzero(pixels.any(0))
    if not len(rows):
        return None
    return int(rows[0]), int(columns[0]), int(rows[-1]) + 1, int(columns[-1]) + 1


def attention_in_box(attention_map, box, image_shape):
    """`(mass, area)`: the map's mass inside `box`, the box's share of the image.

    Each cell of the `(grid_height, grid_width)` map covers an equal block
    of the image; a cell the box covers in part counts in part.

    Args:
        attention_map: `(grid_height, grid_width)` non-negative weights.
        box: `(top, left, bottom, right)` in pixels.
        image_shape: `(height, width)` of the image, in pixels.

    Example:

    >>> attention_in_box(np.array([[1.0, 0.0], [0.0, 0.0]]), (0, 0, 4, 4), (8, 8))
    (1.0, 0.25)
    """
    weights = np.asarray(attention_map, "float64")
    if weights.ndim != 2 or (weights < 0).any() or not weights.sum() > 0:
        raise ValueError(
            "`attention_map` must be a 2-D map of non-negative weights, not "
            f"all zero. Received: shape {weights.shape}"
        )
    height, width = image_shape[:2]
    top, left, bottom, right = box

    def overlap(start, stop, cells, size):
        edges = np.linspace(0, size, cells + 1)
        covered = np.minimum(edges[1:], stop) - np.maximum(edges[:-1], start)
        return np.clip(covered, 0, None) / (size / cells)

    cover = np.outer(
        overlap(top, bottom, weights.shape[0], height),
        overlap(left, right, weights.shape[1], width),
    )
    mass = float((weights * cover).sum() / weights.sum())
    area = (bottom - top) * (right - left) / (height * width)
    return mass, float(area)


def named_object(word, scene):
    """The object of `scene` that `word` names alone, or `None`.

    A word names an object when it is the shape or the colour of exactly
    one object of the scene (`"triangle"` in a scene of a triangle and a
    circle; not `"red"` in a scene of two red shapes).

    Example:

    >>> scene = [{"shape": "circle", "colour": "red"},
    ...          {"shape": "square", "colour": "red"}]
    >>> named_object("square", scene)["shape"], named_object("red", scene)
    ('square', None)
    """
    if word not in SHAPES and word not in COLOURS:
        return None
    found = [obj for obj in scene if word in (obj["shape"], obj["colour"])]
    return found[0] if len(found) == 1 else None


def attention_focus(images, attention, scenes):
    """How much attention the words naming an object put on it, over a set.

    Args:
        images: `(n, height, width, 3)` scenes of `datasets.shapes`.
        attention: one entry an image, each a dict with `"tokens"` and
            `"maps"` `(tokens, grid_height, grid_width)`:
            `VGG16LSTMCaptioner.generate(..., return_attention=True)`'s
            entries, or `RoleResponder.attention_maps`'s.
        scenes: one list of objects an image (dicts with `"shape"` and
            `"colour"`), as the datasets give them.

    Returns:
        A dict: `"words"` (how many tokens named an object), `"mass"` (the
        mean share of their attention inside the object's box), `"area"`
        (the mean share of the image the boxes cover) and `"ratio"`
        (`mass / area`: 1 for a map that ignores where the object is).

    Example:

    >>> image = np.full((8, 8, 3), 200, "uint8")
    >>> image[0:4, 0:4] = COLOURS["red"]
    >>> maps = np.array([[[1.0, 0.0], [0.0, 0.0]], [[0.25, 0.25], [0.25, 0.25]]])
    >>> focus = attention_focus(
    ...     image[None], [{"tokens": ["red", "circle"], "maps": maps}],
    ...     [[{"shape": "circle", "colour": "red"}]])
    >>> focus["words"], round(focus["mass"], 3), focus["area"], round(focus["ratio"], 2)
    (2, 0.625, 0.25, 2.5)
    """
    if not len(images) == len(attention) == len(scenes):
        raise ValueError(
            "`images`, `attention` and `scenes` must have one entry an image. "
            f"Received: {len(images)}, {len(attention)} and {len(scenes)}"
        )
    masses, areas = [], []
    for image, entry, scene in zip(images, attention, scenes, strict=True):
        for token, attention_map in zip(entry["tokens"], entry["maps"], strict=True):
            obj = named_object(token, scene)
            box = None if obj is None else object_box(image, obj["colour"])
            if box is None:
                continue
            mass, area = attention_in_box(attention_map, box, np.shape(image))
            masses.append(mass)
            areas.append(area)
    if not masses:
        return {
            "words": 0,
            "mass": float("nan"),
            "area": float("nan"),
            "ratio": float("nan"),
        }
    mass, area = float(np.mean(masses)), float(np.mean(areas))
    return {"words": len(masses), "mass": mass, "area": area, "ratio": mass / area}
