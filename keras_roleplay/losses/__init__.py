"""Losses for multimodal pretraining: CLIP's symmetric contrastive loss."""

from keras_roleplay.losses.clip_loss import CLIPLoss

__all__ = ["CLIPLoss"]
