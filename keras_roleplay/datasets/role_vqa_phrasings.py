"""Question phrasings for role-play VQA: the same questions in users' words.

A model trained on one template per question learns the template, not the
question: asked "could you tell me what colour the circle is ?" it may fail
although it answers "what colour is the circle ?". Each *family* here is one
way people vary a question, in English and in Chinese:

- `"template"`: the dataset's original templates ("what colour is the circle ?").
- `"polite"`: politeness wrappers ("could you tell me what colour the circle is ?").
- `"synonym"`: other words for the same question ("what is the colour of the
  circle ?", "how many things can you see ?", American "color").
- `"superlative"`: the object named by its size ("what colour is the biggest
  thing in the picture ?"); asked only of one-object scenes, where it names
  exactly one object (the two shapes of a two-object scene are the same size).
- `"word_order"`: the topic first ("the circle , what colour is it ?").
- `"typo"`: one misspelt word, never the shape or place asked about ("waht
  colour is the circle ?"; in Chinese a common wrong character, 那里 for 哪里).

`TRAINING_FAMILIES` are used to train the shipped role-VQA models;
`HELD_OUT_FAMILIES` are kept out of their training and measure how well they
understand phrasings they never saw.
"""

FAMILIES = ("template", "polite", "synonym", "superlative", "word_order", "typo")
TRAINING_FAMILIES = ("template", "polite", "synonym", "superlative")
HELD_OUT_FAMILIES = ("word_order", "typo")

# Per family, language and question type: templates with `{shape}` (colour
# and place questions) or `{place}` (shape questions).
TEMPLATES = {
    "template": {
        "en": {
            "colour": ("what colour is the {shape} ?",),
            "shape": ("what shape is {place} ?",),
            "place": ("where is the {shape} ?",),
            "count": ("how many shapes are there ?",),
        },
        "zh": {
            "colour": ("{shape}是什么颜色？",),
            "shape": ("{place}是什么形状？",),
            "place": ("{shape}在哪里？",),
            "count": ("有几个形状？",),
        },
    },
    "polite": {
        "en": {
            "colour": (
                "could you tell me what colour the {shape} is ?",
                "please tell me the colour of the {shape} .",
                "i would like to know what colour the {shape} is .",
            ),
            "shape": (
                "could you tell me what shape is {place} ?",
                "please tell me which shape is {place} .",
                "would you mind telling me what shape is {place} ?",
            ),
            "place": (
                "could you tell me where the {shape} is ?",
                "please tell me where the {shape} is .",
                "i would like to know where the {shape} is .",
            ),
            "count": (
                "could you tell me how many shapes there are ?",
                "please count the shapes for me .",
                "would you mind counting the shapes ?",
            ),
        },
        "zh": {
            "colour": ("请问{shape}是什么颜色？", "能告诉我{shape}是什么颜色吗？"),
            "shape": ("请问{place}是什么形状？", "能告诉我{place}是什么形状吗？"),
            "place": ("请问{shape}在哪里？", "能告诉我{shape}在哪儿吗？"),
            "count": ("请问有几个形状？", "能告诉我有几个形状吗？"),
        },
    },
    "synonym": {
        "en": {
            "colour": (
                "what is the colour of the {shape} ?",
                "which colour is the {shape} ?",
                "what color is the {shape} ?",
            ),
            "shape": (
                "which shape is {place} ?",
                "what kind of shape is {place} ?",
                "what is {place} ?",
            ),
            "place": (
                "where can i find the {shape} ?",
                "in which part of the picture is the {shape} ?",
            ),
            "count": (
                "how many objects are there ?",
                "how many things can you see ?",
                "what is the number of shapes ?",
            ),
        },
        "zh": {
            "colour": ("{shape}是哪种颜色？", "{shape}的颜色是什么？"),
            "shape": ("{place}是哪种形状？", "{place}的形状是什么？"),
            "place": ("{shape}在什么位置？", "{shape}位于哪里？"),
            "count": ("一共有多少个形状？", "图里有几个图形？"),
        },
    },
    "superlative": {
        "en": {
            "colour": (
                "what colour is the biggest thing in the picture ?",
                "what colour is the smallest shape ?",
            ),
            "shape": (
                "what shape is the biggest thing in the picture ?",
                "what is the smallest shape ?",
            ),
            "place": (
                "where is the biggest thing in the picture ?",
                "where is the smallest shape ?",
            ),
        },
        "zh": {
            "colour": ("图中最大的东西是什么颜色？", "最小的形状是什么颜色？"),
            "shape": ("图中最大的东西是什么形状？", "最小的是什么形状？"),
            "place": ("图中最大的东西在哪里？", "最小的形状在哪里？"),
        },
    },
    "word_order": {
        "en": {
            "colour": (
                "the {shape} , what colour is it ?",
                "the {shape} is what colour ?",
            ),
            "shape": ("{place} , what shape is there ?", "{place} is what shape ?"),
            "place": ("the {shape} , where is it ?", "the {shape} is where ?"),
            "count": ("shapes , how many are there ?", "there are how many shapes ?"),
        },
        "zh": {
            "colour": ("{shape}呢，是什么颜色？", "颜色是什么，{shape}？"),
            "shape": ("{place}呢，是什么形状？", "形状是什么，{place}？"),
            "place": ("{shape}呢，在哪里？", "在哪里，{shape}？"),
            "count": ("形状有几个？", "形状一共有几个？"),
        },
    },
}
# Common Chinese misspellings (a wrong character of the same sound).
CHINESE_TYPOS = {
    "哪里": "那里",
    "什么": "什麽",
    "颜色": "颜涩",
    "形状": "形壮",
    "几个": "几各",
}


def phrase_question(kind, fields, objects, rng, families, language="en"):
    """Asks a question of type `kind` in a phrasing drawn from `families`.

    Args:
        kind: the question type (`"colour"`, `"shape"`, `"place"`, `"count"`).
        fields: the words to fill in: `{"shape": ..., "place": ...}`.
        objects: the scene, to check that the family can name the object.
        rng: a `numpy.random.Generator`.
        families: names from `FAMILIES` to draw from. A family that cannot
            ask this question of this scene (a superlative of a two-object
            scene, of a count) is skipped; if none can, `"template"` is used.
        language: `"en"` or `"zh"`.

    Returns:
        `(question, family)`.

    Example:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> scene = [{"shape": "circle", "colour": "red", "size": "big",
    ...           "place": "left"}]
    >>> phrase_question("colour", {"shape": "circle"}, scene, rng, ["polite"])
    ('i would like to know what colour the circle is .', 'polite')
    """
    usable = [f for f in families if _can_ask(f, kind, objects)] or ["template"]
    family = usable[rng.integers(len(usable))]
    source = "template" if family == "typo" else family
    options = TEMPLATES[source][language][kind]
    question = options[rng.integers(len(options))].format(**fields)
    if family == "typo":
        question = misspell(question, rng, set(fields.values()), language)
    return question, family


def misspell(question, rng, keep=(), language="en"):
    """One misspelt word (English: two letters swapped, one dropped or
    doubled) or one wrong character (Chinese), never in a word of `keep`.

    Example:

    >>> import numpy as np
    >>> misspell("what colour is the circle ?", np.random.default_rng(1),
    ...          keep={"circle"})
    'whaat colour is the circle ?'
    """
    if language == "zh":
        found = [w for w in CHINESE_TYPOS if w in question]
        found = [w for w in found if not any(w in k for k in keep)]
        if not found:
            return question
        word = found[rng.integers(len(found))]
        return question.replace(word, CHINESE_TYPOS[word], 1)
    words = question.split()
    kept = {w for k in keep for w in k.split()}
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w not in kept]
    if not candidates:
        return question
    i = candidates[rng.integers(len(candidates))]
    word, at = words[i], int(rng.integers(1, len(words[i]) - 1))
    change = rng.integers(3)
    if change == 0:  # swap two letters
        word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
    elif change == 1:  # drop one
        word = word[:at] + word[at + 1 :]
    else:  # double one
        word = word[:at] + word[at] + word[at:]
    words[i] = word
    return " ".join(words)


def _can_ask(family, kind, objects):
    if family == "typo":
        return True
    if family == "superlative" and len(objects) != 1:
        return False  # both shapes of a two-object scene are small
    return kind in TEMPLATES[family]["en"]
