"""Measures what pretraining on the whole plays gives the Shakespeare responder.

For each seed, two networks of the demo's Shakespeare size with the same
vocabulary (learned from the plays' exchanges outside the held-out scenes):
one fine-tuned with the roles from scratch on the 10 characters' training
speeches (`fit_responder`, early stopping on validation), one pretrained
first without roles on every exchange of the plays outside the held-out
scenes (`pretrain_responder`) and then fine-tuned alike. Prints the
held-out perplexities with the true role, a shuffled role and no role, and
the ratio pretrained / scratch (the bar: <= 0.7 on the mean of 3
seeds). About 5 minutes a seed on 2 CPU cores.

Usage:

    python scripts/measure_shakespeare_pretraining.py --seeds 0 1 2
"""

import argparse
import time

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras
import numpy as np

from keras_roleplay.applications import RoleResponder
from keras_roleplay.datasets import shakespeare
from keras_roleplay.metrics import reply_perplexity
from keras_roleplay.models.role_responder.role_responder_tokenizer import (
    build_dialogue_vocabulary,
)
from keras_roleplay.training import fit_responder, pretrain_responder


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pretrain-epochs", type=int, default=1)
    parser.add_argument("--characters", type=int, default=10)
    parser.add_argument("--vocabulary-size", type=int, default=3000)
    parser.add_argument("--hidden-dim", type=int, default=128)
    parser.add_argument("--num-layers", type=int, default=2)
    args = parser.parse_args()

    train, validation, test = shakespeare.load_data(args.characters)
    plays = shakespeare.load_plays(shakespeare.held_out_scenes(validation, test))
    vocabulary = build_dialogue_vocabulary(
        np.concatenate([plays["context"], plays["reply"]]), args.vocabulary_size
    )
    shuffled = np.random.default_rng(0).permutation(test["role"])
    print(
        f"{len(plays['reply'])} pretraining exchanges, {len(train['reply'])} "
        f"fine-tuning speeches, {len(test['reply'])} test speeches"
    )
    print("seed  start       true  shuffled  no role  fine-tuning epochs  seconds")
    true_role = {False: [], True: []}
    for seed in args.seeds:
        for pretrain in (False, True):
            keras.utils.set_random_seed(seed)
            model = RoleResponder(
                vocabulary=vocabulary,
                roles=shakespeare.characters(args.characters),
                sequence_length=32,
                reply_length=32,
                hidden_dim=args.hidden_dim,
                num_heads=4,
                num_layers=args.num_layers,
                dropout=0.2,
            )
            start = time.perf_counter()
            if pretrain:
                pretrain_responder(
                    model,
                    plays["context"],
                    plays["reply"],
                    epochs=args.pretrain_epochs,
                    seed=seed,
                )
            history = fit_responder(
                model,
                train["context"],
                train["reply"],
                train["role"],
                epochs=10,
                validation=(
                    validation["context"],
                    validation["reply"],
                    validation["role"],
                ),
                early_stopping=True,
                seed=seed,
            )
            seconds = time.perf_counter() - start
            scores = [
                reply_perplexity(
                    model, model.dialogue_dataset(test["context"], test["reply"], roles)
                )
                for roles in (test["role"], shuffled, None)
            ]
            true_role[pretrain].append(scores[0])
            print(
                f"{seed:4d}  {'pretrained' if pretrain else 'scratch':10s}"
                f"  {scores[0]:6.1f}  {scores[1]:8.1f}  {scores[2]:7.1f}"
                f"  {len(history.history['loss']):18d}  {seconds:7.0f}",
                flush=True,
            )
    ratios = np.array(true_role[True]) / np.array(true_role[False])
    print(
        f"pretrained / scratch, true role: mean {ratios.mean():.3f} "
        f"(from {ratios.min():.3f} to {ratios.max():.3f} over {len(ratios)} seeds)"
    )


if __name__ == "__main__":
    main()
