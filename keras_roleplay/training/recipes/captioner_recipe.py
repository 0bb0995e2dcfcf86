"""The `captioner_shapes_*` presets: how they are trained and scored."""

from keras_roleplay.applications import VGG16LSTMCaptioner
from keras_roleplay.datasets import shapes_captions
from keras_roleplay.metrics import caption_bleu, caption_cider_d
from keras_roleplay.training.recipes.recipe import Recipe
from keras_roleplay.utils.progress import EpochLog

CAPTION_SIZES = dict(num_train=1500, num_validation=100, num_test=200)
CAPTION_QUICK = dict(num_train=60, num_validation=10, num_test=10)


# What the captioner presets know (their cards; `caption_images.py` says it).
SHAPES_DOMAIN = (
    "coloured shapes (circles, squares, triangles, crosses) on plain, noisy "
    "backgrounds; not photographs"
)


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
        scores = {}
        for sampler in ("greedy", "beam"):
            captions = model.generate(test["image"], sampler=sampler)
            scores[f"test BLEU-4 ({sampler})"] = caption_bleu(
                references, captions, language=language
            )["bleu_4"]
            scores[f"test CIDEr-D ({sampler})"] = caption_cider_d(
                references, captions, language=language
            )
        return scores

    return evaluate


_LANGUAGE = {"en": "English", "zh": "Chinese"}

CAPTIONER_RECIPES = [
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
            domain=SHAPES_DOMAIN,
        )
        for language in ("en", "zh")
    ],
]
