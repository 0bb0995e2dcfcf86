"""Evaluation helpers, built on KerasHub metrics (`Bleu`, `RougeL`, `Perplexity`)."""

from keras_roleplay.metrics.captioning import caption_bleu

__all__ = ["caption_bleu"]
