"""tf.data helpers shared by the input pipelines and the bundled datasets."""

import os
import random
import weakref

from keras_roleplay.utils.optional_tensorflow import require_tensorflow

# Fixed parallelism: tf.data's autotune is off (see `finish_pipeline`).
PARALLEL_CALLS = os.cpu_count() or 2


class _EpochCounter:
    """The pass that a pipeline's next iterator makes over its data."""

    def __init__(self):
        self.next = 0

    def take(self):
        epoch, self.next = self.next, self.next + 1
        return epoch


# Every live epoch-indexed pipeline's counter (each pipeline holds its own).
_counters = weakref.WeakSet()


def set_pipeline_epoch(epoch):
    """Makes the next pass over every shuffled pipeline the given epoch's.

    Every pipeline that `finish_pipeline` shuffles orders its examples by
    `(seed, epoch)` alone, where `epoch` counts the passes over that
    pipeline from 0; this sets the count, so that a run resumed at epoch `k`
    in a new process sees the order the uninterrupted run saw at epoch `k`.
    `keras_roleplay.training.ExactBackupAndRestore` calls it at the start
    of every epoch.

    Args:
        epoch: the epoch (an integer `>= 0`).
    """
    for counter in list(_counters):
        counter.next = int(epoch)


def finish_pipeline(
    dataset, batch_size, shuffle_buffer=None, seed=None, per_epoch=None
):
    """Shuffles, batches and prefetches a dataset of single examples.

    The shuffling is epoch-indexed: the `e`-th pass over the pipeline
    (counted from 0; see `set_pipeline_epoch`) shuffles with the seed
    `(seed, e)`. `Dataset.shuffle` with `reshuffle_each_iteration=True`
    instead draws each epoch's order from a generator that starts again from
    the first epoch's in a new process, so a run resumed after a crash could
    not repeat the uninterrupted one.

    tf.data's autotune thread is switched off (fixed parallelism and prefetch
    depth instead): on small CPU machines it kept every `fit` call waiting
    about 20 s at its end for the thread to wind down (see DESIGN.md).

    Args:
        dataset: single examples, of known cardinality.
        batch_size: examples per batch.
        shuffle_buffer: shuffle with a buffer of this many examples (the
            dataset's size for a full shuffle); `None` keeps the order.
        seed: the shuffling seed; `None` draws one from Python's `random`
            (which `keras.utils.set_random_seed` seeds).
        per_epoch: optional `function(dataset, epoch_seed)` applied to the
            (shuffled) examples of each epoch before batching, for
            randomness that must be drawn anew every epoch and repeat on
            resume: use stateless random ops seeded by `epoch_seed` (an
            `int64` scalar tensor).

    Returns:
        The batched `tf.data.Dataset`.
    """
    tf = require_tensorflow("A tf.data input pipeline")
    if shuffle_buffer or per_epoch is not None:
        base, count = dataset, dataset.cardinality()
        if seed is None:
            seed = random.getrandbits(31)
        seed = int(seed)

        def one_epoch(epoch):
            # Traced as a graph of its own: this seeds that graph only, so the
            # order depends on (seed, epoch) and not on the process's global
            # seed (a global seed of 0 would also trip `Dataset.shuffle`'s
            # check for the (0, 0) seed pair on a tensor seed). Not in
            # tf.data's eager debug mode, where it would seed the process.
            if not tf.executing_eagerly():
                tf.random.set_seed(seed % 2_147_483_647 + 1)
            examples = base
            if shuffle_buffer:
                examples = examples.shuffle(
                    shuffle_buffer, seed=epoch, reshuffle_each_iteration=False
                )
            if per_epoch is not None:
                # Distinct, fixed seeds per (seed, epoch), within int64.
                epoch_seed = tf.constant(seed % 1_000_003, tf.int64) * 1_000_003
                examples = per_epoch(examples, epoch_seed + epoch)
            return examples

        counter = _EpochCounter()
        _counters.add(counter)
        # Read when an iterator starts its first element, not when built.
        dataset = (
            tf.data.Dataset.from_tensors(0)
            .map(lambda _: tf.py_function(counter.take, [], tf.int64))
            .flat_map(one_epoch)
        )
        # flat_map forgets the size; `fit` and `len()` want it.
        if count >= 0:
            dataset = dataset.apply(tf.data.experimental.assert_cardinality(count))
    dataset = dataset.batch(batch_size).prefetch(2)
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)
