"""Reusable layers: fusion of modalities, VGG16 input scaling."""

from keras_roleplay.layers.modality_fusion import FUSION_MODES, ModalityFusion
from keras_roleplay.layers.vgg16_preprocessing import VGG16Preprocessing

__all__ = ["FUSION_MODES", "ModalityFusion", "VGG16Preprocessing"]
