"""The captioner's training recipe, shared by the demo, tutorial 02, the
`caption_images` application, the presets and the budget benchmark."""

import keras

from keras_roleplay.data.captions import caption_lists
from keras_roleplay.models.vgg16_lstm_captioner import ReferenceGroupTrainer
from keras_roleplay.training.exact_backup import ExactBackupAndRestore
from keras_roleplay.training.rewards import BleuReward, CiderDReward
from keras_roleplay.training.self_critical import fit_self_critical
from keras_roleplay.training.time_budget import TimeBudget, warmup_cosine_schedule
from keras_roleplay.utils.compiling import compile_token_defaults
from keras_roleplay.utils.validation import check_positive_int, check_positive_number

# Enough epochs that a budget, not the epoch count, ends a budgeted run.
BUDGETED_EPOCHS = 100_000

# What `then_reward` tunes with unless `reward_settings` says otherwise: the
# settings of `benchmarks/captioner_reward_tuning.py`, where 180 s of SCST
# beat 180 s more teacher forcing by 5.2% held-out CIDEr-D.
REWARD_DEFAULTS = dict(
    epochs=1, batch_size=16, num_samples=5, learning_rate=1e-4, baseline="mean"
)
REWARD_SETTINGS = (
    "epochs", "steps_per_epoch", "batch_size", "num_samples", "learning_rate",
    "kl_weight", "teacher_forcing", "baseline", "seed", "callbacks",
    "time_budget", "language",
)  # fmt: skip

# "auto" groups the references of an image when padding every image to the
# most references wastes at most this share of the decoded captions.
MOST_PADDING = 0.25


def should_group_references(captions, group_references="auto"):
    """Whether `fit_captioner` trains on images with all their references.

    `"auto"`: when images have several references and padding each image's
    list to the longest wastes at most a quarter of the decoded captions.

    Example:

    >>> should_group_references([["a", "b"], ["c", "d"]])
    True
    >>> should_group_references([["a"], ["b"]]), should_group_references(
    ...     [["a", "b", "c", "d"], ["e"]])
    (False, False)
    """
    if group_references not in ("auto", True, False):
        raise ValueError(
            '`group_references` must be "auto", True or False. Received: '
            f"group_references={group_references!r}"
        )
    if group_references != "auto":
        return group_references
    counts = [len(entry) for entry in caption_lists(captions)]
    most = max(counts, default=0)
    return most > 1 and sum(counts) >= (1 - MOST_PADDING) * most * len(counts)


def fit_captioner(
    model,
    images,
    captions,
    epochs=14,
    time_budget=None,
    validation=None,
    peak_learning_rate=1e-3,
    batch_size=32,
    seed=0,
    verbose=0,
    callbacks=None,
    backup_dir=None,
    group_references="auto",
    then_reward=None,
    reward_settings=None,
):
    """Compiles and fits a `VGG16LSTMCaptioner` on images and their captions.

    The recipe:

    - every reference caption of an image is a training pair, reshuffled
      every epoch; when images have several references, a batch holds
      `batch_size / references` images with all their references and
      VGG16 runs once per image (`ReferenceGroupTrainer`), not once per
      pair: 1.9x the pairs per second with three references;
    - Adam with a linear warm-up over the first 5% of the run to
      `peak_learning_rate`, then a cosine decay to 2% of it (Keras'
      `CosineDecay` over `epochs` x batches; with `time_budget`, the same
      curve over the budget's seconds, `TimeBudget`), as the responder's
      recipe has;
    - the masked loss and token accuracy of `model.compile()`;
    - optionally, `then_reward`: self-critical sequence training after the
      teacher forcing (`training.fit_self_critical`, Rennie et al. 2017),
      on the same images and references, with a CIDEr-D reward
      (`"cider"`), BLEU-4 (`"bleu"`) or a reward of your own.

    Measured by `benchmarks/captioner_budget.py --seeds 3` (paraphrased
    scenes, 420 s on 2 cores of an AMD EPYC with bf16, 32x32 input, VGG16
    cut after block 3, captions up to 20 tokens, peak 1e-3; means over
    seeds 0, 1, 2): held-out BLEU-4 0.568 greedy / 0.583 beam in 28 epochs,
    references grouped; 0.573 / 0.576 in 17 epochs one pair at a time; a
    hand-written transformer captioner 0.545 / 0.551. One seed moves BLEU-4
    by about 0.02. On a 4x slower machine (5 epochs in 420 s, float32) the
    recipe then without grouping reached 0.347 / 0.407; peak 2e-3 was worse
    (0.220 / 0.308). Build the model with
    `feature_layer="auto"` (the default): VGG16's grid of regions is then
    8x8 (`block3_conv3` at 32x32) and the decoder attends over places in
    the picture.

    Args:
        model: a `VGG16LSTMCaptioner`.
        images: `(n, height, width, 3)` in `[0, 255]` (resized to the
            model's size).
        captions: `n` captions, or `n` lists of references.
        epochs: training epochs (without `time_budget`).
        time_budget: optional seconds of training (compilation included);
            then the run ends with the first batch past the budget.
        validation: optional `(images, captions)`, scored every epoch.
        peak_learning_rate: the rate after the warm-up.
        batch_size: pairs per batch.
        seed: shuffle seed.
        verbose: `fit` verbosity.
        callbacks: more Keras callbacks (`EpochProgress`...).
        backup_dir: optional folder for an `ExactBackupAndRestore`: a run
            killed part-way and started again with the same arguments
            resumes at its last finished epoch and ends as an uninterrupted
            run would (epoch runs only, not `time_budget` ones).
        group_references: `"auto"` (see `should_group_references`), `True`
            (images with all their references; missing ones are padding
            that weighs nothing) or `False` (one pair per example). Then the
            callbacks' `self.model` is the `ReferenceGroupTrainer`, which
            shares the model's weights.
        then_reward: `None` (teacher forcing only), `"cider"` (then
            self-critical training with CIDEr-D against each image's
            references, document frequencies of all of them, as Rennie et
            al.), `"bleu"` (sentence BLEU-4), or a reward
            `reward(texts, batch)` (`training.rewards`). Measured on the
            paraphrased scenes (`benchmarks/captioner_reward_tuning.py`, 3
            seeds): 180 s of it after 300 s of teacher forcing gave
            held-out CIDEr-D 2.804 and BLEU-4 0.536, against 2.664 and
            0.512 for 180 s more teacher forcing.
        reward_settings: a dict of `fit_self_critical`'s settings for
            that stage (`epochs`, `steps_per_epoch`, `batch_size`,
            `num_samples`, `learning_rate`, `kl_weight`,
            `teacher_forcing`, `baseline`, `seed`, `callbacks`), plus
            `time_budget` (its seconds; then `epochs` is a most) and
            `language` (`"en"` or `"zh"`, for `"cider"` and `"bleu"`).
            Defaults: `REWARD_DEFAULTS` (one pass, 16 images x 5 samples a
            step, Adam at 1e-4), `seed` as above, no callbacks (those of
            the teacher forcing watch its own logs).

    Returns:
        The `keras.callbacks.History` of `fit`; with `then_reward`,
        `(history, reward_history)`, the second from `fit_self_critical`
        (each epoch's `sample_reward`, `greedy_reward`, `kl`...). The model
        is compiled with the optimizer that trained it last, so
        `model.evaluate` works after.

    Example:

    >>> import numpy as np
    >>> from keras_roleplay.applications import VGG16LSTMCaptioner
    >>> captions = [["a red circle"], ["a blue square"]] * 4
    >>> model = VGG16LSTMCaptioner.from_captions(captions,
    ...     image_shape=(32, 32, 3), sequence_length=6, embedding_dim=8,
    ...     lstm_units=8, feature_layer="block3_conv3")
    >>> history = fit_captioner(model, np.zeros((8, 32, 32, 3)), captions,
    ...     epochs=2, batch_size=4)
    >>> len(history.history["loss"])
    2
    """
    reward, reward_settings = _reward_stage(then_reward, reward_settings, captions)
    if backup_dir is not None and time_budget is not None:
        raise ValueError(
            "`backup_dir` resumes runs of a fixed number of epochs; a run under "
            "`time_budget` cannot be repeated exactly. Received: "
            f"time_budget={time_budget!r} with backup_dir={backup_dir!r}"
        )
    batch_size = check_positive_int("batch_size", batch_size)
    grouped = should_group_references(captions, group_references)
    trainer, per_batch = model, batch_size
    if grouped:
        trainer = ReferenceGroupTrainer(model.backbone)
        most = max(len(entry) for entry in caption_lists(captions))
        per_batch = max(1, round(batch_size / most))
    data = model.caption_dataset(
        images,
        captions,
        batch_size=per_batch,
        shuffle=True,
        seed=seed,
        group_references=grouped,
    )
    validation_data = None
    if validation is not None:
        if len(validation) != 2:
            raise ValueError(
                "`validation` must be (images, captions). Received: a tuple of "
                f"{len(validation)} items"
            )
        validation_data = model.caption_dataset(
            *validation, batch_size=per_batch, group_references=grouped
        )
    callbacks = list(callbacks or [])
    if backup_dir is not None:
        callbacks.insert(0, ExactBackupAndRestore(backup_dir))
    if time_budget is None:
        epochs = check_positive_int("epochs", epochs)
        optimizer = keras.optimizers.Adam(
            warmup_cosine_schedule(epochs * len(data), peak_learning_rate)
        )
    else:
        time_budget = check_positive_number("time_budget", time_budget)
        epochs = BUDGETED_EPOCHS
        optimizer = keras.optimizers.Adam(0.0)
        callbacks.insert(0, TimeBudget(time_budget, peak_learning_rate))
    model.compile(optimizer=optimizer)
    if grouped:
        # The task's "auto" loss and metrics, on the trainer's outputs.
        loss, metrics, options = compile_token_defaults("auto", "auto", {})
        trainer.compile(optimizer=optimizer, loss=loss, metrics=metrics, **options)
    history = trainer.fit(
        data,
        validation_data=validation_data,
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    if reward is None:
        return history
    stage_callbacks = list(reward_settings.pop("callbacks", None) or [])
    seconds = reward_settings.pop("time_budget", None)
    if seconds is not None:
        seconds = check_positive_number("reward_settings['time_budget']", seconds)
        stage_callbacks.insert(0, TimeBudget(seconds))
        reward_settings.setdefault("epochs", BUDGETED_EPOCHS)
    reward_settings = {"seed": seed, **REWARD_DEFAULTS, **reward_settings}
    reward_history = fit_self_critical(
        model,
        images,
        caption_lists(captions),
        reward,
        callbacks=stage_callbacks,
        **reward_settings,
    )
    return history, reward_history


def _reward_stage(then_reward, reward_settings, captions):
    """`then_reward` and `reward_settings` checked: `(reward or None, settings)`."""
    settings = dict(reward_settings or {})
    unknown = sorted(set(settings) - set(REWARD_SETTINGS))
    if unknown:
        raise ValueError(
            f"`reward_settings` takes {list(REWARD_SETTINGS)}. Received "
            f"unknown keys: {unknown}"
        )
    if then_reward is None:
        if settings:
            raise ValueError(
                "`reward_settings` needs `then_reward` (the reward to tune "
                f"with). Received: reward_settings={reward_settings!r}"
            )
        return None, settings
    language = settings.pop("language", "en")
    if callable(then_reward):
        return then_reward, settings
    if then_reward == "cider":
        return CiderDReward(caption_lists(captions), language=language), settings
    if then_reward == "bleu":
        return BleuReward(language=language), settings
    raise ValueError(
        '`then_reward` must be None, "cider", "bleu" or a reward callable '
        f"`reward(texts, batch)`. Received: then_reward={then_reward!r}"
    )
