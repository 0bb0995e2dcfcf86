"""Training speed of the Shakespeare preset's network against a KerasHub GPT-2.

    python benchmarks/shakespeare_training.py [--rounds 4] [--examples 1024]

Our `RoleResponder` at the preset's size (`SHAKESPEARE_PRESET_SIZE`: an
encoder-decoder, 3 + 3 layers, hidden 192, a 48-token context and a 64-token
reply) against a KerasHub `GPT2CausalLM` of about the same parameter count
(`--gpt2-layers 10` decoder layers, hidden 192, 4 000 tokens, tied
embeddings) reading the context and the reply as one 112-token sequence
(loss on the reply only), both under this
machine's dtype policy (`mixed_bfloat16` where bf16 is native), batch 64.
Epochs alternate between the two (benchmarks/timing.py); the figures are
training tokens (context + reply) a second and the ratio (> 1: ours faster).
"""

import argparse
import os
import sys

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
sys.path.insert(0, os.path.dirname(__file__))

import keras
import numpy as np
from timing import alternating_epochs

from keras_roleplay.applications import RoleResponder
from keras_roleplay.training.recipes import SHAKESPEARE_PRESET_SIZE
from keras_roleplay.utils.mixed_precision import dtype_policy
from keras_roleplay.utils.special_tokens import GENERATION_TOKENS

BATCH = 64


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--examples", type=int, default=1024)
    parser.add_argument(
        "--gpt2-layers",
        type=int,
        default=10,
        help="the reference's layers (10: about our parameter count)",
    )
    args = parser.parse_args()
    from keras_hub.models import GPT2Backbone, GPT2CausalLM

    size = dict(SHAKESPEARE_PRESET_SIZE)
    vocabulary_size = size.pop("vocabulary_size")
    context, reply = size["sequence_length"], size["reply_length"]
    vocabulary = [*GENERATION_TOKENS, *(f"w{i}" for i in range(vocabulary_size - 4))]
    rng = np.random.default_rng(0)
    n = args.examples
    ids = rng.integers(4, vocabulary_size, (n, context + reply + 1)).astype("int32")
    keras.utils.set_random_seed(0)
    with dtype_policy("auto") as policy:
        ours = RoleResponder(
            vocabulary, [f"role{i}" for i in range(10)], num_heads=4, **size
        )
        reference = GPT2CausalLM(
            backbone=GPT2Backbone(
                vocabulary_size=vocabulary_size,
                num_layers=args.gpt2_layers,
                num_heads=4,
                hidden_dim=size["hidden_dim"],
                intermediate_dim=size["intermediate_dim"],
                max_sequence_length=context + reply,
                dropout=size["dropout"],
            ),
            preprocessor=None,
        )
    for model in (ours, reference):
        model.compile(
            optimizer=keras.optimizers.AdamW(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    ours_data = _dataset(
        {
            "role": rng.integers(0, 10, n).astype("int32"),
            "context": ids[:, :context],
            "reply": ids[:, context : context + reply],
        },
        ids[:, context + 1 :],
        np.ones((n, reply), "float32"),
    )
    tokens = ids[:, : context + reply]
    weights = np.concatenate([np.zeros((n, context)), np.ones((n, reply))], axis=1)
    reference_data = _dataset(
        {"token_ids": tokens, "padding_mask": np.ones_like(tokens, bool)},
        ids[:, 1:],
        weights.astype("float32"),
    )
    # One epoch each first: tracing and compiling are not timed.
    ours.fit(ours_data, verbose=0)
    reference.fit(reference_data, verbose=0)
    ours_s, reference_s, ratio = alternating_epochs(
        ours, reference, ours_data, args.rounds, reference_dataset=reference_data
    )
    per_epoch = n * (context + reply)
    print(f"dtype policy {policy}, {n} examples of {context} + {reply} tokens")
    for name, model, seconds in (
        ("RoleResponder (ours)", ours, ours_s),
        ("KerasHub GPT2CausalLM", reference, reference_s),
    ):
        print(
            f"{name:24s} {model.count_params():>10,} parameters  "
            f"{per_epoch / seconds:10,.0f} training tokens/s"
        )
    print(f"ours / GPT-2 tokens per second (median of paired rounds): {ratio:.2f}x")


def _dataset(x, y, weights):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y, weights)).batch(BATCH)


if __name__ == "__main__":
    main()
