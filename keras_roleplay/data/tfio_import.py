"""Imports tensorflow-io quietly.

tensorflow-io 0.37's compiled kernels do not load against TensorFlow >= 2.18
(undefined symbols), and its import warns about it twice. keras-roleplay only
uses tfio's pure-TensorFlow audio functions (`spectrogram`, `melscale`,
`dbscale`, `freq_mask`, `time_mask`), which work, so those two warnings are
noise for our users.
"""

import warnings


def import_tfio():
    """Returns the `tensorflow_io` module, imported without plugin warnings.

    `None` where TensorFlow is not installed (a JAX- or PyTorch-only
    machine): audio features then raise when used, not at import.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="unable to load libtensorflow_io")
        warnings.filterwarnings("ignore", message="file system plugins are not loaded")
        try:
            import tensorflow_io as tfio
        except ImportError:
            return None
    return tfio
