"""The `shakespeare_roles` preset: pretrained on the whole plays, then role-tuned."""

import os

import keras
import numpy as np

from keras_roleplay.applications import RoleResponder
from keras_roleplay.data.sentences import whole_sentences
from keras_roleplay.datasets import shakespeare
from keras_roleplay.metrics import (
    reply_nats_per_character,
    reply_perplexity,
    speaker_accuracy,
)
from keras_roleplay.models.role_responder.role_responder_tokenizer import (
    build_dialogue_vocabulary,
)
from keras_roleplay.training.recipes.recipe import SEED, Recipe
from keras_roleplay.training.role_play import (
    fit_responder,
    pretrain_responder,
    train_role_judge,
)
from keras_roleplay.training.role_slots import ROLE_TABLES, only_roles_trainable
from keras_roleplay.utils.progress import EpochLog

SHAKESPEARE_CHARACTERS = 10
# The small network of the quick runs (smoke tests, `demo --quick`).
SHAKESPEARE_SIZE = dict(vocabulary_size=2000, hidden_dim=64, num_layers=2)
# The preset's network: 5.4 M parameters, what 2 CPU cores train for 8
# epochs of the plays in about an hour (0.74 s a batch of 64, bf16, AMD
# EPYC); 10.8 MB stored in float16, within the presets' 40 MB. A context of
# 48 tokens and a reply of 64 (4 000 word pieces: 3.6 characters a token)
# hold 96% of the plays' replies whole once cut at a sentence end
# (`data.whole_sentences`).
SHAKESPEARE_PRESET_SIZE = dict(
    vocabulary_size=4000,
    hidden_dim=192,
    intermediate_dim=768,
    num_layers=3,
    dropout=0.15,
    sequence_length=48,
    reply_length=64,
)
SHAKESPEARE_PRETRAIN_EPOCHS = 8
SHAKESPEARE_QUICK_EXCHANGES = 1000


def shakespeare_data(quick=False):
    """The characters' splits and the plays' exchanges for pretraining.

    Returns:
        `(train, validation, test, plays)`: the `shakespeare.load_data`
        splits of `SHAKESPEARE_CHARACTERS` characters, and every exchange of
        the plays outside the validation and test scenes
        (`shakespeare.load_plays`). `quick` keeps the first 1000 exchanges
        and 50 test speeches.
    """
    train, validation, test = shakespeare.load_data(SHAKESPEARE_CHARACTERS)
    plays = shakespeare.load_plays(shakespeare.held_out_scenes(validation, test))
    if quick:
        plays = {k: v[:SHAKESPEARE_QUICK_EXCHANGES] for k, v in plays.items()}
        test = {k: v[:50] for k, v in test.items()}
    return train, validation, test, plays


def shakespeare_responder(
    plays,
    vocabulary_size=2000,
    hidden_dim=64,
    num_layers=2,
    dropout=0.2,
    vocabulary=None,
    intermediate_dim=None,
    sequence_length=32,
    reply_length=32,
):
    """The Shakespeare preset's text-only responder, its vocabulary from `plays`.

    Args:
        plays: the exchanges of `shakespeare_data` (they make the
            vocabulary: pretraining reads them all).
        vocabulary_size, hidden_dim, num_layers, dropout, intermediate_dim:
            the network's size.
        vocabulary: a vocabulary already built from `plays` (it takes a few
            seconds to build; models compared share one).
        sequence_length, reply_length: context and reply tokens.
    """
    if vocabulary is None:
        vocabulary = build_dialogue_vocabulary(
            np.concatenate([plays["context"], plays["reply"]]), vocabulary_size
        )
    return RoleResponder(
        vocabulary=vocabulary,
        roles=shakespeare.characters(SHAKESPEARE_CHARACTERS),
        sequence_length=sequence_length,
        reply_length=reply_length,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        num_heads=4,
        num_layers=num_layers,
        dropout=dropout,
    )


def train_shakespeare_responder(
    pretrain_epochs=1,
    epochs=10,
    quick=False,
    seed=SEED,
    log=print,
    size=None,
    pretrain_learning_rate=2e-3,
    tune_learning_rate=2e-3,
    backup_dir=None,
    role_learning_rate=1e-2,
):
    """Pretrains a responder on the plays without roles, then role-tunes it.

    Pretraining on a corpus much larger than the roles' own, then adapting
    to the roles (`training.pretrain_responder`, then
    `training.fit_responder` with early stopping on the validation
    speeches); the validation and test scenes are never read in either.
    Training replies are cut after their last whole sentence that fits the
    reply (`data.whole_sentences`), so the model learns to end a reply at
    a sentence end, not mid-phrase. The model's lexicon is the words of the
    plays' training speeches (`RoleResponder.learn_lexicon`): its replies
    use no other word. The preset `shakespeare_roles` and
    `role_chat.py --train shakespeare`.

    Args:
        pretrain_epochs: epochs over the plays' exchanges (about 28 000).
        epochs: most role-tuning epochs over the characters' speeches.
        quick: a small, fast run (smoke tests).
        seed: the weights' and the data order's seed.
        log: receives a line per epoch.
        size: `shakespeare_responder` arguments (default
            `SHAKESPEARE_SIZE`).
        pretrain_learning_rate, tune_learning_rate: peak learning rates of
            the pretraining and of the role-tuning of the whole network.
        role_learning_rate: peak learning rate of the last stage, which
            tunes the roles' own parameters alone (each role's vector and
            word bias), the network frozen; `None` skips it.
        backup_dir: optional folder: each stage backs up every epoch there
            (`training.ExactBackupAndRestore`), and a killed run started
            again with the same arguments resumes.

    Returns:
        The trained `RoleResponder`.
    """
    keras.utils.set_random_seed(seed)
    train, validation, _, plays = shakespeare_data(quick)
    model = shakespeare_responder(plays, **(size or SHAKESPEARE_SIZE))
    max_tokens = model.reply_length - 1

    def sentences(replies, what):
        cut, still_cut = whole_sentences(replies, model.tokenizer, max_tokens)
        log(
            f"{what}: {len(cut)} replies, {still_cut.mean():.1%} still cut "
            f"mid-sentence at {max_tokens} tokens"
        )
        return np.asarray(cut, dtype=object)

    def backup(stage):
        return None if backup_dir is None else os.path.join(backup_dir, stage)

    log(f"pretraining on {len(plays['reply'])} exchanges of the plays, no roles")
    pretrain_responder(
        model,
        plays["context"],
        sentences(plays["reply"], "the plays"),
        epochs=pretrain_epochs,
        validation=(validation["context"], validation["reply"]),
        peak_learning_rate=pretrain_learning_rate,
        seed=seed,
        callbacks=[EpochLog(log)],
        backup_dir=backup("pretraining"),
    )
    log(f"role-tuning on {len(train['reply'])} speeches of the characters")
    replies = sentences(train["reply"], "the characters")

    def role_tune(learning_rate, stage):
        fit_responder(
            model,
            train["context"],
            replies,
            train["role"],
            epochs=epochs,
            validation=(validation["context"], validation["reply"], validation["role"]),
            early_stopping=True,
            peak_learning_rate=learning_rate,
            seed=seed,
            callbacks=[EpochLog(log)],
            backup_dir=backup(stage),
        )

    role_tune(tune_learning_rate, "role_tuning")
    if role_learning_rate is not None:
        log("tuning the roles' vectors and word biases alone")
        with only_roles_trainable(model):
            role_tune(role_learning_rate, "roles_alone")
    _learn_plays_lexicon(model, plays, log)
    return model


# The layers that hold the roles: the same tables few-shot adaptation learns.
ROLE_LAYERS = ROLE_TABLES


def _learn_plays_lexicon(model, plays, log=print):
    count = model.learn_lexicon(plays["reply"])
    log(f"lexicon: the {count} words of the plays' training speeches")
    return model


def _finish_shakespeare(model, quick):
    return _learn_plays_lexicon(model, shakespeare_data(quick)[3])


def _train_shakespeare(quick, log, backup_dir=None):
    if quick:
        return train_shakespeare_responder(epochs=1, quick=True, log=log)
    return train_shakespeare_responder(
        pretrain_epochs=SHAKESPEARE_PRETRAIN_EPOCHS,
        epochs=10,
        seed=SEED,
        log=log,
        size=SHAKESPEARE_PRESET_SIZE,
        pretrain_learning_rate=1e-3,
        tune_learning_rate=5e-4,
        backup_dir=backup_dir,
    )


def shakespeare_judge(vocabulary, roles, train, validation, epochs=15):
    """The role judge the Shakespeare figures are read with.

    A `RoleJudge` trained on the characters' real training speeches
    (early stopping on the validation speeches), small: 1 700 speeches, and
    64 units generalised worse than 32 (0.15 against 0.22 held-out
    accuracy). The demo, tutorial 04 and the measuring scripts use it.

    Args:
        vocabulary: the responder's vocabulary.
        roles: the character names.
        train, validation: the splits of `shakespeare_data`.
        epochs: most training epochs.

    Returns:
        A trained `RoleJudge`.
    """
    return train_role_judge(
        vocabulary,
        roles,
        train["reply"],
        train["role"],
        validation=(validation["reply"], validation["role"]),
        epochs=epochs,
        sequence_length=64,
        hidden_dim=32,
    )


def shakespeare_scores(model, test):
    """A Shakespeare responder's held-out scores (the preset's card, the demo).

    Returns:
        A dict: per-token perplexity of the real `test` replies with their
        `"true role"`, a `"shuffled role"` (seed 0) and `"no role"`, and
        `"speaker named"` (`metrics.speaker_accuracy`).
    """
    shuffled = np.random.default_rng(0).permutation(test["role"])
    scores = {
        label: reply_perplexity(
            model, model.dialogue_dataset(test["context"], test["reply"], roles)
        )
        for label, roles in (
            ("true role", test["role"]),
            ("shuffled role", shuffled),
            ("no role", None),
        )
    }
    scores["speaker named"] = speaker_accuracy(
        model, test["context"], test["reply"], test["role"]
    )
    return scores


def _evaluate_shakespeare(model, load, quick):
    _, _, test, _ = shakespeare_data(quick)
    scores = shakespeare_scores(model, test)
    whole = reply_nats_per_character(
        model, test["context"], test["reply"], test["role"]
    )
    return {
        **{
            f"test perplexity, {k}": scores[k]
            for k in ("true role", "shuffled role", "no role")
        },
        "test nats per character, true role, whole replies": whole[
            "nats_per_character"
        ],
        "test replies whole in reply_length": whole["whole"],
        "perplexity gain of the true role over a shuffled one": (
            1 - scores["true role"] / scores["shuffled role"]
        ),
        "speaker named by the model itself": scores["speaker named"],
        "speaker chance": 1 / len(model.roles),
    }


SHAKESPEARE_RECIPES = [
    Recipe(
        "shakespeare_roles",
        RoleResponder,
        f"Replies to a line of Shakespeare as one of its "
        f"{SHAKESPEARE_CHARACTERS} most talkative characters (Hamlet, Iago...): "
        "pretrained without roles on the plays, then role-tuned.",
        "shakespeare_plays: every exchange of 38 plays outside the held-out "
        f"scenes, {SHAKESPEARE_PRETRAIN_EPOCHS} epochs without roles; then the "
        "characters' training speeches, the network up to 10 epochs, then "
        "the roles' vectors and word biases alone up to 10 (early stopping "
        "both); replies cut at their last sentence end within 63 tokens",
        _train_shakespeare,
        _evaluate_shakespeare,
        # The true role below a shuffled one: a thin margin on this
        # dialogue, which holds 1-2% of role information per token.
        {"perplexity gain of the true role over a shuffled one": 0.0},
        weights_dtype="float16",
        finish=_finish_shakespeare,
        domain="Shakespeare's plays: their words and 10 of their characters; "
        "not modern English",
    ),
]
