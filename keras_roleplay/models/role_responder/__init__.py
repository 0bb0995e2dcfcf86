"""The role responder in KerasHub's parts: backbone, tokenizer, preprocessor, task."""

from keras_roleplay.models.role_responder.role_responder import RoleResponder
from keras_roleplay.models.role_responder.role_responder_backbone import (
    RoleResponderBackbone,
)
from keras_roleplay.models.role_responder.role_responder_preprocessor import (
    RoleResponderPreprocessor,
)
from keras_roleplay.models.role_responder.role_responder_tokenizer import (
    RoleResponderTokenizer,
    build_dialogue_vocabulary,
)

__all__ = [
    "RoleResponder",
    "RoleResponderBackbone",
    "RoleResponderPreprocessor",
    "RoleResponderTokenizer",
    "build_dialogue_vocabulary",
]
