"""Peak memory and time of reading a folder of images, against its size.

    python benchmarks/image_folder_memory.py [--sizes 1000 5000 20000]
        [--image-size 64] [--batch-size 64]

Writes `max(sizes)` small PNG files (48x48, random colours, 1 in 500 a
corrupt one) to a temporary folder, and folders of the first 1 000, 5 000...
of them (hard links). Each loader reads each folder in a process of its own,
which reports the growth of its peak resident memory over the peak after
importing TensorFlow and decoding one image (`ru_maxrss`), and the seconds
per file:

- `ImageFolderStream` (batches of `--batch-size`, each batch dropped once
  read, as `caption_images.py` does);
- `load_image_folder`, the reference, which holds every image.

The streaming loader's peak should stay flat from 1 000 to 20 000 files,
within its documented bound (one batch, one file being decoded, the file
names); the reference grows by `n x size x size x 3 x 4` bytes.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(loader, folder, size, batch_size):
    sys.path.insert(0, ROOT)
    import warnings

    import tensorflow as tf

    from keras_roleplay.data import ImageFolderStream, load_image_folder

    shape = (size, size, 3)
    # Warm up TensorFlow's decoders before the baseline.
    first = os.path.join(folder, sorted(os.listdir(folder))[0])
    tf.io.decode_image(tf.io.read_file(first))
    baseline = _peak_mb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the corrupt files are named there
        if loader == "stream":
            stream = ImageFolderStream(folder, shape, batch_size=batch_size)
            kept, total = 0, 0.0
            for images, names in stream:
                kept += len(names)
                total += float(images.mean())  # use the batch, then drop it
            skipped, bound = len(stream.skipped), stream.batch_bytes()
        else:
            images, paths, skipped = load_image_folder(folder, shape)
            kept, skipped, bound = len(paths), len(skipped), images.nbytes
    seconds = time.perf_counter() - start
    files = kept + skipped
    print(
        json.dumps(
            {
                "files": files,
                "kept": kept,
                "skipped": skipped,
                "ms_per_file": 1000 * seconds / files,
                "peak_growth_mb": _peak_mb() - baseline,
                "baseline_mb": baseline,
                "held_mb": bound / 2**20,
            }
        )
    )


def _write_files(folder, count, seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    os.makedirs(folder)
    for i in range(count):
        path = os.path.join(folder, f"{i:06d}.png")
        if i % 500 == 499:
            with open(path, "wb") as f:  # a corrupt file now and then
                f.write(rng.integers(0, 255, 300, dtype=np.uint8).tobytes())
            continue
        colour = rng.integers(0, 255, 3, dtype=np.uint8)
        pixels = np.clip(colour + rng.integers(-20, 20, (48, 48, 3)), 0, 255).astype(
            "uint8"
        )
        Image.fromarray(pixels).save(path)


def _run(loader, folder, args):
    process = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            loader,
            folder,
            "--image-size",
            str(args.image_size),
            "--batch-size",
            str(args.batch_size),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode:
        raise RuntimeError(process.stderr[-3000:])
    return json.loads(process.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--child", nargs=2, metavar=("LOADER", "FOLDER"))
    args = parser.parse_args()
    if args.child:
        _child(*args.child, args.image_size, args.batch_size)
        return
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        everything = os.path.join(tmp, "all")
        _write_files(everything, max(args.sizes))
        names = sorted(os.listdir(everything))
        print(
            f"wrote {len(names)} PNG files in {time.perf_counter() - start:.0f} s; "
            f"decoding to {args.image_size}x{args.image_size}x3, "
            f"stream batches of {args.batch_size}"
        )
        print(
            f"{'files':>6} | {'stream ms/file':>14} {'peak +MB':>8} {'holds MB':>8} | "
            f"{'all-in-memory ms/file':>21} {'peak +MB':>8} | {'time ratio':>10}"
        )
        for size in sorted(args.sizes):
            folder = os.path.join(tmp, str(size))
            os.makedirs(folder)
            for name in names[:size]:
                os.link(os.path.join(everything, name), os.path.join(folder, name))
            stream = _run("stream", folder, args)
            reference = _run("all", folder, args)
            assert stream["kept"] == reference["kept"], (stream, reference)
            print(
                f"{size:>6} | {stream['ms_per_file']:>14.3f} "
                f"{stream['peak_growth_mb']:>8.1f} {stream['held_mb']:>8.1f} | "
                f"{reference['ms_per_file']:>21.3f} "
                f"{reference['peak_growth_mb']:>8.1f} | "
                f"{stream['ms_per_file'] / reference['ms_per_file']:>10.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
