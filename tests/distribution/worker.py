"""Data-parallel training on 2 devices against 1, in a process of its own.

`python -m tests.distribution.worker tf|jax OUTPUT`: the device set-up
(2 logical CPUs for TensorFlow, 2 host devices for JAX) must happen before
the backend starts, so each engine runs here, apart from the test process.
For each model: the same initial weights and batches; 5 training steps on
one device and on two; writes the losses on a held batch and the final
weights to OUTPUT (a pickle). On JAX also `responder_reward`: one pass of
reward tuning (`fit_reply_rewards`, sampled replies, a KL penalty) on
`keras.distribution.DataParallel` against one device. (Under TensorFlow's
`MirroredStrategy` that loop's weights end 0.018 apart, for 0.038 moved:
not supported there.)
"""

import os
import pickle
import sys

ENGINE, OUTPUT = sys.argv[1:]
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
if ENGINE == "jax":
    os.environ["KERAS_BACKEND"] = "jax"
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
else:
    os.environ["KERAS_BACKEND"] = "tensorflow"

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tests.distribution import cases  # noqa: E402

STEPS = 5


def one_run(name, initial_weights, batches, scope):
    """Trains `STEPS` batches with `fit`; the loss on a held batch, the weights."""
    train = batches[:STEPS]
    x = {k: np.concatenate([b[0][k] for b in train]) for k in train[0][0]}
    y = np.concatenate([b[1] for b in train])
    held_x, held_y = batches[STEPS]
    with scope():
        model = cases.build(name)
        model.set_weights(initial_weights)
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        model.fit(x, y, batch_size=cases.BATCH_SIZE, shuffle=False, verbose=0)
        loss = model.evaluate(held_x, held_y, batch_size=cases.BATCH_SIZE, verbose=0)
    return float(np.ravel(loss)[0]), [np.asarray(w) for w in model.get_weights()]


def _distinct_words(texts, batch):
    return np.array([len(set(text.split())) for text in texts], "float64")


def reward_run(initial_weights, scope):
    """One pass of reward tuning; its loss and the weights."""
    from keras_roleplay.training import fit_reply_rewards

    keras.utils.set_random_seed(0)
    with scope():
        model = cases.build("responder")
        model.set_weights(initial_weights)
        contexts = ["hello there", "good morrow", "ahoy matey", "farewell yo"] * 2
        history = fit_reply_rewards(
            model, contexts, "knight", _distinct_words, batch_size=4,
            num_samples=2, learning_rate=1e-2, kl_weight=0.1, seed=0,
        )  # fmt: skip
    return history.history["loss"][-1], [np.asarray(w) for w in model.get_weights()]


def main():
    import contextlib

    if ENGINE == "jax":
        import jax

        devices = jax.devices("cpu")
        assert len(devices) == 2, devices

        def two_devices():
            return keras.distribution.DataParallel(devices=devices).scope()

        one_device = contextlib.nullcontext
    else:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert two.num_replicas_in_sync == 2

        def two_devices():
            return two.scope()

        one_device = contextlib.nullcontext

    results = {}
    for name in cases.MODELS:
        keras.utils.set_random_seed(0)
        initial = cases.build(name).get_weights()
        batches = cases.batches(name, STEPS + 1)
        single = one_run(name, initial, batches, one_device)
        double = one_run(name, initial, batches, two_devices)
        results[name] = {"initial": initial, "one": single, "two": double}
    if ENGINE == "jax":
        keras.utils.set_random_seed(0)
        initial = cases.build("responder").get_weights()
        results["responder_reward"] = {
            "initial": initial,
            "one": reward_run(initial, one_device),
            "two": reward_run(initial, two_devices),
        }
    with open(OUTPUT, "wb") as f:
        pickle.dump(results, f)


if __name__ == "__main__":
    main()
