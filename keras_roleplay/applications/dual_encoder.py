"""A CLIP-style dual encoder: images and texts into one embedding space."""

import keras
import numpy as np
from keras import ops
from keras_hub.layers import TokenAndPositionEmbedding, TransformerEncoder
from keras_hub.tokenizers import WordPieceTokenizer

from keras_roleplay.data.captions import caption_lists
from keras_roleplay.data.text import (
    MASK_TOKEN,
    PAD_TOKEN,
    UNK_TOKEN,
    learn_word_piece_vocabulary,
)
from keras_roleplay.layers.contrastive_similarity import ContrastiveSimilarity
from keras_roleplay.losses.clip_loss import CLIPLoss
from keras_roleplay.models.image_encoders import small_cnn_encoder
from keras_roleplay.utils.image_size import resize_to_model
from keras_roleplay.utils.model_defaults import ModelDefaultsMixin
from keras_roleplay.utils.optional_tensorflow import require_tensorflow
from keras_roleplay.utils.pipeline import finish_pipeline
from keras_roleplay.utils.pooling import masked_mean
from keras_roleplay.utils.quantization import dtype_config, requantize, split_dtype
from keras_roleplay.utils.validation import (
    check_positive_int,
    check_rate,
    check_texts,
)


@keras.saving.register_keras_serializable(package="keras_roleplay")
class DualEncoder(ModelDefaultsMixin, keras.Model):
    """Encodes images and texts into one space, where matching pairs meet.

    Contrastive image-text pretraining, as CLIP (Radford et al., 2021)
    does it, small enough for a CPU:

    - **image encoder**: the library's small CNN (`cnn_filters` blocks of
      3x3 convolution, batch normalisation, ReLU, 2x pooling), its feature
      map flattened (so that where a thing is stays known) and projected to
      `embedding_dim`;
    - **text encoder**: KerasHub `TokenAndPositionEmbedding` and
      `num_layers` `TransformerEncoder`s over the WordPiece tokens, the
      mean over the non-padding tokens projected to `embedding_dim`;
    - **head**: `ContrastiveSimilarity`, the scaled cosine similarity of
      every text with every image of the batch (a learned temperature),
      trained with `CLIPLoss` (the model's default loss).

    Called on `{"image", "token_ids"}` it returns the `(batch, batch)`
    text-to-image logits; `encode_images` and `encode_texts` give the
    L2-normalised embeddings, and `retrieve_images` / `retrieve_texts` rank
    images for texts and texts for images. The model owns its vocabulary
    (`from_captions` learns one) and saves it in its config.

    Args:
        vocabulary: WordPiece tokens, `[PAD]` and `[UNK]` first.
        image_shape: `(height, width, 3)`, pixels in `[0, 255]`.
        sequence_length: tokens per text (longer texts are cut).
        embedding_dim: size of the shared embedding space.
        hidden_dim: the text encoder's width.
        num_heads: attention heads per text encoder layer.
        num_layers: text encoder layers.
        cnn_filters: filters of the image encoder's blocks.
        dropout: dropout rate in the text encoder.
        temperature: the head's starting temperature.

    Example:

    >>> import numpy as np
    >>> model = DualEncoder.from_captions(["a red circle", "a blue square"],
    ...     image_shape=(32, 32, 3), sequence_length=4, embedding_dim=8,
    ...     hidden_dim=8, num_heads=1, cnn_filters=(4,))
    >>> model.compile()
    >>> images = np.zeros((2, 32, 32, 3))
    >>> _ = model.fit(model.pair_dataset(images, ["a red circle",
    ...     "a blue square"], batch_size=2), epochs=1, verbose=0)
    >>> model.encode_texts(["a red circle"]).shape
    (1, 8)
    """

    def __init__(
        self,
        vocabulary,
        image_shape=(64, 64, 3),
        sequence_length=16,
        embedding_dim=64,
        hidden_dim=64,
        num_heads=2,
        num_layers=1,
        cnn_filters=(16, 32, 64),
        dropout=0.0,
        temperature=0.07,
        name="dual_encoder",
        **kwargs,
    ):
        # A quantized model's saved `dtype` names its int8 layers.
        dtype, quantized = split_dtype(kwargs.pop("dtype", None))
        if dtype is not None:
            kwargs["dtype"] = dtype
        vocabulary = _check_vocabulary(vocabulary)
        image_shape = tuple(image_shape)
        if len(image_shape) != 3 or image_shape[-1] != 3:
            raise ValueError(
                "`image_shape` must be (height, width, 3). Received: "
                f"image_shape={image_shape!r}"
            )
        sequence_length = check_positive_int("sequence_length", sequence_length)
        embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        hidden_dim = check_positive_int("hidden_dim", hidden_dim)
        num_heads = check_positive_int("num_heads", num_heads)
        num_layers = check_positive_int("num_layers", num_layers)
        cnn_filters = tuple(check_positive_int("cnn_filters", f) for f in cnn_filters)
        if hidden_dim % num_heads:
            raise ValueError(
                "`hidden_dim` must be a multiple of `num_heads`. Received: "
                f"hidden_dim={hidden_dim}, num_heads={num_heads}"
            )
        dropout = check_rate("dropout", dropout)

        # === Image encoder ===
        image = keras.Input(shape=image_shape, name="image")
        features = small_cnn_encoder(image_shape, cnn_filters, name="image_cnn")(image)
        features = keras.layers.Flatten(name="image_flatten")(features)
        image_embedding = keras.layers.Dense(embedding_dim, name="image_projection")(
            features
        )

        # === Text encoder ===
        token_ids = keras.Input(
            shape=(sequence_length,), dtype="int32", name="token_ids"
        )
        mask = ops.not_equal(token_ids, 0)
        x = TokenAndPositionEmbedding(
            len(vocabulary), sequence_length, hidden_dim, name="text_embedding"
        )(token_ids)
        for i in range(num_layers):
            x = TransformerEncoder(
                2 * hidden_dim, num_heads, dropout=dropout, name=f"text_encoder_{i}"
            )(x, padding_mask=mask)
        # The mean over the real tokens (an empty text: the zero vector).
        text_embedding = keras.layers.Dense(embedding_dim, name="text_projection")(
            masked_mean(x, mask)
        )

        logits = ContrastiveSimilarity(temperature, name="similarity")(
            text_embedding, image_embedding
        )
        super().__init__(
            inputs={"image": image, "token_ids": token_ids},
            outputs=logits,
            name=name,
            **kwargs,
        )
        requantize(self, quantized)
        self.vocabulary = vocabulary
        self.image_shape = image_shape
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.cnn_filters = cnn_filters
        self.dropout = dropout
        self.temperature = temperature
        self.tokenizer = WordPieceTokenizer(
            vocabulary,
            sequence_length=sequence_length,
            lowercase=True,
            oov_token=UNK_TOKEN,
        )
        # A layer without weights that is called outside the graph, so never
        # built: marked built, or `quantize` refuses the whole model.
        self.tokenizer.built = True
        # Encoders over the same layers, built once (not tracked: their
        # weights are the model's).
        object.__setattr__(self, "_image_encoder", keras.Model(image, image_embedding))
        object.__setattr__(
            self, "_text_encoder", keras.Model(token_ids, text_embedding)
        )

    @classmethod
    def from_captions(cls, captions, vocabulary_size=1000, **kwargs):
        """Learns a WordPiece vocabulary from `captions`, then builds the model.

        The vocabulary starts with `[PAD]`, `[UNK]` and `[MASK]` (the last for
        masked-LM pretraining with `MultimodalPretrainer`).

        Args:
            captions: strings, or lists of strings (several per image).
            vocabulary_size: the most tokens, `[PAD]` and `[UNK]` included.
            **kwargs: the other constructor arguments.
        """
        texts = [t for c in caption_lists(_check_captions(captions)) for t in c]
        vocabulary = learn_word_piece_vocabulary(
            texts, vocabulary_size, reserved_tokens=(PAD_TOKEN, UNK_TOKEN, MASK_TOKEN)
        )
        return cls(vocabulary, **kwargs)

    def tokenize(self, texts):
        """Strings -> `(n, sequence_length)` int32 token ids (0-padded)."""
        texts = list(check_texts("texts", [texts] if isinstance(texts, str) else texts))
        return np.asarray(self.tokenizer(texts), dtype="int32")

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training; `"auto"`: AdamW(1e-3) and `CLIPLoss`, no metric.

        Any Keras value works instead.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(1e-3, weight_decay=1e-4)
        if loss == "auto":
            loss = CLIPLoss()
        if metrics == "auto":
            metrics = None
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def pair_dataset(self, images, captions, batch_size=64, shuffle=False, seed=None):
        """A `tf.data` pipeline of (image, caption) pairs for `fit`/`evaluate`.

        Each pair's text is one of its image's captions, drawn anew every
        epoch when an image has several, so that an image never meets two
        of its own captions in one batch (they would be negatives of each
        other). The targets are zeros: `CLIPLoss` pairs by batch order.

        Args:
            images: `(n, height, width, 3)` in `[0, 255]`, resized to
                `image_shape` if need be.
            captions: `n` strings, or `n` lists of strings.
            batch_size: pairs per batch; the in-batch negatives are the
                other `batch_size - 1` pairs, so bigger is harder and better.
            shuffle: reshuffle the pairs every epoch.
            seed: shuffle and caption-choice seed.
        """
        tf = require_tensorflow("DualEncoder.pair_dataset (a tf.data pipeline)")
        images = resize_to_model(images, self.image_shape)
        lists = caption_lists(_check_captions(captions))
        if len(lists) != len(images):
            raise ValueError(
                "`images` and `captions` must have the same length. Received: "
                f"{len(images)} images and {len(lists)} captions"
            )
        width = max(len(c) for c in lists)
        # Every caption tokenised once: (n, width, sequence_length), and how
        # many of each row are real.
        ids = np.zeros((len(lists), width, self.sequence_length), "int32")
        for j in range(width):
            ids[:, j] = self.tokenize([c[j % len(c)] for c in lists])
        counts = np.array([len(c) for c in lists], "int64")
        dataset = tf.data.Dataset.from_tensor_slices(
            {"image": images, "ids": ids, "count": counts}
        )

        def choose(examples, epoch_seed):
            def pick(index, example):
                draw = tf.random.stateless_uniform(
                    (),
                    seed=tf.stack([epoch_seed, index]),
                    maxval=1 << 30,
                    dtype=tf.int64,
                )
                chosen = example["ids"][draw % example["count"]]
                return {"image": example["image"], "token_ids": chosen}, tf.zeros(())

            return examples.enumerate().map(pick)

        return finish_pipeline(
            dataset,
            batch_size,
            shuffle_buffer=len(lists) if shuffle else None,
            seed=seed,
            per_epoch=choose,
        )

    def encode_images(self, images, batch_size=64):
        """Images -> L2-normalised `(n, embedding_dim)` embeddings (NumPy)."""
        images = resize_to_model(images, self.image_shape)
        embeddings = self._image_encoder.predict(
            images, batch_size=batch_size, verbose=0
        )
        return _unit(embeddings)

    def encode_texts(self, texts, batch_size=256):
        """Texts -> L2-normalised `(n, embedding_dim)` embeddings (NumPy)."""
        embeddings = self._text_encoder.predict(
            self.tokenize(texts), batch_size=batch_size, verbose=0
        )
        return _unit(embeddings)

    def retrieve_images(self, texts, images, k=5):
        """Ranks `images` for each of `texts` by cosine similarity.

        Returns:
            `(indices, scores)`, each `(len(texts), k)`, best first.
        """
        return _top_k(self.encode_texts(texts) @ self.encode_images(images).T, k)

    def retrieve_texts(self, images, texts, k=5):
        """Ranks `texts` for each of `images`: `(indices, scores)`, best first."""
        return _top_k(self.encode_images(images) @ self.encode_texts(texts).T, k)

    def quantize(self, mode=None, **kwargs):
        """`keras.Model.quantize`; the encoders' predict functions are traced anew.

        (A function traced before quantizing would read the float weights.)
        """
        super().quantize(mode, **kwargs)
        for encoder in (self._image_encoder, self._text_encoder):
            encoder.predict_function = None

    def get_config(self):
        return {
            "vocabulary": list(self.vocabulary),
            "image_shape": list(self.image_shape),
            "sequence_length": self.sequence_length,
            "embedding_dim": self.embedding_dim,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "num_layers": self.num_layers,
            "cnn_filters": list(self.cnn_filters),
            "dropout": self.dropout,
            "temperature": self.temperature,
            **dtype_config(self, None),
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _top_k(scores, k):
    k = min(check_positive_int("k", k), scores.shape[1])
    indices = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return indices, np.take_along_axis(scores, indices, axis=1)


def _check_vocabulary(vocabulary):
    if isinstance(vocabulary, str) or not all(isinstance(t, str) for t in vocabulary):
        raise TypeError(
            "`vocabulary` must be a list of token strings. Received: "
            f"vocabulary={str(vocabulary)[:60]!r}"
        )
    vocabulary = list(vocabulary)
    if vocabulary[:2] != [PAD_TOKEN, UNK_TOKEN]:
        raise ValueError(
            f"`vocabulary` must start with {PAD_TOKEN!r}, {UNK_TOKEN!r} (build it "
            f"with `DualEncoder.from_captions`). Received: {vocabulary[:4]!r}..."
        )
    return vocabulary


def _check_captions(captions):
    captions = list(captions)
    for i, c in enumerate(captions):
        items = [c] if isinstance(c, str) else list(c)
        if not items or not all(isinstance(t, str) for t in items):
            raise TypeError(
                "`captions` must hold a string or a non-empty list of strings "
                f"per image. Received at index {i}: {c!r}"
            )
    return captions
