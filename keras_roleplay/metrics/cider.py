"""CIDEr-D: consensus of a caption with its references, weighted by TF-IDF.

CIDEr (Vedantam, Zitnick and Parikh, CVPR 2015) scores a caption by how
much it says what the references of its image agree on: each caption is a
vector of its 1- to 4-grams weighted by TF-IDF (an n-gram that every
image's references use, "a", counts little; one that only this image's
references use counts much), and the score is the mean cosine similarity
with the references, over the four orders, times 10. CIDEr-D, the variant
of the COCO evaluation server and of self-critical sequence training
(Rennie et al., CVPR 2017), clips each n-gram's weight at the reference's
and multiplies by a Gaussian penalty on the length difference (sigma 6),
so that repeating words or padding a caption does not pay.

The same computation as the reference implementation (`cider_scorer.py`
of the COCO caption evaluation, `pycocoevalcap` on PyPI), including its
length (the caption's number of bigrams) and its document frequencies
taken over the reference sets scored; written here because that package is
104 MB (it bundles Java tools for other metrics) and takes PTB-tokenized
text. The tests compare with figures computed by it.

`CiderD(reference_groups)` keeps the document frequencies of a corpus, as
self-critical training does with its training captions' (`rewards`), and
scores any captions against any references with them.
"""

import math
import re
from collections import Counter

import numpy as np

# One CJK character: Chinese captions are scored per character, as BLEU is.
_CJK = re.compile(r"([\u3000-\u9fff\uff00-\uffef])")


def caption_words(text, language="en"):
    """The words a caption is scored on: lower case, split on spaces
    (`language="zh"`: every CJK character a word).

    Example:

    >>> caption_words("A red  circle")
    ['a', 'red', 'circle']
    >>> caption_words("一个红色的圆", language="zh")
    ['一', '个', '红', '色', '的', '圆']
    """
    if language not in ("en", "zh"):
        raise ValueError(
            f'`language` must be "en" or "zh". Received: language={language!r}'
        )
    text = str(text).lower()
    if language == "zh":
        text = _CJK.sub(r" \1 ", text)
    return text.split()


def _ngram_counts(words, max_order):
    counts = Counter()
    for order in range(1, max_order + 1):
        for i in range(len(words) - order + 1):
            counts[tuple(words[i : i + order])] += 1
    return counts


class CiderD:
    """CIDEr-D with the document frequencies of a corpus of reference groups.

    Args:
        reference_groups: for each image, its reference captions (strings);
            the n-grams' document frequencies (in how many images'
            references each appears) come from them.
        max_order: the longest n-gram (4).
        sigma: the length penalty's width (6).
        language: `"en"` or `"zh"` (see `caption_words`).

    Example:

    >>> cider = CiderD([["a red circle", "a red round circle"],
    ...                 ["a blue square", "a small blue square"]])
    >>> scores = cider.score(["a red circle", "a blue circle"],
    ...                      [["a red circle", "a red round circle"],
    ...                       ["a blue square", "a small blue square"]])
    >>> bool(scores[0] > scores[1] > 0)
    True
    """

    def __init__(self, reference_groups, max_order=4, sigma=6.0, language="en"):
        groups = _check_groups("reference_groups", reference_groups)
        self.max_order = int(max_order)
        self.sigma = float(sigma)
        self.language = language
        self.document_frequency = Counter()
        for references in groups:
            seen = set()
            for reference in references:
                seen.update(
                    _ngram_counts(caption_words(reference, language), max_order)
                )
            self.document_frequency.update(seen)
        self.log_documents = math.log(float(len(groups)))

    def _vector(self, counts):
        vectors = [{} for _ in range(self.max_order)]
        norms = np.zeros(self.max_order)
        length = 0
        for ngram, count in counts.items():
            order = len(ngram) - 1
            weight = count * (
                self.log_documents
                - math.log(max(1.0, self.document_frequency.get(ngram, 0.0)))
            )
            vectors[order][ngram] = weight
            norms[order] += weight**2
            if order == 1:  # the reference implementation's length: bigrams
                length += count
        return vectors, np.sqrt(norms), length

    def _similarity(self, candidate, reference):
        (vec, norm, length), (vec_ref, norm_ref, length_ref) = candidate, reference
        values = np.zeros(self.max_order)
        for order in range(self.max_order):
            for ngram, weight in vec[order].items():
                ref_weight = vec_ref[order].get(ngram, 0.0)
                values[order] += min(weight, ref_weight) * ref_weight
            if norm[order] != 0 and norm_ref[order] != 0:
                values[order] /= norm[order] * norm_ref[order]
        penalty = math.exp(-((length - length_ref) ** 2) / (2 * self.sigma**2))
        return values * penalty

    def score(self, candidates, reference_groups):
        """CIDEr-D of each candidate against its image's references.

        Args:
            candidates: one caption a image (strings).
            reference_groups: for each image, its reference captions.

        Returns:
            A float64 array, one score a candidate (0 for no shared n-gram;
            up to about 10 for the references' own wording).
        """
        if isinstance(candidates, str):
            raise TypeError(
                "`candidates` must be a list of captions, one a image. "
                f"Received the string {candidates!r:.60}"
            )
        candidates = list(candidates)
        groups = _check_groups("reference_groups", reference_groups)
        if len(candidates) != len(groups):
            raise ValueError(
                "`candidates` and `reference_groups` must have one entry per "
                f"image. Received: {len(candidates)} and {len(groups)} entries"
            )
        scores = np.zeros(len(candidates))
        for i, (candidate, references) in enumerate(
            zip(candidates, groups, strict=True)
        ):
            vector = self._vector(
                _ngram_counts(caption_words(candidate, self.language), self.max_order)
            )
            total = np.zeros(self.max_order)
            for reference in references:
                total += self._similarity(
                    vector,
                    self._vector(
                        _ngram_counts(
                            caption_words(reference, self.language), self.max_order
                        )
                    ),
                )
            scores[i] = 10.0 * np.mean(total) / len(references)
        return scores


def caption_cider_d(references, hypotheses, language="en"):
    """CIDEr-D of generated captions, as the COCO evaluation computes it.

    The document frequencies come from the references scored (the COCO
    server's "corpus" mode).

    Args:
        references: for each image, a list of reference captions.
        hypotheses: for each image, the generated caption.
        language: `"en"` or `"zh"`.

    Returns:
        The mean CIDEr-D over the images (a float).

    Example:

    >>> references = [["a red circle", "a red round circle"],
    ...               ["a blue square", "a small blue square"],
    ...               ["a green triangle", "a green triangle at the top"]]
    >>> round(caption_cider_d(references, ["a red circle", "a blue square",
    ...                                    "a green triangle"]), 3)
    5.406
    """
    return float(
        np.mean(CiderD(references, language=language).score(hypotheses, references))
    )


def _check_groups(name, groups):
    if isinstance(groups, str) or not hasattr(groups, "__iter__"):
        raise TypeError(
            f"`{name}` must be a list of lists of captions. Received: {groups!r:.60}"
        )
    groups = [
        [references] if isinstance(references, str) else list(references)
        for references in groups
    ]
    if not groups:
        raise ValueError(f"`{name}` is empty: nothing to score.")
    for i, references in enumerate(groups):
        if not references:
            raise ValueError(
                f"`{name}`: image {i} has no reference caption; every image "
                "needs at least one."
            )
    return groups
