"""Evaluation helpers, built on KerasHub metrics (`Bleu`, `RougeL`, `Perplexity`)."""

from keras_roleplay.metrics.captioning import caption_bleu
from keras_roleplay.metrics.role_play import (
    RoleJudge,
    distinct_n,
    reply_perplexity,
    role_accuracy,
    rouge_l,
)

__all__ = [
    "RoleJudge",
    "caption_bleu",
    "distinct_n",
    "reply_perplexity",
    "role_accuracy",
    "rouge_l",
]
