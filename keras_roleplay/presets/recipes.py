"""How each shipped preset is trained and how it is scored on held-out data.

`scripts/train_presets.py` runs `train` for each recipe, saves the model,
reloads it as a user would (`from_preset`, float32) and writes the scores
of `evaluate` in its card; the tests run `evaluate` again on the shipped
preset and compare. Every recipe trains on bundled data only and is seeded.
"""

import contextlib
import os

import keras
import numpy as np

from keras_roleplay.applications import (
    RoleResponder,
    ThreeBranchClassifier,
    VGG16LSTMCaptioner,
)
from keras_roleplay.data.sentences import whole_sentences
from keras_roleplay.datasets import (
    multimodal_agreement,
    role_vqa,
    shakespeare,
    shapes_captions,
)
from keras_roleplay.datasets.role_vqa_phrasings import (
    HELD_OUT_FAMILIES,
    TRAINING_FAMILIES,
)
from keras_roleplay.metrics import (
    RoleJudge,
    caption_bleu,
    reply_nats_per_character,
    reply_perplexity,
    role_accuracy,
    speaker_accuracy,
)
from keras_roleplay.models.role_responder.tokenizer import build_dialogue_vocabulary
from keras_roleplay.training import (
    fit_responder,
    pretrain_responder,
    train_role_judge,
)
from keras_roleplay.utils.progress import EpochLog

SEED = 0


class Recipe:
    """A shipped preset: its name, class, training and held-out evaluation.

    Attributes:
        name: the preset's name (`Class.from_preset(name)`).
        model_class: the class that loads it.
        description: one line for its card.
        trained_on: the bundled data and split sizes it was trained on.
        bars: `{metric: lowest value}` the preset must reach on its held-out
            split (checked by the tests on the shipped files).
        needs: names of presets its evaluation loads (a judge).
        weights_dtype: `None`, or `"float16"`: the preset's weights are
            stored at half size (`save_to_preset(weights_dtype=...)`).
        finish: optional `finish(model, quick)`: what training ends with
            besides the weights (the Shakespeare responder's lexicon), for
            a model trained earlier by this recipe and loaded from its
            files (`scripts/train_presets.py --trained`).
    """

    def __init__(
        self,
        name,
        model_class,
        description,
        trained_on,
        train,
        evaluate,
        bars,
        needs=(),
        weights_dtype=None,
        finish=None,
    ):
        self.name = name
        self.model_class = model_class
        self.description = description
        self.trained_on = trained_on
        self._train = train
        self._evaluate = evaluate
        self.bars = dict(bars)
        self.needs = tuple(needs)
        self.weights_dtype = weights_dtype
        self.finish = finish

    def train(self, quick=False, log=print, **options):
        """Trains a fresh model (seeded); `quick` makes a small, fast one.

        `options` go to the recipe's training function (`backup_dir` for
        the Shakespeare recipe, which trains for an hour).
        """
        keras.utils.set_random_seed(SEED)
        return self._train(quick, log, **options)

    def evaluate(self, model, load=None, quick=False):
        """Scores `model` on its held-out split.

        Args:
            model: the loaded preset.
            load: `load(name)` returns the preset `name` of `needs` (a judge).
            quick: a smaller split (for smoke tests).

        Returns:
            `{metric: value}` with values rounded to 4 digits.
        """
        scores = self._evaluate(model, load, quick)
        return {k: round(float(v), 4) for k, v in scores.items()}


# === The three-branch classifier ===

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


# === The captioners ===

CAPTION_SIZES = dict(num_train=1500, num_validation=100, num_test=200)
CAPTION_QUICK = dict(num_train=60, num_validation=10, num_test=10)


def _caption_data(language, quick):
    return shapes_captions.load_data(
        image_size=32, language=language, **(CAPTION_QUICK if quick else CAPTION_SIZES)
    )


def _train_captioner(language):
    def train(quick, log):
        train, validation, _ = _caption_data(language, quick)
        # VGG16 cut after block 3: an 8x8 grid of regions at 32x32, and a
        # sixth of the weights of the whole VGG16 (7 MB against 59 MB).
        model = VGG16LSTMCaptioner.from_captions(
            train["captions"],
            vocabulary_size=400,
            image_shape=(32, 32, 3),
            feature_layer="block3_conv3",
        )
        model.compile()
        model.fit(
            model.caption_dataset(train["image"], train["captions"], shuffle=True),
            validation_data=model.caption_dataset(
                validation["image"], validation["captions"]
            ),
            epochs=1 if quick else 14,
            verbose=0,
            callbacks=[EpochLog(log)],
        )
        return model

    return train


def _evaluate_captioner(language):
    def evaluate(model, load, quick):
        _, _, test = _caption_data(language, quick)
        references = [list(c) for c in test["captions"]]
        return {
            f"test BLEU-4 ({sampler})": caption_bleu(
                references,
                model.generate(test["image"], sampler=sampler),
                language=language,
            )["bleu_4"]
            for sampler in ("greedy", "beam")
        }

    return evaluate


# === Role-play VQA: the responders and their judges ===

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
    return np.mean(
        [
            role_vqa.answer_is_correct(a, kind, truth, language)
            for a, kind, truth in zip(answers, data["type"], data["truth"], strict=True)
        ]
    ), answers


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


# === Shakespeare: pretrained on the whole plays, then role-tuned ===

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


ROLE_LAYERS = ("role_embedding", "role_vocabulary_bias")


@contextlib.contextmanager
def only_roles_trainable(model):
    """Freezes a responder's network but its roles' vectors and word biases.

    Role-tuning the whole pretrained network overfits the characters'
    1 700 speeches within an epoch (early stopping keeps the first), before
    the roles are learnt: the preset's model then named the speaker of a
    real reply 0.228 of the time. A further stage on the roles' own
    parameters alone (the two rows per role that few-shot adaptation also
    tunes), at a learning rate fit for embeddings, brought it to 0.277 and
    the true role's perplexity below a shuffled one's by 0.7% (0.06%
    before).
    """
    layers = model.backbone._flatten_layers(include_self=False, recursive=False)
    layers = list(layers)
    before = [layer.trainable for layer in layers]
    for layer in layers:
        layer.trainable = layer.name in ROLE_LAYERS
    try:
        yield model
    finally:
        for layer, trainable in zip(layers, before, strict=True):
            layer.trainable = trainable


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


_LANGUAGE = {"en": "English", "zh": "Chinese"}

RECIPES = {
    recipe.name: recipe
    for recipe in [
        Recipe(
            "three_branch_agreement",
            ThreeBranchClassifier,
            "Image + text + audio classifier (concat fusion): which modality "
            "disagrees with the other two.",
            "multimodal_agreement: 4000 training examples, 20 epochs",
            _train_classifier,
            _evaluate_classifier,
            {"test accuracy": 0.95},
        ),
        *[
            Recipe(
                f"captioner_shapes_{language}",
                VGG16LSTMCaptioner,
                f"VGG16 (to block 3) + LSTM captioner with visual attention, "
                f"{_LANGUAGE[language]} captions of 32x32 shapes scenes.",
                "shapes_captions: 1500 scenes x 3 captions, 14 epochs",
                _train_captioner(language),
                _evaluate_captioner(language),
                {"test BLEU-4 (greedy)": 0.5} if language == "en" else {},
            )
            for language in ("en", "zh")
        ],
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
            )
            for language in ("en", "zh")
        ],
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
        ),
    ]
}
