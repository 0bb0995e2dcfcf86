"""Classifier-free role guidance: each reply decoded with and without its role.

`RoleResponder.generate(role_guidance=w)` runs every reply twice, once as
its role and once with no role (role id -1), and samples from
`none + w * (role - none)`: Ho and Salimans' classifier-free guidance, with
the model's own no-role stream (learnt with `role_dropout`) as the
unconditional one. KerasHub's samplers know one row per reply, so the two
streams of a reply share its row: their caches have an axis of 2 after the
batch axis (`pair_rows`), and are flattened to `2 x batch` rows for each
step of the network (`unpair_rows`). Written here because neither KerasHub
nor Keras offers guidance for a conditioning input.
"""

from keras import ops
from keras_hub.samplers import TopPSampler

# The guidance weight for sampled dialogue (`role_chat`, the README,
# tutorial 04), for a responder pretrained without roles, whose no-role
# stream is a language model of its dialogue, and role-tuned as the
# `shakespeare_roles` recipe does (the network, then the role's vector and
# word bias alone). Measured on that preset
# (scripts/measure_shakespeare_replies.py, top-p 0.9, temperature 0.8,
# whole words; one seed while choosing): weight 4 made the judge name the
# speaker 0.217 of the time (real replies 0.255, chance 0.1) with distinct-2
# 0.538; weight 12, 0.712 with distinct-2 0.376 (a caricature); no guidance
# 0.092 with distinct-2 0.595. Over 3 seeds, weight 4: 0.252 (0.99x real),
# distinct-2 0.554. The role's word bias, once tuned alone, is
# strong: a weaker role needs more (12 suited the earlier, smaller preset).
DIALOGUE_ROLE_GUIDANCE = 4.0
# The weight the demo's Shakespeare job samples its own pretrained network
# with (role-tuned whole, no role-only stage): 12, measured there (judge
# 0.181 against 0.223 on real replies, 3 seeds).
DEMO_ROLE_GUIDANCE = 12.0


def __getattr__(name):
    """`DIALOGUE_DECODING`: how dialogue is decoded by default (`role_chat`,
    the README, tutorial 04, `scripts/measure_shakespeare_replies.py`):
    nucleus sampling (p 0.9, temperature 0.8) with role guidance; a model
    with a lexicon also keeps to whole words (`generate`'s default).

    Built when read, not on import: a sampler holds a random-state variable,
    and creating one on import would start TensorFlow's devices before a
    program could configure them (`tf.config.set_logical_device_configuration`).
    """
    if name == "DIALOGUE_DECODING":
        return dict(
            sampler=TopPSampler(p=0.9, temperature=0.8),
            role_guidance=DIALOGUE_ROLE_GUIDANCE,
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The cache entries of `RoleResponder._start_cache` that the network reads.
MODEL_CACHE = ("self_caches", "cross_caches", "memory", "memory_mask", "role_bias")


def with_no_role_rows(model_inputs):
    """`(batch, ...)` inputs -> `2 x batch` rows: each row, then it without a role.

    Example:

    >>> import numpy as np
    >>> rows = with_no_role_rows({"role": np.array([3, 5]),
    ...                           "context": np.array([[7, 8], [9, 0]])})
    >>> ops.convert_to_numpy(rows["role"]).tolist()
    [3, -1, 5, -1]
    >>> ops.convert_to_numpy(rows["context"]).tolist()
    [[7, 8], [7, 8], [9, 0], [9, 0]]
    """
    rows = {key: ops.repeat(value, 2, axis=0) for key, value in model_inputs.items()}
    role = ops.convert_to_tensor(model_inputs["role"])
    no_role = ops.full_like(role, -1)
    rows["role"] = ops.reshape(ops.stack([role, no_role], axis=1), (-1,))
    return rows


def pair_rows(value):
    """`(2 x batch, ...)` -> `(batch, 2, ...)`: a reply's two streams together."""
    return ops.reshape(value, (-1, 2, *value.shape[1:]))


def unpair_rows(value):
    """`(batch, 2, ...)` -> `(2 x batch, ...)`, as the network reads them."""
    return ops.reshape(value, (-1, *value.shape[2:]))
