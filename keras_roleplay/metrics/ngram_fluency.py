"""A word-level Kneser-Ney n-gram language model: fluency judged from outside.

A generating model's own perplexity of its replies says how likely they
are under that model, not whether they read as the language of the corpus:
a model that joins word pieces into non-words can still find its replies
likely. An n-gram model of the training speeches is an independent judge
of the words and the word order: its perplexity of generated replies is
set against its perplexity of real held-out replies (within 1.5x: about as
fluent as the real ones), beside distinct-2 (so that a few generic replies
cannot win it).

Interpolated Kneser-Ney smoothing (Kneser and Ney, 1995; the interpolated
form of Chen and Goodman, 1999) with one absolute discount per order,
estimated as `n1 / (n1 + 2 n2)` from the counts of n-grams seen once and
twice. Written here, in about a hundred lines, because the maintained
options do not fit: NLTK's `nltk.lm.KneserNeyInterpolated` recomputes its
continuation counts for every word it scores (minutes for a few thousand
words of replies), and KenLM needs a compiled build of its `lmplz` tool.
"""

import collections
import math
import re

import numpy as np

from keras_roleplay.utils.validation import check_positive_int

WORDS = re.compile(r"[a-z]+|[.,!?;:]")
BEGIN, END, UNKNOWN = "<s>", "</s>", "<unk>"


def word_tokens(text):
    """A text's lower-cased words and punctuation marks (the n-gram model's units).

    An apostrophe splits a word, as the models' WordPiece tokenizers split
    it: a real "I'll" and a generated "i ' ll" read the same.

    Example:

    >>> word_tokens("What, my lord? I'll go.")
    ['what', ',', 'my', 'lord', '?', 'i', 'll', 'go', '.']
    """
    return WORDS.findall(str(text).lower())


class KneserNeyLanguageModel:
    """An interpolated Kneser-Ney word n-gram model of a list of texts.

    Args:
        texts: the training texts (each a sentence or speech: it gets its
            own begin and end markers).
        order: the n of the n-grams (3: trigrams, backing off to bigrams
            and unigrams).

    Attributes:
        vocabulary: the words seen in training; others are `<unk>`.

    Example:

    >>> model = KneserNeyLanguageModel(
    ...     ["my good lord .", "good my lord .", "my lord , good night ."])
    >>> model.perplexity(["my good lord ."]) < model.perplexity(["lord . my good"])
    True
    """

    def __init__(self, texts, order=3):
        self.order = check_positive_int("order", order)
        sentences = [word_tokens(t) for t in texts]
        if not any(sentences):
            raise ValueError("`texts` holds no words to learn an n-gram model from.")
        self.vocabulary = {w for s in sentences for w in s} | {END}
        # counts[n][context][word]: raw counts at the top order,
        # continuation counts (distinct left neighbours) below it.
        self._counts = [None] + [
            collections.defaultdict(collections.Counter) for _ in range(order)
        ]
        top = self._counts[order]
        for sentence in sentences:
            padded = [BEGIN] * (order - 1) + sentence + [END]
            for i in range(order - 1, len(padded)):
                top[tuple(padded[i - order + 1 : i])][padded[i]] += 1
        for n in range(order, 1, -1):
            lower = self._counts[n - 1]
            for context, followers in self._counts[n].items():
                for word in followers:
                    lower[context[1:]][word] += 1
        self._totals = [None] + [
            {c: sum(f.values()) for c, f in counts.items()}
            for counts in self._counts[1:]
        ]
        self._discounts = [None] + [
            self._discount(counts) for counts in self._counts[1:]
        ]

    @staticmethod
    def _discount(counts):
        histogram = collections.Counter(
            c for followers in counts.values() for c in followers.values()
        )
        n1, n2 = histogram[1], histogram[2]
        return n1 / (n1 + 2 * n2) if n1 + n2 else 0.5

    def probability(self, word, context):
        """P(word | the `order - 1` words before it), interpolated Kneser-Ney."""
        word = word if word in self.vocabulary else UNKNOWN
        context = tuple(context)[-(self.order - 1) :] if self.order > 1 else ()
        context = (BEGIN,) * (self.order - 1 - len(context)) + context
        # The lowest order falls back on a uniform guess over the vocabulary
        # and <unk>, so that no word has probability 0.
        probability = 1.0 / (len(self.vocabulary) + 1)
        for n in range(1, self.order + 1):
            history = context[len(context) - (n - 1) :] if n > 1 else ()
            followers = self._counts[n].get(history)
            if not followers:
                continue
            total = self._totals[n][history]
            discount = self._discounts[n]
            probability = (
                max(followers.get(word, 0) - discount, 0) / total
                + discount * len(followers) / total * probability
            )
        return probability

    def log_likelihoods(self, text):
        """The natural log-probability of each word of `text` and of its end."""
        words = word_tokens(text) + [END]
        context = [BEGIN] * (self.order - 1)
        out = []
        for word in words:
            out.append(math.log(self.probability(word, context)))
            context = context[1:] + [word if word in self.vocabulary else UNKNOWN]
        return out

    def perplexity(self, texts):
        """Per-word perplexity of `texts` (their end markers counted as words)."""
        if isinstance(texts, str):
            raise TypeError(
                f"`texts` must be a list of strings. Received: texts={texts!r:.60}"
            )
        values = [v for text in texts for v in self.log_likelihoods(text)]
        if not values:
            raise ValueError("`texts` is empty.")
        return float(np.exp(-np.mean(values)))

    def unknown_share(self, texts):
        """The share of the words of `texts` that training never saw."""
        words = [w for text in texts for w in word_tokens(text)]
        if not words:
            return 0.0
        return float(np.mean([w not in self.vocabulary for w in words]))
