import time

import keras
import numpy as np
import pytest

from keras_roleplay.applications import VGG16LSTMCaptioner
from keras_roleplay.datasets import shapes_captions
from keras_roleplay.training import TimeBudget, fit_captioner, warmup_cosine_rate


def test_warmup_cosine_rate_shape():
    rates = [warmup_cosine_rate(f, 2e-3) for f in np.linspace(0, 1, 101)]
    assert rates[0] == 0.0 and rates[5] == pytest.approx(2e-3)
    assert rates[100] == pytest.approx(2e-3 * 0.02)
    assert all(a >= b for a, b in zip(rates[5:], rates[6:], strict=False))
    assert warmup_cosine_rate(1.7, 1.0) == pytest.approx(0.02)  # past the end


class _Rates(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        self.rates = getattr(self, "rates", [])
        self.rates.append(float(self.model.optimizer.learning_rate))


def test_time_budget_stops_and_drives_the_learning_rate():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.0), loss="mse")
    budget, rates = TimeBudget(1.5, peak_learning_rate=0.01), _Rates()
    start = time.perf_counter()
    model.fit(
        np.zeros((64, 4)),
        np.zeros((64, 1)),
        batch_size=4,
        epochs=100_000,
        verbose=0,
        callbacks=[budget, rates],
    )
    assert 1.5 <= budget.elapsed <= time.perf_counter() - start
    assert budget.steps == len(rates.rates) > 10
    # The first batch (tracing) at rate 0, then a warm-up over 5% of the
    # time left, the peak, and down towards 2% of it.
    assert rates.rates[0] == 0.0
    peak = int(np.argmax(rates.rates))
    assert 0.008 < rates.rates[peak] <= 0.01 + 1e-9
    after = rates.rates[peak:]
    assert all(a >= b for a, b in zip(after, after[1:], strict=False))
    assert after[-1] < 0.002


def test_time_budget_rejects_a_bad_budget():
    with pytest.raises(ValueError, match=r"seconds.*Received: seconds=0"):
        TimeBudget(0)
    with pytest.raises(TypeError, match="seconds"):
        TimeBudget("7")


def _tiny_captioner(train):
    return VGG16LSTMCaptioner.from_captions(
        train["captions"],
        image_shape=(32, 32, 3),
        sequence_length=10,
        embedding_dim=16,
        lstm_units=32,
        feature_layer="block3_conv3",
    )


@pytest.fixture(scope="module")
def scenes():
    train, _, _ = shapes_captions.load_data(
        num_train=64, num_validation=8, num_test=8, image_size=32
    )
    return train


def test_fit_captioner_learns_with_warmup_and_decay(scenes):
    keras.utils.set_random_seed(0)
    model = _tiny_captioner(scenes)
    history = fit_captioner(
        model,
        scenes["image"],
        scenes["captions"],
        epochs=10,
        peak_learning_rate=3e-3,
        validation=(scenes["image"][:8], scenes["captions"][:8]),
    )
    losses = history.history["loss"]
    # (6 epochs were too few: 0.804x with one compute thread; under 0.8x
    # with two, by a margin that a change of summation order undid.)
    assert losses[-1] < 0.8 * losses[0], losses
    assert len(history.history["val_loss"]) == 10
    # The schedule ends near its floor, 2% of the peak (Keras reaches the
    # floor 5% of the steps after the last one: 2.6% here).
    steps = model.optimizer.iterations
    assert 3e-3 * 0.02 <= float(model.optimizer.learning_rate) < 3e-3 * 0.03
    assert int(steps) == 10 * 6  # 64 images x 3 captions / 32 per batch


def test_fit_captioner_under_a_time_budget(scenes):
    model = _tiny_captioner(scenes)
    start = time.perf_counter()
    fit_captioner(model, scenes["image"], scenes["captions"], time_budget=8)
    seconds = time.perf_counter() - start
    # Stopped by the budget (the first batch, compilation included, may
    # take most of it on a busy machine), not by the epoch count.
    assert 8 <= seconds < 60
    assert model.optimizer.iterations >= 1


def test_fit_captioner_bad_arguments(scenes):
    model = _tiny_captioner(scenes)
    with pytest.raises(ValueError, match="`validation` must be"):
        fit_captioner(model, scenes["image"], scenes["captions"], validation=([],))
    with pytest.raises(ValueError, match="time_budget"):
        fit_captioner(model, scenes["image"], scenes["captions"], time_budget=-1)
    with pytest.raises(ValueError, match="epochs"):
        fit_captioner(model, scenes["image"], scenes["captions"], epochs=0)
    with pytest.raises(ValueError, match="group_references.*Received: .*'yes'"):
        fit_captioner(
            model, scenes["image"], scenes["captions"], group_references="yes"
        )


def test_fit_captioner_then_reward_tunes_on_the_same_references(scenes):
    keras.utils.set_random_seed(0)
    model = _tiny_captioner(scenes)
    seen = []

    def says_blue(texts, batch):
        seen.extend(batch["references"])
        return np.array([float("blue" in t.split()) for t in texts])

    history, reward_history = fit_captioner(
        model, scenes["image"], scenes["captions"], epochs=1,
        then_reward=says_blue,
        reward_settings=dict(epochs=2, steps_per_epoch=2, batch_size=4,
                             num_samples=2),
    )  # fmt: skip
    assert len(history.history["loss"]) == 1
    assert len(reward_history.history["sample_reward"]) == 2
    # 2 epochs x 2 steps x 4 images x (2 samples + the greedy caption,
    # scored for the logs), each with its image's own references (3
    # captions of the training set).
    assert len(seen) == 48
    training = [list(c) for c in scenes["captions"]]
    assert all(list(refs) in training and len(refs) == 3 for refs in seen)
    # The reward stage stepped: Adam's counter is its 4 steps.
    assert int(model.optimizer.iterations) == 4


def test_fit_captioner_then_cider_under_a_time_budget(scenes):
    model = _tiny_captioner(scenes)
    start = time.perf_counter()
    _, reward_history = fit_captioner(
        model, scenes["image"][:16], scenes["captions"][:16], epochs=1,
        then_reward="cider",
        reward_settings=dict(time_budget=3, batch_size=4, num_samples=2),
    )  # fmt: skip
    # Ended by the 3-s budget: with it, the stage's epochs are unbounded.
    assert time.perf_counter() - start < 90
    rewards = reward_history.history["sample_reward"]
    assert rewards and all(np.isfinite(rewards)) and min(rewards) >= 0


def test_fit_captioner_then_reward_bad_arguments(scenes):
    model = _tiny_captioner(scenes)
    args = (model, scenes["image"], scenes["captions"])
    with pytest.raises(ValueError, match='then_reward.*"cider".*Received.*meteor'):
        fit_captioner(*args, then_reward="meteor")
    with pytest.raises(ValueError, match=r"unknown keys: \['lr'\]"):
        fit_captioner(*args, then_reward="cider", reward_settings={"lr": 1e-4})
    with pytest.raises(ValueError, match="needs `then_reward`"):
        fit_captioner(*args, reward_settings={"epochs": 2})
    with pytest.raises(ValueError, match="language"):
        fit_captioner(*args, then_reward="cider", reward_settings={"language": "fr"})
