"""What a measurement ran on, recorded beside its figures.

The demo's and the benchmarks' times depend on the processor more than on
anything else (the same suite took half the time on AVX-512 cores), so a
figure is kept with the machine that measured it.
"""

import os
import platform

import keras

from keras_roleplay.utils.mixed_precision import BF16_CPU_FLAGS, cpu_flags


def cpu_model(path="/proc/cpuinfo"):
    """The processor's name as the kernel reports it, else `platform`'s."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores():
    """The CPU cores this process may run on (its affinity where known)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def describe_machine():
    """A dict naming the processor, its usable cores, bf16 and Keras' setup.

    Example:

    >>> machine = describe_machine()
    >>> machine["cores"] >= 1 and machine["keras_backend"] in (
    ...     "tensorflow", "jax", "torch", "numpy", "openvino")
    True
    """
    flags = cpu_flags()
    return {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "cpu_bf16": bool(flags & set(BF16_CPU_FLAGS)),
        "python": platform.python_version(),
        "keras": keras.version(),
        "keras_backend": keras.backend.backend(),
    }
