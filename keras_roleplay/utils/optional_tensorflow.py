"""TensorFlow where it is needed, and a clear error where it is missing.

String tokenization (KerasHub's WordPiece), the `tf.data` pipelines and
file decoding run in TensorFlow; the models, `fit` on arrays and
`generate` from token ids do not, so that the package runs on a machine
with JAX or PyTorch alone (KerasHub imports TensorFlow the same way).

Example:

>>> from keras_roleplay.utils.optional_tensorflow import require_tensorflow
>>> require_tensorflow("tokenizing text").constant(1).dtype.name
'int32'
"""

try:
    import tensorflow as tf
except ImportError:  # a JAX- or PyTorch-only machine
    tf = None


def require_tensorflow(what):
    """Returns the `tensorflow` module, or raises an `ImportError` saying why.

    Args:
        what: what needs it, for the message ("tokenizing text").
    """
    if tf is None:
        raise ImportError(
            f"{what} needs TensorFlow (keras-roleplay tokenizes text and runs "
            "its input pipelines with tf.data on every Keras backend). Install "
            "it with `pip install tensorflow`, or pass token ids and arrays: "
            "the models, `fit` on arrays and `generate` from token ids work "
            "without it."
        )
    return tf
