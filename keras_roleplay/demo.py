"""The main job: train and evaluate the models on the bundled data.

Run `python -m keras_roleplay.demo` (or `make demo`). It prints a table of
(model, metric, value, seconds) and writes the rows to `demo_results.json`.

    python -m keras_roleplay.demo --quick              # a fast run
    python -m keras_roleplay.demo --models three_branch
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_roleplay.applications import (  # noqa: E402
    ThreeBranchClassifier,
    VGG16LSTMCaptioner,
)
from keras_roleplay.datasets import multimodal_agreement, shapes_captions  # noqa: E402
from keras_roleplay.metrics import caption_bleu  # noqa: E402

ABLATIONS = {
    "image+text+audio": ("image", "text", "audio"),
    "text+audio (no image)": ("text", "audio"),
    "image+audio (no text)": ("image", "audio"),
    "image+text (no audio)": ("image", "text"),
}


def train_three_branch(train, validation, info, modalities, fusion, epochs, seed=0):
    """Builds, trains and returns a `ThreeBranchClassifier` on the agreement data."""
    keras.utils.set_random_seed(seed)
    model = ThreeBranchClassifier(
        **info.classifier_kwargs, modalities=modalities, fusion=fusion
    )
    model.compile()
    model.fit(train, validation_data=validation, epochs=epochs, verbose=0)
    return model


def run_three_branch(quick=False, log=print):
    """Trains the three-branch classifier, its fusions and its ablations.

    Returns:
        A list of result rows (dicts with `model`, `metric`, `value`,
        `seconds`).
    """
    sizes = dict(num_train=2000, num_validation=400, num_test=800)
    if not quick:
        sizes = dict(num_train=4000, num_validation=800, num_test=800)
    epochs = 15 if quick else 20
    (train, validation, test), info = multimodal_agreement.load_data(**sizes)
    runs = [(name, modalities, "concat") for name, modalities in ABLATIONS.items()]
    if not quick:
        runs += [
            ("image+text+audio", ABLATIONS["image+text+audio"], fusion)
            for fusion in ("weighted", "attention")
        ]
    rows = []
    for name, modalities, fusion in runs:
        start = time.perf_counter()
        model = train_three_branch(train, validation, info, modalities, fusion, epochs)
        _, accuracy = model.evaluate(test, verbose=0)
        seconds = time.perf_counter() - start
        row = {
            "model": f"ThreeBranchClassifier[{name}, fusion={fusion}]",
            "metric": "test accuracy",
            "value": round(float(accuracy), 4),
            "seconds": round(seconds, 1),
        }
        log(f"  {row['model']}: {row['value']:.4f} ({row['seconds']} s)")
        rows.append(row)
    return rows


def run_captioner(quick=False, log=print):
    """Trains the VGG16 + LSTM captioner on shapes scenes and scores its BLEU.

    32x32 scenes, VGG16 from scratch, mixed_bfloat16 (1.75x faster on CPUs
    with bf16 instructions, see DESIGN.md). The full run trains about 8
    minutes on 2 CPU cores.
    """
    sizes = dict(num_train=600, num_validation=50, num_test=100, captions_per_image=2)
    epochs = 6
    if not quick:
        sizes = dict(num_train=1500, num_validation=100, num_test=200)
        epochs = 14
    train, validation, test = shapes_captions.load_data(image_size=32, **sizes)
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        keras.utils.set_random_seed(0)
        start = time.perf_counter()
        model = VGG16LSTMCaptioner.from_captions(
            train["captions"], vocabulary_size=400, image_shape=(32, 32, 3)
        )
        model.compile()
        model.fit(
            model.caption_dataset(
                train["image"], train["captions"], shuffle=True, seed=0
            ),
            validation_data=model.caption_dataset(
                validation["image"], validation["captions"]
            ),
            epochs=epochs,
            verbose=0,
        )
        _, accuracy = model.evaluate(
            model.caption_dataset(test["image"], test["captions"]), verbose=0
        )
        train_seconds = time.perf_counter() - start
        name = "VGG16LSTMCaptioner[32x32, attention]"
        rows = [
            {
                "model": name,
                "metric": "test token accuracy",
                "value": round(float(accuracy), 4),
                "seconds": round(train_seconds, 1),
            }
        ]
        references = [list(c) for c in test["captions"]]
        for sampler in ("greedy", "beam"):
            start = time.perf_counter()
            captions = model.generate(test["image"], sampler=sampler)
            bleu = caption_bleu(references, captions)
            rows.append(
                {
                    "model": name,
                    "metric": f"test BLEU-4 ({sampler})",
                    "value": round(bleu["bleu_4"], 4),
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
    finally:
        keras.config.set_dtype_policy(previous_policy)
    for row in rows:
        log(
            f"  {row['model']} {row['metric']}: {row['value']:.4f} ({row['seconds']} s)"
        )
    log(f"  e.g. {captions[0]!r} for {str(references[0][0])!r}")
    return rows


JOBS = {"three_branch": run_three_branch, "captioner": run_captioner}


def format_table(rows):
    """Formats result rows as a plain-text table."""
    headers = ("model", "metric", "value", "seconds")
    cells = [[str(row[h]) for h in headers] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True))
        for cell in cells
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_roleplay.demo",
        description="Train and evaluate the keras-roleplay models on bundled data.",
    )
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer runs")
    parser.add_argument(
        "--models",
        nargs="+",
        default=list(JOBS),
        help=f"which models to run, from {list(JOBS)} (default: all)",
    )
    parser.add_argument(
        "--output", default="demo_results.json", help="JSON results file"
    )
    args = parser.parse_args(argv)
    unknown = [m for m in args.models if m not in JOBS]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(JOBS)}")

    rows = []
    for name in args.models:
        print(f"[{name}] training on bundled data{' (quick)' if args.quick else ''}...")
        sys.stdout.flush()
        rows += JOBS[name](quick=args.quick)
    print()
    print(format_table(rows))
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump({"quick": args.quick, "results": rows}, f, indent=2)
    print(f"\nWrote {args.output}")
    return rows


if __name__ == "__main__":
    main()
