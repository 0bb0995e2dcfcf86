"""The captioner's training recipe, shared by the demo, tutorial 02, the
`caption_images` application, the presets and the budget benchmark."""

import keras

from keras_roleplay.training.exact_backup import ExactBackupAndRestore
from keras_roleplay.training.time_budget import TimeBudget, warmup_cosine_schedule
from keras_roleplay.utils.validation import check_positive_int, check_positive_number

# Enough epochs that a budget, not the epoch count, ends a budgeted run.
BUDGETED_EPOCHS = 100_000


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
):
    """Compiles and fits a `VGG16LSTMCaptioner` on images and their captions.

    The recipe:

    - every reference caption of an image is a training pair
      (`model.caption_dataset`), reshuffled every epoch;
    - Adam with a linear warm-up over the first 5% of the run to
      `peak_learning_rate`, then a cosine decay to 2% of it (Keras'
      `CosineDecay` over `epochs` x batches; with `time_budget`, the same
      curve over the budget's seconds, `TimeBudget`), as the responder's
      recipe has;
    - the masked loss and token accuracy of `model.compile()`.

    Measured by `benchmarks/captioner_budget.py` (paraphrased scenes, 420 s
    on 2 CPU cores in float32, 32x32 input, VGG16 cut after block 3,
    captions up to 20 tokens): peak 1e-3 reached held-out BLEU-4 0.347
    greedy / 0.407 beam, peak 2e-3 0.220 / 0.308. Build the model with
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

    Returns:
        The `keras.callbacks.History` of `fit`.

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
    if backup_dir is not None and time_budget is not None:
        raise ValueError(
            "`backup_dir` resumes runs of a fixed number of epochs; a run under "
            "`time_budget` cannot be repeated exactly. Received: "
            f"time_budget={time_budget!r} with backup_dir={backup_dir!r}"
        )
    data = model.caption_dataset(
        images, captions, batch_size=batch_size, shuffle=True, seed=seed
    )
    validation_data = None
    if validation is not None:
        if len(validation) != 2:
            raise ValueError(
                "`validation` must be (images, captions). Received: a tuple of "
                f"{len(validation)} items"
            )
        validation_data = model.caption_dataset(*validation, batch_size=batch_size)
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
    return model.fit(
        data,
        validation_data=validation_data,
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
