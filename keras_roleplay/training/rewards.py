"""Sequence-level rewards for reward tuning: one number a generated text.

A reward is any callable `reward(texts, batch)` that returns one float a
text: `texts` are the generated captions or replies (strings), `batch` a
dict of what they were generated from, one entry a text (`"references"`:
each text's reference captions; `"role"`, `"context"`, `"image"`...).
Rewards add up: `WeightedRewards({reward: weight, ...})` is a reward.

- `CiderDReward(reference_groups)`: CIDEr-D against each text's references,
  with the document frequencies of a training corpus (as self-critical
  sequence training does, Rennie et al. 2017);
- `BleuReward()`: sentence BLEU-4 (smoothed) against the references;
- `RepetitionPenalty()`: minus the share of repeated word bigrams;
- `RoleJudgeReward(judge)`: the probability a `RoleJudge` gives the role
  each reply was written for (`batch["role"]`): the role heard;
- `FluencyReward(texts)`: the mean log-probability of a text's words
  under a word n-gram model of `texts` (interpolated Kneser-Ney): fluency
  judged by a model other than the one tuned;
- `AnswerContentReward()`: 1 for a role-play VQA answer that states the
  right value (`datasets.role_vqa.answer_is_correct`), else 0: the content
  right;
- `WeightedRewards`: a weighted sum of rewards.

Example:

>>> reward = WeightedRewards({
...     CiderDReward([["a red circle"], ["a blue square"]]): 1.0,
...     RepetitionPenalty(): 0.5})
>>> scores = reward(["a red circle", "a red a red a red"],
...                 {"references": [["a red circle"], ["a red circle"]]})
>>> bool(scores[0] > scores[1])
True
"""

from collections import Counter

import numpy as np

from keras_roleplay.datasets.role_vqa import answers_correct
from keras_roleplay.metrics.cider import CiderD, caption_words
from keras_roleplay.metrics.ngram_fluency import KneserNeyLanguageModel
from keras_roleplay.utils.validation import check_choice


def _references(batch, count):
    references = batch.get("references") if isinstance(batch, dict) else None
    if references is None or len(references) != count:
        raise ValueError(
            "This reward compares texts with references: `batch` must hold "
            f'"references", one list of captions a text ({count}). Received: '
            f"{None if references is None else len(references)} entries"
        )
    return references


class CiderDReward:
    """CIDEr-D of each text against its references (`metrics.CiderD`).

    Args:
        reference_groups: the training corpus's reference groups, for the
            n-grams' document frequencies.
        language: `"en"` or `"zh"`.
    """

    def __init__(self, reference_groups, language="en"):
        self.cider = CiderD(reference_groups, language=language)

    def __call__(self, texts, batch):
        return self.cider.score(texts, _references(batch, len(texts)))

    def __repr__(self):
        return "CiderDReward()"


class BleuReward:
    """Sentence BLEU of each text against its references, add-one smoothed.

    Sentence-level BLEU with the +1 smoothing of Lin and Och (2004) on the
    2- to 4-gram precisions, so that a short text with no 4-gram match
    still gets a graded reward (corpus BLEU, `metrics.caption_bleu`, is the
    evaluation metric; a reward needs one number a text).

    Args:
        max_order: the longest n-gram (4).
        language: `"en"` or `"zh"`.
    """

    def __init__(self, max_order=4, language="en"):
        self.max_order = int(max_order)
        self.language = language

    def _score(self, text, references):
        words = caption_words(text, self.language)
        if not words:
            return 0.0
        refs = [caption_words(r, self.language) for r in references]
        log_precision = 0.0
        for order in range(1, self.max_order + 1):
            counts = Counter(
                tuple(words[i : i + order]) for i in range(len(words) - order + 1)
            )
            most = Counter()
            for ref in refs:
                ref_counts = Counter(
                    tuple(ref[i : i + order]) for i in range(len(ref) - order + 1)
                )
                most |= ref_counts
            matches = sum(min(c, most[g]) for g, c in counts.items())
            total = max(len(words) - order + 1, 0)
            smooth = 0 if order == 1 else 1
            if matches + smooth == 0 or total + smooth == 0:
                return 0.0
            log_precision += np.log((matches + smooth) / (total + smooth))
        closest = min((abs(len(r) - len(words)), len(r)) for r in refs)[1]
        brevity = min(0.0, 1.0 - closest / len(words))
        return float(np.exp(brevity + log_precision / self.max_order))

    def __call__(self, texts, batch):
        references = _references(batch, len(texts))
        return np.array(
            [self._score(t, r) for t, r in zip(texts, references, strict=True)]
        )

    def __repr__(self):
        return f"BleuReward(max_order={self.max_order})"


class RepetitionPenalty:
    """Minus the share of a text's word bigrams that repeat an earlier one.

    0 for a text without a repeated bigram, towards -1 for "a red a red a
    red"; a guard against the degenerate repetitions that sequence-level
    training finds when its reward allows them.
    """

    def __call__(self, texts, batch=None):
        scores = []
        for text in texts:
            words = str(text).split()
            bigrams = list(zip(words, words[1:], strict=False))
            repeated = len(bigrams) - len(set(bigrams))
            scores.append(-repeated / len(bigrams) if bigrams else 0.0)
        return np.array(scores)

    def __repr__(self):
        return "RepetitionPenalty()"


class WeightedRewards:
    """A weighted sum of rewards: itself a reward.

    Args:
        weights: `{reward: weight}`.
    """

    def __init__(self, weights):
        if not weights:
            raise ValueError("`weights` is empty: give at least one reward.")
        for reward in weights:
            if not callable(reward):
                raise TypeError(
                    f"Every key of `weights` must be a reward (a callable "
                    f"`reward(texts, batch)`). Received: {reward!r:.60}"
                )
        self.weights = dict(weights)

    def __call__(self, texts, batch):
        total = np.zeros(len(texts))
        for reward, weight in self.weights.items():
            total += weight * np.asarray(reward(texts, batch), dtype="float64")
        return total

    def __repr__(self):
        return f"WeightedRewards({self.weights!r})"


class RoleJudgeReward:
    """The probability a role judge gives each reply's asked-for role.

    The reward of role-play's reinforcement learning: a reply is worth what
    it sounds like its role to a `RoleJudge` trained on gold replies. Use
    another judge (another split or seed) to score the tuned model, so
    that the score is not the reward it was tuned on.

    Args:
        judge: a trained `metrics.RoleJudge` whose roles include the
            responder's.

    Example:

    >>> from keras_roleplay.metrics import RoleJudge
    >>> judge = RoleJudge(["[PAD]", "[UNK]", "arr", "hello"], ["pirate", "knight"],
    ...                   sequence_length=4)
    >>> scores = RoleJudgeReward(judge)(["arr", "hello"],
    ...                                 {"role": ["pirate", "knight"]})
    >>> scores.shape, bool(((scores > 0) & (scores < 1)).all())
    ((2,), True)
    """

    def __init__(self, judge):
        self.judge = judge

    def __call__(self, texts, batch):
        roles = batch.get("role") if isinstance(batch, dict) else None
        if roles is None or len(roles) != len(texts):
            raise ValueError(
                'RoleJudgeReward needs `batch["role"]`, one role a text '
                f"({len(texts)})."
            )
        ids = self.judge.role_ids(list(roles), len(texts))
        logits = self.judge.predict(
            self.judge.tokenize(list(texts)), batch_size=256, verbose=0
        )
        logits = np.asarray(logits, "float64")
        logits -= logits.max(axis=-1, keepdims=True)
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
        return probabilities[np.arange(len(texts)), np.asarray(ids)]

    def __repr__(self):
        return f"RoleJudgeReward({self.judge.name})"


class AnswerContentReward:
    """1 for an answer that states the right value and no wrong one, else 0.

    The content reward of role-play VQA: `datasets.role_vqa.answer_is_correct`
    on each answer, with its question's type and right value read from the
    batch (`batch["type"]`, `batch["truth"]`: pass them to
    `training.fit_reply_rewards` as `reward_data`). Whatever the role adds
    ("good question !") neither helps nor hurts.

    Args:
        language: `"en"` or `"zh"`.

    Example:

    >>> reward = AnswerContentReward()
    >>> reward(["the circle is red .", "the circle is red or blue ."],
    ...        {"type": ["colour", "colour"], "truth": ["red", "red"]}).tolist()
    [1.0, 0.0]
    """

    def __init__(self, language="en"):
        self.language = check_choice("language", language, ("en", "zh"))

    def __call__(self, texts, batch):
        fields = [
            batch.get(key) if isinstance(batch, dict) else None
            for key in ("type", "truth")
        ]
        if any(field is None or len(field) != len(texts) for field in fields):
            raise ValueError(
                'AnswerContentReward needs `batch["type"]` and `batch["truth"]`, '
                f"one entry a text ({len(texts)}): pass them as "
                '`reward_data={"type": ..., "truth": ...}`.'
            )
        return answers_correct(texts, *fields, self.language).astype("float64")

    def __repr__(self):
        return f"AnswerContentReward(language={self.language!r})"


class FluencyReward:
    """The mean log-probability of each text's words under a word n-gram model.

    A fluency reward that the tuned model cannot game by finding its own
    replies likely: an interpolated Kneser-Ney trigram model of a corpus
    (`metrics.KneserNeyLanguageModel`, e.g. the training replies) scores
    each text's words and its end, and the reward is their mean natural
    log-probability (higher: more like the corpus). Weigh it beside a role
    or content reward (`WeightedRewards`) so that replies keep to the
    language while they move towards the role; its scale is a few nats, so
    weights of 0.05 to 0.2 keep it a tie-breaker.

    Args:
        texts: the corpus (a list of strings), or a fitted
            `KneserNeyLanguageModel`.
        order: the n-gram order, when `texts` are given.

    Example:

    >>> reward = FluencyReward(["my good lord .", "good night , my lord ."])
    >>> scores = reward(["my good lord .", "lord my . good"], {})
    >>> bool(scores[0] > scores[1])
    True
    """

    def __init__(self, texts, order=3):
        if isinstance(texts, KneserNeyLanguageModel):
            self.language_model = texts
        elif isinstance(texts, str) or not hasattr(texts, "__iter__"):
            raise TypeError(
                "`texts` must be a list of strings or a KneserNeyLanguageModel. "
                f"Received: texts={texts!r:.60}"
            )
        else:
            self.language_model = KneserNeyLanguageModel(list(texts), order=order)

    def __call__(self, texts, batch=None):
        return np.array(
            [np.mean(self.language_model.log_likelihoods(t)) for t in texts]
        )

    def __repr__(self):
        return f"FluencyReward(order={self.language_model.order})"
