"""Reusable layers: fusion of modalities, cross-modal attention, role vectors,
contrastive similarity."""

from keras_roleplay.layers.contrastive_similarity import ContrastiveSimilarity
from keras_roleplay.layers.cross_modal_attention import CrossModalAttention
from keras_roleplay.layers.modality_fusion import FUSION_MODES, ModalityFusion
from keras_roleplay.layers.role_embedding import RoleEmbedding
from keras_roleplay.layers.vgg16_preprocessing import VGG16Preprocessing

__all__ = [
    "FUSION_MODES",
    "ContrastiveSimilarity",
    "CrossModalAttention",
    "ModalityFusion",
    "RoleEmbedding",
    "VGG16Preprocessing",
]
