"""Importing the package starts nothing a program may still want to configure."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROGRAM = """
import keras_roleplay, keras_roleplay.demo
from keras_roleplay.models.role_responder import role_guidance
import tensorflow as tf
# A variable made on import (a sampler's random state) would have started
# TensorFlow's devices, and this would raise "Virtual devices cannot be
# modified after being initialized".
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)
print(len(tf.config.list_logical_devices("CPU")),
      type(role_guidance.DIALOGUE_DECODING["sampler"]).__name__)
"""


def test_importing_the_package_leaves_tensorflows_devices_unconfigured():
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["2", "TopPSampler"]
