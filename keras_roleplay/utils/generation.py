"""One compiled decoding function per backend: KerasHub's `make_generate_function`.

Both generating models write their decoding as one backend-agnostic
`generate_step(inputs)` (encoding, cache seeding and a KerasHub sampler's
loop, in `keras.ops`); this module compiles it the way KerasHub's
`CausalLM.make_generate_function` does:

- TensorFlow: a `tf.function`, XLA-compiled with the model's `jit_compile`;
- JAX: `jax.jit`, the model's variables passed in as state through a
  `keras.StatelessScope` (so new weights after `fit` need no new trace);
- PyTorch: eager, under `torch.no_grad()`.

A model with `run_eagerly=True` decodes eagerly on every backend.

KerasHub's own method belongs to its `CausalLM` base class, which fixes the
preprocessing, the `generate` signature and the sampler (set in `compile`);
our models keep their own signatures (roles, images, constraints, one
sampler per call), so the compilation is written here, once, for both.
"""

import itertools

import keras
from keras import ops, tree


def make_generate_function(model, generate_step, sampler):
    """Compiles `generate_step` for the current backend.

    Args:
        model: the `keras.Model` whose variables `generate_step` reads.
        generate_step: a function `inputs -> token ids`, `inputs` a nested
            structure of arrays; written with `keras.ops`.
        sampler: the `keras_hub.samplers.Sampler` it uses (its random state
            is carried through the JAX function).

    Returns:
        A function `inputs -> token ids` (a NumPy array). Each new input
        shape traces (and, with XLA or JAX, compiles) once.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> from keras_hub.samplers import GreedySampler
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> double = make_generate_function(model, lambda x: 2 * x, GreedySampler())
    >>> double(np.array([3], "int32")).tolist()
    [6]
    """
    backend = keras.config.backend()
    if model.run_eagerly:
        compiled = generate_step
    elif backend == "tensorflow":
        compiled = _tensorflow_function(generate_step, bool(model.jit_compile))
    elif backend == "jax":
        compiled = _jax_function(model, generate_step, sampler)
    elif backend == "torch":
        compiled = _torch_function(generate_step)
    else:
        compiled = generate_step

    def generate_function(inputs):
        inputs = tree.map_structure(ops.convert_to_tensor, inputs)
        return ops.convert_to_numpy(compiled(inputs))

    return generate_function


def _tensorflow_function(generate_step, jit_compile):
    import tensorflow as tf

    # Plain ops, no Python control flow on tensors: AutoGraph has nothing to
    # convert (and warns when it tries). XLA needs static shapes (a relaxed,
    # bounded batch dimension fails to compile), so only the plain graph is
    # traced with `reduce_retracing`.
    return tf.function(
        generate_step,
        jit_compile=jit_compile,
        reduce_retracing=not jit_compile,
        autograph=False,
    )


def _jax_function(model, generate_step, sampler):
    import jax

    @jax.jit
    def stateless_generate(inputs, state):
        sampler_values, trainable_values, non_trainable_values = state
        mapping = itertools.chain(
            zip(sampler.variables, sampler_values, strict=True),
            zip(model.trainable_variables, trainable_values, strict=True),
            zip(model.non_trainable_variables, non_trainable_values, strict=True),
        )
        with keras.StatelessScope(state_mapping=mapping) as scope:
            outputs = generate_step(inputs)
        sampler_values = [
            _current_value(scope, variable, value)
            for variable, value in zip(sampler.variables, sampler_values, strict=True)
        ]
        return outputs, sampler_values

    def generate_function(inputs):
        state = (
            [v.value for v in sampler.variables],
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
        )
        outputs, sampler_values = stateless_generate(inputs, state)
        # The sampler's seed moves on, as it would outside `jax.jit`.
        for variable, value in zip(sampler.variables, sampler_values, strict=True):
            variable.assign(value)
        return outputs

    return generate_function


def _current_value(scope, variable, value):
    """The variable's value after the step: its new one, or the one passed in."""
    new_value = scope.get_current_value(variable)
    return value if new_value is None else new_value


def _torch_function(generate_step):
    import torch

    def generate_function(inputs):
        with torch.no_grad():
            return generate_step(inputs)

    return generate_function
