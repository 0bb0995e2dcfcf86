"""Reusable layers: fusion of modalities (and, later, cross-modal attention)."""

from keras_roleplay.layers.modality_fusion import FUSION_MODES, ModalityFusion

__all__ = ["FUSION_MODES", "ModalityFusion"]
