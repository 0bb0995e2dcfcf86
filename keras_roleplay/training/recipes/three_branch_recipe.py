"""The `three_branch_agreement` preset: how it is trained and scored."""

from keras_roleplay.applications import ThreeBranchClassifier
from keras_roleplay.datasets import multimodal_agreement
from keras_roleplay.training.recipes.recipe import Recipe
from keras_roleplay.utils.progress import EpochLog

AGREEMENT_SIZES = dict(num_train=4000, num_validation=800, num_test=800)
AGREEMENT_QUICK = dict(num_train=400, num_validation=100, num_test=100)


def _train_classifier(quick, log):
    (train, validation, _), info = multimodal_agreement.load_data(
        **(AGREEMENT_QUICK if quick else AGREEMENT_SIZES)
    )
    model = ThreeBranchClassifier(**info.classifier_kwargs)
    model.compile()
    model.fit(
        train,
        validation_data=validation,
        epochs=2 if quick else 20,
        verbose=0,
        callbacks=[EpochLog(log)],
    )
    return model


def _evaluate_classifier(model, load, quick):
    (_, _, test), _ = multimodal_agreement.load_data(
        **(AGREEMENT_QUICK if quick else AGREEMENT_SIZES)
    )
    _, accuracy = model.evaluate(test, verbose=0)
    return {"test accuracy": accuracy}


THREE_BRANCH_RECIPES = [
    Recipe(
        "three_branch_agreement",
        ThreeBranchClassifier,
        "Image + text + audio classifier (concat fusion): which modality "
        "disagrees with the other two.",
        "multimodal_agreement: 4000 training examples, 20 epochs",
        _train_classifier,
        _evaluate_classifier,
        {"test accuracy": 0.95},
        domain="the bundled agreement task: shape images, short texts and "
        "synthetic tones, one disagreeing",
    ),
]
