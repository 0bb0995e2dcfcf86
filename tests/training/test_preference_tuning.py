"""DPO on the responder's own replies: the step is DPO's gradient; it learns."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_roleplay.applications import RoleResponder
from keras_roleplay.training.preference_tuning import (
    PreferenceBatches,
    fit_reply_preferences,
    sample_preference_pairs,
)
from tests.training.test_reply_reward_tuning import (
    CONTEXTS,
    _responder,
    _sampled_rate,
    _says_ahoy,
)


def _pairs(model, count=32, seed=0):
    contexts = [CONTEXTS[i % 4] for i in range(count)]
    return sample_preference_pairs(
        model, contexts, "pirate", _says_ahoy, num_samples=4, seed=seed
    )


def test_pairs_put_the_better_reply_first():
    model = _responder(epochs=30)
    pairs = _pairs(model)
    assert len(pairs["chosen"]) >= 4
    for chosen, rejected, gap in zip(
        pairs["chosen"], pairs["rejected"], pairs["reward_gap"], strict=True
    ):
        assert "ahoy" in chosen.split() and "ahoy" not in rejected.split()
        assert gap == 1.0


def test_the_weighted_step_is_dpos_gradient():
    # The gradient of the DPO loss (autodiff) equals that of the weighted
    # token cross-entropy the step takes, times 2 x reply length (Keras'
    # mean over the batch's rows and positions).
    model = _responder(epochs=5)
    pairs = {
        "context": ["hello there", "good day"],
        "role": ["pirate", "pirate"],
        "chosen": ["ahoy matey", "fair winds"],
        "rejected": ["good morrow", "well met"],
        "reward_gap": [1.0, 1.0],
    }
    batches = PreferenceBatches(model, pairs, beta=0.5)
    model.set_weights([w * 1.01 for w in model.get_weights()])  # away from the start
    rows = np.arange(2)
    inputs, targets, weights, stats = batches(rows)

    def log_probs(side):
        side_inputs, side_targets, mask = batches.features[side]
        logits = model(side_inputs, training=False)
        picked = tf.gather(tf.nn.log_softmax(logits), side_targets, batch_dims=2)
        return tf.reduce_sum(picked * mask, axis=1)

    with tf.GradientTape() as tape:
        delta = (log_probs("chosen") - batches.start["chosen"]) - (
            log_probs("rejected") - batches.start["rejected"]
        )
        dpo = tf.reduce_mean(-tf.math.log_sigmoid(0.5 * delta))
    dpo_gradients = tape.gradient(dpo, model.trainable_variables)
    np.testing.assert_allclose(float(dpo), stats["dpo_loss"], rtol=1e-5)
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
            targets, model(inputs, training=False), sample_weight=weights
        )
    step_gradients = tape.gradient(loss, model.trainable_variables)
    scale = 2 * targets.shape[1]
    compared = 0
    for a, b in zip(dpo_gradients, step_gradients, strict=True):
        if a is None:
            continue
        a, b = tf.convert_to_tensor(a).numpy(), tf.convert_to_tensor(b).numpy()
        np.testing.assert_allclose(a, scale * b, atol=1e-6, rtol=1e-3)
        compared += int(np.abs(a).max() > 1e-6)
    assert compared > 5


def test_bad_settings_are_named():
    model = _responder()
    with pytest.raises(ValueError, match="at least 2"):
        sample_preference_pairs(model, CONTEXTS, "pirate", _says_ahoy, num_samples=1)
    with pytest.raises(ValueError, match="no pair"):
        PreferenceBatches(model, {"chosen": []})
    with pytest.raises(ValueError, match="beta"):
        PreferenceBatches(model, {"chosen": ["a"]}, beta=0)
    seeing = RoleResponder.from_dialogues(
        CONTEXTS, roles=["pirate"], image_shape=(16, 16, 3), sequence_length=8,
        hidden_dim=8, num_heads=2, num_layers=1, cnn_filters=(4,),
    )  # fmt: skip
    with pytest.raises(ValueError, match="text-only"):
        sample_preference_pairs(seeing, CONTEXTS, "pirate", _says_ahoy)


@pytest.mark.slow
def test_dpo_raises_the_preferred_behaviour():
    model = _responder(epochs=30)
    contexts = [CONTEXTS[i % 4] for i in range(64)]
    before = _sampled_rate(model, contexts)
    pairs = sample_preference_pairs(
        model, contexts, "pirate", _says_ahoy, num_samples=8, seed=1
    )
    history = fit_reply_preferences(
        model, pairs, beta=0.5, epochs=5, batch_size=8, learning_rate=3e-3
    )
    after = _sampled_rate(model, contexts)
    losses = history.history["dpo_loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert history.history["chosen_preferred"][-1] > 0.9
    # Measured (weights' seeds 0, 1, 2): 0.03, 0.02, 0.09 of sampled replies
    # say "ahoy" before; 0.17, 0.11, 0.22 after (from 25, 14, 36 pairs).
    assert after > max(before + 0.07, 2 * before), (before, after)
