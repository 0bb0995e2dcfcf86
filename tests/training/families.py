"""Each model family trained for 3 epochs through its recipe on the tiny data
of `tests/backends/cases.py`: shared by the reproducibility and resume
workers."""

from keras_roleplay.data import multimodal_dataset_from_arrays
from keras_roleplay.training import (
    ExactBackupAndRestore,
    fit_captioner,
    fit_responder,
)
from keras_roleplay.utils import make_reproducible
from tests.backends import cases

EPOCHS = 3


def train_family(family, backup_dir=None, callbacks=()):
    """Seeds (`make_reproducible(0)`), builds and trains; returns the weights.

    The responder has dropout and role dropout on, so that their draws are
    repeated (and resumed) too; every family's epochs have two batches or
    more.
    """
    make_reproducible(0)
    model = cases.build(family, responder_dropout=0.1)
    callbacks = list(callbacks)
    if family == "responder":
        keys = list(cases.REPLIES) * 8  # 48: batches of 32 and 16
        fit_responder(
            model,
            [k[1] for k in keys],
            [cases.REPLIES[k] for k in keys],
            [k[0] for k in keys],
            images=cases._images([k[2] for k in keys], 16),
            epochs=EPOCHS,
            role_dropout=0.3,
            callbacks=callbacks,
            backup_dir=backup_dir,
        )
    elif family == "captioner":
        brightness = [0, 1] * 8
        # Two references per image: the recipe's grouped path
        # (`ReferenceGroupTrainer`), the one users with several captions get.
        captions = [cases.CAPTIONS[b][0] for b in brightness]
        fit_captioner(
            model,
            cases._images(brightness, 32),
            [[c, " ".join(reversed(c.split()))] for c in captions],
            epochs=EPOCHS,
            batch_size=4,
            callbacks=callbacks,
            backup_dir=backup_dir,
        )
    else:
        x, y = cases.classifier_data(32)
        model.compile()
        data = multimodal_dataset_from_arrays(
            y, **x, batch_size=8, shuffle=True, seed=0
        )
        if backup_dir is not None:
            callbacks.insert(0, ExactBackupAndRestore(backup_dir))
        model.fit(data, epochs=EPOCHS, callbacks=callbacks, verbose=0)
    return model.get_weights()
