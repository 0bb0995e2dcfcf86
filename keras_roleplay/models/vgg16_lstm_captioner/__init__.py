"""The captioner in KerasHub's parts: backbone, tokenizer, preprocessor, task."""

from keras_roleplay.models.vgg16_lstm_captioner.reference_groups import (
    ReferenceGroupTrainer,
)
from keras_roleplay.models.vgg16_lstm_captioner.vgg16_lstm_captioner import (
    VGG16LSTMCaptioner,
)
from keras_roleplay.models.vgg16_lstm_captioner.vgg16_lstm_captioner_backbone import (
    VGG16LSTMCaptionerBackbone,
)
from keras_roleplay.models.vgg16_lstm_captioner.vgg16_lstm_captioner_preprocessor import (  # noqa: E501
    VGG16LSTMCaptionerPreprocessor,
)
from keras_roleplay.models.vgg16_lstm_captioner.vgg16_lstm_captioner_tokenizer import (
    VGG16LSTMCaptionerTokenizer,
    build_caption_vocabulary,
)

__all__ = [
    "VGG16LSTMCaptioner",
    "VGG16LSTMCaptionerBackbone",
    "VGG16LSTMCaptionerPreprocessor",
    "VGG16LSTMCaptionerTokenizer",
    "ReferenceGroupTrainer",
    "build_caption_vocabulary",
]
