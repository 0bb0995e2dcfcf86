"""Choosing KerasHub samplers by name, reusing one object per setting."""

from keras_hub.samplers import BeamSampler, GreedySampler, Sampler, TopKSampler

from keras_roleplay.utils.validation import check_positive_int

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
