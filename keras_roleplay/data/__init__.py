"""tf.data input pipelines: arrays and folders of real files to model-ready batches."""

from keras_roleplay.data.audio import LogMelSpectrogram, decode_wav, fix_length
from keras_roleplay.data.caption_file_stream import image_caption_file_dataset
from keras_roleplay.data.caption_formats import (
    read_coco_captions,
    read_flickr_captions,
    read_split_list,
)
from keras_roleplay.data.captions import (
    caption_lists,
    image_caption_dataset,
    load_image_captions,
    read_captions_file,
)
from keras_roleplay.data.dialogue_stream import dialogue_file_dataset
from keras_roleplay.data.dialogues import (
    load_dialogues,
    read_characters,
    read_dialogues,
    split_dialogues,
)
from keras_roleplay.data.image_folder import ImageFolderStream, load_image_folder
from keras_roleplay.data.images import decode_image
from keras_roleplay.data.multimodal import (
    multimodal_dataset_from_arrays,
    multimodal_dataset_from_manifest,
)
from keras_roleplay.data.sentences import whole_sentences
from keras_roleplay.data.text import (
    build_word_piece_tokenizer,
    learn_word_piece_vocabulary,
)

__all__ = [
    "ImageFolderStream",
    "LogMelSpectrogram",
    "build_word_piece_tokenizer",
    "caption_lists",
    "decode_image",
    "decode_wav",
    "dialogue_file_dataset",
    "fix_length",
    "image_caption_dataset",
    "image_caption_file_dataset",
    "load_dialogues",
    "load_image_captions",
    "learn_word_piece_vocabulary",
    "load_image_folder",
    "multimodal_dataset_from_arrays",
    "multimodal_dataset_from_manifest",
    "read_captions_file",
    "read_characters",
    "read_coco_captions",
    "read_dialogues",
    "read_flickr_captions",
    "read_split_list",
    "split_dialogues",
    "whole_sentences",
]
