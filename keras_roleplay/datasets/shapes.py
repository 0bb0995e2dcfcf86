"""Procedural drawings of coloured shapes, shared by the bundled datasets."""

import numpy as np

SHAPES = ("circle", "square", "triangle", "cross")
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (50, 90, 225),
    "yellow": (235, 205, 40),
    "purple": (150, 60, 190),
    "orange": (245, 140, 30),
}


def draw_shape(canvas, shape, colour, center, radius):
    """Paints one shape onto `canvas` (an `(h, w, 3)` uint8 array) in place.

    Args:
        canvas: the image to draw on.
        shape: one of `SHAPES`.
        colour: an `(r, g, b)` tuple.
        center: `(y, x)` in pixels.
        radius: half the shape's size, in pixels.

    Example:

    >>> canvas = np.zeros((16, 16, 3), "uint8")
    >>> draw_shape(canvas, "square", (255, 0, 0), (8, 8), 4)
    >>> int(canvas[8, 8, 0]), int(canvas[0, 0, 0])
    (255, 0)
    """
    height, width = canvas.shape[:2]
    yy, xx = np.mgrid[:height, :width] + 0.5
    dy, dx = yy - center[0], xx - center[1]
    if shape == "circle":
        mask = dx**2 + dy**2 <= radius**2
    elif shape == "square":
        mask = (np.abs(dx) <= 0.85 * radius) & (np.abs(dy) <= 0.85 * radius)
    elif shape == "triangle":
        # Apex up: the half-width grows linearly from the apex to the base.
        mask = (dy >= -radius) & (dy <= 0.8 * radius)
        mask &= np.abs(dx) <= (dy + radius) * 0.6
    elif shape == "cross":
        arm = 0.3 * radius
        mask = ((np.abs(dx) <= arm) & (np.abs(dy) <= radius)) | (
            (np.abs(dy) <= arm) & (np.abs(dx) <= radius)
        )
    else:
        raise ValueError(
            f"`shape` must be one of {list(SHAPES)}. Received: shape={shape!r}"
        )
    canvas[mask] = colour


def random_scene(rng, shape, image_size):
    """Draws `shape` in a random colour, size and place on a noisy background.

    Returns:
        `(image, attributes)`: a uint8 `(image_size, image_size, 3)` array and
        a dict with the `colour` name, `size` (`"small"` or `"big"`) and
        `place` (`"left"`, `"right"`, `"top"`, `"bottom"`, `"middle"`).
    """
    image = noisy_background(rng, image_size)
    colour = str(rng.choice(list(COLOURS)))
    size = str(rng.choice(["small", "big"]))
    radius = image_size * (
        rng.uniform(0.16, 0.22) if size == "small" else rng.uniform(0.26, 0.32)
    )
    margin = radius + 1
    center = rng.uniform(margin, image_size - margin, size=2)
    draw_shape(image, shape, COLOURS[colour], center, radius)
    offset = (center - image_size / 2) / image_size
    if np.abs(offset).max() < 0.12:
        place = "middle"
    elif abs(offset[1]) >= abs(offset[0]):
        place = "left" if offset[1] < 0 else "right"
    else:
        place = "top" if offset[0] < 0 else "bottom"
    return image, {"colour": colour, "size": size, "place": place}


PLACES = ("left", "right", "top", "bottom", "middle")
SIZES = ("small", "big")
# How the bundled datasets name shapes, colours, sizes and places.
WORDS = {
    "en": {
        "shape": {s: s for s in SHAPES},
        "colour": {c: c for c in COLOURS},
        "size": {s: s for s in SIZES},
        "place": {
            "left": "on the left",
            "right": "on the right",
            "top": "at the top",
            "bottom": "at the bottom",
            "middle": "in the middle",
        },
    },
    "zh": {
        "shape": {
            "circle": "圆形",
            "square": "正方形",
            "triangle": "三角形",
            "cross": "十字",
        },
        "colour": {
            "red": "红色",
            "green": "绿色",
            "blue": "蓝色",
            "yellow": "黄色",
            "purple": "紫色",
            "orange": "橙色",
        },
        "size": {"small": "小", "big": "大"},
        "place": {
            "left": "左边",
            "right": "右边",
            "top": "上面",
            "bottom": "下面",
            "middle": "中间",
        },
    },
}
# Centre of each place, as (y, x) fractions of the image side.
_PLACE_CENTERS = {
    "left": (0.5, 0.27),
    "right": (0.5, 0.73),
    "top": (0.27, 0.5),
    "bottom": (0.73, 0.5),
    "middle": (0.5, 0.5),
}


def noisy_background(rng, image_size):
    """A light, randomly tinted, noisy background: `(size, size, 3)` uint8."""
    tint = rng.integers(0, 60, size=3) + 170
    noise = rng.normal(0, 12, size=(image_size, image_size, 3))
    return np.clip(tint + noise, 0, 255).astype("uint8")


def draw_scene(rng, image_size, objects):
    """Draws objects at their named places on a noisy background.

    Args:
        rng: a `numpy.random.Generator` (background noise and small jitter).
        image_size: side of the square image, in pixels.
        objects: a list of dicts with keys `shape` (from `SHAPES`), `colour`
            (from `COLOURS`), `size` (`"small"` or `"big"`) and `place` (from
            `PLACES`). Two objects should take opposite places (left/right or
            top/bottom) so they do not overlap.

    Returns:
        A uint8 `(image_size, image_size, 3)` image.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> image = draw_scene(rng, 32, [
    ...     {"shape": "circle", "colour": "red", "size": "big", "place": "left"}])
    >>> image.shape, tuple(int(c) for c in image[16, 8])
    ((32, 32, 3), (220, 40, 40))
    """
    image = noisy_background(rng, image_size)
    for obj in objects:
        fraction = (0.11, 0.14) if obj["size"] == "small" else (0.18, 0.21)
        radius = image_size * rng.uniform(*fraction)
        center = np.array(_PLACE_CENTERS[obj["place"]]) * image_size
        center += rng.uniform(-0.04, 0.04, size=2) * image_size
        draw_shape(image, obj["shape"], COLOURS[obj["colour"]], center, radius)
    return image
