"""Caption a folder of images with a VGG16 + LSTM captioner; write a CSV.

With no model: the shipped preset (trained on the bundled shapes scenes),
no training, no network:

    python applications/caption_images.py photos/
    python applications/caption_images.py photos/ --preset captioner_shapes_zh

Or load a saved captioner, or train one first on your own captions:

    # train on a folder of images with captions.csv (image_path,caption), then
    # caption another folder
    python applications/caption_images.py --train my_data/captions.csv \\
        --epochs 10 --save-model captioner.keras --images photos/ --output captions.csv

    # caption with a saved model
    python applications/caption_images.py --model captioner.keras \\
        --images photos/ --output captions.csv --sampler beam

    # no data of your own yet: train on the bundled shapes scenes
    python applications/caption_images.py --train bundled --images photos/

Unreadable images are reported by name and skipped; the rest are captioned.
"""

import argparse
import csv
import os
import sys
import time

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras

from keras_roleplay.applications import VGG16LSTMCaptioner
from keras_roleplay.data import ImageFolderStream, load_image_captions
from keras_roleplay.data.images import IMAGE_EXTENSIONS
from keras_roleplay.datasets import shapes_captions
from keras_roleplay.saving import load_model
from keras_roleplay.training import fit_captioner
from keras_roleplay.utils.atomic_files import (
    atomic_output,
    check_writable,
)
from keras_roleplay.utils.warning_lines import one_line_warnings

# The shipped captioners: trained on the bundled coloured-shapes scenes only.
SHAPES_PRESETS = ("captioner_shapes_en", "captioner_shapes_zh")


def train_captioner(source, image_size, epochs, log):
    """Trains a captioner on a captions file, or on the bundled scenes."""
    image_shape = (image_size, image_size, 3)
    if source == "bundled":
        data, _, _ = shapes_captions.load_data(
            num_train=1500, num_validation=1, num_test=1, image_size=image_size
        )
        images, captions = data["image"], data["captions"]
    else:
        data = load_image_captions(source, image_shape=image_shape)
        images, captions = data["image"], data["captions"]
    log(f"training on {len(images)} images for {epochs} epochs...")
    model = VGG16LSTMCaptioner.from_captions(
        captions, vocabulary_size=1000, image_shape=image_shape
    )
    # The library's recipe: warm-up and cosine decay of the learning rate,
    # VGG16 cut where its grid is 8x8 (feature_layer="auto").
    fit_captioner(model, images, captions, epochs=epochs, verbose=2)
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Caption a folder of images and write the captions to a CSV."
    )
    parser.add_argument("folder", nargs="?", help="folder of images to caption")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--preset",
        default="captioner_shapes_en",
        help="a shipped preset or a preset folder (the default, with no --model "
        "or --train: captioner_shapes_en)",
    )
    source.add_argument("--model", help="a saved captioner (.keras)")
    source.add_argument(
        "--train",
        help="a captions CSV/JSONL to train on, or 'bundled' for the shapes scenes",
    )
    parser.add_argument("--images", help="folder of images to caption (or FOLDER)")
    parser.add_argument("--output", default="captions.csv", help="CSV to write")
    parser.add_argument(
        "--sampler", default="greedy", choices=["greedy", "beam", "top_k"]
    )
    parser.add_argument("--epochs", type=int, default=14, help="with --train")
    parser.add_argument("--image-size", type=int, default=32, help="with --train")
    parser.add_argument("--save-model", help="with --train: where to save the model")
    parser.add_argument(
        "--bfloat16",
        action="store_true",
        help="train with mixed_bfloat16 (faster on CPUs with bf16)",
    )
    args = parser.parse_args(argv)
    one_line_warnings()
    if bool(args.folder) == bool(args.images):
        parser.error("give the folder of images to caption: FOLDER or --images FOLDER")
    folder = args.folder or args.images

    def log(message):
        print(message, file=sys.stderr, flush=True)

    if not os.path.isdir(folder):
        parser.error(f"no folder of images at {folder!r}")
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1. Received: {args.epochs}")
    try:  # before loading or training, not after
        for path in filter(None, (args.output, args.save_model)):
            check_writable(path)
    except ValueError as error:
        parser.error(str(error))

    if not (args.model or args.train):
        try:
            model = VGG16LSTMCaptioner.from_preset(args.preset)
        except ValueError as error:
            parser.error(str(error))
        if args.preset in SHAPES_PRESETS:
            print(
                f"note: the preset {args.preset} knows only coloured shapes on plain "
                "backgrounds (the bundled scenes); on photos its captions mean "
                "nothing. Train one on your captions with --train.",
                file=sys.stderr,
            )
    elif args.model:
        try:  # checked first: a damaged or hostile file is named and refused
            model = load_model(args.model)
        except ValueError as error:
            parser.error(str(error))
        if not isinstance(model, VGG16LSTMCaptioner):
            parser.error(
                f"{args.model} holds a {type(model).__name__}, not a captioner"
            )
    else:
        if args.bfloat16:
            keras.config.set_dtype_policy("mixed_bfloat16")
        model = train_captioner(args.train, args.image_size, args.epochs, log)
        if args.save_model:
            with atomic_output(args.save_model) as tmp:
                model.save(tmp)
            log(f"saved the model to {args.save_model}")

    # Read and captioned a batch at a time: memory stays that of one batch
    # however many images the folder holds.
    stream = ImageFolderStream(folder, model.image_shape, batch_size=64)
    start = time.perf_counter()
    try:
        with atomic_output(args.output) as tmp:  # never a half-written CSV
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(["image_path", "caption"])
                captioned = 0
                for images, names in stream:
                    captions = model.generate(images, sampler=args.sampler)
                    writer.writerows(zip(names, captions, strict=True))
                    captioned += len(names)
                    done = captioned + len(stream.skipped)
                    log(f"captioned {done}/{len(stream)} files")
            if not captioned:  # raised inside: the CSV is not written
                raise ValueError(
                    f"No readable image in {folder} (looked for "
                    f"{', '.join(IMAGE_EXTENSIONS)})."
                )
    except ValueError as error:
        log(f"error: {error}")
        return 1
    log(
        f"captioned {captioned} images in {time.perf_counter() - start:.1f} s"
        + (f"; skipped {len(stream.skipped)} unreadable" if stream.skipped else "")
    )
    log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
