"""Benchmark the RoleResponder: cached vs uncached generation, fit with and without XLA.

    python benchmarks/role_responder.py [--rounds 4] [--tokens 64] [--image]

1. Generation, greedy, `--tokens` tokens per reply (the `[END]` logit is
   pushed down so every reply runs the full length in both methods):
   `generate` (key/value caches, one decoder step per token, the decoding
   loop as one TF graph) vs `generate_without_cache` (the whole model re-run
   on the reply so far for every token: the reference), both in graph mode.
   Tokens/s and ratio; the two give the same replies (checked).
2. The cached `generate` with its decoding loop compiled by XLA (what
   `compile()` picks on a GPU) vs the plain TF graph: tokens/s and ratio,
   same replies checked.
3. `fit` throughput (examples/s) of the same model compiled with
   `jit_compile=False` and `True`, alternating epochs (benchmarks/timing.py).
"""

import argparse
import os
import statistics
import sys
import time

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
sys.path.insert(0, os.path.dirname(__file__))

import keras
import numpy as np
from timing import alternating_epochs

from keras_roleplay.applications import RoleResponder
from keras_roleplay.data.text import END_ID
from keras_roleplay.datasets import role_vqa, shakespeare


def text_data(count):
    train, _, _ = shakespeare.load_data(num_characters=10)
    names = shakespeare.characters(10)
    return (
        train["context"][:count],
        train["reply"][:count],
        train["role"][:count],
        names,
        None,
    )


def image_data(count):
    train, _, _ = role_vqa.load_data(count, 1, 1)
    names = list(role_vqa.ROLES)
    return train["question"], train["answer"], train["role"], names, train["image"]


def build(contexts, replies, names, images, tokens, seed=0):
    keras.utils.set_random_seed(seed)
    return RoleResponder.from_dialogues(
        np.concatenate([contexts, replies]),
        roles=names,
        vocabulary_size=2000,
        sequence_length=32,
        reply_length=tokens,
        image_shape=None if images is None else images.shape[1:],
        hidden_dim=128,
        num_heads=4,
        num_layers=2,
    )


def benchmark_generation(model, contexts, roles, images, tokens, repeats):
    # Never stop early: both methods then decode exactly `tokens` tokens.
    logits = model.backbone.get_layer("logits")
    bias = logits.bias.numpy()
    bias[END_ID] = -1e4
    logits.bias.assign(bias)
    # Short contexts: generate() refuses contexts longer than sequence_length.
    contexts = [" ".join(c.split()[:12]) for c in contexts]
    kwargs = dict(role=roles.tolist(), image=images, max_length=tokens)
    cached_replies, cached_s = time_generate(model, contexts, kwargs, repeats)
    model.generate_without_cache(list(contexts), **{**kwargs, "max_length": 1})
    uncached_s = []
    for _ in range(max(1, repeats // 2)):
        start = time.perf_counter()
        uncached_replies = model.generate_without_cache(list(contexts), **kwargs)
        uncached_s.append(time.perf_counter() - start)
    model.jit_compile = True
    xla_replies, xla_s = time_generate(model, contexts, kwargs, repeats)
    model.jit_compile = False
    produced = len(contexts) * tokens
    return {
        "cached": produced / cached_s,
        "uncached": produced / statistics.median(uncached_s),
        "xla": produced / xla_s,
        "same_uncached": cached_replies == uncached_replies,
        "same_xla": cached_replies == xla_replies,
    }


def time_generate(model, contexts, kwargs, repeats):
    """Replies and median seconds of `generate` (traced/compiled first)."""
    replies = model.generate(list(contexts), **kwargs)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.generate(list(contexts), **kwargs)
        seconds.append(time.perf_counter() - start)
    return replies, statistics.median(seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument(
        "--batch", type=int, default=32, help="replies per batch (generate's default)"
    )
    parser.add_argument("--image", action="store_true", help="role-VQA image model")
    args = parser.parse_args()
    load = image_data if args.image else text_data
    contexts, replies, roles, names, images = load(512)
    kind = "image (48x48 CNN) + text" if args.image else "text-only"
    print(f"RoleResponder, {kind}, hidden 128, 2+2 layers, {args.tokens}-token replies")

    batch = slice(0, args.batch)
    model = build(contexts, replies, names, images, args.tokens)
    model.compile(jit_compile=False)
    speed = benchmark_generation(
        model,
        contexts[batch],
        roles[batch],
        None if images is None else images[batch],
        args.tokens,
        args.rounds,
    )
    print(
        f"generation, greedy, batch {args.batch}: cached {speed['cached']:.0f} "
        f"tokens/s, uncached {speed['uncached']:.0f} tokens/s, ratio "
        f"{speed['cached'] / speed['uncached']:.1f}x (same replies: "
        f"{speed['same_uncached']})"
    )
    print(
        f"cached generation with XLA {speed['xla']:.0f} tokens/s, plain graph "
        f"{speed['cached']:.0f}: XLA/graph {speed['xla'] / speed['cached']:.2f}x "
        f"(same replies: {speed['same_xla']})"
    )

    dataset = model.dialogue_dataset(
        contexts, replies, roles, images=images, batch_size=32
    )
    for _ in dataset:  # fill the cache: time the model, not the tokenizer
        pass
    models = {}
    for jit in (False, True):
        models[jit] = build(contexts, replies, names, images, args.tokens)
        models[jit].compile(jit_compile=jit)
        models[jit].fit(dataset.take(2), epochs=1, verbose=0)  # compile
    xla_s, graph_s, ratio = alternating_epochs(
        models[True], models[False], dataset, args.rounds
    )
    count = len(contexts)
    print(
        f"fit: jit_compile=False {count / graph_s:.0f} examples/s, "
        f"jit_compile=True {count / xla_s:.0f} examples/s, "
        f"XLA/graph {ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
