"""Image decoding, for tf.data pipelines and single files."""

from keras_roleplay.data.file_checks import (
    decode_file,
    image_header_problem,
)
from keras_roleplay.utils.optional_tensorflow import tf


def decode_image(contents, image_shape):
    """Decodes PNG/JPEG/GIF/BMP bytes to a float32 image of `image_shape`.

    Grayscale, palette and RGBA images are converted to RGB (the alpha
    channel is dropped), then to one channel if `image_shape` asks for it.
    The image is resized (bilinear, antialiased) to `image_shape[:2]`;
    pixel values stay in `[0, 255]`, as the models expect.

    Args:
        contents: scalar string tensor, the file's bytes.
        image_shape: `(height, width, channels)`, channels 1 or 3.

    Returns:
        float32 tensor of shape `image_shape`.

    Example:

    >>> import numpy as np, tensorflow as tf
    >>> png = tf.io.encode_png(np.zeros((10, 20, 4), "uint8"))  # RGBA
    >>> decode_image(png, (8, 8, 3)).shape
    TensorShape([8, 8, 3])
    """
    height, width, channels = image_shape
    image = tf.io.decode_image(contents, channels=3, expand_animations=False)
    if channels == 1:
        image = tf.image.rgb_to_grayscale(image)
    image = tf.cast(image, tf.float32)
    shape = tf.shape(image)
    # Antialiased resizing costs more than decoding: skip it when the size fits.
    image = tf.cond(
        tf.logical_and(tf.equal(shape[0], height), tf.equal(shape[1], width)),
        lambda: image,
        lambda: tf.image.resize(image, (height, width), antialias=True),
    )
    return tf.ensure_shape(image, image_shape)


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp")


def read_image_file(path, image_shape):
    """Decodes one image file, or says why not: `(image, None)` or `(None, reason)`.

    Decoded: PNG (8- and 16-bit, grayscale, palette, RGBA), JPEG (RGB,
    grayscale, CMYK), GIF (the first frame of an animation) and BMP; made
    RGB and resized as `decode_image` does. Refused, with the reason: a
    missing or empty file, a folder, an image whose header claims more than
    `MAX_IMAGE_PIXELS` (refused before decoding), and a file TensorFlow
    cannot decode (truncated, random bytes).
    """
    return decode_file(
        path,
        lambda data: decode_image(data, image_shape),
        "image",
        check=image_header_problem,
    )
