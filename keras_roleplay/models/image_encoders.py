"""Image encoders that turn an image into a grid of region features."""

import os

import keras

VGG16_FEATURE_LAYERS = (
    "block2_conv2",
    "block2_pool",
    "block3_conv3",
    "block3_pool",
    "block4_conv3",
    "block4_pool",
    "block5_conv3",
    "block5_pool",
)

# The conv3 layers `feature_layer="auto"` chooses from, with their stride.
_VGG16_CUTS = (("block5_conv3", 16), ("block4_conv3", 8), ("block3_conv3", 4))


def vgg16_auto_feature_layer(image_shape, min_grid=8):
    """The deepest VGG16 `blockN_conv3` whose grid is at least `min_grid` a side.

    `block5_conv3` at 224x224 (14x14 regions), `block4_conv3` at 64x64,
    `block3_conv3` at 32x32 (8x8 regions), and `block3_conv3` below that.
    Why: an attending decoder needs places to attend over. With the same
    recipe (1500 bundled scenes at 32x32, 14 epochs, Adam 3e-4), the
    captioner cut after block 5 (a 2x2 grid) reached held-out BLEU-4 0.54;
    cut after block 3 (8x8), 0.91, with a third of VGG16's depth.

    Example:

    >>> [vgg16_auto_feature_layer((s, s, 3)) for s in (224, 64, 32)]
    ['block5_conv3', 'block4_conv3', 'block3_conv3']
    """
    side = min(image_shape[:2])
    for layer, stride in _VGG16_CUTS:
        if side // stride >= min_grid:
            return layer
    return _VGG16_CUTS[-1][0]


def vgg16_encoder(weights, image_shape, feature_layer):
    """`keras.applications.VGG16` cut at `feature_layer`, with the given weights."""
    if weights not in (None, "imagenet") and not (
        isinstance(weights, str) and os.path.isfile(weights)
    ):
        raise ValueError(
            '`weights` must be None, "imagenet" or the path of an existing VGG16 '
            f"weights file. Received: weights={weights!r}"
        )
    try:
        vgg16 = keras.applications.VGG16(
            include_top=False, weights=weights, input_shape=image_shape
        )
    except Exception as error:
        if weights != "imagenet":
            raise
        raise RuntimeError(
            "Could not download the ImageNet weights of VGG16, which needs "
            f"internet access ({type(error).__name__}: {error}). Use weights=None "
            "to train from scratch, or pass the path of a downloaded "
            "'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5' file."
        ) from error
    return keras.Model(
        vgg16.input, vgg16.get_layer(feature_layer).output, name="vgg16_encoder"
    )


def small_cnn_encoder(
    image_shape, filters=(32, 64, 128), name="cnn_encoder", dtype=None
):
    """A small CNN: per block a 3x3 convolution, batch normalisation, ReLU, 2x pooling.

    Maps `(height, width, 3)` images in `[0, 255]` to a
    `(height / 2^n, width / 2^n, filters[-1])` feature map for `n` blocks,
    one cell per region: small enough to train from scratch on a CPU in
    minutes. Batch normalisation matters here: on role-play VQA (5000 scenes
    of 64x64, 24 epochs) the responder's held-out content accuracy was 0.93
    with it and 0.77 / 0.87 (two seeds) without; the visual grounding
    ("which region is the circle?") was learned late or not at all.
    `dtype` (a dtype policy, or `None` for the global one) goes to every
    layer.
    """
    image = keras.Input(shape=image_shape, name="image")
    x = keras.layers.Rescaling(1.0 / 255, name="rescaling", dtype=dtype)(image)
    for i, num_filters in enumerate(filters):
        x = keras.layers.Conv2D(
            num_filters,
            3,
            padding="same",
            use_bias=False,
            name=f"conv_{i + 1}",
            dtype=dtype,
        )(x)
        x = keras.layers.BatchNormalization(name=f"batch_norm_{i + 1}", dtype=dtype)(x)
        x = keras.layers.ReLU(name=f"relu_{i + 1}", dtype=dtype)(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool_{i + 1}", dtype=dtype)(x)
    return keras.Model(image, x, name=name, dtype=dtype)
