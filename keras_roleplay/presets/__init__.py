"""Trained models shipped in the package: one line, no network, no training.

Each preset is a folder here (see `keras_roleplay.utils.presets` for its
files) with a `card.json`: what the model is, what it was trained on, the
scores it reached on held-out bundled data when it was built, its size.
`scripts/train_presets.py` rebuilds them all from the bundled data.

Example:

>>> from keras_roleplay import presets
>>> "role_vqa_en" in presets.list_presets()
True
>>> presets.card("captioner_shapes_en")["class_name"]
'VGG16LSTMCaptioner'
>>> model = presets.load("role_vqa_en")  # or RoleResponder.from_preset(...)
"""

import json
import os

import keras

from keras_roleplay.utils.presets import SHIPPED, shipped_presets

CARD_FILE = "card.json"


def list_presets():
    """Names of the shipped presets, sorted."""
    return shipped_presets()


def card(name):
    """The card of shipped preset `name` (a dict).

    Keys: `name`, `class_name`, `description`, `trained_on`, `metrics`
    (held-out scores measured when it was built), `bars` (the lowest
    scores it is tested against), `parameter_count`, `size_bytes`,
    `training_seconds`, `training_dtype_policy`, `rebuild` (the command).
    """
    if name not in shipped_presets():
        raise ValueError(
            f"No shipped preset named {name!r}. Shipped presets: {shipped_presets()}"
        )
    with open(os.path.join(SHIPPED, name, CARD_FILE), encoding="utf-8") as f:
        return json.load(f)


def load(name):
    """Loads shipped preset `name` with its own class (`Class.from_preset`).

    The classes are registered by `import keras_roleplay`, which importing
    this module has already done.
    """
    class_name = card(name)["registered_name"]
    return keras.saving.get_registered_object(class_name).from_preset(name)


def summary():
    """The shipped presets: class, size, what each knows and was trained on, scores.

    Example:

    >>> print(summary().splitlines()[0][:50])
    captioner_shapes_en  VGG16LSTMCaptioner  10.0 MB
    """
    blocks = []
    for name in list_presets():
        info = card(name)
        scores = ", ".join(f"{k} {v:.3f}" for k, v in info["metrics"].items())
        blocks.append(
            "\n".join(
                [
                    f"{name}  {info['class_name']}  {info['size_bytes'] / 1e6:.1f} MB",
                    f"  {info['description']}",
                    f"  knows: {info.get('domain') or 'its training data only'}",
                    f"  trained on: {info['trained_on']}",
                    f"  held-out: {scores}",
                ]
            )
        )
    return "\n\n".join(blocks)


__all__ = ["card", "list_presets", "load", "summary"]
