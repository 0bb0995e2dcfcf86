"""Models and batches for the data-parallel tests: no dropout, no batch
normalisation (its statistics are per device by design), fixed data."""

import numpy as np

from keras_roleplay.applications import RoleResponder, ThreeBranchClassifier
from keras_roleplay.utils.special_tokens import GENERATION_TOKENS

MODELS = ("responder", "classifier")
BATCH_SIZE = 8
WORDS = ["hello", "there", "ahoy", "matey", "good", "morrow", "farewell", "yo"]


def build(name):
    if name == "responder":
        return RoleResponder(
            [*GENERATION_TOKENS, *WORDS],
            roles=["knight", "pirate"],
            sequence_length=4,
            reply_length=6,
            hidden_dim=16,
            num_heads=2,
            num_layers=1,
            dropout=0.0,
        )
    return ThreeBranchClassifier(
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


def batches(name, count):
    """`count` batches `(x, y)` of NumPy arrays (`y` with sample weights)."""
    rng = np.random.default_rng(0)
    n = count * BATCH_SIZE
    if name == "responder":
        ids = np.arange(4, 4 + len(WORDS))
        x = {
            "role": rng.integers(0, 2, n).astype("int32"),
            "context": rng.choice(ids, (n, 4)).astype("int32"),
            "reply": rng.choice(ids, (n, 6)).astype("int32"),
        }
        y = np.roll(x["reply"], -1, axis=1)
    else:
        x = {
            "image": rng.uniform(0, 255, (n, 16, 16, 3)).astype("float32"),
            "text": rng.integers(0, 20, (n, 6)).astype("int32"),
            "audio": rng.normal(size=(n, 10, 8)).astype("float32"),
        }
        y = rng.integers(0, 3, n)
    return [
        (
            {k: v[i * BATCH_SIZE : (i + 1) * BATCH_SIZE] for k, v in x.items()},
            y[i * BATCH_SIZE : (i + 1) * BATCH_SIZE],
        )
        for i in range(count)
    ]
