"""Decoding with KerasHub samplers: choosing one by name (one object per
setting) and the logit mask every generating model of the package applies."""

import tensorflow as tf
from keras_hub.samplers import BeamSampler, GreedySampler, Sampler, TopKSampler

from keras_roleplay.data.text import END_ID, PAD_ID, START_ID
from keras_roleplay.utils.validation import check_positive_int

NEG_INF = -1e9

SAMPLERS = ("greedy", "beam", "top_k")


def get_sampler(samplers, sampler, num_beams=4, k=5, seed=None):
    """Returns the KerasHub sampler for `sampler`, memoised in `samplers`.

    The same object for the same settings, so that a model's traced decoding
    loop (one per sampler) is reused instead of traced again.

    Args:
        samplers: a dict the caller keeps (the memo).
        sampler: `"greedy"`, `"beam"`, `"top_k"` or a
            `keras_hub.samplers.Sampler` instance (returned as is).
        num_beams: beams for `"beam"`.
        k: candidates for `"top_k"`.
        seed: random seed for `"top_k"`.

    Returns:
        A `keras_hub.samplers.Sampler`.

    Example:

    >>> memo = {}
    >>> get_sampler(memo, "beam", num_beams=2) is get_sampler(memo, "beam", 2)
    True
    """
    if isinstance(sampler, Sampler):
        return sampler
    if sampler == "greedy":
        key, make = ("greedy",), GreedySampler
    elif sampler == "beam":
        num_beams = check_positive_int("num_beams", num_beams)
        key, make = ("beam", num_beams), lambda: BeamSampler(num_beams=num_beams)
    elif sampler == "top_k":
        k = check_positive_int("k", k)
        key, make = ("top_k", k, seed), lambda: TopKSampler(k=k, seed=seed)
    else:
        raise ValueError(
            f"`sampler` must be one of {list(SAMPLERS)} or a "
            f"`keras_hub.samplers.Sampler`. Received: sampler={sampler!r}"
        )
    if key not in samplers:
        samplers[key] = make()
    return samplers[key]


def previous_tokens(prompt, index):
    """The tokens before position `index` of a sampler's prompt: `(batch, 1)`.

    A static `(batch, 1)` shape: XLA cannot compile the bounded dynamic one
    the tensor-indexed slice `prompt[:, index - 1 : index]` gives.

    Example:

    >>> import tensorflow as tf
    >>> prompt = tf.constant([[2, 7, 9], [2, 8, 3]])
    >>> previous_tokens(prompt, tf.constant(2)).numpy().tolist()
    [[7], [8]]
    """
    return prompt[:, index - 1][:, None]


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
    >>> from keras_roleplay.data.text import END_ID, PAD_ID
    >>> logits = np.zeros((2, 6), "float32")
    >>> out = mask_next_token_logits(logits, np.array([5, END_ID]))
    >>> int(np.argmax(out[1])) == PAD_ID, bool(out[0][PAD_ID] < -1e8)
    (True, True)
    """
    logits = tf.cast(logits, tf.float32)
    ids = tf.range(tf.shape(logits)[-1])
    allowed = (ids != PAD_ID) & (ids != START_ID)
    if keep is not None:
        allowed = allowed & keep
    logits = tf.where(allowed, logits, NEG_INF)
    finished = (previous_tokens == END_ID) | (previous_tokens == PAD_ID)
    only_pad = tf.where(ids == PAD_ID, 0.0, NEG_INF)
    return tf.where(finished[:, None], only_pad[None, :], logits)


def compile_generate_function(function, jit_compile):
    """The traced decoding loop: a `tf.function`, XLA-compiled if asked.

    As KerasHub's `CausalLM.generate` does, pass the model's `jit_compile`
    (after `compile(jit_compile="auto")`: on for a GPU, off on a CPU-only
    machine). Without XLA the function is traced with `reduce_retracing`,
    so new batch sizes and lengths reuse one trace; XLA needs static
    shapes (the relaxed, bounded batch dimension fails to compile), so with
    XLA each batch size and reply length compiles once.

    Args:
        function: the Python decoding function.
        jit_compile: bool.

    Returns:
        A `tf.function`.

    Example:

    >>> import tensorflow as tf
    >>> double = compile_generate_function(lambda x: 2 * x, jit_compile=True)
    >>> int(double(tf.constant(3)))
    6
    """
    jit_compile = bool(jit_compile)
    return tf.function(
        function, jit_compile=jit_compile, reduce_retracing=not jit_compile
    )
