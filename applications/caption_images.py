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

    # a Flickr8k or Flickr30k folder (the token file, the image folder and,
    # if there, the training split list), with ImageNet VGG16 weights
    python applications/caption_images.py --train Flickr8k/ --image-size 224 \
        --image-weights imagenet --save-preset flickr_captioner/ --images photos/

    # COCO captions (its image folder found beside the annotations folder),
    # read from the files batch by batch
    python applications/caption_images.py --train annotations/captions_train2017.json \
        --stream --images photos/

    # no data of your own yet: train on the bundled shapes scenes
    python applications/caption_images.py --train bundled --images photos/

Unreadable images are reported by name and skipped; the rest are captioned.
"""

import argparse
import csv
import glob
import os
import re
import sys
import time

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras

from keras_roleplay import presets
from keras_roleplay.applications import VGG16LSTMCaptioner
from keras_roleplay.data import (
    ImageFolderStream,
    image_caption_file_dataset,
    load_image_captions,
    read_captions_file,
)
from keras_roleplay.data.images import IMAGE_EXTENSIONS
from keras_roleplay.datasets import shapes_captions
from keras_roleplay.saving import load_model
from keras_roleplay.training import fit_captioner
from keras_roleplay.utils.atomic_files import (
    atomic_output,
    check_new_folder,
    check_writable,
)
from keras_roleplay.utils.warning_lines import one_line_warnings

# The shipped captioners: trained on the bundled coloured-shapes scenes only.


# Where the public datasets keep their images, relative to the folder given.
FLICKR_IMAGE_FOLDERS = (
    "Flicker8k_Dataset",  # sic: Flickr8k's archive
    "Flickr8k_Dataset",
    "flickr30k-images",
    "flickr30k_images",
    "Images",
    "images",
)


def caption_source(train, image_dir=None):
    """`(captions file, image folder, split)` for what `--train` names.

    A captions file (CSV, JSONL, a Flickr token file, COCO JSON), or a
    Flickr8k/Flickr30k folder: its token file, its image folder
    (`FLICKR_IMAGE_FOLDERS`, else the folder itself) and its training split
    list (`*trainImages.txt`) when it has one. A COCO file's images are in
    the folder named after its split (`captions_train2017.json`:
    `train2017/`), beside the annotations folder or inside it.
    """
    if os.path.isdir(train):
        tokens = sorted(
            glob.glob(os.path.join(train, "*.token.txt"))
            + glob.glob(os.path.join(train, "*.token"))
        )
        if not tokens:
            raise ValueError(
                f"--train {train}: a folder must hold a Flickr token file "
                "(Flickr8k.token.txt or results_20130124.token); for your own "
                "captions, give the captions file itself"
            )
        folder = image_dir or next(
            (
                os.path.join(train, name)
                for name in FLICKR_IMAGE_FOLDERS
                if os.path.isdir(os.path.join(train, name))
            ),
            train,
        )
        splits = sorted(glob.glob(os.path.join(train, "*trainImages.txt")))
        return tokens[0], folder, splits[0] if splits else None
    if not os.path.isfile(train):
        raise ValueError(f"--train: no such file or folder: {train}")
    match = re.fullmatch(r"captions_(\w+)\.json", os.path.basename(train))
    if image_dir is None and match:
        annotations = os.path.dirname(os.path.abspath(train))
        for folder in (os.path.dirname(annotations), annotations):
            if os.path.isdir(os.path.join(folder, match.group(1))):
                return train, os.path.join(folder, match.group(1)), None
        raise ValueError(
            f"--train {train}: its images ({match.group(1)}/) are not beside or "
            "inside its folder; name their folder with --image-dir"
        )
    return train, image_dir, None


def train_captioner(source, image_size, epochs, log, args=None):
    """Trains a captioner on a captions file or folder, or on the bundled scenes."""
    image_shape = (image_size, image_size, 3)
    options = {}
    if args is not None and args.image_weights:
        options = dict(
            weights=args.image_weights, trainable_backbone=args.fine_tune_vgg16
        )
    if source == "bundled":
        data, _, _ = shapes_captions.load_data(
            num_train=1500, num_validation=1, num_test=1, image_size=image_size
        )
        images, captions = data["image"], data["captions"]
    else:
        path, image_dir, split = caption_source(source, args and args.image_dir)
        if split:
            log(f"the training split: {split}")
        if args is not None and args.stream:
            table = read_captions_file(path)
            texts = [caption for entry in table.values() for caption in entry]
            log(f"training on {len(table)} images read from their files...")
            model = VGG16LSTMCaptioner.from_captions(
                texts, vocabulary_size=1000, image_shape=image_shape, **options
            )
            model.compile()
            dataset = image_caption_file_dataset(
                path, image_shape, image_dir=image_dir, split=split, shuffle=True
            )
            model.fit(dataset.map(model.preprocessor), epochs=epochs, verbose=2)
            return model
        data = load_image_captions(
            path, image_shape=image_shape, image_dir=image_dir, split=split
        )
        images, captions = data["image"], data["captions"]
    log(f"training on {len(images)} images for {epochs} epochs...")
    model = VGG16LSTMCaptioner.from_captions(
        captions, vocabulary_size=1000, image_shape=image_shape, **options
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
        help="captions to train on: a CSV/JSONL file, a Flickr8k/Flickr30k folder "
        "or token file, a COCO captions JSON, or 'bundled' for the shapes scenes",
    )
    parser.add_argument(
        "--image-dir", help="with --train: the images' folder, if not the usual one"
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="with --train: read the images from their files batch by batch "
        "(for COCO's size), not all into memory first",
    )
    parser.add_argument(
        "--image-weights",
        help="with --train: VGG16 weights, 'imagenet' (downloaded by Keras) or a "
        "VGG16 'notop' weights file",
    )
    parser.add_argument(
        "--fine-tune-vgg16",
        action="store_true",
        help="with --image-weights: train the VGG16 weights too (default: frozen)",
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
        "--save-preset", help="with --train: a new folder to save a preset in"
    )
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
    if args.image_weights not in (None, "imagenet") and not os.path.isfile(
        args.image_weights
    ):
        parser.error(f"--image-weights: no such file: {args.image_weights}")
    if args.save_preset:
        try:
            check_new_folder("--save-preset", args.save_preset)
        except ValueError as error:
            parser.error(str(error))
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
        shipped = args.preset in presets.list_presets()
        domain = presets.card(args.preset).get("domain") if shipped else None
        if domain:  # once: what the shipped preset knows (its card's domain)
            print(
                f"note: the preset {args.preset} knows only {domain}; on other "
                "images its captions mean nothing. Train one on your captions "
                "with --train.",
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
        try:
            model = train_captioner(args.train, args.image_size, args.epochs, log, args)
        except ValueError as error:
            parser.error(str(error))
        if args.save_model:
            with atomic_output(args.save_model) as tmp:
                model.save(tmp)
            log(f"saved the model to {args.save_model}")
        if args.save_preset:
            model.save_to_preset(args.save_preset)
            log(f"saved as a preset in {args.save_preset} (from_preset loads it)")

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
