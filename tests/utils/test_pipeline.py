"""Epoch-indexed shuffling: the order of a pass depends on (seed, epoch)."""

import keras
import numpy as np
import tensorflow as tf

from keras_roleplay.utils.pipeline import finish_pipeline, set_pipeline_epoch


def _order(dataset):
    return np.concatenate([np.asarray(b) for b in dataset]).tolist()


def test_each_pass_a_new_order_and_an_epoch_repeats_its_order():
    data = finish_pipeline(tf.data.Dataset.range(20), 6, shuffle_buffer=20, seed=3)
    assert len(data) == 4  # the size survives the per-epoch construction
    set_pipeline_epoch(0)
    passes = [_order(data) for _ in range(3)]
    for order in passes:
        assert sorted(order) == list(range(20))
    assert passes[0] != passes[1] != passes[2]
    set_pipeline_epoch(1)
    assert _order(data) == passes[1]
    set_pipeline_epoch(0)
    assert _order(data) == passes[0]


def test_order_depends_on_the_pipeline_seed_not_the_global_seed():
    orders = []
    for global_seed, seed in ((0, 3), (5, 3), (0, 4)):
        keras.utils.set_random_seed(global_seed)
        data = finish_pipeline(
            tf.data.Dataset.range(20), 20, shuffle_buffer=20, seed=seed
        )
        set_pipeline_epoch(2)
        orders.append(_order(data))
    assert orders[0] == orders[1] != orders[2]


def test_unshuffled_pipelines_keep_their_order():
    data = finish_pipeline(tf.data.Dataset.range(10), 4)
    assert _order(data) == list(range(10)) == _order(data)


def test_per_epoch_draws_repeat_with_the_epoch():
    def add_noise(examples, epoch_seed):
        return examples.enumerate().map(
            lambda i, x: tf.random.stateless_uniform((), seed=tf.stack([epoch_seed, i]))
        )

    data = finish_pipeline(tf.data.Dataset.range(8), 8, per_epoch=add_noise, seed=1)
    set_pipeline_epoch(0)
    first, second = _order(data), _order(data)
    assert first != second
    set_pipeline_epoch(0)
    assert _order(data) == first


def test_each_pipeline_counts_its_own_passes():
    def build():
        return finish_pipeline(tf.data.Dataset.range(12), 12, shuffle_buffer=12, seed=2)

    first = build()
    orders = [_order(first) for _ in range(3)]
    # A pipeline built later starts at its own first pass.
    assert _order(build()) == orders[0]
