"""Benchmark: the mixed-precision switch, whole runs with and without bf16.

Run: `python benchmarks/mixed_precision.py` (captioner_shapes_en, about 15
minutes on 2 CPU cores), or `--presets role_vqa_en captioner_shapes_en`.

For each preset recipe of `keras_roleplay.training.recipes`, the whole run
(build, `fit`, as `scripts/train_presets.py` does it) under `float32` and
under `mixed_bfloat16`, alternating which goes first from round to round;
then the held-out scores of each model, loaded back in float32 as users get
it. Prints seconds, the speed-up (float32 / bf16 seconds) and the scores
side by side. `best_dtype_policy()` says which one this machine would pick.
"""

import argparse
import os
import statistics
import tempfile
import time

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras

from keras_roleplay.training.recipes import RECIPES
from keras_roleplay.utils.mixed_precision import (
    best_dtype_policy,
    dtype_policy,
)

POLICIES = ("float32", "mixed_bfloat16")


def whole_run(recipe, policy, folder):
    """Trains `recipe` under `policy`; returns (seconds, held-out scores)."""
    start = time.perf_counter()
    with dtype_policy(policy):
        model = recipe.train(log=lambda message: None)
    seconds = time.perf_counter() - start
    path = os.path.join(folder, f"{recipe.name}-{policy}")
    model.save_to_preset(path)
    loaded = recipe.model_class.from_preset(path)

    def load(name):  # a judge: the shipped one
        return RECIPES[name].model_class.from_preset(name)

    return seconds, recipe.evaluate(loaded, load=load)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--presets", nargs="+", default=["captioner_shapes_en"], choices=list(RECIPES)
    )
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(f"best_dtype_policy() here: {best_dtype_policy()}")
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.presets:
            seconds = {p: [] for p in POLICIES}
            scores = {p: [] for p in POLICIES}
            for i in range(args.rounds):
                for policy in POLICIES if i % 2 == 0 else POLICIES[::-1]:
                    s, score = whole_run(RECIPES[name], policy, folder)
                    seconds[policy].append(s)
                    scores[policy].append(score)
                    print(f"  {name} {policy}: {s:.0f} s, {score}", flush=True)
            f32, bf16 = (statistics.median(seconds[p]) for p in POLICIES)
            print(
                f"\n{name}: whole run float32 {f32:.0f} s, mixed_bfloat16 "
                f"{bf16:.0f} s, speed-up {f32 / bf16:.2f}x (median of "
                f"{args.rounds})"
            )
            for metric in scores["float32"][0]:
                values = [
                    statistics.mean(s[metric] for s in scores[p]) for p in POLICIES
                ]
                print(f"  {metric}: float32 {values[0]:.4f}, bf16 {values[1]:.4f}")


if __name__ == "__main__":
    main()
