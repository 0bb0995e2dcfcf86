"""Decoding with KerasHub samplers: choosing one by name (one object per
setting) and the logit masks every generating model of the package applies.

Written with `keras.ops` only, so decoding runs on every Keras backend."""

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

SAMPLERS = ("greedy", "beam", "top_k", "top_p")


def get_sampler(samplers, sampler, num_beams=4, k=5, seed=None, p=0.9, temperature=1.0):
    """Returns the KerasHub sampler for `sampler`, memoised in `samplers`.

    The same object for the same settings, so that a model's compiled
    decoding loop (one per sampler) is reused instead of traced again. The
    seed is not a setting: it is written into the sampler's random state
    (a variable the compiled loop reads), so any number of seeds share one
    compiled function, and a call with a seed draws the same as the last
    call with that seed.

    Args:
        samplers: a dict the caller keeps (the memo).
        sampler: `"greedy"`, `"beam"`, `"top_k"`, `"top_p"` (nucleus) or a
            `keras_hub.samplers.Sampler` instance (returned as is).
        num_beams: beams for `"beam"`.
        k: candidates for `"top_k"`.
        seed: random seed for `"top_k"` and `"top_p"`.
        p: for `"top_p"`, the smallest set of tokens whose probability
            reaches `p` is sampled from; in `(0, 1]`.
        temperature: for `"top_k"` and `"top_p"`: logits are divided by it
            (below 1: more likely tokens, less variety).

    Returns:
        A `keras_hub.samplers.Sampler`.

    Example:

    >>> memo = {}
    >>> get_sampler(memo, "beam", num_beams=2) is get_sampler(memo, "beam", 2)
    True
    """
    if isinstance(sampler, Sampler):
        return sampler
    if sampler in ("greedy", "beam") and temperature != 1.0:
        raise ValueError(
            f'`temperature` only changes the "top_k" and "top_p" samplers: '
            f"{sampler!r} takes the most likely tokens whatever it is. "
            f"Received: sampler={sampler!r}, temperature={temperature!r}"
        )
    if sampler == "greedy":
        key, make = ("greedy",), GreedySampler
    elif sampler == "beam":
        num_beams = check_positive_int("num_beams", num_beams)
        key, make = ("beam", num_beams), lambda: BeamSampler(num_beams=num_beams)
    elif sampler == "top_k":
        k = check_positive_int("k", k)
        temperature = check_positive_number("temperature", temperature)
        key = ("top_k", k, temperature)

        def make():
            return TopKSampler(k=k, seed=seed, temperature=temperature)

    elif sampler == "top_p":
        temperature = check_positive_number("temperature", temperature)
        if not 0 < check_positive_number("p", p) <= 1:
            raise ValueError(f"`p` must be in (0, 1]. Received: p={p!r}")
        key = ("top_p", float(p), temperature)

        def make():
            return TopPSampler(p=float(p), seed=seed, temperature=temperature)

    else:
        raise ValueError(
            f"`sampler` must be one of {list(SAMPLERS)} or a "
            f"`keras_hub.samplers.Sampler`. Received: sampler={sampler!r}"
        )
    if seed is not None:
        seed = check_positive_int("seed", seed, allow_zero=True)
        if seed >= 2**32:
            raise ValueError(f"`seed` must be below 2**32. Received: seed={seed}")
    if key not in samplers:
        samplers[key] = make()
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
