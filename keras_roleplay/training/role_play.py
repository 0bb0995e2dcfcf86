"""Recipes that train and score role-play models, shared by the demo, the
tutorial and the applications: the responder's fit, a judge trained on gold
replies, an optimizer schedule that suits the responder, and one
evaluation."""

import time

import keras
import numpy as np

from keras_roleplay.metrics.captioning import caption_bleu
from keras_roleplay.metrics.role_play import (
    RoleJudge,
    distinct_n,
    role_accuracy,
    rouge_l,
)
from keras_roleplay.training.exact_backup import ExactBackupAndRestore
from keras_roleplay.training.time_budget import warmup_cosine_schedule
from keras_roleplay.utils.validation import check_positive_int


def warmup_cosine_adamw(total_steps, peak_learning_rate=2e-3, weight_decay=0.01):
    """AdamW with a linear warm-up (5% of the steps) then a cosine decay.

    Transformers trained from scratch learn markedly faster with a warm-up
    and a decay than with a constant rate; this is Keras' `CosineDecay`
    with its warm-up option, nothing new.

    Args:
        total_steps: training steps (epochs x batches per epoch).
        peak_learning_rate: the rate reached after the warm-up.
        weight_decay: AdamW's decoupled weight decay.

    Returns:
        A `keras.optimizers.AdamW`.

    Example:

    >>> optimizer = warmup_cosine_adamw(100)
    >>> float(optimizer.learning_rate) == 0.0  # starts the warm-up at zero
    True
    """
    schedule = warmup_cosine_schedule(total_steps, peak_learning_rate)
    return keras.optimizers.AdamW(schedule, weight_decay=weight_decay)


def fit_responder(
    model,
    contexts,
    replies,
    roles,
    images=None,
    epochs=10,
    validation=None,
    early_stopping=False,
    role_dropout=0.0,
    peak_learning_rate=2e-3,
    seed=0,
    verbose=0,
    callbacks=None,
    backup_dir=None,
):
    """Compiles and fits a `RoleResponder` on dialogue (teacher forcing).

    The recipe the demo and the chat application share:
    `model.dialogue_dataset` (tokenised once, reshuffled every epoch),
    `warmup_cosine_adamw` over all the steps, and, with `early_stopping`,
    the weights of the epoch with the lowest validation loss (small
    dialogue corpora overfit within a few epochs).

    Args:
        model: a `RoleResponder`.
        contexts: context texts.
        replies: the reply to each context.
        roles: the role of each reply (names or ids).
        images: their images, for an image model.
        epochs: training epochs (the most, with `early_stopping`).
        validation: optional `(contexts, replies, roles)` or
            `(contexts, replies, roles, images)`.
        early_stopping: stop after 2 epochs without a lower validation loss
            and keep the best weights; needs `validation`.
        role_dropout: share of training examples with the role hidden (see
            `RoleResponder.dialogue_dataset`).
        peak_learning_rate: the rate after the warm-up.
        seed: seed of the shuffling (and of the role dropout).
        verbose: `fit` verbosity.
        callbacks: more Keras callbacks (e.g. `EpochProgress`).
        backup_dir: optional folder for an `ExactBackupAndRestore`: a run
            killed part-way and started again with the same arguments
            resumes at its last finished epoch and ends as an uninterrupted
            run would (with `early_stopping`, its patience starts again).

    Returns:
        The `keras.callbacks.History` of `fit`.

    Example:

    >>> from keras_roleplay.applications import RoleResponder
    >>> model = RoleResponder.from_dialogues(["hi", "ahoy", "good day"],
    ...     roles=["pirate", "butler"], sequence_length=4, hidden_dim=16,
    ...     num_heads=2, num_layers=1)
    >>> history = fit_responder(model, ["hi"] * 8, ["ahoy", "good day"] * 4,
    ...     [0, 1] * 4, epochs=2)
    >>> len(history.history["loss"])
    2
    """
    epochs = check_positive_int("epochs", epochs)
    if early_stopping and validation is None:
        raise ValueError(
            "`early_stopping=True` watches the validation loss: pass "
            "`validation=(contexts, replies, roles)`. Received: validation=None"
        )
    data = model.dialogue_dataset(
        contexts,
        replies,
        roles,
        images=images,
        shuffle=True,
        seed=seed,
        role_dropout=role_dropout,
    )
    validation_data = None
    if validation is not None:
        if len(validation) not in (3, 4):
            raise ValueError(
                "`validation` must be (contexts, replies, roles) or (contexts, "
                "replies, roles, images). Received: a tuple of "
                f"{len(validation)} items"
            )
        validation_data = model.dialogue_dataset(*validation)
    model.compile(
        optimizer=warmup_cosine_adamw(
            epochs * len(data), peak_learning_rate=peak_learning_rate
        )
    )
    callbacks = list(callbacks or [])
    if backup_dir is not None:
        callbacks.insert(0, ExactBackupAndRestore(backup_dir))
    if early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
        )
    return model.fit(
        data,
        validation_data=validation_data,
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
    )


def pretrain_responder(
    model,
    contexts,
    replies,
    epochs=1,
    validation=None,
    peak_learning_rate=2e-3,
    seed=0,
    verbose=0,
    callbacks=None,
    backup_dir=None,
):
    """Pretrains a `RoleResponder`'s network on dialogue without roles.

    The first half of the pretrain-then-adapt recipe, pretrain then adapt to the
    role: `fit_responder` with every role hidden (id -1, so the role vector
    and the role's word bias are left out), on a corpus much larger than
    the role's own, such as every exchange of the plays
    (`datasets.shakespeare.load_plays`, held-out scenes excluded). Then
    `fit_responder` with the roles fine-tunes the same network on the
    chosen characters. Build the model's vocabulary from the pretraining
    texts, so that it covers them.

    Measured (Shakespeare, 10 characters, the demo's network: 3 000 tokens,
    128 units, 2 layers; `scripts/measure_shakespeare_pretraining.py`): one
    epoch on the plays' 28 441 exchanges outside the held-out scenes (about
    170 s on 2 CPU cores), then the role fine-tuning with early stopping:
    held-out perplexity with the true role 96.0 against 149.9 for the same
    network fine-tuned from scratch, 0.64x (mean of 3 seeds, 0.636 to
    0.648).

    Args:
        model: a `RoleResponder` (with or without an image: pass no images
            here, and build it without one for text-only dialogue).
        contexts: context texts.
        replies: the reply to each context.
        epochs: pretraining epochs.
        validation: optional `(contexts, replies)`, scored without roles.
        peak_learning_rate, seed, verbose, callbacks, backup_dir: as for
            `fit_responder`.

    Returns:
        The `keras.callbacks.History` of `fit`.

    Example:

    >>> from keras_roleplay.applications import RoleResponder
    >>> texts = ["good morrow", "what news", "ahoy", "good day"]
    >>> model = RoleResponder.from_dialogues(texts, roles=["pirate", "butler"],
    ...     sequence_length=4, hidden_dim=16, num_heads=2, num_layers=1)
    >>> _ = pretrain_responder(model, ["good morrow"] * 8, ["what news"] * 8)
    >>> history = fit_responder(model, ["hi"] * 8, ["ahoy", "good day"] * 4,
    ...     ["pirate", "butler"] * 4, epochs=2)
    >>> len(history.history["loss"])
    2
    """
    if validation is not None:
        if len(validation) != 2:
            raise ValueError(
                "`validation` must be (contexts, replies): pretraining reads no "
                f"roles. Received: a tuple of {len(validation)} items"
            )
        validation = (*validation, None)
    return fit_responder(
        model,
        contexts,
        replies,
        None,
        epochs=epochs,
        validation=validation,
        peak_learning_rate=peak_learning_rate,
        seed=seed,
        verbose=verbose,
        callbacks=callbacks,
        backup_dir=backup_dir,
    )


def train_role_judge(
    vocabulary,
    roles,
    texts,
    text_roles,
    validation=None,
    epochs=10,
    sequence_length=48,
    hidden_dim=64,
    seed=0,
    verbose=0,
):
    """Trains a `RoleJudge` on gold replies (who said what).

    Args:
        vocabulary: the tokens the judge reads (a responder's vocabulary).
        roles: role names.
        texts: gold replies.
        text_roles: the role of each reply (names or ids).
        validation: optional `(texts, roles)`; the weights of the epoch with
            the best validation accuracy are kept.
        epochs: most training epochs.
        sequence_length: tokens read per reply.
        hidden_dim: the judge's size.
        seed: random seed.
        verbose: `fit` verbosity.

    Returns:
        The trained `RoleJudge`.

    Example:

    >>> judge = train_role_judge(["[PAD]", "[UNK]", "ahoy", "sir"],
    ...     ["pirate", "butler"], ["ahoy", "sir"] * 8, [0, 1] * 8, epochs=20,
    ...     sequence_length=4, hidden_dim=8)
    >>> judge.predict_roles(["ahoy"])
    ['pirate']
    """
    keras.utils.set_random_seed(seed)
    judge = RoleJudge(
        vocabulary, roles, sequence_length=sequence_length, hidden_dim=hidden_dim
    )
    judge.compile()
    callbacks, validation_data = [], None
    if validation is not None:
        validation_data = judge.text_dataset(*validation)
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy",
                mode="max",
                patience=3,
                restore_best_weights=True,
            )
        )
    judge.fit(
        judge.text_dataset(texts, text_roles, shuffle=True, seed=seed),
        validation_data=validation_data,
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    return judge


def evaluate_replies(
    model,
    judge,
    contexts,
    roles,
    references,
    images=None,
    language="en",
    sampler="greedy",
    seed=0,
    generate_options=None,
    shuffled_roles=True,
):
    """Generates replies and scores them: role consistency and overlap.

    Replies are generated twice: with each context's true role, and with a
    shuffled role. The judge should name the asked-for role in both cases
    (a model that ignored the role would score near chance on the shuffled
    run). `shuffled_roles=False` skips the second run (half the time).

    Args:
        model: a trained `RoleResponder`.
        judge: a `RoleJudge` trained on gold replies.
        contexts: held-out contexts (longer ones keep their last
            `sequence_length` tokens, as in training).
        roles: their true roles (ids or names).
        references: the gold replies.
        images: their images, for an image model.
        language: `"en"` or `"zh"` (BLEU, ROUGE-L and distinct-n per
            character for Chinese).
        sampler: the decoding sampler (a name or a
            `keras_hub.samplers.Sampler`, as `generate` takes it).
        seed: seed of the role shuffle.
        generate_options: other arguments of `model.generate`
            (`no_repeat_ngram_size`, `role_guidance`, the sampler's `seed`,
            or a `sampler` that overrides the one above...).
        shuffled_roles: also generate with shuffled roles and score them
            (`"judge_shuffled_role"`; absent when `False`).

    Returns:
        A dict: `"replies"`, `"judge_gold"` (judge accuracy on the gold
        replies), `"judge_generated"`, `"judge_shuffled_role"`, `"chance"`
        (a uniform guess among the judge's roles),
        `"bleu_4"`, `"rouge_l"`, `"distinct_1"`, `"distinct_2"`,
        `"generate_seconds"`.
    """
    roles = model.role_ids(np.asarray(roles).tolist(), count=len(contexts))
    start = time.perf_counter()
    # Long contexts keep their last words, as in training.
    options = dict(image=images, sampler=sampler, truncate_context=True)
    options.update(generate_options or {})
    replies = model.generate(list(contexts), role=roles, **options)
    seconds = time.perf_counter() - start
    scores = {}
    if shuffled_roles:
        shuffled = np.random.default_rng(seed).permutation(roles)
        shuffled_replies = model.generate(list(contexts), role=shuffled, **options)
        scores["judge_shuffled_role"] = role_accuracy(judge, shuffled_replies, shuffled)
    return {
        "replies": replies,
        "judge_gold": role_accuracy(judge, references, roles),
        "judge_generated": role_accuracy(judge, replies, roles),
        **scores,
        "chance": 1.0 / len(judge.roles),
        "bleu_4": caption_bleu([[r] for r in references], replies, language=language)[
            "bleu_4"
        ],
        "rouge_l": rouge_l(references, replies, language=language),
        "distinct_1": distinct_n(replies, 1, language),
        "distinct_2": distinct_n(replies, 2, language),
        "generate_seconds": seconds,
    }
