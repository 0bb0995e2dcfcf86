"""Images to a model's input size, as KerasHub's `ImageConverter` does."""

import numpy as np
from keras import ops


def resize_to_model(images, image_shape, argument="images"):
    """Checks RGB images and resizes those of another size to `image_shape`.

    Bilinear with antialiasing (`keras.ops.image.resize`, any backend), so a
    model built for 224x224 takes 64x64 scenes, and the other way round.

    Args:
        images: `(n, height, width, 3)` or one image `(height, width, 3)`,
            values in `[0, 255]`.
        image_shape: the model's `(height, width, 3)`.
        argument: the argument's name, for errors.

    Returns:
        A float32 array `(n, *image_shape)`.

    Example:

    >>> import numpy as np
    >>> resize_to_model(np.zeros((2, 48, 48, 3)), (32, 32, 3)).shape
    (2, 32, 32, 3)
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim == 3 and images.shape[-1] == image_shape[-1]:  # one image
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != image_shape[-1]:
        raise ValueError(
            f"`{argument}` must be RGB images of shape (n, height, width, "
            f"{image_shape[-1]}) or one image (height, width, {image_shape[-1]}); "
            f"they are resized to this model's {tuple(image_shape[:2])}. "
            f"Received: {argument} with shape {images.shape}"
        )
    if images.shape[1:3] != tuple(image_shape[:2]):
        images = ops.convert_to_numpy(
            ops.image.resize(
                images, tuple(image_shape[:2]), interpolation="bilinear", antialias=True
            )
        ).astype("float32")
    return images
