"""Reward tuning against as many seconds more of teacher forcing.

Whether reward tuning helps is a comparison at equal cost: from the same
trained weights, N more seconds of the teacher forcing that trained them,
or N seconds of tuning on a sequence-level reward. Two comparisons, shared
by the demo's `reward_tuning` job and the benchmarks:

- `compare_caption_tuning`: a captioner, self-critical sequence training
  with a CIDEr-D reward (Rennie et al. 2017), scored by held-out CIDEr-D
  and BLEU-4 of greedy captions;
- `compare_answer_tuning`: a role-play VQA responder, tuned with the
  content reward (`rewards.AnswerContentReward`: 1 for an answer that
  states the right value), scored by content accuracy on held-out
  questions (e.g. in phrasings no training question uses).
"""

import time

import keras
import numpy as np

from keras_roleplay.applications import VGG16LSTMCaptioner
from keras_roleplay.datasets import role_vqa
from keras_roleplay.metrics import caption_bleu, caption_cider_d
from keras_roleplay.training.captioning import BUDGETED_EPOCHS, fit_captioner
from keras_roleplay.training.reply_reward_tuning import fit_reply_rewards
from keras_roleplay.training.rewards import AnswerContentReward, CiderDReward
from keras_roleplay.training.self_critical import fit_self_critical
from keras_roleplay.training.time_budget import TimeBudget
from keras_roleplay.utils.validation import check_positive_number


def scenes_captioner(captions):
    """The captioner of the paraphrased-scenes comparisons, untrained.

    `benchmarks/captioner_budget.py`'s: 32x32 input, VGG16 cut after block
    3 (an 8x8 grid of regions), captions up to 20 tokens, a 400-word
    vocabulary built from `captions`.
    """
    return VGG16LSTMCaptioner.from_captions(
        captions,
        vocabulary_size=400,
        sequence_length=20,
        image_shape=(32, 32, 3),
        feature_layer="block3_conv3",
    )


def caption_scores(model, test):
    """Held-out CIDEr-D, BLEU-4 and distinct captions of greedy captions."""
    references = [list(c) for c in test["captions"]]
    captions = model.generate(test["image"], sampler="greedy")
    return {
        "CIDEr-D": round(caption_cider_d(references, captions), 4),
        "BLEU-4": round(caption_bleu(references, captions)["bleu_4"], 4),
        "distinct": len(set(captions)),
    }


def compare_caption_tuning(
    model,
    train,
    test,
    seconds,
    teacher_forcing_rate=1e-4,
    reward_rate=1e-4,
    num_samples=5,
    batch_size=16,
    seed=0,
):
    """`seconds` more teacher forcing, or `seconds` of SCST, from `model`'s weights.

    Args:
        model: a trained `VGG16LSTMCaptioner`; it ends with the SCST
            arm's weights.
        train: `{"image", "captions"}` (lists of references): what both
            arms train on, and the CIDEr-D reward's document frequencies.
        test: `{"image", "captions"}`, held out.
        seconds: each arm's budget.
        teacher_forcing_rate: the peak rate of the teacher-forcing arm
            (`fit_captioner`'s warm-up and cosine over the budget).
        reward_rate: Adam's rate in the SCST arm.
        num_samples, batch_size: SCST's samples an image, images a step.
        seed: both arms' seed.

    Returns:
        `{"start", "teacher forcing", "self-critical"}`: each a dict of
        `caption_scores`, with `"seconds"` for the arms, and `"steps"` and
        `"greedy reward"` (the training images' greedy CIDEr-D, each
        20-step epoch's mean) for SCST.
    """
    seconds = check_positive_number("seconds", seconds)
    start_weights = model.get_weights()
    results = {"start": caption_scores(model, test)}
    references = [list(c) for c in train["captions"]]

    keras.utils.set_random_seed(seed)
    began = time.perf_counter()
    fit_captioner(
        model,
        train["image"],
        references,
        time_budget=seconds,
        peak_learning_rate=teacher_forcing_rate,
        seed=seed,
    )
    results["teacher forcing"] = {
        **caption_scores(model, test),
        "seconds": round(time.perf_counter() - began, 1),
    }

    model.set_weights(start_weights)
    keras.utils.set_random_seed(seed)
    budget = TimeBudget(seconds)
    began = time.perf_counter()
    history = fit_self_critical(
        model,
        train["image"],
        references,
        CiderDReward(references),
        epochs=BUDGETED_EPOCHS,
        steps_per_epoch=20,
        batch_size=batch_size,
        num_samples=num_samples,
        learning_rate=reward_rate,
        seed=seed,
        callbacks=[budget],
    )
    results["self-critical"] = {
        **caption_scores(model, test),
        "seconds": round(time.perf_counter() - began, 1),
        "steps": budget.steps,
        "greedy reward": [round(r, 4) for r in history.history["greedy_reward"]],
    }
    return results


def answer_accuracy(model, data, language="en"):
    """Content accuracy of `model`'s greedy answers to a `role_vqa` split."""
    answers = model.generate(
        list(data["question"]),
        role=data["role"],
        image=data["image"],
        sampler="greedy",
        truncate_context=True,
    )
    correct = role_vqa.answers_correct(answers, data["type"], data["truth"], language)
    return float(np.mean(correct))


def compare_answer_tuning(
    load_model,
    train,
    tests,
    seconds,
    language="en",
    teacher_forcing_rate=1e-4,
    reward_rate=5e-5,
    kl_weight=0.05,
    seed=0,
):
    """`seconds` more teacher forcing, or `seconds` of the content reward.

    Args:
        load_model: a function returning the trained role-VQA
            `RoleResponder` both arms start from (e.g. `lambda:
            RoleResponder.from_preset("role_vqa_en")`).
        train: a `role_vqa` split both arms train on.
        tests: `{label: role_vqa split}`, held out.
        seconds: each arm's budget.
        language: `"en"` or `"zh"`.
        teacher_forcing_rate: Adam's rate in the teacher-forcing arm.
        reward_rate: Adam's rate in the reward arm (answers sampled top-p
            0.9, 4 a question, the mean of the others the baseline, a KL
            penalty of `kl_weight` to the start).
        seed: both arms' seed.

    Returns:
        `{"start", "teacher forcing", "content reward"}`: each
        `{label: content accuracy}`, with `"seconds"` for the arms and
        `"sample reward"` (each epoch's mean) for the reward arm.
    """
    seconds = check_positive_number("seconds", seconds)

    def scores(model):
        return {
            label: round(answer_accuracy(model, test, language), 4)
            for label, test in tests.items()
        }

    results = {"start": scores(load_model())}

    model = load_model()
    keras.utils.set_random_seed(seed)
    data = model.dialogue_dataset(
        train["question"],
        train["answer"],
        train["role"],
        images=train["image"],
        shuffle=True,
        seed=seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(teacher_forcing_rate))
    began = time.perf_counter()
    model.fit(data, epochs=BUDGETED_EPOCHS, callbacks=[TimeBudget(seconds)], verbose=0)
    results["teacher forcing"] = {
        **scores(model),
        "seconds": round(time.perf_counter() - began, 1),
    }

    model = load_model()
    keras.utils.set_random_seed(seed)
    began = time.perf_counter()
    history = fit_reply_rewards(
        model,
        list(train["question"]),
        [role_vqa.ROLES[i] for i in train["role"]],
        AnswerContentReward(language),
        images=train["image"],
        reward_data={"type": list(train["type"]), "truth": list(train["truth"])},
        epochs=BUDGETED_EPOCHS,
        batch_size=16,
        num_samples=4,
        learning_rate=reward_rate,
        kl_weight=kl_weight,
        sampler="top_p",
        seed=seed,
        callbacks=[TimeBudget(seconds)],
    )
    results["content reward"] = {
        **scores(model),
        "seconds": round(time.perf_counter() - began, 1),
        "sample reward": [round(r, 3) for r in history.history["sample_reward"]],
    }
    return results
