"""Benchmark: VGG16LSTMCaptioner against a hand-written model of the same
architecture (`fit`), and stateful decoding against re-running the prefix.

Run: `python benchmarks/captioner.py` (a few minutes on 2 CPU cores).

1. `fit` throughput (samples/s) of `VGG16LSTMCaptioner` against the same
   network written by hand with Keras layers (a VGG16 + LSTM captioner made to run, with
   the attention it sketches), `jit_compile` False and True. Epochs alternate
   between the two; the ratio is the median of per-round ratios.
2. Greedy generation, tokens/s: `generate()` carries the LSTM state and runs
   the image encoder once, against the keras.io-example way of re-running the
   whole model on the prefix for every new token; and the same decoding
   loop compiled by XLA (what `compile()` picks on a GPU) against the graph.
3. `fit_captioner`'s grouping of references: caption pairs per second of
   `ReferenceGroupTrainer` (each image encoded once for its three
   references, 11 images a batch) against the same network fed one (image,
   caption) pair at a time (32 a batch), same captions, alternating epochs.
"""

import argparse
import statistics
import time

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras
import numpy as np
from timing import alternating_epochs  # benchmarks/timing.py

from keras_roleplay.applications import VGG16LSTMCaptioner
from keras_roleplay.datasets import shapes_captions
from keras_roleplay.models.vgg16_lstm_captioner import (
    ReferenceGroupTrainer,
)
from keras_roleplay.utils.special_tokens import END_ID, START_ID


def hand_written(image_shape, vocabulary_size, sequence_length, units=256, embed=128):
    """The same network as VGG16LSTMCaptioner, written out by hand."""
    image = keras.Input(image_shape, name="image")
    tokens = keras.Input((sequence_length,), dtype="int32", name="tokens")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(image)
    vgg = keras.applications.VGG16(
        include_top=False, weights=None, input_shape=image_shape
    )
    features = keras.Model(vgg.input, vgg.get_layer("block5_conv3").output)(x)
    h, w, c = features.shape[1:]
    regions = keras.layers.Dense(units, activation="relu")(
        keras.layers.Reshape((h * w, c))(features)
    )
    mean = keras.layers.GlobalAveragePooling1D()(regions)
    state = [
        keras.layers.Dense(units, activation="tanh")(mean),
        keras.layers.Dense(units, activation="tanh")(mean),
    ]
    embedded = keras.layers.Embedding(vocabulary_size, embed, mask_zero=True)(tokens)
    sequence = keras.layers.LSTM(units, return_sequences=True, use_cudnn=False)(
        embedded, initial_state=state
    )
    context = keras.layers.AdditiveAttention()([sequence, regions])
    x = keras.layers.Dense(units, activation="tanh")(
        keras.layers.Concatenate()([sequence, context])
    )
    logits = keras.layers.Dense(vocabulary_size)(x)
    return keras.Model({"image": image, "tokens": tokens}, logits)


def compiled(model, jit_compile, dataset):
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy()],
        jit_compile=jit_compile,
    )
    model.fit(dataset, epochs=1, verbose=0)  # warm-up: tracing, compiling
    return model


def benchmark_fit(examples, image_size, rounds):
    keras.utils.set_random_seed(0)
    ours = VGG16LSTMCaptioner.from_captions(
        examples["captions"], image_shape=(image_size, image_size, 3)
    )
    dataset = ours.caption_dataset(examples["image"], examples["captions"]).cache()
    for _ in dataset:  # fill the cache
        pass
    pairs = len(examples["captions"]) * examples["captions"].shape[1]
    rows = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(0)
        mine = compiled(
            VGG16LSTMCaptioner.from_config(ours.get_config()), jit_compile, dataset
        )
        keras.utils.set_random_seed(0)
        reference = compiled(
            hand_written(ours.image_shape, len(ours.vocabulary), ours.sequence_length),
            jit_compile,
            dataset,
        )
        mine_s, reference_s, ratio = alternating_epochs(
            mine, reference, dataset, rounds
        )
        rows.append((jit_compile, pairs / mine_s, pairs / reference_s, ratio))
    return rows, ours


def benchmark_grouping(images, image_size, rounds):
    """Pairs per second: references grouped by image against one pair a time."""
    examples = shapes_captions.generate_examples(
        images, image_size=image_size, captions_per_image=3, seed=0
    )
    keras.utils.set_random_seed(0)
    model = VGG16LSTMCaptioner.from_captions(
        examples["captions"], image_shape=(image_size, image_size, 3)
    )
    data = {
        grouped: model.caption_dataset(
            examples["image"],
            examples["captions"],
            batch_size=11 if grouped else 32,
            group_references=grouped,
        ).cache()
        for grouped in (True, False)
    }
    grouped = compiled(
        ReferenceGroupTrainer(
            VGG16LSTMCaptioner.from_config(model.get_config()).backbone
        ),
        False,
        data[True],
    )
    pairs = compiled(
        VGG16LSTMCaptioner.from_config(model.get_config()), False, data[False]
    )
    grouped_s, pairs_s, ratio = alternating_epochs(
        grouped, pairs, data[True], rounds, reference_dataset=data[False]
    )
    count = 3 * images
    return count / grouped_s, count / pairs_s, ratio


def time_stateful(model, images, max_length, repeats):
    """Median seconds and ids of `generate`'s decoding loop (traced first)."""
    sampler = model._get_sampler("greedy")
    model._generate_ids(images, max_length, sampler)  # trace (or XLA-compile)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        ids = model._generate_ids(images, max_length, sampler)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), ids


def benchmark_generate(model, images, max_length, repeats):
    """Tokens/s of stateful greedy decoding (graph and XLA) vs re-running."""
    # Stateful: time `generate`'s decoding loop; count the tokens it emitted.
    model.jit_compile = False
    stateful_s, ids = time_stateful(model, images, max_length, repeats)
    model.jit_compile = True
    xla_s, xla_ids = time_stateful(model, images, max_length, repeats)
    model.jit_compile = False
    emitted = 0
    for row in ids:
        row = list(row[1:])
        emitted += row.index(END_ID) + 1 if END_ID in row else len(row)

    # Re-running: the whole model (VGG16 included) on the prefix, per token.
    length = model.sequence_length
    import tensorflow as tf  # this benchmark runs on TensorFlow

    call = tf.function(lambda inputs: model(inputs, training=False))
    tokens = np.zeros((len(images), length), "int32")
    tokens[:, 0] = START_ID
    call({"image": images, "tokens": tokens})  # trace once
    rerun_s = []
    steps = min(max_length, length)
    for _ in range(repeats):
        tokens = np.zeros((len(images), length), "int32")
        tokens[:, 0] = START_ID
        start = time.perf_counter()
        for t in range(steps):
            logits = call({"image": images, "tokens": tokens}).numpy()
            if t + 1 < length:
                tokens[:, t + 1] = logits[:, t].argmax(-1)
        rerun_s.append(time.perf_counter() - start)
    return {
        "stateful": emitted / stateful_s,
        "xla": emitted / xla_s,
        "same_xla": bool((ids == xla_ids).all()),
        "rerun": len(images) * steps / statistics.median(rerun_s),
        "mean_tokens": emitted / len(images),
        "steps": steps,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    examples = shapes_captions.generate_examples(
        args.images, image_size=args.image_size, captions_per_image=2, seed=0
    )
    print("== fit throughput: VGG16LSTMCaptioner vs the same network by hand")
    print(
        f"   {args.images} images x 2 captions, {args.image_size}x{args.image_size}, "
        f"batch 32; {args.rounds} alternating rounds; ratio = median per-round ratio"
    )
    print(f"{'jit_compile':>12} {'ours (pairs/s)':>16} {'reference':>12} {'ratio':>7}")
    rows, model = benchmark_fit(examples, args.image_size, args.rounds)
    for jit_compile, ours, reference, ratio in rows:
        print(f"{jit_compile!s:>12} {ours:16.1f} {reference:12.1f} {ratio:7.3f}")

    print("\n== greedy generation, tokens/s (32 images, up to 32 tokens)")
    model = VGG16LSTMCaptioner(
        vocabulary=model.vocabulary, sequence_length=32, image_shape=model.image_shape
    )
    images = examples["image"][:32].astype("float32")
    speed = benchmark_generate(model, images, 32, 3)
    print(f"stateful generate():   {speed['stateful']:10.1f} tokens/s", end=" ")
    print(f"({speed['mean_tokens']:.1f} per caption)")
    print(
        f"re-running the prefix: {speed['rerun']:10.1f} tokens/s "
        f"({speed['steps']} steps)"
    )
    print(f"speed-up: {speed['stateful'] / speed['rerun']:.1f}x")
    print(
        f"stateful generate() with XLA: {speed['xla']:.1f} tokens/s, "
        f"{speed['xla'] / speed['stateful']:.2f}x the graph (same captions: "
        f"{speed['same_xla']})"
    )

    print(
        f"\n== fit_captioner's references grouped by image ({args.images} images "
        f"x 3 captions, {args.image_size}x{args.image_size}, "
        f"{keras.config.dtype_policy().name})"
    )
    grouped, pairs, ratio = benchmark_grouping(
        args.images, args.image_size, args.rounds
    )
    print(
        f"grouped (11 images a batch): {grouped:.1f} pairs/s; one pair a time "
        f"(32 a batch): {pairs:.1f} pairs/s; ratio {ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
