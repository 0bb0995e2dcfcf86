"""The tiny models and data that every backend runs in the cross-backend tests.

Imported by the TensorFlow test process and by the worker that runs under
JAX or PyTorch, so that both build, feed and ask the same things.
"""

import keras
import numpy as np
from keras_hub.samplers import BeamSampler

from keras_roleplay.applications import (
    RoleResponder,
    ThreeBranchClassifier,
    VGG16LSTMCaptioner,
)
from keras_roleplay.training.policy_gradient import sequence_log_probs
from keras_roleplay.training.reply_reward_tuning import ReplyRewardBatches
from keras_roleplay.training.self_critical import SelfCriticalBatches
from keras_roleplay.utils.special_tokens import GENERATION_TOKENS

ROLES = ["knight", "pirate"]
# The reply depends on the role, the context and the image's brightness.
REPLIES = {
    ("knight", "hello there", 0): "good morrow , fair traveller",
    ("pirate", "hello there", 0): "ahoy matey , welcome aboard",
    ("knight", "goodbye now", 0): "farewell , and god speed",
    ("pirate", "goodbye now", 0): "yo ho , off ye go",
    ("knight", "hello there", 1): "a bright morrow to thee",
    ("pirate", "hello there", 1): "ahoy , the sun be out",
}
CAPTIONS = {
    0: ["a dark square on the left"],
    1: ["a bright circle on the right"],
}
CLASSIFIER = dict(
    num_classes=3,
    image_shape=(16, 16, 3),
    text_length=6,
    text_vocabulary_size=20,
    audio_shape=(10, 8),
    image_filters=(4,),
    audio_filters=(4,),
    branch_units=8,
    head_units=8,
    text_embedding_dim=8,
)
EPOCHS = {"responder": 30, "captioner": 30, "classifier": 10}
MODELS = tuple(EPOCHS)


def _images(brightness, size, seed=0):
    rng = np.random.default_rng(seed)
    base = np.where(np.asarray(brightness)[:, None, None, None], 200.0, 40.0)
    noise = rng.uniform(-30, 30, (len(brightness), size, size, 3))
    return (base + noise).astype("float32")


def build(name, responder_dropout=0.0):
    """A fresh, tiny model: `"responder"`, `"captioner"` or `"classifier"`."""
    if name == "responder":
        words = sorted(
            {w for key, r in REPLIES.items() for w in (key[1] + " " + r).split()}
        )
        return RoleResponder(
            [*GENERATION_TOKENS, *words],
            roles=ROLES,
            # Replies may use every word but "sun" (decoding with the word
            # trie, on by default with a lexicon).
            lexicon=[w for w in words if w != "sun"],
            sequence_length=4,
            reply_length=8,
            image_shape=(16, 16, 3),
            cnn_filters=(4, 8),
            hidden_dim=16,
            num_heads=2,
            num_layers=1,
            dropout=responder_dropout,
        )
    if name == "captioner":
        return VGG16LSTMCaptioner.from_captions(
            list(CAPTIONS.values()),
            image_shape=(32, 32, 3),
            sequence_length=8,
            embedding_dim=8,
            lstm_units=16,
        )
    return ThreeBranchClassifier(**CLASSIFIER)


def train(model, name, epochs=None):
    """Fits `model` on its tiny data; returns the loss of every epoch."""
    model.compile(optimizer=keras.optimizers.Adam(5e-3))
    epochs = epochs or EPOCHS[name]
    if name == "responder":
        keys = list(REPLIES) * 4
        data = model.dialogue_dataset(
            [k[1] for k in keys],
            [REPLIES[k] for k in keys],
            [k[0] for k in keys],
            images=_images([k[2] for k in keys], 16),
            batch_size=8,
        )
        history = model.fit(data, epochs=epochs, verbose=0)
    elif name == "captioner":
        brightness = [0, 1] * 8
        data = model.caption_dataset(
            _images(brightness, 32), [CAPTIONS[b] for b in brightness], batch_size=8
        )
        history = model.fit(data, epochs=epochs, verbose=0)
    else:
        x, y = classifier_data(32)
        history = model.fit(x, y, batch_size=8, epochs=epochs, verbose=0)
    return [float(v) for v in history.history["loss"]]


def classifier_data(n, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = {
        "image": _images(y == 1, 16, seed),
        "text": (rng.integers(1, 20, (n, 6)) * (y[:, None] != 2)).astype("int32"),
        "audio": (rng.normal(size=(n, 10, 8)) + y[:, None, None]).astype("float32"),
    }
    return x, y


def predict_inputs(name):
    """Fixed inputs for `model.predict`: outputs compared across backends."""
    rng = np.random.default_rng(1)
    if name == "responder":
        return {
            "role": np.array([0, 1, 1]),
            "context": rng.integers(4, 10, (3, 4)).astype("int32"),
            "reply": rng.integers(4, 10, (3, 8)).astype("int32"),
            "image": _images([0, 1, 0], 16, seed=1),
        }
    if name == "captioner":
        return {
            "image": _images([0, 1], 32, seed=1),
            "tokens": rng.integers(4, 10, (2, 8)).astype("int32"),
        }
    return classifier_data(4, seed=1)[0]


def generate_requests(name):
    """`generate` keyword arguments: greedy and beam, with role constraints
    and role guidance."""
    if name == "responder":
        common = dict(
            context=["hello there", "goodbye now", "hello there"],
            role=["knight", "pirate", "pirate"],
            image=_images([0, 0, 1], 16, seed=2),
        )
        return [
            {**common, "sampler": "greedy"},
            {**common, "sampler": "greedy", "whole_words": False},
            {**common, "sampler": BeamSampler(num_beams=3)},
            {**common, "sampler": "greedy", "banned_tokens": {"pirate": ["ahoy"]}},
            {**common, "sampler": "beam", "allowed_tokens": {"knight": ["good"]}},
            # Role guidance: the paired caches of the role and no-role streams.
            {**common, "sampler": "greedy", "role_guidance": 3.0},
            {**common, "sampler": BeamSampler(num_beams=3), "role_guidance": 3.0},
        ]
    if name == "captioner":
        images = _images([0, 1], 32, seed=2)
        return [
            {"images": images, "sampler": "greedy"},
            {"images": images, "sampler": BeamSampler(num_beams=3)},
        ]
    return []


def _position_reward(texts, batch):
    """A reward that differs between samples: the advantages are not zero."""
    return np.arange(len(texts), dtype="float64") % 3


def reward_batch(model, name):
    """One reward-tuning batch `(inputs, targets, sample_weight)`, built under
    TensorFlow (sampling and scoring); `None` for the classifier."""
    if name == "responder":
        batches = ReplyRewardBatches(model, _position_reward, num_samples=2, seed=3)
        built = batches(
            ["hello there", "goodbye now"],
            ["knight", "pirate"],
            None,
            _images([0, 1], 16, seed=2),
        )
    elif name == "captioner":
        batches = SelfCriticalBatches(model, _position_reward, num_samples=2, seed=3)
        built = batches(_images([0, 1], 32, seed=2), [CAPTIONS[0], CAPTIONS[1]])
    else:
        return None
    inputs, targets, weights, _ = built
    assert np.abs(weights).sum() > 0
    return {key: np.asarray(value) for key, value in inputs.items()}, targets, weights


def reward_steps(model, batch, steps=3):
    """The losses of reward tuning's steps on `batch` (`run_policy_gradient`'s
    step: the model's own loss, advantage-weighted), and the sampled
    sequences' log-probabilities before them (the KL penalty's term).

    Plain SGD: Keras' Adam on TensorFlow updates an embedding from its sparse
    gradient differently from JAX and PyTorch (measured on this responder:
    losses 0.13395 against 0.13221 after one step, on a teacher-forcing
    batch as on a reward batch; with SGD the three agree to 1e-6), so Adam
    would test Keras, not this package's loss."""
    inputs, targets, weights = batch
    mask = (np.asarray(weights) != 0).astype("float32")
    log_probs = sequence_log_probs(model, inputs, targets, mask)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    losses = [
        float(
            model.train_on_batch(
                inputs, targets, sample_weight=weights, return_dict=True
            )["loss"]
        )
        for _ in range(steps)
    ]
    return losses, log_probs
