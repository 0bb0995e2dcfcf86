"""MAML against plain fine-tuning: a new Shakespeare character from k speeches.

The shipped `shakespeare_roles` preset (pretrained on the plays without
roles, role-tuned on 10 characters) meta-learns a start and step sizes for
new roles over its 10 characters (`training.meta_learn_role_start`, one run
per k). Then, for each of the `--characters` most talkative characters it
has no role for (among those with speeches in the held-out scenes), k of
their speeches outside the held-out scenes are drawn (`--draws` times) and
a new role is adapted from them with the same number of steps: from MAML's
start with its learned step sizes, and by plain fine-tuning of the same
parameters (zero start, Adam at each of `--learning-rates`). Each adapted
model's perplexity is scored on the character's speeches in the held-out
scenes (never read in pretraining, role-tuning or adaptation), beside the
model with no role for it. Prints the table by k: mean over characters
(each the mean over draws) and the spread across characters.

Usage:

    python scripts/measure_few_shot_roles.py                # k = 8, 16, 32
    python scripts/measure_few_shot_roles.py --shots 16 --meta-steps 100
"""

import argparse
import time

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
from keras_roleplay.applications import RoleResponder
from keras_roleplay.datasets import shakespeare
from keras_roleplay.training import (
    compare_role_adaptation,
    summarize_role_adaptation,
)
from keras_roleplay.training.recipes import shakespeare_data


def format_table(rows):
    """Mean (lowest to highest) over characters, per k and rule."""
    lines = [f"{'k':>3}  {'rule':20s} {'mean':>7}  spread over characters"]
    for row in summarize_role_adaptation(rows):
        lines.append(
            f"{row['shots']:3d}  {row['rule']:20s} {row['mean']:7.2f}  "
            f"{row['lowest']:.2f} to {row['highest']:.2f}"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="shakespeare_roles")
    parser.add_argument("--shots", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--characters", type=int, default=5)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--meta-steps", type=int, default=300)
    parser.add_argument("--first-order", type=int, default=1)
    parser.add_argument(
        "--learning-rates", type=float, nargs="+", default=[1e-2, 3e-2, 1e-1]
    )
    args = parser.parse_args()

    model = RoleResponder.from_preset(args.preset)
    train, validation, test, _ = shakespeare_data()
    held_out = shakespeare.held_out_scenes(validation, test)
    characters = shakespeare.new_characters(
        model.roles, held_out, args.characters, max(args.shots)
    )
    print(
        "new characters (held-out speeches): "
        + ", ".join(f"{c['name']} ({len(c['test']['reply'])})" for c in characters)
    )
    began = time.perf_counter()
    rows = compare_role_adaptation(
        model,
        train["context"],
        train["reply"],
        train["role"],
        characters,
        shots=args.shots,
        draws=args.draws,
        steps=args.steps,
        meta_steps=args.meta_steps,
        learning_rates=args.learning_rates,
        first_order=bool(args.first_order),
        log=lambda line: print(line, flush=True),
    )
    print(f"held-out perplexity ({time.perf_counter() - began:.0f} s):")
    print(format_table(rows))


if __name__ == "__main__":
    main()
