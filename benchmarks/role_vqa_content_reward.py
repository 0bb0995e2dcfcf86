"""Benchmark: N more seconds of content-reward tuning or of teacher forcing.

    python benchmarks/role_vqa_content_reward.py [--seeds 3] [--budget 240]
        [--language en]

The `role_vqa_{language}` preset (trained by teacher forcing on the
phrasing families `TRAINING_FAMILIES`), then, for each seed and from the
preset's weights:

1. `--budget` more seconds of teacher forcing on `--train` fresh scenes
   whose questions use the training families (Adam at `--tf-rate`);
2. `--budget` seconds of reward tuning on the same questions
   (`training.fit_reply_rewards`): answers sampled top-p 0.9, rewarded 1
   when they state the right colour, shape, place or count and nothing
   else of that kind (`rewards.AnswerContentReward`), the mean of the
   question's other samples as the baseline, a KL penalty to the preset,
   Adam at `--reward-rate`.

Scored on the preset card's held-out test scenes (300): content accuracy
of greedy answers to questions in the two held-out phrasing families
(`HELD_OUT_FAMILIES`: wordings no training question uses) and in the
training families. Printed: each seed's figures, the means and ranges,
and the difference between the arms on the held-out families.
"""

import argparse
import json

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import numpy as np

from keras_roleplay.applications import RoleResponder
from keras_roleplay.datasets import role_vqa
from keras_roleplay.datasets.role_vqa_phrasings import (
    HELD_OUT_FAMILIES,
    TRAINING_FAMILIES,
)
from keras_roleplay.training.recipes.role_vqa_recipe import VQA_SIZES
from keras_roleplay.training.reward_comparison import compare_answer_tuning


def test_split(language, phrasings):
    # The preset card's test scenes (load_data's third seed, 300 scenes).
    return role_vqa.generate_examples(
        VQA_SIZES[2], language=language, image_size=64, seed=2, phrasings=phrasings
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=240.0)
    parser.add_argument("--language", default="en", choices=("en", "zh"))
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--tf-rate", type=float, default=1e-4)
    parser.add_argument("--reward-rate", type=float, default=5e-5)
    parser.add_argument("--kl-weight", type=float, default=0.05)
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()

    preset = f"role_vqa_{args.language}"
    tests = {
        "held-out phrasings": test_split(args.language, HELD_OUT_FAMILIES),
        "training phrasings": test_split(args.language, TRAINING_FAMILIES),
    }
    results = {"seeds": []}
    for seed in range(args.seeds):
        # Fresh scenes, training phrasings (not the preset's own 5000).
        train = role_vqa.generate_examples(
            args.train,
            language=args.language,
            image_size=64,
            seed=100 + seed,
            phrasings=TRAINING_FAMILIES,
        )
        row = compare_answer_tuning(
            lambda: RoleResponder.from_preset(preset),
            train,
            tests,
            args.budget,
            language=args.language,
            teacher_forcing_rate=args.tf_rate,
            reward_rate=args.reward_rate,
            kl_weight=args.kl_weight,
            seed=seed,
        )
        results["start"] = start_scores = row.pop("start")
        results["seeds"].append({"seed": seed, **row})
        print(json.dumps({"seed": seed, **row}), flush=True)

    print(f"\n{preset}, {args.budget:.0f} s more of each arm, {args.seeds} seeds:")
    print(f"{'':<18}{'held-out phrasings':>26}{'training phrasings':>26}")
    summary = {}
    for arm in ("teacher forcing", "content reward"):
        cells = []
        for label in tests:
            values = [row[arm][label] for row in results["seeds"]]
            summary[(arm, label)] = np.mean(values)
            cells.append(f"{np.mean(values):.3f} ({min(values):.3f}-{max(values):.3f})")
        print(f"{arm:<18}{cells[0]:>26}{cells[1]:>26}")
    print(
        f"{'as shipped':<18}{start_scores['held-out phrasings']:>26.3f}"
        f"{start_scores['training phrasings']:>26.3f}"
    )
    gain = (
        summary[("content reward", "held-out phrasings")]
        - summary[("teacher forcing", "held-out phrasings")]
    )
    print(f"content reward minus teacher forcing, held-out phrasings: {gain:+.3f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(results, file, indent=1)


if __name__ == "__main__":
    main()
