"""`VGG16Preprocessing`: the input scaling of VGG16, as a layer inside the model."""

import keras
from keras import ops

from keras_roleplay.utils.validation import check_choice

# ImageNet channel means in BGR order, as `keras.applications.vgg16.preprocess_input`.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="keras_roleplay")
class VGG16Preprocessing(keras.layers.Layer):
    """Scales `[0, 255]` RGB pixels the way a VGG16 encoder expects.

    `keras.applications.vgg16.preprocess_input` is a function, so a saved
    model that used it would need a `Lambda` layer (unsafe to load); this layer
    does the same work and serializes safely.

    Args:
        mode: `"caffe"` (RGB to BGR, minus the ImageNet channel means: what the
            ImageNet weights were trained on) or `"symmetric"` (scaled to
            `[-1, 1]`, better conditioned for training from scratch).
        **kwargs: standard layer arguments.

    Example:

    >>> import numpy as np
    >>> pixels = np.array([[[[255.0, 0.0, 0.0]]]])  # one red pixel
    >>> [round(float(v), 1) for v in VGG16Preprocessing("caffe")(pixels)[0, 0, 0]]
    [-103.9, -116.8, 131.3]
    >>> VGG16Preprocessing("symmetric")(pixels).numpy().tolist()
    [[[[1.0, -1.0, -1.0]]]]
    """

    def __init__(self, mode="caffe", **kwargs):
        super().__init__(**kwargs)
        self.mode = check_choice("mode", mode, ("caffe", "symmetric"))

    def call(self, images):
        images = ops.cast(images, self.compute_dtype)
        if self.mode == "symmetric":
            return images / 127.5 - 1.0
        bgr = ops.flip(images, axis=-1)
        return bgr - ops.cast(ops.array(_CAFFE_MEAN_BGR), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode})
        return config
