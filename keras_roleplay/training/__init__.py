"""Training recipes: optimizer schedules, role judges, role-play evaluation."""

from keras_roleplay.training.role_play import (
    evaluate_replies,
    fit_responder,
    train_role_judge,
    warmup_cosine_adamw,
)

__all__ = [
    "evaluate_replies",
    "fit_responder",
    "train_role_judge",
    "warmup_cosine_adamw",
]
