"""Role-play visual question answering: answer about an image, as a role.

Each example is a shapes scene (one shape, or two side by side or stacked),
a question about it, a role, and an answer that is right about the image
and phrased as that role would phrase it:

    role: doctor      question: "what colour is the circle ?"
    answer: "let me take a careful look . the circle is red . nothing to
             worry about ."

Five roles from the seeds: a customer-service agent, a doctor, a teacher, a
tour guide and a game character, each with a few openings and closings of
its own. Four kinds of question: the colour of a named shape, the shape at
a place, the place of a named shape, and how many shapes there are. Every
answer's content can be checked against the scene's ground truth
(`answer_is_correct`), so a model's answers can be scored on content, not
only compared with reference answers. English (`language="en"`) and Chinese
(`"zh"`); deterministic from `seed`; no download.
"""

import numpy as np

from keras_roleplay.datasets.role_vqa_phrasings import FAMILIES, phrase_question
from keras_roleplay.datasets.shapes import COLOURS, PLACES, SHAPES, WORDS, draw_scene
from keras_roleplay.datasets.shapes_captions import random_objects
from keras_roleplay.utils.validation import check_choice, check_positive_int

ROLES = ("customer_service", "doctor", "teacher", "tour_guide", "game_character")
QUESTION_TYPES = ("colour", "shape", "place", "count")

# Openings and closings of each role; none holds a colour, shape, place or
# number word, so the content check reads only the core answer.
STYLES = {
    "en": {
        "customer_service": (
            ("thank you for asking !", "is there anything else i can help with ?"),
            ("happy to help .", "have a nice day !"),
            ("thanks for contacting us .", "we value your feedback ."),
        ),
        "doctor": (
            ("let me take a careful look .", "nothing to worry about ."),
            ("after a quick examination ,", "please rest and drink water ."),
            ("the diagnosis is simple :", "come back if it hurts ."),
        ),
        "teacher": (
            ("good question !", "can you see why ?"),
            ("let us think together :", "well done , class ."),
            ("listen carefully , students :", "remember this for the test ."),
        ),
        "tour_guide": (
            ("welcome , travellers !", "please follow me ."),
            ("look over there :", "what a lovely sight !"),
            ("on our tour today ,", "do not forget to take photos ."),
        ),
        "game_character": (
            ("ha ! brave hero ,", "onward to adventure !"),
            ("by my sword !", "you gain experience points !"),
            ("quest accepted !", "the dragon awaits !"),
        ),
    },
    "zh": {
        "customer_service": (
            ("感谢您的咨询！", "还有什么可以帮您？"),
            ("很高兴为您服务。", "祝您生活愉快！"),
            ("您好，", "感谢您的反馈。"),
        ),
        "doctor": (
            ("让我仔细检查一下。", "不用担心。"),
            ("经过检查，", "请多喝水，好好休息。"),
            ("诊断很简单：", "不舒服再来复诊。"),
        ),
        "teacher": (
            ("好问题！", "同学们明白了吗？"),
            ("我们一起想一想：", "大家做得很好。"),
            ("同学们注意听：", "考试会考这个。"),
        ),
        "tour_guide": (
            ("欢迎各位游客！", "请跟我来。"),
            ("请看那里：", "风景真美！"),
            ("今天的旅程中，", "别忘了拍照留念。"),
        ),
        "game_character": (
            ("哈！勇敢的英雄，", "冒险继续！"),
            ("以我的剑起誓！", "你获得了经验值！"),
            ("任务已接受！", "巨龙在等着你！"),
        ),
    },
}
ROLE_NAMES = {
    "en": {
        "customer_service": "customer-service agent",
        "doctor": "doctor",
        "teacher": "teacher",
        "tour_guide": "tour guide",
        "game_character": "game character",
    },
    "zh": {
        "customer_service": "客服",
        "doctor": "医生",
        "teacher": "老师",
        "tour_guide": "导游",
        "game_character": "游戏角色",
    },
}
QUESTIONS = {
    "en": {
        "colour": "what colour is the {shape} ?",
        "shape": "what shape is {place} ?",
        "place": "where is the {shape} ?",
        "count": "how many shapes are there ?",
    },
    "zh": {
        "colour": "{shape}是什么颜色？",
        "shape": "{place}是什么形状？",
        "place": "{shape}在哪里？",
        "count": "有几个形状？",
    },
}
ANSWERS = {
    "en": {
        "colour": "the {shape} is {colour} .",
        "shape": "it is a {shape} .",
        "place": "the {shape} is {place} .",
        "count": "there {count} .",
    },
    "zh": {
        "colour": "{shape}是{colour}的。",
        "shape": "那是一个{shape}。",
        "place": "{shape}在{place}。",
        "count": "有{count}。",
    },
}
COUNTS = {
    "en": {1: "is one shape", 2: "are two shapes"},
    "zh": {1: "一个形状", 2: "两个形状"},
}


def make_question(objects, rng, language="en"):
    """Asks a question about a scene and answers it (the core, without a role).

    A question names a shape only if the scene has one of it, so every
    question has exactly one right answer.

    Args:
        objects: the scene (a list of object dicts, see `draw_scene`).
        rng: a `numpy.random.Generator`.
        language: `"en"` or `"zh"`.

    Returns:
        A dict with `"type"` (from `QUESTION_TYPES`), `"question"`,
        `"answer"` (the core answer), `"truth"` (the right value: a
        colour, shape, place or count) and `"fields"` (the shape and place
        words, to phrase the question otherwise).

    Example:

    >>> rng = np.random.default_rng(0)
    >>> scene = [{"shape": "circle", "colour": "red", "size": "big",
    ...           "place": "left"}]
    >>> question = make_question(scene, rng)
    >>> question["question"], question["answer"], question["truth"]
    ('how many shapes are there ?', 'there is one shape .', 1)
    """
    words = WORDS[language]
    kind = QUESTION_TYPES[rng.integers(len(QUESTION_TYPES))]
    target = objects[rng.integers(len(objects))]
    shape = words["shape"][target["shape"]]
    if sum(o["shape"] == target["shape"] for o in objects) > 1 and kind in (
        "colour",
        "place",
    ):
        kind = "shape"  # "the circle" would be ambiguous: ask what is where
    fields = {
        "shape": shape,
        "colour": words["colour"][target["colour"]],
        "place": words["place"][target["place"]],
        "count": COUNTS[language][len(objects)],
    }
    truth = {
        "colour": target["colour"],
        "shape": target["shape"],
        "place": target["place"],
        "count": len(objects),
    }[kind]
    question = QUESTIONS[language][kind].format(**fields)
    answer = ANSWERS[language][kind].format(**fields)
    return {
        "type": kind,
        "question": question,
        "answer": answer,
        "truth": truth,
        "fields": {"shape": fields["shape"], "place": fields["place"]},
    }


def answer_is_correct(answer, question_type, truth, language="en"):
    """Whether an answer states the right value and no wrong one.

    The answer must name `truth` (a colour, shape, place or count, in the
    words of `language`) and no other value of the same kind: "it is red or
    blue" is wrong. Role phrases are ignored (none holds such a word).

    Args:
        answer: the answer text.
        question_type: one of `QUESTION_TYPES`.
        truth: the right value (as in `make_question`'s `"truth"`; a count
            may be given as a string, as `generate_examples` stores it).
        language: `"en"` or `"zh"`.

    Returns:
        bool.

    Example:

    >>> answer_is_correct("good question ! the circle is red .", "colour", "red")
    True
    >>> answer_is_correct("the circle is red or blue .", "colour", "red")
    False
    """
    question_type = check_choice("question_type", question_type, QUESTION_TYPES)
    if question_type == "count":
        truth = int(truth) if str(truth) in ("1", "2") else truth
        options = {n: COUNTS[language][n] for n in (1, 2)}
        if language == "en":
            options = {1: "one", 2: "two"}
    else:
        names = {"colour": COLOURS, "shape": SHAPES, "place": PLACES}[question_type]
        options = {value: WORDS[language][question_type][value] for value in names}
    if truth not in options:
        raise ValueError(
            f"`truth` must be one of {list(options)} for a {question_type} "
            f"question. Received: truth={truth!r}"
        )
    if language == "en":
        padded = f" {' '.join(answer.lower().split())} "
        found = {value for value, word in options.items() if f" {word} " in padded}
    else:
        text = answer.replace(" ", "")
        found = {value for value, word in options.items() if word in text}
    return found == {truth}


def answers_correct(answers, question_types, truths, language="en"):
    """`answer_is_correct` for each answer, as a bool array.

    Args:
        answers: the answer texts.
        question_types: each question's type (as `"type"` of a split).
        truths: each question's right value (as `"truth"` of a split).
        language: `"en"` or `"zh"`.

    Example:

    >>> answers_correct(["the circle is red .", "it is blue ."],
    ...                 ["colour", "colour"], ["red", "red"]).tolist()
    [True, False]
    """
    return np.array(
        [
            answer_is_correct(answer, kind, truth, language)
            for answer, kind, truth in zip(answers, question_types, truths, strict=True)
        ],
        dtype=bool,
    )


def generate_examples(
    num_examples, language="en", image_size=48, seed=0, phrasings=("template",)
):
    """Generates role-play VQA examples.

    Args:
        num_examples: number of examples.
        language: `"en"` or `"zh"`.
        image_size: side of the square images, in pixels (at least 32).
        seed: random seed; the same seed gives the same examples.
        phrasings: question phrasing families to draw from (names from
            `role_vqa_phrasings.FAMILIES`, e.g. `TRAINING_FAMILIES`); the
            scenes, roles and answers do not depend on them, only the
            questions' wording.

    Returns:
        A dict of arrays, one entry per example: `"image"` (uint8
        `(n, size, size, 3)`), `"question"`, `"answer"` (str), `"role"` (int
        ids into `ROLES`), `"type"` (str, from `QUESTION_TYPES`), `"truth"`
        (str: the right colour, shape, place, or `"1"`/`"2"`), `"family"`
        (the phrasing family of each question), and `"scene"` (a list of
        the scenes' objects).

    Example:

    >>> data = generate_examples(3, seed=0)
    >>> data["image"].shape, data["role"].tolist()
    ((3, 48, 48, 3), [4, 2, 1])
    >>> bool(answer_is_correct(data["answer"][0], data["type"][0],
    ...                        data["truth"][0]))
    True
    """
    num_examples = check_positive_int("num_examples", num_examples)
    language = check_choice("language", language, ("en", "zh"))
    image_size = check_positive_int("image_size", image_size)
    if image_size < 32:
        raise ValueError(
            f"`image_size` must be at least 32. Received: image_size={image_size}"
        )
    phrasings = check_phrasings(phrasings)
    rng = np.random.default_rng(seed)
    # A stream of its own, so the scenes do not change with the phrasings.
    phrasing_rng = np.random.default_rng([seed, 1])
    images = np.zeros((num_examples, image_size, image_size, 3), "uint8")
    columns = {k: [] for k in ("question", "answer", "role", "type", "truth", "family")}
    scenes = []
    separator = " " if language == "en" else ""
    for i in range(num_examples):
        objects = random_objects(rng)
        images[i] = draw_scene(rng, image_size, objects)
        role = int(rng.integers(len(ROLES)))
        item = make_question(objects, rng, language)
        opening, closing = STYLES[language][ROLES[role]][rng.integers(3)]
        question, family = item["question"], "template"
        if phrasings != ("template",):
            question, family = phrase_question(
                item["type"], item["fields"], objects, phrasing_rng, phrasings, language
            )
        columns["question"].append(question)
        columns["family"].append(family)
        columns["answer"].append(separator.join((opening, item["answer"], closing)))
        columns["role"].append(role)
        columns["type"].append(item["type"])
        columns["truth"].append(str(item["truth"]))
        scenes.append(objects)
    data = {key: np.array(values) for key, values in columns.items()}
    data["role"] = data["role"].astype("int32")
    data["image"] = images
    data["scene"] = scenes
    return data


def load_data(
    num_train=3000,
    num_validation=300,
    num_test=300,
    language="en",
    image_size=48,
    seed=0,
    phrasings=("template",),
):
    """Loads train, validation and test splits of role-play VQA.

    The splits come from different seeds (`seed`, `seed + 1`, `seed + 2`).

    Args:
        num_train: training examples.
        num_validation: validation examples.
        num_test: test examples.
        language: `"en"` or `"zh"`.
        image_size: side of the square images, in pixels.
        seed: random seed.
        phrasings: question phrasing families (see `generate_examples`).

    Returns:
        `(train, validation, test)`: three dicts as returned by
        `generate_examples`. The role names are `ROLES` (display names in
        `ROLE_NAMES[language]`).

    Example:

    >>> train, val, test = load_data(8, 2, 2, language="zh")
    >>> train["question"].shape, str(test["question"][0])[-1]
    ((8,), '？')
    """
    return tuple(
        generate_examples(
            n,
            language=language,
            image_size=image_size,
            seed=seed + i,
            phrasings=phrasings,
        )
        for i, n in enumerate((num_train, num_validation, num_test))
    )


def check_phrasings(phrasings):
    """`phrasings` as a tuple of family names; a `ValueError` names a wrong one."""
    if isinstance(phrasings, str):
        phrasings = (phrasings,)
    phrasings = tuple(phrasings)
    unknown = [f for f in phrasings if f not in FAMILIES]
    if not phrasings or unknown:
        raise ValueError(
            f"`phrasings` must be a non-empty list of names from {list(FAMILIES)}. "
            f"Received: phrasings={phrasings!r}"
        )
    return phrasings
