"""Quantized models that save and load: the quantized layers' policies in the config.

`model.quantize("int8")` swaps the float weights of a model's `Dense`,
`EinsumDense` and `Embedding` layers for int8 ones with scales, and sets
each such layer's dtype policy to `int8_from_float32` (or `..._mixed_...`).
A plain functional model saves those policies in its layers' configs. Our
models rebuild their layers from their constructor arguments instead, so
the configs must say which layers were quantized, or the int8 weights find
float layers on loading ("expected 1 variables, but received 0"). As
KerasHub's `Backbone.get_config` does, the model's `dtype` becomes a
`keras.dtype_policies.DTypePolicyMap` from layer paths to their policies;
on loading, the layers are built as before and those layers quantized
again before the weights are read.

Example:

>>> import os, tempfile
>>> import keras
>>> from keras_roleplay.applications import RoleResponder
>>> model = RoleResponder.from_dialogues(["hello", "good day to you"],
...     roles=["knight"], sequence_length=8, hidden_dim=8, num_heads=2,
...     num_layers=1)
>>> import warnings
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")  # layers without weights to quantize
...     model.quantize("int8")
>>> path = os.path.join(tempfile.mkdtemp(), "int8.keras")
>>> model.save(path)
>>> again = keras.saving.load_model(path)
>>> again.backbone.get_layer("logits").dtype_policy.name
'int8_from_float32'
>>> again.generate("hello", role="knight") == model.generate("hello", role="knight")
True
"""

import keras


def split_dtype(dtype):
    """A model's `dtype` argument -> `(policy to build layers with, quantized)`.

    Args:
        dtype: `None`, a policy or its name, or a `DTypePolicyMap` (or its
            serialized form) as `saved_dtype` writes it.

    Returns:
        `(dtype, {layer path: policy})`: the map's default policy (`None`
        for the global one) and its quantized layers; `(dtype, {})` for
        anything but a map.
    """
    if isinstance(dtype, dict):
        dtype = keras.dtype_policies.deserialize(dtype)
    if not isinstance(dtype, keras.dtype_policies.DTypePolicyMap):
        return dtype, {}
    # Copies first: a map's `get_config` with no default policy clears the
    # names of the policies it holds, in place.
    quantized = {path: _copy(dtype[path]) for path in dtype}
    default = dtype.get_config()["default_policy"]
    if isinstance(default, dict):
        default = keras.dtype_policies.deserialize(default).name
    return default, quantized


def _copy(policy):
    return policy.__class__.from_config(policy.get_config())


def requantize(model, quantized):
    """Quantizes `model`'s layers at the paths of `quantized` as they were saved."""
    if not quantized:
        return
    for layer in model._flatten_layers(include_self=False):
        policy = quantized.get(layer.path)
        if policy is not None and layer.quantization_mode is None:
            layer.quantize(policy.quantization_mode)


def saved_dtype(model, dtype):
    """The `dtype` for `model`'s config: `dtype`, or a map of its quantized layers.

    Args:
        model: a built model.
        dtype: the policy name it was built with (`None`: the global one).

    Returns:
        `dtype` when no layer is quantized; else a serialized
        `DTypePolicyMap` with `dtype` as its default.
    """
    # Copies: serializing a map with no default policy clears the names of
    # the policies it holds, which would rename the live layers' policies.
    quantized = {
        layer.path: _copy(layer.dtype_policy)
        for layer in model._flatten_layers(include_self=False)
        if layer.quantization_mode is not None
    }
    if not quantized:
        return dtype
    return keras.dtype_policies.serialize(
        keras.dtype_policies.DTypePolicyMap(default_policy=dtype, policy_map=quantized)
    )


def dtype_config(model, dtype):
    """`{"dtype": saved_dtype(model, dtype)}`, or `{}` when that is `None`.

    A model built under the global policy saves none, so that it loads
    under the user's (the presets are trained in `mixed_bfloat16`).
    """
    saved = saved_dtype(model, dtype)
    return {} if saved is None else {"dtype": saved}
