"""Trains each model family twice with the same seed, through its recipe and
shuffled data, in a process of its own (op determinism is process-wide), and
prints whether the weights are bitwise equal.

Run by `tests/training/test_reproducibility.py`.
"""

import json
import sys

import numpy as np

from keras_roleplay.data import multimodal_dataset_from_arrays
from keras_roleplay.training import fit_captioner, fit_responder
from keras_roleplay.utils import make_reproducible
from tests.backends import cases


def _train(name):
    make_reproducible(0)
    model = cases.build(name)
    if name == "responder":
        keys = list(cases.REPLIES) * 2
        fit_responder(
            model,
            [k[1] for k in keys],
            [cases.REPLIES[k] for k in keys],
            [k[0] for k in keys],
            images=cases._images([k[2] for k in keys], 16),
            epochs=3,
        )
    elif name == "captioner":
        brightness = [0, 1] * 8
        fit_captioner(
            model,
            cases._images(brightness, 32),
            [cases.CAPTIONS[b] for b in brightness],
            epochs=3,
            batch_size=4,
        )
    else:
        x, y = cases.classifier_data(32)
        model.compile()
        data = multimodal_dataset_from_arrays(
            y, **x, batch_size=8, shuffle=True, seed=0
        )
        model.fit(data, epochs=3, verbose=0)
    return model.get_weights()


def _equal(first, second):
    return all(
        a.shape == b.shape and np.array_equal(a, b)
        for a, b in zip(first, second, strict=True)
    )


def main():
    report = {}
    for name in sys.argv[1:]:
        make_reproducible(0)
        start = cases.build(name).get_weights()
        first, second = _train(name), _train(name)
        report[name] = {
            "bitwise_equal": _equal(first, second),
            "changed": not _equal(start, first),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
