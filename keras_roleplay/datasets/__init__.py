"""Bundled offline datasets: generated procedurally, deterministic from a seed."""

from keras_roleplay.datasets import (
    multimodal_agreement,
    paraphrased_scenes,
    role_vqa,
    shakespeare,
    shapes_captions,
)

__all__ = [
    "multimodal_agreement",
    "paraphrased_scenes",
    "role_vqa",
    "shakespeare",
    "shapes_captions",
]
