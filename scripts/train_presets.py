"""Rebuilds the presets shipped in keras_roleplay/presets/ from the bundled data.

For each preset (recipes in `keras_roleplay.training.recipes`): train it,
seeded, with the best dtype policy of this machine
(`keras_roleplay.utils.set_best_dtype_policy`: `mixed_bfloat16` where bf16
is native); save it as a preset; load it back as a user would
(`from_preset`, float32); score it on its held-out split; write its card
(`card.json`). A preset is written to a temporary folder and moved into
place only when complete, so an interrupted run leaves the previous one.

Usage:

    python scripts/train_presets.py                  # all, about 40 min on 2 cores
    python scripts/train_presets.py --only role_judge_vqa_en role_vqa_en
    python scripts/train_presets.py --quick --output /tmp/presets  # smoke run
"""

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import time

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras

from keras_roleplay.presets import CARD_FILE
from keras_roleplay.training.recipes import RECIPES
from keras_roleplay.utils.mixed_precision import dtype_policy
from keras_roleplay.utils.presets import SHIPPED
from keras_roleplay.version import __version__


def folder_size(folder):
    """Bytes of all files under `folder`."""
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(folder)
        for name in names
    )


def build(recipe, output, quick=False, log=print, backup_dir=None, trained=None):
    """Trains, saves, reloads, scores and carded one preset; returns its card.

    `trained`: a preset folder this recipe trained earlier (its card gives
    the training time and dtype policy): loaded and finished instead of
    trained again.
    """
    start = time.perf_counter()
    options = {} if backup_dir is None else {"backup_dir": backup_dir}
    if trained is not None:
        with open(os.path.join(trained, CARD_FILE), encoding="utf-8") as f:
            earlier = json.load(f)
        policy = earlier["training_dtype_policy"]
        log(f"  loading {trained} (trained with dtype policy {policy})")
        model = recipe.model_class.from_preset(trained)
        if recipe.finish is not None:
            model = recipe.finish(model, quick)
        seconds = earlier["training_seconds"]
    else:
        with dtype_policy("auto") as policy:
            log(f"  training with dtype policy {policy}")
            model = recipe.train(quick=quick, log=log, **options)
        seconds = time.perf_counter() - start
    staging = tempfile.mkdtemp(prefix=f".{recipe.name}-", dir=output)
    try:
        model.save_to_preset(staging, weights_dtype=recipe.weights_dtype)
        # Scored as users get it: loaded from the files, in float32.
        loaded = recipe.model_class.from_preset(staging)

        def load(name):
            return RECIPES[name].model_class.from_preset(os.path.join(output, name))

        metrics = recipe.evaluate(loaded, load=load, quick=quick)
        card = {
            "name": recipe.name,
            "class_name": recipe.model_class.__name__,
            "registered_name": keras.saving.get_registered_name(recipe.model_class),
            "description": recipe.description,
            "domain": recipe.domain,
            "trained_on": recipe.trained_on + (" (quick smoke run)" if quick else ""),
            "metrics": metrics,
            "bars": recipe.bars,
            "parameter_count": int(loaded.count_params()),
            "size_bytes": folder_size(staging),
            "training_seconds": round(seconds, 1),
            "training_dtype_policy": policy,
            "keras_version": keras.__version__,
            "keras_roleplay_version": __version__,
            "date_built": datetime.date.today().isoformat(),
            "rebuild": f"python scripts/train_presets.py --only {recipe.name}",
        }
        with open(os.path.join(staging, CARD_FILE), "w", encoding="utf-8") as f:
            json.dump(card, f, indent=2, ensure_ascii=False)
            f.write("\n")
        final = os.path.join(output, recipe.name)
        if os.path.isdir(final):
            shutil.rmtree(final)
        os.chmod(staging, 0o755)  # mkdtemp made it private
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return card


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", nargs="+", choices=list(RECIPES), help="presets to rebuild"
    )
    parser.add_argument("--output", default=SHIPPED, help="folder of the presets")
    parser.add_argument(
        "--quick", action="store_true", help="tiny data and one epoch (smoke test)"
    )
    parser.add_argument(
        "--backup-dir",
        help="back up every epoch here (recipes that take long: shakespeare_roles); "
        "a killed run started again with the same arguments resumes",
    )
    parser.add_argument(
        "--trained",
        help="a preset folder written by an earlier run of this recipe (one name "
        "in --only): scored, finished and carded again instead of retrained",
    )
    args = parser.parse_args(argv)
    if args.trained and len(args.only or []) != 1:
        parser.error("--trained takes one preset: name it with --only")
    names = args.only or list(RECIPES)
    # Judges first: the responders' scores load them.
    names.sort(key=lambda n: list(RECIPES).index(n))
    os.makedirs(args.output, exist_ok=True)
    # The same weights on every run of this machine (TensorFlow's kernels
    # otherwise may sum in a different order from run to run).
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    failed = []
    for i, name in enumerate(names, 1):
        recipe = RECIPES[name]
        missing = [
            n for n in recipe.needs if not os.path.isdir(os.path.join(args.output, n))
        ]
        if missing:  # before training for minutes: its scoring loads them
            parser.error(f"{name} is scored with {missing}: build them first")
        print(f"[{i}/{len(names)}] {name} ({recipe.model_class.__name__})", flush=True)
        backup_dir = args.backup_dir and os.path.join(args.backup_dir, name)
        card = build(
            recipe,
            args.output,
            quick=args.quick,
            backup_dir=backup_dir,
            trained=args.trained,
        )
        for metric, value in card["metrics"].items():
            bar = recipe.bars.get(metric)
            verdict = (
                "" if bar is None else (" ok" if value >= bar else f" BELOW {bar}")
            )
            print(f"  {metric}: {value:.4f}{verdict}", flush=True)
            if bar is not None and value < bar and not args.quick:
                failed.append(f"{name}: {metric} {value:.4f} < {bar}")
        print(
            f"  {card['size_bytes'] / 1e6:.1f} MB, {card['training_seconds']:.0f} s",
            flush=True,
        )
    total = sum(
        folder_size(os.path.join(args.output, n))
        for n in RECIPES
        if os.path.isdir(os.path.join(args.output, n))
    )
    print(f"All presets in {args.output}: {total / 1e6:.1f} MB")
    if failed:
        print("Below their bars:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
