"""`RoleResponder`: a Transformer that answers in the voice of a role (the task)."""

import keras
from keras import ops

from keras_roleplay.models.generative_task import GenerativeTask, delegated
from keras_roleplay.models.role_responder.role_responder_backbone import (
    RoleResponderBackbone,
)
from keras_roleplay.models.role_responder.role_responder_generation import (
    RoleResponderGeneration,
)
from keras_roleplay.models.role_responder.role_responder_preprocessor import (
    RoleResponderPreprocessor,
)
from keras_roleplay.models.role_responder.role_responder_tokenizer import (
    build_dialogue_vocabulary,
)
from keras_roleplay.utils.compiling import compile_token_defaults
from keras_roleplay.utils.special_tokens import PAD_ID

# The backbone's architecture arguments a flat `RoleResponder(...)` takes.
BACKBONE_ARGUMENTS = (
    "sequence_length",
    "reply_length",
    "image_shape",
    "image_encoder",
    "image_weights",
    "cnn_filters",
    "num_layers",
    "hidden_dim",
    "intermediate_dim",
    "num_heads",
    "dropout",
    "bidirectional_fusion",
    "use_role",
)


@keras.saving.register_keras_serializable(package="keras_roleplay")
class RoleResponder(RoleResponderGeneration, GenerativeTask):
    """Answers a context in the voice of a role, optionally about an image.

    The role-play model: an encoder-decoder Transformer (Vaswani et al.
    2017) conditioned on a role embedding (Li et al. 2016's persona model),
    with cross-modal attention over an image and role-specific vocabulary
    at decoding, as a task of KerasHub's pattern (see `GenerativeTask`):

    - `model.backbone`, a `RoleResponderBackbone`: the network (a role
      vector and a per-role word bias, a Transformer encoder over the role
      and context, an optional image encoder fused by cross-modal
      attention, a Transformer decoder); token ids and images in, logits
      out. Its docstring tells the architecture and its inputs;
    - `model.preprocessor`, a `RoleResponderPreprocessor`: contexts,
      replies, role names and images to backbone inputs, with the
      `RoleResponderTokenizer` (`model.tokenizer`);
    - here: `compile` defaults and presets; `generate` and its compiled
      steps come from `RoleResponderGeneration`
      (`role_responder_generation.py`).

    Build it in one line from flat arguments (below), or from a backbone and
    a preprocessor (`RoleResponder(backbone=..., preprocessor=...)`).

    The model owns its vocabulary and role names, so `generate` takes and
    returns strings and a saved model keeps both. `generate` decodes with
    key/value caches (the KerasHub `call_with_cache` pattern): each new
    token costs one decoder step, not a re-run of the reply so far.

    `use_role=False` builds the same network without the role (the role
    input is ignored): the ablation that tells what the role adds.

    Args:
        vocabulary: list of tokens starting with `[PAD]`, `[UNK]`,
            `[START]`, `[END]` (see `build_dialogue_vocabulary`, or use
            `RoleResponder.from_dialogues`).
        roles: list of role names (their index is the role id).
        **architecture: `sequence_length` (32), `reply_length`,
            `image_shape` (`None`: text only), `image_encoder` (`"cnn"` or
            `"vgg16"`), `image_weights`, `cnn_filters`, `num_layers` (2),
            `hidden_dim` (128), `intermediate_dim`, `num_heads` (4),
            `dropout` (0.1), `bidirectional_fusion`, `use_role` (`False`:
            the no-role ablation): see `RoleResponderBackbone`.
        lexicon: `None`, or the words replies may use (see
            `learn_lexicon`): `generate` then never makes up a word.
        backbone: a `RoleResponderBackbone`, instead of `vocabulary`,
            `roles`, `lexicon` and the architecture (then `preprocessor`
            too).
        preprocessor: a `RoleResponderPreprocessor` matching `backbone`.
        name: model name.
        **kwargs: other `keras.Model` arguments: `trainable`, and `dtype`
            (a dtype policy, such as `"mixed_bfloat16"`, for every layer of
            the backbone but its float32 logits).

    Example:

    >>> import numpy as np
    >>> model = RoleResponder.from_dialogues(
    ...     ["hello", "good day to you", "hi !"], roles=["knight", "pirate"],
    ...     sequence_length=8, hidden_dim=8, num_heads=2, num_layers=1)
    >>> model.compile()
    >>> data = model.dialogue_dataset(["hello", "hello"],
    ...     ["good day to you", "hi !"], ["knight", "pirate"], batch_size=2)
    >>> _ = model.fit(data, verbose=0)
    >>> reply = model.generate("hello", role="pirate", max_length=3)
    >>> isinstance(reply, str)  # a list of contexts gives a list of replies
    True
    """

    backbone_cls = RoleResponderBackbone
    preprocessor_cls = RoleResponderPreprocessor
    shared_settings = (
        "vocabulary_size",
        "num_roles",
        "sequence_length",
        "reply_length",
        "image_shape",
    )

    def __init__(
        self,
        vocabulary=None,
        roles=None,
        backbone=None,
        preprocessor=None,
        name="role_responder",
        lexicon=None,
        **kwargs,
    ):
        architecture = {
            key: kwargs.pop(key) for key in BACKBONE_ARGUMENTS if key in kwargs
        }
        dtype = kwargs.pop("dtype", None)
        if backbone is None:
            if vocabulary is None or roles is None:
                raise ValueError(
                    "Pass `vocabulary` and `roles` (or `backbone` and "
                    "`preprocessor`). Received: vocabulary="
                    f"{vocabulary!r:.40}, roles={roles!r:.40}"
                )
            # The preprocessor first: it checks the vocabulary and roles.
            preprocessor = RoleResponderPreprocessor(
                vocabulary,
                roles,
                sequence_length=architecture.get("sequence_length", 32),
                reply_length=architecture.get("reply_length"),
                image_shape=architecture.get("image_shape"),
                lexicon=lexicon,
            )
            backbone = RoleResponderBackbone(
                vocabulary_size=preprocessor.vocabulary_size,
                num_roles=preprocessor.num_roles,
                dtype=dtype,
                **architecture,
            )
        elif (
            vocabulary is not None
            or roles is not None
            or lexicon is not None
            or architecture
        ):
            raise ValueError(
                "Pass either `backbone` and `preprocessor`, or `vocabulary`, "
                "`roles` and the architecture arguments, not both. Received: "
                f"backbone and {sorted(architecture)}"
                + (" and vocabulary" if vocabulary is not None else "")
                + (" and roles" if roles is not None else "")
                + (" and lexicon" if lexicon is not None else "")
            )
        super().__init__(backbone, preprocessor, name=name, **kwargs)

    @classmethod
    def from_dialogues(cls, texts, roles, vocabulary_size=2000, **kwargs):
        """Builds a responder whose vocabulary is learned from `texts`.

        Args:
            texts: the contexts and replies it will be trained on (strings).
            roles: list of role names.
            vocabulary_size: maximum vocabulary size.
            **kwargs: the other constructor arguments.
        """
        vocabulary = build_dialogue_vocabulary(texts, vocabulary_size)
        return cls(vocabulary=vocabulary, roles=roles, **kwargs)

    # === The parts' settings, under the names they always had ===

    roles = delegated("preprocessor", "roles")
    num_roles = delegated("preprocessor", "num_roles")
    sequence_length = delegated("backbone", "sequence_length")
    reply_length = delegated("backbone", "reply_length")
    image_shape = delegated("backbone", "image_shape")
    image_encoder = delegated("backbone", "image_encoder")
    cnn_filters = delegated("backbone", "cnn_filters")
    num_layers = delegated("backbone", "num_layers")
    hidden_dim = delegated("backbone", "hidden_dim")
    intermediate_dim = delegated("backbone", "intermediate_dim")
    num_heads = delegated("backbone", "num_heads")
    dropout = delegated("backbone", "dropout")
    bidirectional_fusion = delegated("backbone", "bidirectional_fusion")
    use_role = delegated("backbone", "use_role")
    feature_grid = delegated("backbone", "feature_grid")
    lexicon = delegated("preprocessor", "lexicon")

    def learn_lexicon(self, texts):
        """Sets the words this model may write to the words of `texts`.

        With a lexicon, `generate` continues a word only into word pieces
        that lead to a word of it, and starts a new word (or ends the reply)
        only after a whole one (`utils.word_trie`): no made-up words such as
        "prumius" from pieces joined at random. Give it the training text.
        Saved with the model (`.keras` and presets).

        Args:
            texts: strings: every word of them becomes a word of the lexicon.

        Returns:
            The number of words.

        Example:

        >>> model = RoleResponder.from_dialogues(
        ...     ["good day , my lord", "what news ?"], roles=["knight"],
        ...     sequence_length=16, hidden_dim=8, num_heads=2, num_layers=1)
        >>> model.learn_lexicon(["good day , my lord", "what news ?"])
        8
        >>> reply = model.generate("what news ?", role="knight", max_length=6)
        >>> set(reply.split()) <= {"good", "day", ",", "my", "lord", "what",
        ...     "news", "?"}
        True
        """
        self.preprocessor.lexicon = self.preprocessor.learn_lexicon(texts)
        self._generate_functions.clear()
        return len(self.lexicon)

    # === Text (the preprocessor's) ===

    def role_ids(self, roles, count=None):
        """Role names or ids -> ids (`RoleResponderPreprocessor.role_ids`)."""
        return self.preprocessor.role_ids(roles, count=count)

    def tokenize_context(self, contexts, truncate=True):
        """Contexts -> `(batch, sequence_length)` ids (see the preprocessor)."""
        return self.preprocessor.tokenize_context(contexts, truncate=truncate)

    def tokenize_reply(self, replies):
        """Replies -> `(batch, reply_length + 1)` ids: `[START] ... [END]`, padded."""
        return self.preprocessor.tokenize_reply(replies)

    def preprocess(self, features):
        """Strings to `(inputs, targets, sample_weight)`: the preprocessor's call."""
        return self.preprocessor(features)

    def dialogue_dataset(self, contexts, replies, roles, images=None, **kwargs):
        """A `tf.data` pipeline for `fit`/`evaluate`.

        See `RoleResponderPreprocessor.dialogue_dataset` for the arguments
        (`batch_size`, `shuffle`, `seed`, `role_dropout`).
        """
        return self.preprocessor.dialogue_dataset(
            contexts, replies, roles, images=images, **kwargs
        )

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training; `"auto"` picks what suits a responder.

        `"auto"`: AdamW(1e-3, weight decay 0.01), sparse categorical
        cross-entropy on the logits, and token accuracy, masked by the sample
        weights of `preprocess` (use `weighted_metrics` for your own).
        `sampler=` sets the one `generate` uses by default
        (`GenerativeTask.compile`).
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(1e-3, weight_decay=0.01)
        loss, metrics, kwargs = compile_token_defaults(loss, metrics, kwargs)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    # === Attention for plots ===

    def attention_maps(self, context, role, image):
        """Where each context token looked in the image (cross-modal attention).

        Args:
            context: a string.
            role: a role name or id.
            image: one image `(height, width, 3)`.

        Returns:
            A dict with `"tokens"` (the role marker `"<role>"` then the
            context's word pieces) and `"maps"`, an array
            `(tokens, grid_height, grid_width)` averaged over the heads, for
            `keras_roleplay.utils.plotting.plot_caption_attention`.
        """
        if self.image_shape is None:
            raise ValueError(
                "This RoleResponder is text-only (image_shape=None): it has no "
                "image attention to show."
            )
        images = self.preprocessor.check_images(image, 1)
        context_ids = self.tokenize_context([context], truncate=False).numpy()
        inputs = {
            "role": self.role_ids(role, count=1),
            "context": context_ids,
            "image": images,
        }
        scores = self.backbone.fusion_scores(inputs)
        # float32 under a mixed policy too: bfloat16 arrays do not plot.
        maps = ops.convert_to_numpy(ops.cast(ops.mean(scores, axis=1), "float32"))[0]
        length = 1 + int((context_ids[0] != PAD_ID).sum())
        tokens = ["<role>"] + [self.vocabulary[i] for i in context_ids[0] if i]
        return {
            "tokens": tokens,
            "maps": maps[:length].reshape((length, *self.feature_grid)),
        }
