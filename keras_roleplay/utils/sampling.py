"""Decoding with KerasHub samplers: the sampler a `generate` call uses
(a name as shorthand, or a `keras_hub.samplers.Sampler` with its settings)
and the logit masks every generating model of the package applies.

Written with `keras.ops` only, so decoding runs on every Keras backend."""

import json

from keras import ops
from keras_hub.samplers import (
    BeamSampler,
    GreedySampler,
    Sampler,
    TopKSampler,
    TopPSampler,
)

from keras_roleplay.utils.special_tokens import END_ID, PAD_ID, START_ID
from keras_roleplay.utils.validation import check_positive_int, check_positive_number

NEG_INF = -1e9

# The names a sampler may be given by, and what each stands for. Nucleus
# sampling keeps p = 0.9 (KerasHub's own default, 0.1, samples almost
# greedily); beam search keeps 4 beams.
SAMPLERS = {
    "greedy": lambda: GreedySampler(),
    "beam": lambda: BeamSampler(num_beams=4),
    "top_k": lambda: TopKSampler(k=5),
    "top_p": lambda: TopPSampler(p=0.9),
}


def make_sampler(sampler):
    """A `keras_hub.samplers.Sampler` from a name, checked; a sampler is checked.

    Args:
        sampler: `"greedy"`, `"beam"` (4 beams), `"top_k"` (k = 5),
            `"top_p"` (nucleus, p = 0.9), or a `keras_hub.samplers.Sampler`
            with its own settings, e.g. `TopPSampler(p=0.9,
            temperature=0.8)`.

    Returns:
        A `keras_hub.samplers.Sampler` (the one given, or a new one).

    Raises:
        ValueError: an unknown name, or settings no decoding can use: a
            temperature other than 1 for greedy or beam search (they take
            the most likely tokens whatever it is), a temperature that is
            not a positive finite number, `p` outside `(0, 1]`, `k` or
            `num_beams` below 1, `return_all_beams=True`.

    Example:

    >>> from keras_hub.samplers import TopPSampler
    >>> make_sampler("top_p").p
    0.9
    >>> make_sampler(TopPSampler(p=0.5, temperature=0.8)).temperature
    0.8
    """
    if isinstance(sampler, str) and sampler in SAMPLERS:
        sampler = SAMPLERS[sampler]()
    if not isinstance(sampler, Sampler):
        raise ValueError(
            f"`sampler` must be one of {list(SAMPLERS)} or a "
            f"`keras_hub.samplers.Sampler` (e.g. `TopPSampler(p=0.9, "
            f"temperature=0.8)`). Received: sampler={sampler!r:.80}"
        )
    temperature = check_positive_number("temperature", sampler.temperature)
    if isinstance(sampler, (GreedySampler, BeamSampler)) and temperature != 1.0:
        raise ValueError(
            f"`temperature` only changes sampling samplers (top-k, top-p): "
            f"{type(sampler).__name__} takes the most likely tokens whatever "
            f"it is. Received: temperature={temperature!r}"
        )
    if isinstance(sampler, TopPSampler):
        p = sampler.p
        if not 0 < check_positive_number("p", p) <= 1:
            raise ValueError(f"`p` must be in (0, 1]. Received: p={p!r}")
    if isinstance(sampler, TopKSampler):
        check_positive_int("k", sampler.k)
    if isinstance(sampler, BeamSampler):
        check_positive_int("num_beams", sampler.num_beams)
        if sampler.return_all_beams:
            raise ValueError(
                "`BeamSampler(return_all_beams=True)` is not supported: "
                "`generate` returns each input's best beam."
            )
    return sampler


def sampler_settings(sampler):
    """A sampler as plain settings, for printing and for JSON (model cards).

    Example:

    >>> from keras_hub.samplers import TopPSampler
    >>> sampler_settings(TopPSampler(p=0.9, temperature=0.8))
    {'sampler': 'top_p', 'temperature': 0.8, 'p': 0.9, 'k': None}
    """
    sampler = make_sampler(sampler)
    names = {
        GreedySampler: "greedy",
        BeamSampler: "beam",
        TopKSampler: "top_k",
        TopPSampler: "top_p",
    }
    config = sampler.get_config()
    config.pop("seed", None)
    return {"sampler": names.get(type(sampler), type(sampler).__name__), **config}


def get_sampler(samplers, sampler, seed=None, vocabulary_size=None):
    """The sampler a model decodes with, memoised in `samplers` by its settings.

    The same object for the same settings (class and config), so that a
    model's compiled decoding loop (one per sampler) is reused rather than
    traced again, even when a new `Sampler` object is passed each call.
    The seed is not a setting: it is written into the sampler's random
    state (a variable the compiled loop reads), so any number of seeds
    share one compiled function, and a call with a seed draws the same as
    the last call with that seed. A sampler built with a `seed` is
    reseeded with it on every call (the same draws each time), as if
    `seed` were given.

    Args:
        samplers: a dict the caller keeps (the memo).
        sampler: a name or a `keras_hub.samplers.Sampler` (`make_sampler`).
        seed: random seed for the sampling samplers (top-k, top-p); `None`
            draws on from the sampler's state.
        vocabulary_size: if given, a top-k `k` above it is refused.

    Returns:
        A `keras_hub.samplers.Sampler`.

    Example:

    >>> from keras_hub.samplers import BeamSampler
    >>> memo = {}
    >>> first = get_sampler(memo, BeamSampler(num_beams=2))
    >>> first is get_sampler(memo, BeamSampler(num_beams=2))
    True
    """
    sampler = make_sampler(sampler)
    if (
        vocabulary_size is not None
        and isinstance(sampler, TopKSampler)
        and sampler.k > vocabulary_size
    ):
        raise ValueError(
            f"`k` can be at most the vocabulary's size, {vocabulary_size} "
            f"(the candidates top-k samples from). Received: k={sampler.k}"
        )
    config = sampler.get_config()
    own_seed = config.pop("seed", None)
    seed = own_seed if seed is None else seed
    if seed is not None:
        seed = check_positive_int("seed", seed, allow_zero=True)
        if seed >= 2**32:
            raise ValueError(f"`seed` must be below 2**32. Received: seed={seed}")
    cls = type(sampler)
    key = (cls.__module__, cls.__qualname__, json.dumps(config, sort_keys=True))
    if key not in samplers:
        samplers[key] = cls.from_config(config)
    found = samplers[key]
    if seed is not None and found.variables:
        # The seed is the sampler's random state, not part of its identity:
        # the compiled decoding function reads the state, so a new seed
        # needs no new function, and the same seed gives the same draws.
        found.variables[0].assign(
            ops.convert_to_tensor([seed, 0], found.variables[0].dtype)
        )
    return found


def previous_tokens(prompt, index):
    """The tokens before position `index` of a sampler's prompt: `(batch, 1)`.

    A static `(batch, 1)` slice (KerasHub's models slice the same way): XLA
    cannot compile the bounded dynamic shape that the tensor-indexed slice
    `prompt[:, index - 1 : index]` gives.

    Example:

    >>> import numpy as np
    >>> prompt = np.array([[2, 7, 9], [2, 8, 3]], "int32")
    >>> np.asarray(previous_tokens(prompt, 2)).tolist()
    [[7], [8]]
    """
    return ops.slice(prompt, [0, index - 1], [ops.shape(prompt)[0], 1])


def mask_next_token_logits(logits, previous_tokens, keep=None):
    """The next-token logits a generating model hands to a KerasHub sampler.

    `[PAD]` and `[START]` are never generated, nor any token where `keep`
    is False. A sequence whose previous token is `[END]` or `[PAD]` is
    finished: it can only add `[PAD]`, at no cost, so that beam search
    compares sequences by their probability up to `[END]` (KerasHub's
    samplers keep decoding finished rows until all are done).

    Args:
        logits: `(batch, vocabulary_size)` scores of the next token.
        previous_tokens: `(batch,)` the tokens just generated.
        keep: optional bool mask broadcastable to `logits`: the tokens that
            may come next (role constraints, banned words).

    Returns:
        float32 logits, `NEG_INF` where a token may not come next.

    Example:

    >>> import numpy as np
    >>> from keras_roleplay.utils.special_tokens import END_ID, PAD_ID
    >>> logits = np.zeros((2, 6), "float32")
    >>> out = np.asarray(mask_next_token_logits(logits, np.array([5, END_ID])))
    >>> int(np.argmax(out[1])) == PAD_ID, bool(out[0][PAD_ID] < -1e8)
    (True, True)
    """
    logits = ops.cast(logits, "float32")
    ids = ops.arange(ops.shape(logits)[-1], dtype="int32")
    allowed = ops.logical_and(ops.not_equal(ids, PAD_ID), ops.not_equal(ids, START_ID))
    allowed = ops.expand_dims(allowed, 0)
    if keep is not None:
        allowed = ops.logical_and(allowed, keep)
    logits = ops.where(allowed, logits, NEG_INF)
    previous_tokens = ops.convert_to_tensor(previous_tokens)
    finished = ops.logical_or(
        ops.equal(previous_tokens, END_ID), ops.equal(previous_tokens, PAD_ID)
    )
    only_pad = ops.where(ops.equal(ids, PAD_ID), 0.0, NEG_INF)
    return ops.where(ops.expand_dims(finished, 1), ops.expand_dims(only_pad, 0), logits)


def block_banned_sequences(keep, prompt, index, banned_sequences, sequence_roles):
    """Bans the last piece of each banned word right after its other pieces.

    Hugging Face's `bad_words_ids` semantics for words of several word
    pieces: the word is blocked where it would be completed.

    Args:
        keep: `(batch, vocabulary_size)` bool, the tokens allowed so far.
        prompt: `(batch, length)` the tokens of the sampler's prompt.
        index: the position about to be generated.
        banned_sequences: a list of tuples of token ids (two or more each).
        sequence_roles: `(batch, len(banned_sequences))` bool: whether each
            row bans each sequence.

    Returns:
        `keep` with the completing pieces switched off.

    Example:

    >>> import numpy as np
    >>> prompt = np.array([[2, 7, 0], [2, 8, 0]], "int32")
    >>> keep = np.ones((2, 10), bool)
    >>> out = block_banned_sequences(keep, prompt, 2, [(7, 9)],
    ...                              np.array([[True], [True]]))
    >>> np.asarray(out)[:, 9].tolist()  # only after the 7
    [False, True]
    """
    vocabulary_ids = ops.arange(ops.shape(keep)[-1], dtype="int32")
    for j, sequence in enumerate(banned_sequences):
        prefix = len(sequence) - 1
        positions = index - prefix + ops.arange(prefix, dtype="int32")
        previous = ops.take(prompt, ops.maximum(positions, 0), axis=1)
        matches = ops.logical_and(
            ops.equal(previous, ops.convert_to_tensor(sequence[:-1], "int32")),
            ops.expand_dims(ops.greater_equal(positions, 1), 0),
        )
        match = ops.logical_and(ops.all(matches, axis=1), sequence_roles[:, j])
        block = ops.logical_and(
            ops.expand_dims(match, 1),
            ops.expand_dims(ops.equal(vocabulary_ids, sequence[-1]), 0),
        )
        keep = ops.logical_and(keep, ops.logical_not(block))
    return keep


def block_repeated_ngrams(keep, prompt, index, ngram_size):
    """Bans every token that would repeat an n-gram already generated.

    Hugging Face's `no_repeat_ngram_size` (KerasHub has no such rule): if
    the last `ngram_size - 1` tokens before `index` appeared together
    earlier, the token that followed them then may not follow them now.
    The cure for greedy and beam replies that loop on one phrase.

    Args:
        keep: `(batch, vocabulary_size)` bool, the tokens allowed so far.
        prompt: `(batch, length)` the tokens of the sampler's prompt, with
            `[START]` at position 0; `length` must be static.
        index: the position about to be generated.
        ngram_size: `0` (no rule) or the n-gram length that may not repeat.

    Returns:
        `keep` with the repeating tokens switched off.

    Example:

    >>> import numpy as np
    >>> prompt = np.array([[2, 7, 8, 7, 0]], "int32")  # 7 8 7, about to add
    >>> out = block_repeated_ngrams(np.ones((1, 10), bool), prompt, 4, 2)
    >>> np.flatnonzero(~np.asarray(out)[0]).tolist()  # "7 8" was said
    [8]
    """
    if not ngram_size:
        return keep
    length = prompt.shape[1]
    prefix_length = ngram_size - 1
    vocabulary_ids = ops.expand_dims(ops.arange(ops.shape(keep)[-1], dtype="int32"), 0)
    positions = index - prefix_length + ops.arange(prefix_length, dtype="int32")
    prefix = ops.take(prompt, ops.maximum(positions, 0), axis=1)
    # The last n-1 tokens lie in the reply (not before [START]'s position).
    prefix_ready = ops.greater_equal(index - prefix_length, 1)
    # Static loop over where an earlier n-gram could start (1: after [START]).
    for start in range(1, length - prefix_length):
        follower_position = start + prefix_length
        window = ops.slice(prompt, [0, start], [ops.shape(prompt)[0], prefix_length])
        follower = ops.slice(prompt, [0, follower_position], [ops.shape(prompt)[0], 1])
        match = ops.logical_and(
            ops.all(ops.equal(window, prefix), axis=1),
            ops.logical_and(prefix_ready, ops.less(follower_position, index)),
        )
        block = ops.logical_and(
            ops.expand_dims(match, 1), ops.equal(vocabulary_ids, follower)
        )
        keep = ops.logical_and(keep, ops.logical_not(block))
    return keep
