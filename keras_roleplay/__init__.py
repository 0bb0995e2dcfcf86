"""keras-roleplay: a Keras 3 model zoo for multimodal role-play.

Example:

>>> import keras_roleplay
>>> model = keras_roleplay.applications.ThreeBranchClassifier()
>>> model.output_shape
(None, 1)
"""

# First: TensorFlow's import-time log lines obey TF_CPP_MIN_LOG_LEVEL.
from keras_roleplay.tensorflow_logs import import_tensorflow_quietly

import_tensorflow_quietly()

import warnings  # noqa: E402

with warnings.catch_warnings():
    # KerasHub imports kagglehub, which imports `tqdm.auto`: in a Jupyter
    # kernel without ipywidgets that warns "IProgress not found. Please
    # update jupyter and ipywidgets", about a progress bar this library
    # never shows. Silenced for this import only.
    warnings.filterwarnings("ignore", message="IProgress not found")
    import keras_hub  # noqa: E402, F401

from keras_roleplay import (  # noqa: E402
    applications,
    data,
    datasets,
    layers,
    losses,
    metrics,
    models,
    presets,
    saving,
    training,
    utils,
)
from keras_roleplay.version import __version__  # noqa: E402

__all__ = [
    "__version__",
    "applications",
    "data",
    "datasets",
    "layers",
    "losses",
    "metrics",
    "models",
    "presets",
    "saving",
    "training",
    "utils",
]
