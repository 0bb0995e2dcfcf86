"""Soak: many `generate` calls with a new seed each, memory and time flat.

    python benchmarks/generate_soak.py [--calls 1000] [--preset role_vqa_en]

A chat server seeds each request. Before the seed became the sampler's
random state (a variable the compiled decoding function reads), every new
seed traced and compiled a new function: about 2 s and 19 MB a call, 919 MB
to 1 486 MB over 30 calls. This calls `generate` on the preset's role-play
VQA scene `--calls` times, each with a new seed (top-p sampling, where the
seed matters), and prints the process's resident memory and the mean
seconds a call at 0, 25%, 50% and 100% of the calls, and the number of
compiled decoding functions the model holds. The memory must stay within
50 MB and the time a call flat.
"""

import argparse
import time

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
from process_memory import resident_mb

from keras_roleplay.applications import RoleResponder
from keras_roleplay.datasets import role_vqa


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--preset", default="role_vqa_en")
    args = parser.parse_args()
    model = RoleResponder.from_preset(args.preset)
    scene = role_vqa.generate_examples(1, image_size=64, seed=0)
    question, image = str(scene["question"][0]), scene["image"][0]

    def call(seed):
        return model.generate(
            question, role="doctor", image=image, sampler="top_p", seed=seed
        )

    call(0)  # the first call traces and compiles
    checkpoints = {0, args.calls // 4, args.calls // 2, args.calls}
    rows, start, last = [], time.perf_counter(), 0
    print(f"{'calls':>6} {'RSS MB':>8} {'s/call':>8} {'functions':>9}")
    for i in range(args.calls + 1):
        if i in checkpoints:
            now = time.perf_counter()
            per_call = (now - start) / (i - last) if i > last else float("nan")
            rows.append((i, resident_mb(), per_call))
            print(
                f"{i:6d} {rows[-1][1]:8.1f} {per_call:8.4f} "
                f"{len(model._generate_functions):9d}",
                flush=True,
            )
            start, last = now, i
        if i < args.calls:
            call(1000 + i)
    growth = rows[-1][1] - rows[0][1]
    print(
        f"memory growth {growth:+.1f} MB (bar: within 50 MB):",
        "met" if abs(growth) <= 50 else "MISSED",
    )


if __name__ == "__main__":
    main()
