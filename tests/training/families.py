"""Each model family trained for 3 epochs through its recipe on the tiny data
of `tests/backends/cases.py`: shared by the reproducibility and resume
workers. `captioner_scst` and `responder_reward` are the generating models
tuned by sampled rewards (`fit_self_critical`, `fit_reply_rewards`) from
their untrained weights, with the KL penalty and teacher forcing on."""

import numpy as np

from keras_roleplay.data import multimodal_dataset_from_arrays
from keras_roleplay.training import (
    ExactBackupAndRestore,
    fit_captioner,
    fit_reply_rewards,
    fit_responder,
    fit_self_critical,
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
    model = cases.build(family.split("_")[0], responder_dropout=0.1)
    callbacks = list(callbacks)
    if family in ("captioner_scst", "responder_reward"):
        _tune_by_reward(family, model, backup_dir, callbacks)
    elif family == "responder":
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


def _distinct_words(texts, batch):
    # Depends on what was sampled, so a resumed run's samples must match.
    return np.array([len(set(text.split())) for text in texts], "float64")


def _tune_by_reward(family, model, backup_dir, callbacks):
    if backup_dir is not None:
        callbacks.insert(0, ExactBackupAndRestore(backup_dir))
    settings = dict(
        epochs=EPOCHS, batch_size=4, num_samples=2, learning_rate=1e-2,
        kl_weight=0.1, teacher_forcing=0.3, seed=1, callbacks=callbacks,
    )  # fmt: skip
    if family == "captioner_scst":
        brightness = [0, 1] * 4  # 2 steps an epoch
        fit_self_critical(
            model, cases._images(brightness, 32),
            [list(cases.CAPTIONS[b]) for b in brightness], _distinct_words,
            **settings,
        )  # fmt: skip
    else:
        keys = list(cases.REPLIES)[:4] * 2  # 2 steps an epoch
        fit_reply_rewards(
            model, [k[1] for k in keys], [k[0] for k in keys], _distinct_words,
            references=[cases.REPLIES[k] for k in keys],
            images=cases._images([k[2] for k in keys], 16), **settings,
        )  # fmt: skip
