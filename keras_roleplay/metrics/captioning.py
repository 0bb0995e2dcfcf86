"""Corpus BLEU for generated captions, with KerasHub's `Bleu`."""

import re

import keras_hub

# One CJK character: Chinese captions are scored per character.
_CJK = re.compile(r"([\u3000-\u9fff\uff00-\uffef])")


def caption_bleu(references, hypotheses, max_order=4, language="en"):
    """BLEU-1 .. BLEU-`max_order` of generated captions against references.

    A thin wrapper over `keras_hub.metrics.Bleu` (SacreBLEU-style), one
    metric per n-gram order. Chinese has no spaces between words, so with
    `language="zh"` every CJK character counts as a word.

    Args:
        references: for each image, a list of reference captions.
        hypotheses: for each image, the generated caption.
        max_order: highest n-gram order.
        language: `"en"` (split on spaces) or `"zh"` (split into characters).

    Returns:
        A dict `{"bleu_1": ..., ..., "bleu_<max_order>": ...}` of floats.

    Example:

    >>> scores = caption_bleu([["a red circle on the left"]],
    ...                       ["a red circle on the left"])
    >>> round(scores["bleu_4"], 3)
    1.0
    >>> round(caption_bleu([["一个红色的圆形"]], ["一个红色的圆形"],
    ...                    language="zh")["bleu_4"], 3)
    1.0
    """
    if len(references) != len(hypotheses):
        raise ValueError(
            "`references` and `hypotheses` must have one entry per image. "
            f"Received: {len(references)} and {len(hypotheses)} entries"
        )
    if language not in ("en", "zh"):
        raise ValueError(
            f'`language` must be "en" or "zh". Received: language={language!r}'
        )
    if not hypotheses:
        raise ValueError("`hypotheses` is empty: nothing to score.")

    def words(text):
        text = str(text)
        return " ".join(_CJK.sub(r" \1 ", text).split()) if language == "zh" else text

    references = [[words(r) for r in refs] for refs in references]
    if not all(references):
        raise ValueError("Every image needs at least one reference caption.")
    # KerasHub's Bleu wants as many references per image for every image;
    # repeating one changes no n-gram clip and no closest length.
    most = max(len(refs) for refs in references)
    references = [refs + [refs[0]] * (most - len(refs)) for refs in references]
    hypotheses = [words(h) for h in hypotheses]
    scores = {}
    for order in range(1, max_order + 1):
        bleu = keras_hub.metrics.Bleu(max_order=order)
        bleu.update_state(references, hypotheses)
        scores[f"bleu_{order}"] = float(bleu.result())
    return scores
