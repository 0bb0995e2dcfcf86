"""Prebuilt models: one line builds each, `fit` trains it.

The generating models live in `keras_roleplay.models` (backbone, tokenizer,
preprocessor and task, one folder a model); their tasks are exported here
too.
"""

from keras_roleplay.applications.dual_encoder import DualEncoder
from keras_roleplay.applications.multimodal_pretrainer import MultimodalPretrainer
from keras_roleplay.applications.three_branch_classifier import ThreeBranchClassifier
from keras_roleplay.models.role_responder import (
    RoleResponder,
    build_dialogue_vocabulary,
)
from keras_roleplay.models.vgg16_lstm_captioner import (
    VGG16LSTMCaptioner,
    build_caption_vocabulary,
)

__all__ = [
    "DualEncoder",
    "MultimodalPretrainer",
    "RoleResponder",
    "ThreeBranchClassifier",
    "VGG16LSTMCaptioner",
    "build_caption_vocabulary",
    "build_dialogue_vocabulary",
]
