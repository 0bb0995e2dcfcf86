"""Evaluation helpers, built on KerasHub metrics (`Bleu`, `RougeL`, `Perplexity`),
caption CIDEr-D, retrieval recall, a Kneser-Ney n-gram model for fluency, and
how much attention falls on the object a word names."""

from keras_roleplay.metrics.attention_focus import attention_focus
from keras_roleplay.metrics.captioning import caption_bleu
from keras_roleplay.metrics.cider import CiderD, caption_cider_d
from keras_roleplay.metrics.ngram_fluency import KneserNeyLanguageModel, word_tokens
from keras_roleplay.metrics.retrieval import recall_at_k
from keras_roleplay.metrics.role_judge import RoleJudge
from keras_roleplay.metrics.role_play import (
    distinct_n,
    reply_nats_per_character,
    reply_perplexity,
    role_accuracy,
    rouge_l,
    speaker_accuracy,
)

__all__ = [
    "KneserNeyLanguageModel",
    "CiderD",
    "RoleJudge",
    "attention_focus",
    "caption_bleu",
    "caption_cider_d",
    "recall_at_k",
    "distinct_n",
    "reply_nats_per_character",
    "reply_perplexity",
    "role_accuracy",
    "rouge_l",
    "speaker_accuracy",
    "word_tokens",
]
