"""The generating models, each in KerasHub's parts (one folder a model).

`backbone.py` (the network, numbers in and out), `tokenizer.py`,
`preprocessor.py` (strings and images to backbone inputs, for `tf.data`) and
the task (`generate`, `compile` defaults, presets), on `GenerativeTask`.
`keras_roleplay.applications` exports the tasks as well.
"""

from keras_roleplay.models.generation_tokenizer import GenerationTokenizer
from keras_roleplay.models.generative_task import GenerativeTask
from keras_roleplay.models.role_responder import (
    RoleResponder,
    RoleResponderBackbone,
    RoleResponderPreprocessor,
    RoleResponderTokenizer,
    build_dialogue_vocabulary,
)
from keras_roleplay.models.vgg16_lstm_captioner import (
    VGG16LSTMCaptioner,
    VGG16LSTMCaptionerBackbone,
    VGG16LSTMCaptionerPreprocessor,
    VGG16LSTMCaptionerTokenizer,
    build_caption_vocabulary,
)

__all__ = [
    "GenerationTokenizer",
    "GenerativeTask",
    "RoleResponder",
    "RoleResponderBackbone",
    "RoleResponderPreprocessor",
    "RoleResponderTokenizer",
    "VGG16LSTMCaptioner",
    "VGG16LSTMCaptionerBackbone",
    "VGG16LSTMCaptionerPreprocessor",
    "VGG16LSTMCaptionerTokenizer",
    "build_caption_vocabulary",
    "build_dialogue_vocabulary",
]
