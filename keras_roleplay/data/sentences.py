"""Cutting texts at a sentence end: no model learns to end a reply mid-phrase."""

import re

import numpy as np

from keras_roleplay.data.text import token_id_lists
from keras_roleplay.utils.validation import check_positive_int

SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*")
_SENTENCE = re.compile(r".*?[.!?]+[\"')\]]*|.+$", re.DOTALL)


def ends_a_sentence(text):
    """Whether `text` ends with `.`, `!` or `?` (a closing quote may follow).

    Example:

    >>> ends_a_sentence("I must take them."), ends_a_sentence("I must take")
    (True, False)
    """
    text = str(text).rstrip()
    return any(m.end() == len(text) for m in SENTENCE_END.finditer(text))


def whole_sentences(texts, tokenizer, max_tokens):
    """Cuts each text after its last whole sentence that fits in `max_tokens`.

    A reply cut at a fixed number of tokens teaches a model to end replies
    mid-phrase: its `[END]` follows a half sentence. This keeps, of each
    text, the longest run of whole sentences (ending in `.`, `!` or `?`)
    whose tokens fit in `max_tokens`; a text that already fits and ends a
    sentence is unchanged, and so is one that fits with no sentence end at
    all (an interjection such as "Ay, my lord"). A text that fits but ends
    after its last sentence end (a speech cut at a fixed length in the
    source) loses that tail. A too-long text whose first sentence alone is
    too long cannot be cut at a sentence end: it is kept, cut at
    `max_tokens` by the model's packer as before, and counted in
    `still_cut`.

    Sentences are tokenized one by one: a WordPiece tokenizer splits on
    whitespace and punctuation, so the tokens of a text are those of its
    sentences, in order.

    Args:
        texts: strings.
        tokenizer: the model's tokenizer (strings to token ids).
        max_tokens: the most tokens a text may keep (for a `RoleResponder`
            reply, `reply_length - 1`: `[START]` and `[END]` take the rest).

    Returns:
        `(texts, still_cut)`: the cut texts (a list of strings) and a bool
        array, True where a text could not end at a sentence end within
        `max_tokens`.

    Example:

    >>> from keras_roleplay.models.role_responder.role_responder_tokenizer import (
    ...     RoleResponderTokenizer, build_dialogue_vocabulary)
    >>> text = "Good morrow. I would speak with you, my lord"
    >>> tokenizer = RoleResponderTokenizer(build_dialogue_vocabulary([text]))
    >>> whole_sentences([text], tokenizer, max_tokens=20)  # letters, mostly
    (['Good morrow.'], array([False]))
    """
    max_tokens = check_positive_int("max_tokens", max_tokens)
    texts = [str(t) for t in np.asarray(texts, dtype=object).ravel()]
    pieces = [[s for s in _SENTENCE.findall(t) if s.strip()] for t in texts]
    flat = [s for sentences in pieces for s in sentences]
    counts = iter([len(ids) for ids in token_id_lists(tokenizer(flat))] if flat else [])
    kept, still_cut = [], []
    for text, sentences in zip(texts, pieces, strict=True):
        total, end = 0, 0
        complete = []
        for sentence in sentences:
            total += next(counts)
            if total <= max_tokens and ends_a_sentence(sentence):
                end = len("".join(complete)) + len(sentence)
            complete.append(sentence)
        fits = total <= max_tokens
        if fits and ends_a_sentence(text):
            kept.append(text)
            still_cut.append(False)
        elif end:
            kept.append("".join(sentences)[:end].strip())
            still_cut.append(False)
        else:
            kept.append(text)
            still_cut.append(not fits)
    return kept, np.asarray(still_cut, bool)
