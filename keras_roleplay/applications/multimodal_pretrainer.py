"""Multimodal pretraining of a `DualEncoder`: contrast, match and fill in."""

import math

import keras
import numpy as np
from keras import ops
from keras_hub.layers import MaskedLMHead, MaskedLMMaskGenerator, PositionEmbedding

from keras_roleplay.applications.dual_encoder import DualEncoder
from keras_roleplay.data.text import MASK_TOKEN
from keras_roleplay.layers.cross_modal_attention import CrossModalAttention
from keras_roleplay.losses.clip_loss import CLIPLoss
from keras_roleplay.utils.image_size import resize_to_model
from keras_roleplay.utils.model_defaults import ModelDefaultsMixin
from keras_roleplay.utils.optional_tensorflow import require_tensorflow
from keras_roleplay.utils.pooling import masked_mean
from keras_roleplay.utils.validation import check_rate

# A stand-in for minus infinity that keeps softmax finite in any dtype.
_NEVER = -1e4


@keras.saving.register_keras_serializable(package="keras_roleplay")
class MultimodalPretrainer(ModelDefaultsMixin, keras.Model):
    """Pretrains a `DualEncoder` with three objectives (as ALBEF, Li et al. 2021).

    ALBEF's recipe (Li et al., 2021), small enough for a CPU, on the dual
    encoder's own layers (training this model trains the dual encoder):

    - **contrastive** (`"contrastive"` output): the dual encoder's
      `(batch, batch)` text-to-image logits, with `CLIPLoss`;
    - **image-text matching** (`"matching"`): the text's tokens attend over
      the image's regions (the CNN's feature map, projected to the text
      width, with learned positions; `CrossModalAttention`), and a linear
      head on the mean of the attended tokens says whether the image is the
      text's. Each text meets its own image and a **hard negative**: another
      image of the batch drawn by the contrastive similarities (ALBEF:
      the images the text is most easily confused with teach the most),
      never one whose text is the same; in evaluation the most similar one.
      The output is `(batch, 2)` logits, own image first, with targets
      `[1, 0]` (binary cross-entropy);
    - **masked language modelling** (`"masked_lm"`): KerasHub's
      `MaskedLMMaskGenerator` hides 15% of each text's tokens in the
      pipeline (80% `[MASK]`, 10% a random token, 10% kept, as BERT); the
      text encoder reads the masked text, which then attends over its image
      through the matching cross-attention (ALBEF's multimodal encoder: a
      hidden colour or shape word can be seen), and KerasHub's
      `MaskedLMHead` (its output weights tied to the token embedding)
      predicts the hidden tokens.

    Keras and KerasHub have the parts but no such model (KerasHub's CLIP
    ships no matching head nor multimodal masked-LM), hence this one. After
    pretraining, `dual_encoder` retrieves as before, and
    `matching_probabilities` scores (image, text) pairs, e.g. to re-rank
    the dual encoder's top candidates.

    Args:
        dual_encoder: the `DualEncoder` to pretrain; its vocabulary must hold
            `[MASK]` (`DualEncoder.from_captions` reserves it).
        num_heads: attention heads of the matching cross-attention.
        mask_rate: share of each text's tokens hidden for masked-LM.
        seed: seed of the hard-negative draws.

    Example:

    >>> import numpy as np
    >>> captions = ["a red circle", "a blue square", "a red square",
    ...     "a blue circle"]
    >>> encoder = DualEncoder.from_captions(captions, image_shape=(16, 16, 3),
    ...     sequence_length=6, embedding_dim=8, hidden_dim=8, num_heads=1,
    ...     cnn_filters=(4,))
    >>> model = MultimodalPretrainer(encoder, num_heads=1)
    >>> model.compile()
    >>> data = model.pretraining_dataset(np.zeros((4, 16, 16, 3)), captions,
    ...     batch_size=4)
    >>> history = model.fit(data, epochs=1, verbose=0)
    >>> sorted(k for k in history.history if k.endswith("_loss"))
    ['contrastive_loss', 'masked_lm_loss', 'matching_loss']
    >>> model.matching_probabilities(np.zeros((2, 16, 16, 3)),
    ...     ["a red circle", "a blue square"]).shape
    (2,)
    """

    def __init__(self, dual_encoder, num_heads=2, mask_rate=0.15, seed=0, **kwargs):
        if not isinstance(dual_encoder, DualEncoder):
            raise TypeError(
                "`dual_encoder` must be a `keras_roleplay.applications."
                f"DualEncoder`. Received: dual_encoder={dual_encoder!r}"
            )
        if MASK_TOKEN not in dual_encoder.vocabulary:
            raise ValueError(
                f"`dual_encoder`'s vocabulary must hold {MASK_TOKEN!r} for "
                "masked-LM pretraining (build the encoder with "
                "`DualEncoder.from_captions`, which reserves it). Received: "
                f"vocabulary starting {dual_encoder.vocabulary[:4]!r}"
            )
        mask_rate = check_rate("mask_rate", mask_rate)
        if not mask_rate:
            raise ValueError(
                f"`mask_rate` must be above 0. Received: mask_rate={mask_rate}"
            )
        kwargs.setdefault("name", "multimodal_pretrainer")
        super().__init__(**kwargs)
        self.dual_encoder = dual_encoder
        self.num_heads = num_heads
        self.mask_rate = mask_rate
        self.seed = seed
        self.mask_token_id = dual_encoder.vocabulary.index(MASK_TOKEN)
        # At most 2x the expected number of hidden tokens are predicted per
        # text (padded with weight 0 when fewer are hidden).
        self.mask_selection_length = max(
            1, math.ceil(2 * mask_rate * dual_encoder.sequence_length)
        )

        # The dual encoder's inner tensors: the text encoder's last token
        # states and the image CNN's regions (the input of its flatten).
        last = dual_encoder.get_layer(f"text_encoder_{dual_encoder.num_layers - 1}")
        regions = dual_encoder.get_layer("image_flatten").input
        inputs = dual_encoder.input
        # Views over the same layers (not tracked: their weights are the
        # dual encoder's).
        object.__setattr__(
            self,
            "_features",
            keras.Model(
                inputs,
                {
                    "logits": dual_encoder.output,
                    "token_states": last.output,
                    "regions": regions,
                    "text_embedding": dual_encoder.get_layer("text_projection").output,
                    "image_embedding": dual_encoder.get_layer(
                        "image_projection"
                    ).output,
                },
            ),
        )
        object.__setattr__(
            self, "_text_states", keras.Model(inputs["token_ids"], last.output)
        )
        grid = tuple(regions.shape[1:3])
        self._num_regions = int(grid[0] * grid[1])
        hidden_dim = dual_encoder.hidden_dim

        self.region_projection = keras.layers.Dense(
            hidden_dim, name="region_projection"
        )
        self.region_positions = PositionEmbedding(
            self._num_regions, name="region_positions"
        )
        self.matching_attention = CrossModalAttention(
            num_heads, name="matching_attention"
        )
        self.matching_head = keras.layers.Dense(1, name="matching_head")
        self.masked_lm_head = MaskedLMHead(
            vocabulary_size=len(dual_encoder.vocabulary),
            token_embedding=dual_encoder.get_layer("text_embedding").token_embedding,
            intermediate_activation="gelu",
            name="masked_lm_head",
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.masker = MaskedLMMaskGenerator(
            vocabulary_size=len(dual_encoder.vocabulary),
            mask_selection_rate=mask_rate,
            mask_token_id=self.mask_token_id,
            mask_selection_length=self.mask_selection_length,
            unselectable_token_ids=[0],
        )

    def build(self, input_shape=None):
        # Built by running `call` on a small batch: the heads get their
        # shapes (also when a saved model is loaded).
        if self.built:
            return
        encoder = self.dual_encoder
        self.call(
            {
                "image": ops.zeros((2, *encoder.image_shape)),
                "token_ids": ops.ones((2, encoder.sequence_length), "int32"),
                "masked_token_ids": ops.ones((2, encoder.sequence_length), "int32"),
                "mask_positions": ops.zeros((2, self.mask_selection_length), "int32"),
            }
        )
        self.built = True

    def _regions(self, regions):
        batch = ops.shape(regions)[0]
        regions = ops.reshape(regions, (batch, self._num_regions, regions.shape[-1]))
        regions = self.region_projection(regions)
        return regions + self.region_positions(regions)

    def _match(self, features, regions, image_embedding, text_mask, training=False):
        fused = self.matching_attention(
            features["token_states"], regions, text_mask=text_mask, training=training
        )
        pooled = masked_mean(fused, text_mask)
        # With the contrastive alignment, feature by feature, beside the
        # fused tokens: the head starts from what the contrastive objective
        # has learned and the cross-attention adds the finer checks.
        alignment = _unit(features["text_embedding"]) * _unit(image_embedding)
        return self.matching_head(ops.concatenate([pooled, alignment], axis=-1))

    def call(self, inputs, training=False):
        token_ids = inputs["token_ids"]
        features = self._features(
            {"image": inputs["image"], "token_ids": token_ids}, training=training
        )
        logits = features["logits"]
        regions = self._regions(features["regions"])
        text_mask = ops.not_equal(token_ids, 0)

        # A hard negative image per text, never one whose text is the same.
        same_text = ops.all(
            ops.equal(ops.expand_dims(token_ids, 1), ops.expand_dims(token_ids, 0)),
            axis=-1,
        )
        scores = ops.where(same_text, _NEVER, ops.stop_gradient(logits))
        scores = ops.cast(scores, "float32")
        if training:
            negative = keras.random.categorical(scores, 1, seed=self.seed_generator)[
                :, 0
            ]
        else:
            negative = ops.argmax(scores, axis=-1)
        image_embedding = features["image_embedding"]
        matching = ops.concatenate(
            [
                self._match(features, regions, image_embedding, text_mask, training),
                self._match(
                    features,
                    ops.take(regions, negative, axis=0),
                    ops.take(image_embedding, negative, axis=0),
                    text_mask,
                    training,
                ),
            ],
            axis=-1,
        )

        # The masked text reads its image through the same cross-attention
        # (ALBEF's multimodal encoder): a hidden colour word can be seen.
        masked_ids = inputs["masked_token_ids"]
        masked_states = self.matching_attention(
            self._text_states(masked_ids, training=training),
            regions,
            text_mask=ops.not_equal(masked_ids, 0),
            training=training,
        )
        masked_lm = self.masked_lm_head(
            masked_states, mask_positions=inputs["mask_positions"]
        )
        return {"contrastive": logits, "matching": matching, "masked_lm": masked_lm}

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training; `"auto"`: AdamW(1e-3), the three losses summed.

        The losses: `CLIPLoss`, binary cross-entropy on the matching logits
        and sparse categorical cross-entropy on the hidden tokens (weighted
        by `mask_weights`, so padding counts for nothing); the metrics: the
        matching accuracy (both pairs of each text) and the hidden tokens'
        accuracy. Any Keras value works instead.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(1e-3, weight_decay=1e-4)
        if loss == "auto":
            loss = {
                "contrastive": CLIPLoss(),
                "matching": keras.losses.BinaryCrossentropy(from_logits=True),
                "masked_lm": keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True
                ),
            }
        if metrics == "auto":
            metrics = {
                "matching": [keras.metrics.BinaryAccuracy(threshold=0.0)],
                "masked_lm": [keras.metrics.SparseCategoricalAccuracy()],
            }
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def pretraining_dataset(
        self, images, captions, batch_size=64, shuffle=False, seed=None
    ):
        """A `tf.data` pipeline for `fit`: pairs, their masked texts, targets.

        Built on `DualEncoder.pair_dataset` (one caption per image, drawn
        anew every epoch); each batch then gets its masked copy of the texts
        (`MaskedLMMaskGenerator`, drawn anew every pass), the hidden tokens
        as `"masked_lm"` targets with their weights, `[1, 0]` as the matching
        targets.

        Args:
            images: `(n, height, width, 3)` in `[0, 255]`.
            captions: `n` captions, or `n` lists of captions.
            batch_size: pairs per batch (the negatives come from the batch).
            shuffle: reshuffle the pairs every epoch.
            seed: shuffle and caption-choice seed.
        """
        tf = require_tensorflow("MultimodalPretrainer.pretraining_dataset")
        pairs = self.dual_encoder.pair_dataset(
            images, captions, batch_size=batch_size, shuffle=shuffle, seed=seed
        )
        masker = self.masker

        def add_masks(x, _):
            masked = masker(x["token_ids"])
            batch = tf.shape(x["token_ids"])[0]
            inputs = {
                "image": x["image"],
                "token_ids": x["token_ids"],
                "masked_token_ids": masked["token_ids"],
                "mask_positions": masked["mask_positions"],
            }
            targets = {
                "contrastive": tf.zeros([batch]),
                "matching": tf.tile([[1.0, 0.0]], [batch, 1]),
                "masked_lm": masked["mask_ids"],
            }
            weights = {
                "contrastive": tf.ones([batch]),
                "matching": tf.ones([batch]),
                "masked_lm": tf.cast(masked["mask_weights"], "float32"),
            }
            return inputs, targets, weights

        return pairs.map(add_masks, num_parallel_calls=tf.data.AUTOTUNE)

    def matching_probabilities(self, images, texts, batch_size=64):
        """The probability that each image is its text's: `(n,)` NumPy.

        `images[i]` is scored with `texts[i]` by the matching head (no
        negatives drawn).
        """
        encoder = self.dual_encoder
        images = resize_to_model(images, encoder.image_shape)
        token_ids = encoder.tokenize(texts)
        if len(images) != len(token_ids):
            raise ValueError(
                "`images` and `texts` must have the same length. Received: "
                f"{len(images)} images and {len(token_ids)} texts"
            )
        logits = []
        for start in range(0, len(images), batch_size):
            ids = token_ids[start : start + batch_size]
            features = self._features(
                {"image": images[start : start + batch_size], "token_ids": ids}
            )
            regions = self._regions(features["regions"])
            match = self._match(
                features, regions, features["image_embedding"], ids != 0
            )
            logits.append(ops.convert_to_numpy(match))
        logits = np.concatenate(logits)[:, 0].astype("float64")
        return 1.0 / (1.0 + np.exp(-logits))

    def get_config(self):
        return {
            "dual_encoder": keras.saving.serialize_keras_object(self.dual_encoder),
            "num_heads": self.num_heads,
            "mask_rate": self.mask_rate,
            "seed": self.seed,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["dual_encoder"] = keras.saving.deserialize_keras_object(
            config["dual_encoder"]
        )
        return cls(**config)


def _unit(x):
    return x / ops.maximum(ops.norm(x, axis=-1, keepdims=True), 1e-6)
