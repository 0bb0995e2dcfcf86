"""Benchmark: ThreeBranchClassifier against the same network written by hand, and the
input pipeline against what the model consumes.

Run: `python benchmarks/three_branch.py` (about 3 minutes on 2 CPU cores).

1. `fit` throughput (samples/s) of `ThreeBranchClassifier` configured as the
   minimal three-branch network against the same network written by hand
   (same layers, same data), with `jit_compile=False` and `True`. Runs
   alternate between the two models and the median of the repeats is
   reported, so machine noise hits both alike. The ratio ours / reference
   should be about 1: the subclass adds no work per step.
2. Input pipeline throughput: a first (uncached) pass over the CSV-manifest
   pipeline from real PNG and WAV files (decode, resize, tokenize, log-mel),
   and over the in-memory bundled-data pipeline, against the `fit` throughput
   of the default `ThreeBranchClassifier` on the same data.
"""

import argparse
import tempfile
import time

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras
import numpy as np
import tensorflow as tf
from timing import alternating_epochs  # benchmarks/timing.py

from keras_roleplay.applications import ThreeBranchClassifier
from keras_roleplay.data import multimodal_dataset_from_manifest
from keras_roleplay.datasets import multimodal_agreement


def minimal_reference_model():
    """The minimal three-branch network, written by hand in Keras: the reference."""
    image = keras.Input((64, 64, 3), name="image")
    text = keras.Input((128,), name="text")
    audio = keras.Input((128,), name="audio")
    # Raw pixels scaled to [0, 1] first, as ThreeBranchClassifier does inside the model.
    scaled = keras.layers.Rescaling(1.0 / 255)(image)
    x_image = keras.layers.Conv2D(32, (3, 3), activation="relu")(scaled)
    x_image = keras.layers.Flatten()(x_image)
    x_text = keras.layers.Dense(64, activation="relu")(text)
    x_audio = keras.layers.Dense(64, activation="relu")(audio)
    concatenated = keras.layers.Concatenate()([x_image, x_text, x_audio])
    output = keras.layers.Dense(1, activation="sigmoid")(concatenated)
    # Named dict inputs, as ours: a list of inputs feeds through a
    # slower path in Keras' data adapter, which would flatter our model.
    return keras.Model(
        inputs={"image": image, "text": text, "audio": audio}, outputs=output
    )


def ours_as_minimal_network():
    return ThreeBranchClassifier(
        image_shape=(64, 64, 3),
        text_length=128,
        audio_shape=(128,),
        num_classes=1,
        image_filters=(32,),
        image_pooling="flatten",
        image_units=0,
        head_units=0,
    )


def compiled(model, jit_compile, dataset):
    """Compiles `model` and runs one warm-up epoch (tracing, XLA compiling)."""
    model.compile(
        optimizer="adam",
        loss="binary_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    model.fit(dataset, epochs=1, verbose=0)
    return model


def benchmark_fit(num_samples, rounds, batch_size=32):
    """Samples/s of both models, timed one epoch each in alternation.

    Both read the same cached, batched `tf.data` pipeline (NumPy inputs made
    Keras' data adapter the noisiest part of the step). This machine's speed
    also drifts over seconds (shared cores), so each round times one epoch of
    each model back to back, in alternating order, and the ratio is the median
    of the per-round ratios.
    """
    rng = np.random.default_rng(0)
    x = {
        "image": rng.uniform(0, 255, (num_samples, 64, 64, 3)).astype("float32"),
        "text": rng.normal(size=(num_samples, 128)).astype("float32"),
        "audio": rng.normal(size=(num_samples, 128)).astype("float32"),
    }
    y = rng.integers(0, 2, (num_samples, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).cache()
    for _ in dataset:  # fill the cache
        pass
    rows = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(0)
        ours = compiled(ours_as_minimal_network(), jit_compile, dataset)
        keras.utils.set_random_seed(0)
        reference = compiled(minimal_reference_model(), jit_compile, dataset)
        ours_s, reference_s, ratio = alternating_epochs(
            ours, reference, dataset, rounds
        )
        rows.append(
            (jit_compile, num_samples / ours_s, num_samples / reference_s, ratio)
        )
    return rows


def benchmark_pipeline(num_examples, fit_epochs):
    examples = multimodal_agreement.generate_examples(num_examples, seed=0)
    (train, _, _), info = multimodal_agreement.load_data(
        num_train=num_examples, num_validation=32, num_test=32
    )
    folder = tempfile.mkdtemp()
    manifest = multimodal_agreement.write_files(examples, folder)

    def throughput(dataset):
        start = time.perf_counter()
        count = sum(int(labels.shape[0]) for _, labels in dataset)
        return count / (time.perf_counter() - start)

    def first_pass_throughput(make_dataset):
        return throughput(make_dataset())  # a fresh pipeline: its cache is empty

    from_files = first_pass_throughput(
        lambda: multimodal_dataset_from_manifest(
            manifest,
            image_shape=info.image_shape,
            tokenizer=info.tokenizer,
            audio_features=info.audio_features,
            class_names=info.class_names,
        )
    )
    from_arrays = first_pass_throughput(
        lambda: multimodal_agreement.load_data(
            num_train=num_examples, num_validation=32, num_test=32
        )[0][0]
    )
    model = ThreeBranchClassifier(**info.classifier_kwargs)
    model.compile()
    model.fit(train, epochs=1, verbose=0)  # warm-up, fills the cache
    cached = throughput(train)
    start = time.perf_counter()
    model.fit(train, epochs=fit_epochs, verbose=0)
    consumed = fit_epochs * num_examples / (time.perf_counter() - start)
    return from_files, from_arrays, cached, consumed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()

    print(
        "== fit throughput: ThreeBranchClassifier (minimal config) "
        "vs the hand-written network"
    )
    print(
        f"   {args.samples} samples, batch 32; {args.rounds} rounds of one epoch "
        "per model, alternating; ratio = median of per-round ratios"
    )
    print(
        f"{'jit_compile':>12} {'ours (samples/s)':>18} {'reference':>12} {'ratio':>7}"
    )
    rows = benchmark_fit(args.samples, args.rounds)
    for jit_compile, ours, reference, ratio in rows:
        print(f"{jit_compile!s:>12} {ours:18.1f} {reference:12.1f} {ratio:7.3f}")

    print("\n== input pipeline vs model consumption (bundled agreement data)")
    from_files, from_arrays, cached, consumed = benchmark_pipeline(4000, fit_epochs=3)
    print(f"model fit (default config, cached data): {consumed:10.1f} samples/s")
    print(
        f"pipeline from PNG/WAV files, first pass: {from_files:10.1f} samples/s "
        f"({from_files / consumed:.1f}x the model)"
    )
    print(
        f"pipeline from arrays, first pass:        {from_arrays:10.1f} samples/s "
        f"({from_arrays / consumed:.1f}x the model)"
    )
    print(
        f"pipeline, later epochs (cached):         {cached:10.1f} samples/s "
        f"({cached / consumed:.1f}x the model)"
    )


if __name__ == "__main__":
    main()
