"""The role-play VQA presets (`role_vqa_*`) and their judges (`role_judge_vqa_*`)."""

import numpy as np

from keras_roleplay.applications import RoleResponder
from keras_roleplay.datasets import role_vqa
from keras_roleplay.datasets.role_vqa_phrasings import (
    HELD_OUT_FAMILIES,
    TRAINING_FAMILIES,
)
from keras_roleplay.metrics import (
    RoleJudge,
    role_accuracy,
)
from keras_roleplay.models.role_responder.role_responder_tokenizer import (
    build_dialogue_vocabulary,
)
from keras_roleplay.training.recipes.recipe import SEED, Recipe
from keras_roleplay.training.role_play import (
    fit_responder,
    train_role_judge,
)
from keras_roleplay.utils.progress import EpochLog

VQA_SIZES = (5000, 300, 300)
VQA_QUICK = (200, 20, 20)


def _vqa_data(language, quick, phrasings=TRAINING_FAMILIES):
    return role_vqa.load_data(
        *(VQA_QUICK if quick else VQA_SIZES),
        language=language,
        image_size=64,
        phrasings=phrasings,
    )


def _vqa_test(language, quick, phrasings):
    # The test split of `_vqa_data` (load_data's third seed), without
    # drawing the 5000 training scenes first.
    return role_vqa.generate_examples(
        (VQA_QUICK if quick else VQA_SIZES)[2],
        language=language,
        image_size=64,
        seed=2,
        phrasings=phrasings,
    )


def role_vqa_responder(train, language, sequence_length=None):
    """The role-VQA responder of the presets and the demo, for a training split.

    Args:
        train: a `role_vqa` split (its questions and answers make the
            vocabulary).
        language: `"en"` or `"zh"`.
        sequence_length: question length in tokens; default long enough for
            the polite phrasings (longer questions keep their last words,
            with a warning).
    """
    return RoleResponder.from_dialogues(
        np.concatenate([train["question"], train["answer"]]),
        roles=list(role_vqa.ROLES),
        vocabulary_size=400,
        sequence_length=sequence_length or (24 if language == "en" else 20),
        reply_length=32 if language == "en" else 40,
        image_shape=train["image"].shape[1:],
        hidden_dim=96,
        num_heads=4,
        num_layers=2,
        dropout=0.0,
    )


def _train_responder(language):
    def train(quick, log):
        train, validation, _ = _vqa_data(language, quick)
        model = role_vqa_responder(train, language)
        fit_responder(
            model,
            train["question"],
            train["answer"],
            train["role"],
            images=train["image"],
            epochs=1 if quick else 24,
            validation=(
                validation["question"],
                validation["answer"],
                validation["role"],
                validation["image"],
            ),
            seed=SEED,
            callbacks=[EpochLog(log)],
        )
        return model

    return train


def content_accuracy(model, data, language):
    """Generates answers to a `role_vqa` split and checks them against its scenes.

    Returns:
        `(share of answers right about the image, the answers)`.
    """
    answers = model.generate(
        list(data["question"]),
        role=data["role"],
        image=data["image"],
        truncate_context="warn",
    )
    correct = role_vqa.answers_correct(answers, data["type"], data["truth"], language)
    return np.mean(correct), answers


def _evaluate_responder(language):
    def evaluate(model, load, quick):
        scores = {}
        for label, phrasings in (
            ("template questions", ("template",)),
            ("training phrasings", TRAINING_FAMILIES),
            ("held-out phrasings", HELD_OUT_FAMILIES),
        ):
            test = _vqa_test(language, quick, phrasings)
            accuracy, answers = content_accuracy(model, test, language)
            scores[f"content accuracy, {label}"] = accuracy
            if label == "template questions":
                judge = load(f"role_judge_vqa_{language}")
                scores["judge role accuracy, generated"] = role_accuracy(
                    judge, answers, test["role"]
                )
        return scores

    return evaluate


def _train_judge(language):
    def train(quick, log):
        train, validation, _ = _vqa_data(language, quick)
        # The responder's vocabulary (the same call on the same texts).
        vocabulary = build_dialogue_vocabulary(
            np.concatenate([train["question"], train["answer"]]), 400
        )
        return train_role_judge(
            vocabulary,
            list(role_vqa.ROLES),
            train["answer"],
            train["role"],
            validation=(validation["answer"], validation["role"]),
            epochs=1 if quick else 10,
        )

    return train


def _evaluate_judge(language):
    def evaluate(model, load, quick):
        test = _vqa_test(language, quick, TRAINING_FAMILIES)
        return {
            "role accuracy, gold answers": role_accuracy(
                model, test["answer"], test["role"]
            )
        }

    return evaluate


_LANGUAGE = {"en": "English", "zh": "Chinese"}

ROLE_VQA_RECIPES = [
    *[
        Recipe(
            f"role_judge_vqa_{language}",
            RoleJudge,
            f"Names the role of a role-play VQA answer ({_LANGUAGE[language]}); "
            "scores the role consistency of generated answers.",
            "role_vqa: 5000 gold answers, 10 epochs",
            _train_judge(language),
            _evaluate_judge(language),
            {"role accuracy, gold answers": 0.9},
            domain="answers of the five role_vqa roles about coloured-shape scenes",
        )
        for language in ("en", "zh")
    ],
    *[
        Recipe(
            f"role_vqa_{language}",
            RoleResponder,
            f"Answers a question about a 64x64 shapes scene as one of five "
            f"roles ({_LANGUAGE[language]}): customer-service agent, doctor, "
            "teacher, tour guide, game character.",
            f"role_vqa: 5000 scenes, phrasing families {list(TRAINING_FAMILIES)}, "
            "24 epochs",
            _train_responder(language),
            _evaluate_responder(language),
            {
                "content accuracy, template questions": 0.9,
                "content accuracy, held-out phrasings": 0.8,
                "judge role accuracy, generated": 0.9,
            },
            needs=(f"role_judge_vqa_{language}",),
            domain="questions about the colour, shape, place or count of coloured "
            "shapes on plain backgrounds; not photographs",
        )
        for language in ("en", "zh")
    ],
]
