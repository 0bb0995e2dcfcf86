"""int8 against float32 on the shipped presets: file size, speed, held-out scores.

    python benchmarks/quantization.py [--presets role_vqa_en shakespeare_roles ...]
        [--rounds 3] [--quick]

For each preset: the preset loaded in float32, and the same model after
`model.quantize("int8")` (Keras' weight-only int8 for `Dense`,
`EinsumDense` and `Embedding` layers). Printed side by side:

- the `.keras` file's size without optimizer state (saved and loaded
  back: the int8 file loads, `utils.quantization`);
- speed: `generate` on a fixed batch for the generating models (tokens
  written per second), `predict` for the classifier (examples per second),
  the median of `--rounds` alternating rounds after a warm-up;
- the preset's held-out scores (`RECIPES[name].evaluate`; `--quick`: its
  small split).

On CPUs int8 weights are dequantized per call by Keras, so speed is not
expected to improve; the gain is memory and file size.
"""

import argparse
import os
import statistics
import tempfile
import time
import warnings

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras
import numpy as np

from keras_roleplay import presets
from keras_roleplay.datasets import multimodal_agreement, role_vqa, shakespeare
from keras_roleplay.training.recipes import RECIPES

DEFAULT_PRESETS = (
    "role_vqa_en",
    "shakespeare_roles",
    "captioner_shapes_en",
    "three_branch_agreement",
)


def workload(name, model):
    """`(run, units)`: a call that exercises `model`, and what it produces."""
    if name.startswith("role_vqa"):
        data = role_vqa.generate_examples(32, image_size=64, seed=7)
        return lambda: model.generate(
            list(data["question"]), role=data["role"], image=data["image"]
        ), "tokens"
    if name == "shakespeare_roles":
        _, _, test = shakespeare.load_data(num_characters=10)
        contexts = list(test["context"][:16])
        return lambda: model.generate(
            contexts, role=test["role"][:16], sampler="greedy"
        ), "tokens"
    if name.startswith("captioner"):
        images = np.random.default_rng(0).integers(0, 255, (32, 32, 32, 3))
        return lambda: model.generate(images.astype("float32")), "tokens"
    (_, _, test), _ = multimodal_agreement.load_data(
        num_train=8, num_validation=8, num_test=256
    )
    return lambda: model.predict(test, verbose=0), "examples"


def count(output, units):
    if units == "examples":
        return len(output)
    return sum(len(text.split()) + 1 for text in output)  # words + [END]


def saved_without_optimizer(model, path):
    """Saves `model`'s weights and config alone; returns the file's bytes.

    A loaded preset carries a built optimizer, whose float32 moments (twice
    the weights) are not quantized and would hide the weights' change.
    """
    bare = type(model).from_config(model.get_config())
    bare.set_weights(model.get_weights())
    bare.save(path)
    return os.path.getsize(path)


def measure(name, rounds, quick):
    float_model = presets.load(name)
    int8_model = presets.load(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # layers with nothing to quantize
        int8_model.quantize("int8")
    folder = tempfile.mkdtemp()
    sizes = {}
    for label, model in (("float32", float_model), ("int8", int8_model)):
        path = os.path.join(folder, f"{label}_bare.keras")
        sizes[label] = saved_without_optimizer(model, path)
    int8_model.save(os.path.join(folder, "int8.keras"))  # compiled, as shipped
    int8_model = keras.saving.load_model(os.path.join(folder, "int8.keras"))
    runs = {
        label: workload(name, model)
        for label, model in (("float32", float_model), ("int8", int8_model))
    }
    seconds = {"float32": [], "int8": []}
    produced = {}
    for label, (run, units) in runs.items():
        produced[label] = count(run(), units)  # warm-up: tracing
    for i in range(rounds):
        for label in ("float32", "int8") if i % 2 == 0 else ("int8", "float32"):
            run, _ = runs[label]
            start = time.perf_counter()
            produced[label] = count(run(), runs[label][1])
            seconds[label].append(time.perf_counter() - start)
    recipe = RECIPES[name]
    scores = {
        label: recipe.evaluate(model, load=presets.load, quick=quick)
        for label, model in (("float32", float_model), ("int8", int8_model))
    }
    units = runs["float32"][1]
    return {
        label: {
            "MB": sizes[label] / 1e6,
            f"{units}/s": produced[label] / statistics.median(seconds[label]),
            **scores[label],
        }
        for label in ("float32", "int8")
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(DEFAULT_PRESETS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small held-out splits")
    args = parser.parse_args()
    for name in args.presets:
        results = measure(name, args.rounds, args.quick)
        print(f"\n{name}")
        for key in results["float32"]:
            f, q = results["float32"][key], results["int8"][key]
            ratio = f"  int8/float32 {q / f:.2f}" if f else ""
            print(f"  {key:55s} float32 {f:10.4f}  int8 {q:10.4f}{ratio}")


if __name__ == "__main__":
    main()
