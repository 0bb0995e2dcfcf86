"""The main job: train and evaluate the models on the bundled data.

Run `python -m keras_roleplay.demo` (or `make demo`). It prints a table of
(model, metric, value, seconds) and writes the rows to `demo_results.json`.

    python -m keras_roleplay.demo --quick              # a fast run
    python -m keras_roleplay.demo --models three_branch
"""

import argparse
import json
import os
import sys
import time

import keras
import numpy as np
from keras_hub.samplers import TopPSampler

from keras_roleplay.applications import (
    DualEncoder,
    MultimodalPretrainer,
    RoleResponder,
    ThreeBranchClassifier,
    VGG16LSTMCaptioner,
)
from keras_roleplay.datasets import (
    multimodal_agreement,
    paraphrased_scenes,
    role_vqa,
    shakespeare,
    shapes_captions,
)
from keras_roleplay.datasets.role_vqa_phrasings import (
    HELD_OUT_FAMILIES,
    TRAINING_FAMILIES,
)
from keras_roleplay.metrics import (
    caption_bleu,
    recall_at_k,
)
from keras_roleplay.models.role_responder.role_guidance import (
    DEMO_ROLE_GUIDANCE,
)
from keras_roleplay.models.role_responder.role_responder_tokenizer import (
    build_dialogue_vocabulary,
)
from keras_roleplay.tensorflow_logs import tensorflow_logs_to
from keras_roleplay.training import (
    compare_role_adaptation,
    evaluate_replies,
    fit_captioner,
    fit_dual_encoder,
    fit_multimodal_pretraining,
    fit_responder,
    pretrain_responder,
    summarize_role_adaptation,
    train_role_judge,
)
from keras_roleplay.training.recipes import (
    SHAKESPEARE_CHARACTERS,
    SHAKESPEARE_SIZE,
    role_vqa_responder,
    shakespeare_data,
    shakespeare_judge,
    shakespeare_responder,
    shakespeare_scores,
)
from keras_roleplay.training.reward_comparison import (
    compare_answer_tuning,
    compare_caption_tuning,
    scenes_captioner,
)
from keras_roleplay.utils.machine import describe_machine
from keras_roleplay.utils.mixed_precision import dtype_policy
from keras_roleplay.utils.progress import EpochProgress
from keras_roleplay.utils.warning_lines import one_line_warnings

ABLATIONS = {
    "image+text+audio": ("image", "text", "audio"),
    "text+audio (no image)": ("text", "audio"),
    "image+audio (no text)": ("image", "audio"),
    "image+text (no audio)": ("image", "text"),
}


# Epochs per fusion in the full run. The attention fusion can sit on the
# agreement task's 0.5 plateau for about 18 epochs before it learns
# (measured, seed 0: validation accuracy at most 0.6 up to epoch 18, 0.74 at
# 20, 0.985 at 30; seeds 1 and 2 reach 0.95 and 0.99 by epoch 20).
FUSION_EPOCHS = {"concat": 20, "weighted": 20, "attention": 30}


def train_three_branch(
    train, validation, info, modalities, fusion, epochs, seed=0, label=None
):
    """Builds, trains and returns a `ThreeBranchClassifier` on the agreement data.

    `label`: show a progress bar under this name.
    """
    keras.utils.set_random_seed(seed)
    model = ThreeBranchClassifier(
        **info.classifier_kwargs, modalities=modalities, fusion=fusion
    )
    model.compile()
    model.fit(
        train,
        validation_data=validation,
        epochs=epochs,
        verbose=0,
        callbacks=[EpochProgress(label)] if label else [],
    )
    return model


def run_three_branch(quick=False, log=print):
    """Trains the three-branch classifier, its fusions and its ablations.

    Returns:
        A list of result rows (dicts with `model`, `metric`, `value`,
        `seconds`).
    """
    sizes = dict(num_train=2000, num_validation=400, num_test=800)
    if not quick:
        sizes = dict(num_train=4000, num_validation=800, num_test=800)
    epochs = 15 if quick else 20
    (train, validation, test), info = multimodal_agreement.load_data(**sizes)
    runs = [(name, modalities, "concat") for name, modalities in ABLATIONS.items()]
    if not quick:
        runs += [
            ("image+text+audio", ABLATIONS["image+text+audio"], fusion)
            for fusion in ("weighted", "attention")
        ]
    rows = []
    for name, modalities, fusion in runs:
        start = time.perf_counter()
        label = f"  ThreeBranchClassifier[{name}, fusion={fusion}]"
        model = train_three_branch(
            train,
            validation,
            info,
            modalities,
            fusion,
            epochs if quick else FUSION_EPOCHS[fusion],
            label=label,
        )
        _, accuracy = model.evaluate(test, verbose=0)
        seconds = time.perf_counter() - start
        row = {
            "model": f"ThreeBranchClassifier[{name}, fusion={fusion}]",
            "metric": "test accuracy",
            "value": round(float(accuracy), 4),
            "seconds": round(seconds, 1),
        }
        log(f"  {row['model']}: {row['value']:.4f} ({row['seconds']} s)")
        rows.append(row)
    return rows


def run_captioner(quick=False, log=print):
    """Trains the VGG16 + LSTM captioner on shapes scenes and scores its BLEU.

    32x32 scenes, VGG16 from scratch cut after block 3 (an 8x8 grid of
    regions, `feature_layer="auto"`), the `fit_captioner` recipe (warm-up
    and cosine decay, each scene encoded once for its three captions),
    `mixed_bfloat16` where the processor has bf16 instructions
    (`keras_roleplay.utils.best_dtype_policy`). The full run trains about 3
    minutes on 2 cores of an AMD EPYC with bf16 (196 s), longer without.
    """
    sizes = dict(num_train=600, num_validation=50, num_test=100, captions_per_image=2)
    epochs = 6
    if not quick:
        sizes = dict(num_train=1500, num_validation=100, num_test=200)
        epochs = 14
    train, validation, test = shapes_captions.load_data(image_size=32, **sizes)
    name = "VGG16LSTMCaptioner[32x32, block3, attention]"
    with dtype_policy("auto"):
        keras.utils.set_random_seed(0)
        start = time.perf_counter()
        model = VGG16LSTMCaptioner.from_captions(
            train["captions"], vocabulary_size=400, image_shape=(32, 32, 3)
        )
        fit_captioner(
            model,
            train["image"],
            train["captions"],
            epochs=epochs,
            validation=(validation["image"], validation["captions"]),
            callbacks=[EpochProgress(f"  {name}")],
        )
        _, accuracy = model.evaluate(
            model.caption_dataset(test["image"], test["captions"]), verbose=0
        )
        train_seconds = time.perf_counter() - start
        rows = [
            {
                "model": name,
                "metric": "test token accuracy",
                "value": round(float(accuracy), 4),
                "seconds": round(train_seconds, 1),
            }
        ]
        references = [list(c) for c in test["captions"]]
        for sampler in ("greedy", "beam"):
            start = time.perf_counter()
            captions = model.generate(test["image"], sampler=sampler)
            bleu = caption_bleu(references, captions)
            rows.append(
                {
                    "model": name,
                    "metric": f"test BLEU-4 ({sampler})",
                    "value": round(bleu["bleu_4"], 4),
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
    for row in rows:
        log(
            f"  {row['model']} {row['metric']}: {row['value']:.4f} ({row['seconds']} s)"
        )
    log(f"  e.g. {captions[0]!r} for {str(references[0][0])!r}")
    return rows


def run_dual_encoder(quick=False, log=print):
    """Trains the CLIP-style dual encoder on shapes scenes; scores retrieval.

    Among 100 held-out scenes: each scene's first caption retrieves an
    image (text-to-image) and each image a caption among the 100
    (image-to-text); a hit is a scene the caption truly describes
    (`shapes_captions.true_captions`: scenes often share a caption), so
    recall@1 among 100 has a chance level of about 1.5%. 1 500 scenes of
    64x64 (32x32 when `quick`), 20 epochs of `fit_dual_encoder`: about
    150 s on 2 CPU cores (60 s when `quick`).

    Then the same encoder, from the same start, pretrained with all three
    of the three pretraining objectives (`MultimodalPretrainer`: contrastive,
    image-text matching, masked-LM) for as many epochs: its retrieval, how
    often the matching head scores a held-out scene's caption higher with
    its own image than with another scene's (one the caption does not
    describe), and the held-out accuracy on hidden tokens. The pretrainer
    reads each batch twice (the masked texts) and takes longer than the
    plain run.
    """
    size = 32 if quick else 64
    train, _, test = shapes_captions.load_data(
        num_train=1500, num_validation=1, num_test=100, image_size=size
    )
    queries = [str(c[0]) for c in test["captions"]]
    truths = [set(shapes_captions.true_captions(s)) for s in test["scene"]]
    relevant = np.array([[q in t for t in truths] for q in queries])

    def new_encoder():
        keras.utils.set_random_seed(0)
        return DualEncoder.from_captions(
            train["captions"], vocabulary_size=400, image_shape=(size, size, 3)
        )

    name = f"DualEncoder[{size}x{size}, CLIPLoss]"
    start = time.perf_counter()
    model = new_encoder()
    fit_dual_encoder(
        model,
        train["image"],
        train["captions"],
        epochs=20,
        callbacks=[EpochProgress(f"  {name}")],
    )
    rows = _retrieval_rows(name, model, queries, test, relevant, start)
    rows.append(_row(name, "chance of recall@1 (mean relevant / 100)", relevant.mean()))

    name = f"DualEncoder[{size}x{size}, + matching + masked-LM]"
    start = time.perf_counter()
    pretrainer = MultimodalPretrainer(new_encoder())
    fit_multimodal_pretraining(
        pretrainer,
        train["image"],
        train["captions"],
        epochs=20,
        callbacks=[EpochProgress(f"  {name}")],
    )
    rows += _retrieval_rows(
        name, pretrainer.dual_encoder, queries, test, relevant, start
    )
    # Each scene's caption with its own image and with the first later scene
    # the caption does not describe.
    others = [
        next(j % 100 for j in range(i + 1, i + 100) if not relevant[i, j % 100])
        for i in range(100)
    ]
    own = pretrainer.matching_probabilities(test["image"], queries)
    other = pretrainer.matching_probabilities(test["image"][others], queries)
    held_out = pretrainer.pretraining_dataset(test["image"], test["captions"], 100)
    hidden = pretrainer.evaluate(held_out, verbose=0, return_dict=True)
    rows += [
        _row(name, "matching: own image scored above another", np.mean(own > other)),
        _row(
            name,
            "masked-LM: hidden tokens found",
            hidden["masked_lm_sparse_categorical_accuracy"],
        ),
    ]
    for row in rows:
        log(f"  {row['model']} {row['metric']}: {row['value']:.4f}")
    return rows


def _retrieval_rows(name, model, queries, test, relevant, start):
    """Recall@1 both ways and @5 text-to-image; the training time with @1."""
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    to_images, _ = model.retrieve_images(queries, test["image"], k=5)
    to_texts, _ = model.retrieve_texts(test["image"], queries, k=1)
    retrieve_seconds = time.perf_counter() - start
    return [
        _row(
            name,
            "text-to-image recall@1 of 100",
            recall_at_k(to_images, relevant),
            seconds,
        ),
        _row(
            name, "text-to-image recall@5 of 100", recall_at_k(to_images, relevant, 5)
        ),
        _row(
            name,
            "image-to-text recall@1 of 100",
            recall_at_k(to_texts, relevant.T),
            retrieve_seconds,
        ),
    ]


def _row(model, metric, value, seconds=0.0):
    return {
        "model": model,
        "metric": metric,
        "value": round(float(value), 4),
        "seconds": round(seconds, 1),
    }


def train_responder(
    model,
    train,
    validation,
    epochs,
    images=False,
    early_stopping=False,
    seed=0,
    label=None,
):
    """Fits a `RoleResponder` on a split (dict of arrays); returns seconds.

    `label`: show a progress bar under this name.
    """

    def columns(split):
        contexts = split["question"] if "question" in split else split["context"]
        replies = split["answer"] if "answer" in split else split["reply"]
        return (contexts, replies, split["role"]) + (
            (split["image"],) if images else ()
        )

    start = time.perf_counter()
    fit_responder(
        model,
        *columns(train),
        epochs=epochs,
        validation=columns(validation),
        early_stopping=early_stopping,
        seed=seed,
        callbacks=[EpochProgress(label)] if label else None,
    )
    return time.perf_counter() - start


def run_role_vqa(quick=False, log=print, language="en"):
    """Trains the image-conditioned `RoleResponder` on role-play VQA.

    Content accuracy (is the answer right about the image, checked from the
    scene) and role consistency (a judge trained on gold answers names the
    role of each generated answer), on held-out scenes.
    """
    sizes = (1200, 150, 150) if quick else (5000, 300, 300)
    epochs = 4 if quick else 24
    # 64x64 scenes: the shapes are bigger than at 48x48 (content accuracy
    # 0.88 against 0.87 in 5000-scene runs, measured before the CNN had
    # batch normalisation), at 1.5x the training time.
    image_size = 48 if quick else 64
    train, validation, test = role_vqa.load_data(
        *sizes, language=language, image_size=image_size
    )
    keras.utils.set_random_seed(0)
    # Template questions only: a shorter context than the presets' (which
    # are trained on many phrasings) suffices.
    model = role_vqa_responder(
        train, language, sequence_length=16 if language == "en" else 12
    )
    name = f"RoleResponder[role-VQA {language}, {image_size}x{image_size} CNN]"
    seconds = train_responder(
        model, train, validation, epochs, images=True, label=f"  {name}"
    )
    judge = train_role_judge(
        model.vocabulary,
        model.roles,
        train["answer"],
        train["role"],
        validation=(validation["answer"], validation["role"]),
        epochs=3 if quick else 10,
    )
    scores = evaluate_replies(
        model,
        judge,
        test["question"],
        test["role"],
        test["answer"],
        images=test["image"],
        language=language,
    )
    correct = role_vqa.answers_correct(
        scores["replies"], test["type"], test["truth"], language
    )
    rows = [
        _row(name, "test content accuracy", np.mean(correct), seconds),
        _row(name, "judge role accuracy, generated", scores["judge_generated"]),
        _row(name, "judge role accuracy, gold answers", scores["judge_gold"]),
        _row(
            name, "judge accuracy, shuffled roles asked", scores["judge_shuffled_role"]
        ),
        _row(name, "judge chance (uniform guess)", scores["chance"]),
        _row(name, "BLEU-4 (greedy)", scores["bleu_4"], scores["generate_seconds"]),
        _row(name, "ROUGE-L F1", scores["rouge_l"]),
        _row(name, "distinct-2", scores["distinct_2"]),
    ]
    for row in rows:
        log(f"  {row['metric']}: {row['value']:.4f}")
    log(
        f"  e.g. [{role_vqa.ROLES[test['role'][0]]}] {str(test['question'][0])!r} -> "
        f"{scores['replies'][0]!r}"
    )
    return rows


def run_role_vqa_zh(quick=False, log=print):
    """`run_role_vqa` in Chinese."""
    return run_role_vqa(quick=quick, log=log, language="zh")


# The demo's Shakespeare network (the preset's is smaller, for the wheel).
SHAKESPEARE_DEMO_SIZE = dict(vocabulary_size=3000, hidden_dim=128, num_layers=2)
# The decoding default for dialogue, measured by scripts/measure_reply_samplers.py
# (a `TopPSampler`'s settings: the sampler is built when a job runs).
REPLY_SAMPLING = dict(p=0.9, temperature=0.8)


def run_shakespeare(quick=False, log=print):
    """Shakespeare's characters: pretrained on the plays then role-tuned, or not.

    Per seed, two networks of the same size and vocabulary (built from the
    plays' exchanges outside the held-out scenes): one role-tuned from
    scratch on the 10 characters' training speeches, one pretrained first
    without roles on every exchange of the plays outside the held-out
    scenes (pretrain, then adapt: `training.recipes.train_shakespeare_responder`'s
    recipe at the demo's size). For each: held-out perplexity with the true
    role, a shuffled role and no role; how often the model itself finds the
    real reply most likely under its true speaker (`speaker_accuracy`);
    replies sampled with the default decoding (top-p 0.9, temperature 0.8;
    with role guidance 12 for the pretrained model), their distinct-1/2
    and how often a role judge trained on real speeches names their
    speaker, beside its accuracy on the real replies and chance. Means
    over three seeds (one when `quick`), with the lowest and highest seed
    where the seeds disagree most. Then new roles from a few
    speeches, for characters the first seed's pretrained model has no role
    for: MAML against plain fine-tuning (`_new_roles`).
    """
    seeds = (0,) if quick else (0, 1, 2)
    epochs = 3 if quick else 10
    train, validation, test, plays = shakespeare_data(quick)
    names = shakespeare.characters(SHAKESPEARE_CHARACTERS)
    # Quick: the preset's smaller network (the tests' CPU minutes).
    size = SHAKESPEARE_SIZE if quick else SHAKESPEARE_DEMO_SIZE
    vocabulary = build_dialogue_vocabulary(
        np.concatenate([plays["context"], plays["reply"]]), size["vocabulary_size"]
    )
    judge = None
    starts = ("pretrained + roles", "from scratch")
    scores = {start: [] for start in starts}
    example = None
    for seed in seeds:
        for start in starts:
            keras.utils.set_random_seed(seed)
            model = shakespeare_responder(plays, vocabulary=vocabulary, **size)
            label = f"  RoleResponder[Shakespeare, {start}, seed {seed}]"
            began = time.perf_counter()
            if start == "pretrained + roles":
                pretrain_responder(
                    model,
                    plays["context"],
                    plays["reply"],
                    epochs=1,
                    seed=seed,
                    callbacks=[EpochProgress(f"{label}: pretraining, no roles")],
                )
            train_responder(
                model,
                train,
                validation,
                epochs,
                early_stopping=True,
                seed=seed,
                label=f"{label}: role-tuning",
            )
            seconds = time.perf_counter() - began
            if judge is None:
                judge = shakespeare_judge(
                    model.vocabulary,
                    names,
                    train,
                    validation,
                    epochs=3 if quick else 15,
                )
            replies = evaluate_replies(
                model,
                judge,
                test["context"],
                test["role"],
                test["reply"],
                generate_options={
                    "sampler": TopPSampler(**REPLY_SAMPLING),
                    "seed": seed,
                    # A model trained with roles only has no no-role stream
                    # to guide against: it samples plainly.
                    "role_guidance": (
                        DEMO_ROLE_GUIDANCE if start == "pretrained + roles" else 1.0
                    ),
                },
                shuffled_roles=False,  # not reported here
            )
            if example is None:
                example = f"[{names[test['role'][0]]}] {replies['replies'][0]!r}"
                first_pretrained = model
            held_out = shakespeare_scores(model, test)
            scores[start].append(
                {
                    "seconds": seconds,
                    "true": held_out["true role"],
                    "shuffled": held_out["shuffled role"],
                    "none": held_out["no role"],
                    "speaker": held_out["speaker named"],
                    **{
                        k: replies[k]
                        for k in (
                            "judge_generated",
                            "judge_gold",
                            "chance",
                            "distinct_1",
                            "distinct_2",
                        )
                    },
                }
            )

    def values(start, key):
        return np.array([s[key] for s in scores[start]])

    rows = []
    for start in starts:
        name = f"RoleResponder[Shakespeare, {start}]"
        true = values(start, "true")
        rows += [
            _row(
                name,
                "test perplexity, true role",
                true.mean(),
                values(start, "seconds").mean(),
            ),
            _row(name, "test perplexity, true role, lowest seed", true.min()),
            _row(name, "test perplexity, true role, highest seed", true.max()),
            _row(
                name, "test perplexity, shuffled role", values(start, "shuffled").mean()
            ),
            _row(name, "test perplexity, no role", values(start, "none").mean()),
            _row(
                name,
                "seeds with the true role below the shuffled one",
                np.sum(true < values(start, "shuffled")),
            ),
            _row(
                name,
                "speaker named by the model itself",
                values(start, "speaker").mean(),
            ),
            _row(
                name,
                "judge role accuracy, sampled replies",
                values(start, "judge_generated").mean(),
            ),
            _row(
                name,
                "judge role accuracy, sampled replies, lowest seed",
                values(start, "judge_generated").min(),
            ),
            _row(name, "distinct-1", values(start, "distinct_1").mean()),
            _row(name, "distinct-2", values(start, "distinct_2").mean()),
        ]
    ratios = values(starts[0], "true") / values(starts[1], "true")
    name = f"RoleResponder[Shakespeare, {SHAKESPEARE_CHARACTERS} characters]"
    rows += [
        _row(name, "training seeds (the figures above are means)", len(seeds)),
        _row(name, "perplexity, pretrained / from scratch", ratios.mean()),
        _row(name, "perplexity, pretrained / from scratch, highest seed", ratios.max()),
        _row(
            name,
            "judge role accuracy, real replies",
            scores[starts[0]][0]["judge_gold"],
        ),
        _row(name, "judge chance (uniform guess)", scores[starts[0]][0]["chance"]),
    ]
    rows += _new_roles(first_pretrained, train, validation, test, quick)
    for row in rows:
        log(f"  {row['model']}: {row['metric']}: {row['value']:.4f}")
    log(f"  e.g. {example}")
    return rows


def _new_roles(model, train, validation, test, quick):
    """MAML against plain fine-tuning for characters `model` has no role for.

    `training.compare_role_adaptation` on the 5 new characters with the most
    held-out speeches (1 when `quick`), k = 8, 16, 32 of their speeches
    outside the held-out scenes, one draw each; the figures are held-out
    perplexities, the mean over characters. `scripts/measure_few_shot_roles.py`
    runs it on the shipped preset with three draws and 300 meta-steps.
    """
    shots = (2,) if quick else (8, 16, 32)
    characters = shakespeare.new_characters(
        model.roles,
        shakespeare.held_out_scenes(validation, test),
        count=1 if quick else 5,
        min_speeches=max(shots),
    )
    began = time.perf_counter()
    table = compare_role_adaptation(
        model,
        train["context"],
        train["reply"],
        train["role"],
        characters,
        shots=shots,
        draws=1,
        steps=1 if quick else 5,
        meta_steps=3 if quick else 100,
        learning_rates=(1e-2, 3e-2),
    )
    seconds = time.perf_counter() - began
    name = f"RoleResponder[Shakespeare, {len(characters)} new characters]"
    rows = []
    for summary in summarize_role_adaptation(table):
        rows.append(
            _row(
                name,
                f"test perplexity, new role from {summary['shots']} speeches, "
                f"{summary['rule']}",
                summary["mean"],
                seconds if not rows else 0.0,
            )
        )
    return rows


# Seconds of the reward-tuning job: the captioner's teacher forcing before
# the comparison, then each arm of both comparisons.
REWARD_SECONDS = {"start": 300, "arm": 120}
REWARD_SECONDS_QUICK = {"start": 30, "arm": 10}


def run_reward_tuning(quick=False, log=print):
    """Reward tuning against as many more seconds of teacher forcing.

    Both generating models, each from trained weights, N more seconds of
    teacher forcing or N seconds of reward tuning
    (`training.reward_comparison`):

    - the captioner on the paraphrased scenes (three paraphrases a scene,
      another renderer than the shapes job's): teacher forcing first, then
      self-critical training with a CIDEr-D reward (Rennie et al. 2017);
      held-out CIDEr-D and BLEU-4 of greedy captions;
    - the `role_vqa_en` preset (teacher-forced on four question phrasing
      families), tuned with the content reward (an answer is worth 1 when
      it states the right colour, shape, place or count) on fresh scenes
      asked in those families; content accuracy on questions in the two
      held-out families, wordings no training question uses.

    One seed each; `benchmarks/captioner_reward_tuning.py` and
    `benchmarks/role_vqa_content_reward.py` run three.
    """
    seconds = REWARD_SECONDS_QUICK if quick else REWARD_SECONDS
    arm = seconds["arm"]
    sizes = dict(num_train=300, num_test=100) if quick else {}
    train, test = paraphrased_scenes.load_data(**sizes)
    name = "VGG16LSTMCaptioner[paraphrased scenes]"
    with dtype_policy("auto"):
        keras.utils.set_random_seed(0)
        model = scenes_captioner(train["captions"])
        log(f"  {name}: {seconds['start']} s of teacher forcing, then {arm} s more")
        log(f"  of teacher forcing or {arm} s of SCST (CIDEr-D reward)")
        fit_captioner(
            model, train["image"], train["captions"], time_budget=seconds["start"]
        )
        captions = compare_caption_tuning(model, train, test, arm)
    rows = []
    for label, key in (
        (f"after {seconds['start']} s teacher forcing", "start"),
        (f"+ {arm} s teacher forcing", "teacher forcing"),
        (f"+ {arm} s SCST", "self-critical"),
    ):
        for metric in ("CIDEr-D", "BLEU-4"):
            rows.append(
                _row(
                    name,
                    f"held-out {metric}, {label}",
                    captions[key][metric],
                    captions[key].get("seconds", 0.0) if metric == "CIDEr-D" else 0.0,
                )
            )

    name = "RoleResponder[role_vqa_en preset]"
    log(f"  {name}: {arm} s more teacher forcing or {arm} s of the content reward")
    tuning = role_vqa.generate_examples(
        200 if quick else 2000,
        image_size=64,
        seed=100,
        phrasings=TRAINING_FAMILIES,
    )
    held_out = role_vqa.generate_examples(
        100 if quick else 300, image_size=64, seed=2, phrasings=HELD_OUT_FAMILIES
    )
    answers = compare_answer_tuning(
        lambda: RoleResponder.from_preset("role_vqa_en"),
        tuning,
        {"held-out phrasings": held_out},
        arm,
    )
    for label, key in (
        ("as shipped", "start"),
        (f"+ {arm} s teacher forcing", "teacher forcing"),
        (f"+ {arm} s content reward", "content reward"),
    ):
        rows.append(
            _row(
                name,
                f"content accuracy, held-out phrasings, {label}",
                answers[key]["held-out phrasings"],
                answers[key].get("seconds", 0.0),
            )
        )
    for row in rows:
        log(f"  {row['model']} {row['metric']}: {row['value']:.4f}")
    return rows


JOBS = {
    "three_branch": run_three_branch,
    "captioner": run_captioner,
    "dual_encoder": run_dual_encoder,
    "role_vqa": run_role_vqa,
    "role_vqa_zh": run_role_vqa_zh,
    "shakespeare": run_shakespeare,
    "reward_tuning": run_reward_tuning,
}

# Minutes each job takes with --quick on 2 CPU cores with nothing else
# running, measured by `make demo-quick` (QUICK_MEASURED); the README states
# their sum (reward_tuning measured alone, 1.6 minutes with its start-up,
# when it was added). On a loaded machine it took about three times as long.
QUICK_MINUTES = {
    "three_branch": 0.6,
    "captioner": 0.64,
    "dual_encoder": 1.14,
    "role_vqa": 0.69,
    "role_vqa_zh": 0.76,
    "shakespeare": 1.68,
    "reward_tuning": 1.5,  # 1.6 with the start-up
}
QUICK_MEASURED = "measured on 2 cores of an AMD EPYC, about 8 minutes with the start-up"
QUICK_NOTE = (
    "Short-training figures (--quick): a check that every model trains and "
    "is scored, not the models' quality; the full demo's figures (make demo) "
    "are in docs/results.md."
)


def format_table(rows):
    """Formats result rows as a plain-text table."""
    headers = ("model", "metric", "value", "seconds")
    cells = [[str(row[h]) for h in headers] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True))
        for cell in cells
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_roleplay.demo",
        description="Train and evaluate the keras-roleplay models on bundled data.",
    )
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer runs")
    parser.add_argument(
        "--models",
        nargs="+",
        default=list(JOBS),
        help=f"which models to run, from {list(JOBS)} (default: all)",
    )
    parser.add_argument(
        "--output", default="demo_results.json", help="JSON results file"
    )
    args = parser.parse_args(argv)
    one_line_warnings()
    unknown = [m for m in args.models if m not in JOBS]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(JOBS)}")

    rows = []
    started = time.time()
    if args.quick:
        minutes = sum(QUICK_MINUTES[name] for name in args.models)
        print(
            f"Quick run: every model trains briefly, about {minutes:.0f} minutes "
            f"on 2 CPU cores ({QUICK_MEASURED}).\n{QUICK_NOTE}\n"
        )
    log_path = os.path.splitext(args.output)[0] + "_tensorflow.log"
    # TensorFlow's own log lines go to a file; warnings and errors still show.
    with tensorflow_logs_to(log_path):
        for i, name in enumerate(args.models, 1):
            quick = (
                f" (quick: about {QUICK_MINUTES[name]:.1f} min)" if args.quick else ""
            )
            print(f"[{i}/{len(args.models)}] {name}: training on bundled data{quick}")
            sys.stdout.flush()
            # Each row names its job: a job re-run alone can replace its rows
            # in a stored full run (scripts/update_readme_results.py --rerun).
            rows += [{"job": name, **row} for row in JOBS[name](quick=args.quick)]
    print()
    if args.quick:
        print(QUICK_NOTE)
    print(format_table(rows))
    with open(args.output, "w", encoding="utf-8") as f:
        # The machine and the date go with the figures: times depend on them.
        results = {
            "quick": args.quick,
            "models": args.models,
            "date": time.strftime("%Y-%m-%d", time.gmtime(started)),
            "total_seconds": round(time.time() - started, 1),
            "machine": describe_machine(),
            "results": rows,
        }
        json.dump(results, f, indent=2, ensure_ascii=False)
    print(
        f"\nWrote {args.output} (TensorFlow's log lines: {log_path}); "
        f"{(time.time() - started) / 60:.1f} minutes in all"
    )
    return rows


if __name__ == "__main__":
    main()
