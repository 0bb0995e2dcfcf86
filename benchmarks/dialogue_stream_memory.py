"""Peak memory of one `fit` epoch over a dialogue file: streamed against loaded.

    python benchmarks/dialogue_stream_memory.py [--lines 20000 200000]

For each size, a JSONL file of that many exchanges (rows of role, context,
reply; 12- and 15-word lines drawn from 2 000 words, 20 roles) is written,
and a small text-only `RoleResponder` is trained one epoch on it, each run
in a fresh process:

- **stream**: `data.dialogue_file_dataset` (read and tokenized as `fit`
  goes, shuffle buffer 1 024);
- **in memory**: `data.load_dialogues` and `model.dialogue_dataset` (every
  exchange read, tokenized and cached).

Printed: the process's peak resident memory above what it held once the
model was built and had trained one batch (so TensorFlow's own start and
the traced step are not counted), and the seconds of the epoch.
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
from process_memory import resident_mb


def write_file(path, lines, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(2000)]
    with open(path, "w") as f:
        for _ in range(lines):
            record = {
                "role": f"role{rng.integers(20)}",
                "context": " ".join(rng.choice(words, 12)),
                "reply": " ".join(rng.choice(words, 15)),
            }
            f.write(json.dumps(record) + "\n")


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_run(path, method):
    import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

    # isort: split
    import keras

    from keras_roleplay.applications import RoleResponder
    from keras_roleplay.data import dialogue_file_dataset, load_dialogues

    keras.utils.set_random_seed(0)
    model = RoleResponder.from_dialogues(
        [f"w{i}" for i in range(2000)],
        roles=[f"role{i}" for i in range(20)],
        vocabulary_size=2100,
        sequence_length=16,
        reply_length=20,
        hidden_dim=16,
        num_heads=2,
        num_layers=1,
    )
    model.compile()
    warm = model.dialogue_dataset(
        ["w1 w2"] * 64, ["w3 w4"] * 64, "role0", batch_size=64
    )
    model.fit(warm, epochs=1, verbose=0)
    before = resident_mb()
    start = time.perf_counter()
    if method == "stream":
        dataset = dialogue_file_dataset(path, model, batch_size=64, shuffle_buffer=1024)
    else:
        data = load_dialogues(path)
        dataset = model.dialogue_dataset(
            data["context"], data["reply"], data["role"], batch_size=64, shuffle=True
        )
    model.fit(dataset, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    print(json.dumps({"peak_mb": peak_mb() - before, "seconds": seconds}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[20000, 200000])
    parser.add_argument("--one", nargs=2, metavar=("PATH", "METHOD"))
    args = parser.parse_args()
    if args.one:
        one_run(*args.one)
        return
    folder = tempfile.mkdtemp()
    print(f"{'lines':>8} {'method':>10} {'peak MB above start':>20} {'epoch s':>8}")
    for lines in args.lines:
        path = os.path.join(folder, f"dialogues_{lines}.jsonl")
        write_file(path, lines)
        for method in ("stream", "in memory"):
            result = subprocess.run(
                [sys.executable, __file__, "--one", path, method],
                capture_output=True,
                text=True,
            )
            if result.returncode:
                raise SystemExit(result.stderr[-3000:])
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            print(
                f"{lines:>8} {method:>10} {figures['peak_mb']:>20.1f} "
                f"{figures['seconds']:>8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
