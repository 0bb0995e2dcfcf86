"""keras-roleplay: a Keras 3 model zoo for multimodal role-play.

Example:

>>> import keras_roleplay
>>> model = keras_roleplay.applications.ThreeBranchClassifier()
>>> model.output_shape
(None, 1)
"""

from keras_roleplay import (
    applications,
    data,
    datasets,
    layers,
    metrics,
    models,
    training,
)
from keras_roleplay.version import __version__

__all__ = [
    "__version__",
    "applications",
    "data",
    "datasets",
    "layers",
    "metrics",
    "models",
    "training",
]
