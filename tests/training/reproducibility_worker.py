"""Trains each model family twice with the same seed, through its recipe and
shuffled data, in a process of its own (op determinism is process-wide), and
prints whether the weights are bitwise equal.

Run by `tests/training/test_reproducibility.py`.
"""

import json
import sys

import numpy as np

from keras_roleplay.utils import make_reproducible
from tests.backends import cases
from tests.training.families import train_family


def _equal(first, second):
    return all(
        a.shape == b.shape and np.array_equal(a, b)
        for a, b in zip(first, second, strict=True)
    )


def main():
    report = {}
    for name in sys.argv[1:]:
        make_reproducible(0)
        start = cases.build(name, responder_dropout=0.1).get_weights()
        first, second = train_family(name), train_family(name)
        report[name] = {
            "bitwise_equal": _equal(first, second),
            "changed": not _equal(start, first),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
