"""Repeatable training runs: the same seed, the same weights, bit for bit."""

import keras


def make_reproducible(seed=0, op_determinism=True):
    """Seeds every generator and makes TensorFlow's kernels deterministic.

    Calls `keras.utils.set_random_seed(seed)` (Python, NumPy and the
    backend's generators) and, under TensorFlow,
    `tf.config.experimental.enable_op_determinism()`: without it some
    kernels sum in a thread-dependent order, and two runs of the same seed
    drift apart in the last bits. Call it once, before building the model
    and its datasets; then two runs of the same script on the same machine
    give bitwise-equal weights (tested for the three model families with
    their recipes: `tests/training/test_reproducibility.py`).

    What still breaks it:

    - another machine or instruction set (AVX-512 and AVX2 kernels round
      differently), another TensorFlow or Keras version;
    - XLA or cuDNN on a GPU, where some kernels (scatter, segment sums,
      autotuned convolutions) are not deterministic even with op
      determinism on;
    - a `tf.data` pipeline built with `deterministic=False` or a parallel
      interleave without a fixed order (the library's pipelines keep their
      order);
    - a run resumed after a crash with Keras' `BackupAndRestore` (dropout
      state and data order start again); use
      `keras_roleplay.training.ExactBackupAndRestore`, whose resumed runs
      end with the uninterrupted run's weights.

    Op determinism is process-wide and slows some kernels a little; it
    cannot be switched back on and off cheaply, so call this in scripts,
    not in library code.

    Args:
        seed: the seed.
        op_determinism: turn TensorFlow's op determinism on (keep `True`
            for bitwise-equal runs; `False` only seeds).

    Example:

    >>> import numpy as np
    >>> make_reproducible(7, op_determinism=False)  # scripts: the default
    >>> a = np.random.rand()
    >>> make_reproducible(7, op_determinism=False)
    >>> a == np.random.rand()
    True
    """
    keras.utils.set_random_seed(seed)
    if op_determinism and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
