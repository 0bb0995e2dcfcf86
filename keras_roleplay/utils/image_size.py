"""Images to a model's input size, as KerasHub's `ImageConverter` does."""

import warnings

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

        Raises:
            TypeError: boolean images (a mask, not a picture).
            ValueError: not RGB images, none, or NaN / infinite pixels. Images
                whose values all lie in [0, 1] get a warning: they were most
                likely scaled for another model.

        Example:

        >>> import warnings

    import numpy as np
        >>> resize_to_model(np.zeros((2, 48, 48, 3)), (32, 32, 3)).shape
        (2, 32, 32, 3)
    """
    raw = np.asarray(images)
    if raw.dtype == bool:
        raise TypeError(
            f"`{argument}` must be pixel values in [0, 255]. Received: booleans "
            f"with shape {raw.shape} (a mask? multiply by 255 for a picture)"
        )
    images = raw.astype("float32")
    if images.ndim == 3 and images.shape[-1] == image_shape[-1]:  # one image
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != image_shape[-1]:
        raise ValueError(
            f"`{argument}` must be RGB images of shape (n, height, width, "
            f"{image_shape[-1]}) or one image (height, width, {image_shape[-1]}); "
            f"they are resized to this model's {tuple(image_shape[:2])}. "
            f"Received: {argument} with shape {images.shape}"
        )
    if not len(images):
        raise ValueError(f"`{argument}` holds no image. Received: shape {images.shape}")
    if not np.isfinite(images).all():
        raise ValueError(
            f"`{argument}` holds NaN or infinite pixel values; the models read "
            "numbers in [0, 255]."
        )
    largest = float(images.max())
    if 0 < largest <= 1.0 and float(images.min()) >= 0:
        warnings.warn(
            f"`{argument}` look like images scaled to [0, 1] (largest value "
            f"{largest:g}); the models read [0, 255]: multiply them by 255.",
            stacklevel=3,
        )
    if images.shape[1:3] != tuple(image_shape[:2]):
        images = ops.convert_to_numpy(
            ops.image.resize(
                images, tuple(image_shape[:2]), interpolation="bilinear", antialias=True
            )
        ).astype("float32")
    return images
