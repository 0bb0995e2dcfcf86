"""One switch for mixed precision: bf16 where the processor computes it natively.

`mixed_bfloat16` keeps the weights in float32 and computes in bfloat16. On
processors with bf16 instructions (x86 CPUs with `avx512_bf16` or
`amx_bf16`, NVIDIA GPUs from Ampere on, TPUs) it trains markedly faster
(the captioner's whole run 1.75x on this project's 2-core AVX-512 machines,
see DESIGN.md); elsewhere bf16 is emulated and slower, so float32 is kept.
Keras has the policies but no such choice, hence this module.
"""

import contextlib
import os

import keras

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(path="/proc/cpuinfo"):
    """The CPU feature flags the kernel reports (empty where it does not)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def accelerator_has_bf16():
    """Whether the backend's first GPU/TPU computes bf16 natively (else `False`)."""
    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform == "tpu":
                return True
            capability = getattr(device, "compute_capability", None)
            return device.platform == "gpu" and float(capability or 0) >= 8.0
        if backend == "torch":
            import torch

            return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
        if backend == "tensorflow":
            import tensorflow as tf

            for gpu in tf.config.list_physical_devices("GPU"):
                details = tf.config.experimental.get_device_details(gpu)
                if details.get("compute_capability", (0, 0)) >= (8, 0):
                    return True
    except Exception:  # a broken driver means no accelerator to use
        return False
    return False


def best_dtype_policy(flags=None):
    """`"mixed_bfloat16"` where bf16 is native here, else `"float32"`.

    Args:
        flags: CPU flags to decide from (default: this machine's); for tests.

    Example:

    >>> best_dtype_policy(flags={"avx2", "avx512_bf16"})
    'mixed_bfloat16'
    >>> best_dtype_policy(flags={"avx2"}) in ("float32", "mixed_bfloat16")
    True
    """
    if os.environ.get("KERAS_ROLEPLAY_DTYPE_POLICY"):
        return os.environ["KERAS_ROLEPLAY_DTYPE_POLICY"]
    flags = cpu_flags() if flags is None else set(flags)
    if flags & set(BF16_CPU_FLAGS) or accelerator_has_bf16():
        return "mixed_bfloat16"
    return "float32"


def set_best_dtype_policy():
    """Sets Keras' global dtype policy to `best_dtype_policy()` and returns it.

    Models built afterwards train with `mixed_bfloat16` where the processor
    computes bf16 natively and with `float32` elsewhere. Their saved weights
    are float32 either way, so a model trained in bf16 loads anywhere.
    The environment variable `KERAS_ROLEPLAY_DTYPE_POLICY` (e.g. `float32`)
    overrides the choice.

    Example:

    >>> import keras
    >>> previous = keras.config.dtype_policy()
    >>> set_best_dtype_policy() in ("float32", "mixed_bfloat16")
    True
    >>> keras.config.set_dtype_policy(previous)
    """
    policy = best_dtype_policy()
    keras.config.set_dtype_policy(policy)
    return policy


@contextlib.contextmanager
def dtype_policy(policy="auto"):
    """Builds models under `policy` (`"auto"`: `best_dtype_policy()`) in a block.

    Example:

    >>> import keras
    >>> with dtype_policy("mixed_bfloat16"):
    ...     layer = keras.layers.Dense(2)
    >>> layer.compute_dtype, keras.config.dtype_policy().name
    ('bfloat16', 'float32')
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(best_dtype_policy() if policy == "auto" else policy)
    try:
        yield keras.config.dtype_policy().name
    finally:
        keras.config.set_dtype_policy(previous)
