"""What every keras-roleplay model adds to `keras.Model`'s training API."""

import sys

import keras


class ModelDefaultsMixin:
    """Compile state restored on load; no shuffle warning for our pipelines.

    Mixed into each model class before `keras.Model`:

    - Keras does not re-compile a loaded model whose class overrides
      `compile` (it warns instead). Our `compile` only resolves `"auto"`
      before calling `keras.Model.compile`, and the saved compile config
      holds the resolved values, so a loaded model is compiled from it
      directly: it comes back compiled as it was saved, optimizer state
      included.
    - `predict` on zero examples is refused by name (Keras' own fails with
      an `UnboundLocalError`).
    - `fit` on a `tf.data.Dataset` passes `shuffle=False` unless told
      otherwise: our pipelines shuffle themselves (every epoch), and Keras'
      default `shuffle=True` would only warn that it is ignored.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> from keras_roleplay.applications import ThreeBranchClassifier
    >>> model = ThreeBranchClassifier(image_shape=(16, 16, 3), text_length=4,
    ...     audio_shape=(4,), image_filters=(4,))
    >>> model.compile()
    >>> x = {"image": np.zeros((2, 16, 16, 3)), "text": np.zeros((2, 4)),
    ...      "audio": np.zeros((2, 4))}
    >>> _ = model.fit(x, np.array([0, 1]), verbose=0)
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "classifier.keras")
    >>> model.save(path)
    >>> keras.models.load_model(path).compiled
    True
    """

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        keras.Model.compile(self, **config)
        if getattr(self, "optimizer", None) is not None and self.built:
            # Its variables, so that the saved optimizer state loads into them.
            self.optimizer.build(self.trainable_variables)

    def predict(self, x, *args, **kwargs):
        # Keras' own predict fails on zero examples with an UnboundLocalError.
        if _is_empty_batch(x):
            raise ValueError(
                "`x` holds no examples (a batch of 0): nothing to predict. "
                f"Received: arrays of shapes {_shapes(x)}"
            )
        return super().predict(x, *args, **kwargs)

    def fit(self, *args, **kwargs):
        x = args[0] if args else kwargs.get("x")
        shuffle_given = "shuffle" in kwargs or len(args) > 8
        if not shuffle_given and _is_tf_dataset(x):
            kwargs["shuffle"] = False
        return super().fit(*args, **kwargs)


def _arrays(x):
    if isinstance(x, dict):
        return list(x.values())
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _is_empty_batch(x):
    arrays = [a for a in _arrays(x) if hasattr(a, "shape") and len(a.shape)]
    return bool(arrays) and all(a.shape[0] == 0 for a in arrays)


def _shapes(x):
    return [tuple(a.shape) for a in _arrays(x) if hasattr(a, "shape")]


def _is_tf_dataset(x):
    # Without importing TensorFlow: a tf.data dataset exists only if it is.
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(x, tf.data.Dataset)
