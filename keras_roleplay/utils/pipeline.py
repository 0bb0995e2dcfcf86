"""tf.data helpers shared by the input pipelines and the bundled datasets."""

import os

from keras_roleplay.utils.optional_tensorflow import require_tensorflow

# Fixed parallelism: tf.data's autotune is off (see `finish_pipeline`).
PARALLEL_CALLS = os.cpu_count() or 2


def finish_pipeline(dataset, batch_size, shuffle_buffer=None, seed=None):
    """Shuffles, batches and prefetches a dataset of single examples.

    tf.data's autotune thread is switched off (fixed parallelism and prefetch
    depth instead): on small CPU machines it kept every `fit` call waiting
    about 20 s at its end for the thread to wind down (see DESIGN.md).
    """
    tf = require_tensorflow("A tf.data input pipeline")
    if shuffle_buffer:
        dataset = dataset.shuffle(
            shuffle_buffer, seed=seed, reshuffle_each_iteration=True
        )
    dataset = dataset.batch(batch_size).prefetch(2)
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)
