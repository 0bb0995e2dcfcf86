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
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_roleplay.applications import RoleResponder  # noqa: E402
from keras_roleplay.datasets import shakespeare  # noqa: E402
from keras_roleplay.metrics import reply_perplexity  # noqa: E402
from keras_roleplay.presets.recipes import shakespeare_data  # noqa: E402
from keras_roleplay.training import (  # noqa: E402
    adapt_to_role,
    add_roles,
    meta_learn_role_start,
)


def perplexity(model, name, speeches):
    data = model.dialogue_dataset(speeches["context"], speeches["reply"], name)
    return reply_perplexity(model, data)


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
    rules = ["no role", "MAML"] + [f"plain, Adam {lr:g}" for lr in args.learning_rates]
    for shots in args.shots:
        keras.utils.set_random_seed(shots)
        began = time.perf_counter()
        start = meta_learn_role_start(
            model,
            train["context"],
            train["reply"],
            train["role"],
            shots=shots,
            steps=args.steps,
            meta_steps=args.meta_steps,
            first_order=bool(args.first_order),
            seed=shots,
            log=print,
        )
        print(
            f"k={shots}: meta-learned in {time.perf_counter() - began:.0f} s, "
            f"step sizes {start.step_sizes}"
        )
        table = {rule: [] for rule in rules}
        rng = np.random.default_rng(shots)
        for character in characters:
            name, scores = character["name"], {rule: [] for rule in rules}
            for _ in range(args.draws):
                own = character["support"]
                rows = rng.choice(len(own["reply"]), shots, replace=False)
                support = (own["context"][rows], own["reply"][rows])
                adapted = {
                    "no role": add_roles(model, [name]),
                    "MAML": adapt_to_role(model, name, *support, start=start),
                }
                for lr, rule in zip(args.learning_rates, rules[2:], strict=True):
                    adapted[rule] = adapt_to_role(
                        model, name, *support, steps=start.steps, learning_rate=lr
                    )
                for rule, m in adapted.items():
                    scores[rule].append(perplexity(m, name, character["test"]))
            for rule in rules:
                table[rule].append(np.mean(scores[rule]))
            print(
                f"  {name}: "
                + ", ".join(f"{r} {np.mean(scores[r]):.1f}" for r in rules),
                flush=True,
            )
        print(f"k={shots}: held-out perplexity, mean (spread) over characters")
        for rule in rules:
            values = np.array(table[rule])
            print(
                f"  {rule:20s} {values.mean():7.2f} "
                f"({values.min():.2f} to {values.max():.2f})"
            )


if __name__ == "__main__":
    main()
