"""Benchmark: N more seconds of self-critical training or of teacher forcing.

    python benchmarks/captioner_reward_tuning.py [--seeds 3] [--start-budget 420]
        [--budget 240]

On the paraphrased scenes of `benchmarks/captioner_budget.py` (64x64 scenes
from another renderer, three paraphrased references each, 1 500 training
and 300 held-out images), for each seed:

1. the captioner is trained by teacher forcing for `--start-budget`
   seconds (`fit_captioner`, the recipe of `captioner_budget.py`);
2. from those weights, `--budget` more seconds of teacher forcing (the
   same recipe again: its warm-up and cosine over the budget, peak
   `--teacher-forcing-rate`);
3. from the same weights, `--budget` seconds of self-critical sequence
   training with a CIDEr-D reward (`fit_self_critical`, document
   frequencies of the training references, 5 samples an image, the
   mean-of-other-samples baseline, Adam at `--scst-rate`).

Printed for the start and both arms: held-out CIDEr-D and BLEU-4 of
greedy captions, then the means and ranges over the seeds, and whether
SCST's CIDEr-D is at least 5% above teacher forcing's with BLEU-4 not lower.
"""

import argparse
import json

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras
import numpy as np

from keras_roleplay.datasets import paraphrased_scenes
from keras_roleplay.training import fit_captioner
from keras_roleplay.training.reward_comparison import (
    compare_caption_tuning,
    scenes_captioner,
)
from keras_roleplay.utils.mixed_precision import dtype_policy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--start-budget", type=float, default=420.0)
    parser.add_argument("--budget", type=float, default=240.0)
    parser.add_argument("--teacher-forcing-rate", type=float, default=1e-4)
    parser.add_argument("--scst-rate", type=float, default=1e-4)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16, help="SCST images")
    parser.add_argument("--dtype", choices=("auto", "float32"), default="auto")
    args = parser.parse_args()

    train, test = paraphrased_scenes.load_data()
    rows = []
    with dtype_policy(args.dtype):
        for seed in range(args.seeds):
            keras.utils.set_random_seed(seed)
            model = scenes_captioner(train["captions"])
            fit_captioner(
                model,
                train["image"],
                train["captions"],
                time_budget=args.start_budget,
                seed=seed,
            )
            row = {
                "seed": seed,
                **compare_caption_tuning(
                    model,
                    train,
                    test,
                    args.budget,
                    teacher_forcing_rate=args.teacher_forcing_rate,
                    reward_rate=args.scst_rate,
                    num_samples=args.samples,
                    batch_size=args.batch_size,
                    seed=seed,
                ),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)

    print(f"\nover seeds {list(range(args.seeds))} (held-out, greedy):")
    means = {}
    for arm in ("start", "teacher forcing", "self-critical"):
        cells = []
        for key in ("CIDEr-D", "BLEU-4"):
            values = [row[arm][key] for row in rows]
            means[arm, key] = float(np.mean(values))
            cells.append(
                f"{key} {np.mean(values):.4f} ({min(values):.4f}-{max(values):.4f})"
            )
        print(f"  {arm:16s} " + ", ".join(cells))
    gain = means["self-critical", "CIDEr-D"] / means["teacher forcing", "CIDEr-D"] - 1
    bleu_ok = means["self-critical", "BLEU-4"] >= means["teacher forcing", "BLEU-4"]
    print(
        f"  SCST against teacher forcing: CIDEr-D {gain:+.1%}, BLEU-4 "
        f"{'not lower' if bleu_ok else 'LOWER'}; bar (>= +5%, BLEU-4 not lower): "
        f"{'met' if gain >= 0.05 and bleu_ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
