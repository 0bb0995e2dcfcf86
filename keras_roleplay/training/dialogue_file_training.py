"""Your own characters: a responder trained on a dialogue file.

The recipe of the `shakespeare_roles` preset, for any dialogue that
`data.load_dialogues` reads: pretraining on every exchange with the roles
hidden (the network learns the language of the whole file), then tuning
with the roles (early stopping on held-out scenes), then the roles' own
vectors and word biases alone, and the words of the training replies as
the model's lexicon (it writes no other word).
`applications/role_chat.py --train my_dialogues.jsonl`.
"""

import keras
import numpy as np

from keras_roleplay.applications import RoleResponder
from keras_roleplay.data.dialogues import split_dialogues
from keras_roleplay.data.sentences import whole_sentences
from keras_roleplay.training.role_play import fit_responder, pretrain_responder
from keras_roleplay.training.role_slots import only_roles_trainable
from keras_roleplay.utils.progress import EpochLog

# A network two CPU cores train on a few thousand exchanges in minutes.
DIALOGUE_FILE_SIZE = dict(
    vocabulary_size=2000,
    hidden_dim=64,
    num_layers=2,
    num_heads=4,
    sequence_length=32,
    reply_length=32,
    dropout=0.2,
)


def train_responder_on_dialogues(
    data,
    pretrain_epochs=2,
    epochs=10,
    validation_split=0.1,
    size=None,
    seed=0,
    log=print,
    role_learning_rate=1e-2,
):
    """Trains a text-only `RoleResponder` on loaded dialogues (see the module).

    Args:
        data: what `data.load_dialogues` returns (without images).
        pretrain_epochs: epochs over every exchange with the roles hidden
            (0 skips pretraining).
        epochs: most epochs with the roles (early stopping on the held-out
            scenes when there are any).
        validation_split: share of the scenes held out for early stopping
            (0: none; the last epoch's weights are kept).
        size: `RoleResponder` arguments (default `DIALOGUE_FILE_SIZE`).
        seed: the weights', split's and data order's seed.
        log: receives a line a stage and an epoch.
        role_learning_rate: the last stage's peak learning rate, the roles'
            own parameters alone (`None` skips it).

    Returns:
        `(model, validation)`: the trained responder and the held-out
        split (a dict as `split_dialogues` gives, possibly empty).

    Example:

    >>> rows = {"context": ["hello", "who are you ?"] * 8,
    ...         "reply": ["well met .", "a knight of the realm ."] * 8,
    ...         "role": ["knight"] * 16, "roles": ["knight"], "scene": [None] * 16}
    >>> model, _ = train_responder_on_dialogues(  # one short stage, for speed
    ...     rows, pretrain_epochs=0, epochs=1, validation_split=0.0,
    ...     role_learning_rate=None, log=lambda line: None,
    ...     size=dict(hidden_dim=8, num_layers=1, num_heads=2, sequence_length=8,
    ...               reply_length=8))
    >>> model.roles
    ['knight']
    """
    if isinstance(data.get("image"), np.ndarray):
        raise ValueError(
            "`train_responder_on_dialogues` trains text-only responders; these "
            "dialogues hold images. Build a `RoleResponder(image_shape=...)` and "
            "train it with `training.fit_responder(..., images=data['image'])`."
        )
    keras.utils.set_random_seed(seed)
    if validation_split:
        train, validation, _ = split_dialogues(data, validation_split, 0.0, seed)
    else:
        train, validation = data, {"context": [], "reply": [], "role": []}
    if not train["reply"]:
        raise ValueError("No exchange is left for training after the split.")
    model = RoleResponder.from_dialogues(
        list(train["context"]) + list(train["reply"]),
        roles=list(data["roles"]),
        **{**DIALOGUE_FILE_SIZE, **(size or {})},
    )
    cut, still_cut = whole_sentences(
        train["reply"], model.tokenizer, model.reply_length - 1
    )
    log(
        f"{len(cut)} training exchanges, {len(validation['reply'])} held out; "
        f"{np.mean(still_cut):.1%} of replies still cut mid-sentence"
    )
    replies = np.asarray(cut, dtype=object)
    held_out = None
    if len(validation["reply"]):
        held_out = (validation["context"], validation["reply"])
    if pretrain_epochs:
        log(f"pretraining on {len(cut)} exchanges, roles hidden")
        pretrain_responder(
            model,
            train["context"],
            replies,
            epochs=pretrain_epochs,
            validation=held_out,
            seed=seed,
            callbacks=[EpochLog(log)],
        )

    def role_tune(learning_rate=2e-3):
        fit_responder(
            model,
            train["context"],
            replies,
            train["role"],
            epochs=epochs,
            validation=held_out and (*held_out, validation["role"]),
            early_stopping=held_out is not None,
            peak_learning_rate=learning_rate,
            seed=seed,
            callbacks=[EpochLog(log)],
        )

    log(f"tuning with the {len(data['roles'])} roles")
    role_tune()
    if role_learning_rate is not None:
        log("tuning the roles' vectors and word biases alone")
        with only_roles_trainable(model):
            role_tune(role_learning_rate)
    count = model.learn_lexicon(list(train["reply"]))
    log(f"lexicon: the {count} words of the training replies")
    return model, validation
