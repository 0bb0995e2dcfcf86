"""`GenerativeTask`: a backbone and a preprocessor that `generate` (KerasHub tasks)."""

import keras
import numpy as np

from keras_roleplay.utils.bounded_cache import BoundedCache
from keras_roleplay.utils.generation import make_generate_function
from keras_roleplay.utils.model_defaults import ModelDefaultsMixin
from keras_roleplay.utils.presets import PresetMixin
from keras_roleplay.utils.sampling import get_sampler, make_sampler

# Compiled decoding functions (and samplers) a model keeps, most recent first.
MAX_GENERATE_FUNCTIONS = 8


def delegated(owner, name):
    """A read-only property that reads `self.<owner>.<name>`.

    The task keeps its backbone's and preprocessor's settings visible under
    the names they always had (`model.sequence_length`, `model.roles`...).
    """
    return property(
        lambda self: getattr(getattr(self, owner), name),
        doc=f"The {owner}'s `{name}`.",
    )


class GenerativeTask(PresetMixin, ModelDefaultsMixin, keras.Model):
    """The base of `RoleResponder` and `VGG16LSTMCaptioner`.

    KerasHub's task pattern (`keras_hub.models.Task`, `CausalLM`,
    `Seq2SeqLM`): the task is a functional model over its **backbone** (the
    network, numbers in and out), holds a **preprocessor** (strings and
    images to backbone inputs, with the **tokenizer**), and adds `compile`
    defaults, `generate` and presets. Its config is the serialized backbone
    and preprocessor, so `.keras` files and presets rebuild both.

    KerasHub's own base classes are not subclassed: they fix `generate`'s
    signature (one prompt, no role, image or constraints), compile on
    construction and load presets through Kaggle's format. What they do for
    decoding is shared here: one compiled decoding function per sampler and
    compile setting (`keras_roleplay.utils.generation`), KerasHub samplers,
    and batches padded to one shape so each setting traces once.

    Subclasses set `backbone_cls`, `preprocessor_cls` and
    `shared_settings` (what both parts must agree on) and write
    `generate_step(inputs, sampler, ...)` in `keras.ops`.

    Args:
        backbone: an instance of `backbone_cls`.
        preprocessor: an instance of `preprocessor_cls`.
        **kwargs: other `keras.Model` arguments (`name`, `trainable`).

    A task from its parts (`RoleResponder(vocabulary, roles, ...)` builds
    the same in one line):

    Example:

    >>> from keras_roleplay.models import (RoleResponder,
    ...     RoleResponderBackbone, RoleResponderPreprocessor,
    ...     build_dialogue_vocabulary)
    >>> preprocessor = RoleResponderPreprocessor(
    ...     build_dialogue_vocabulary(["hello", "good day"]), roles=["knight"],
    ...     sequence_length=8)
    >>> backbone = RoleResponderBackbone(preprocessor.vocabulary_size,
    ...     num_roles=1, sequence_length=8, hidden_dim=8, num_heads=2,
    ...     num_layers=1)
    >>> model = RoleResponder(backbone=backbone, preprocessor=preprocessor)
    >>> isinstance(model, GenerativeTask), model.backbone is backbone
    (True, True)
    >>> isinstance(model.generate("hello", role="knight", max_length=2), str)
    True
    """

    backbone_cls = None
    preprocessor_cls = None
    shared_settings = ()

    def __init__(self, backbone, preprocessor, **kwargs):
        for argument, value, expected in (
            ("backbone", backbone, self.backbone_cls),
            ("preprocessor", preprocessor, self.preprocessor_cls),
        ):
            if not isinstance(value, expected):
                raise TypeError(
                    f"`{argument}` must be a {expected.__name__}. Received: "
                    f"{argument}={value!r:.80} (type {type(value).__name__})"
                )
        for setting in self.shared_settings:
            expected = getattr(backbone, setting)
            received = getattr(preprocessor, setting)
            if expected != received:
                raise ValueError(
                    f"The preprocessor does not match the backbone: its {setting} "
                    f"is {received}, the backbone's {expected}. Build both with "
                    "the same settings."
                )
        inputs = backbone.input
        outputs = backbone(inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        # Not a layer: kept out of Keras' tracking (it has no weights).
        object.__setattr__(self, "preprocessor", preprocessor)
        # Bounded: per-call settings (a guidance weight, a temperature) each
        # make a compiled function, and a server may ask for many.
        object.__setattr__(
            self, "_generate_functions", BoundedCache(MAX_GENERATE_FUNCTIONS)
        )
        object.__setattr__(
            self,
            "_samplers",
            BoundedCache(MAX_GENERATE_FUNCTIONS, on_evict=self._forget_sampler),
        )

    # === Text ===

    tokenizer = delegated("preprocessor", "tokenizer")
    vocabulary = delegated("preprocessor", "vocabulary")
    vocabulary_size = delegated("preprocessor", "vocabulary_size")

    def detokenize(self, token_ids):
        """Token ids -> strings, stopping at `[END]`, without special tokens."""
        return self.preprocessor.detokenize(token_ids)

    # === Generation ===

    def quantize(self, mode=None, **kwargs):
        """`keras.Model.quantize`, then the decoding functions are traced anew.

        A decoding function compiled before quantizing would go on reading
        the float weights. The quantized model saves and loads
        (`utils.quantization`).
        """
        super().quantize(mode, **kwargs)
        self._generate_functions.clear()

    def compile(self, *args, sampler="greedy", **kwargs):
        """`keras.Model.compile`, and the sampler `generate` uses by default.

        As KerasHub's `CausalLM.compile(sampler=...)`: `sampler` is a name
        (`"greedy"`, `"beam"`, `"top_k"`, `"top_p"`) or a
        `keras_hub.samplers.Sampler` with its settings, e.g.
        `keras_hub.samplers.TopPSampler(p=0.9, temperature=0.8)`; a
        `generate(sampler=...)` call overrides it. Like KerasHub's, it is
        not saved with the model.
        """
        object.__setattr__(self, "sampler", make_sampler(sampler))
        super().compile(*args, **kwargs)

    def _get_sampler(self, sampler, seed=None):
        """The memoised KerasHub sampler (`utils.sampling.get_sampler`):
        `sampler`, or the one set in `compile` when it is `None`."""
        if sampler is None:
            sampler = getattr(self, "sampler", None) or "greedy"
        return get_sampler(
            self._samplers, sampler, seed, vocabulary_size=self.vocabulary_size
        )

    def _forget_sampler(self, key, sampler):
        """Drops the compiled functions of a sampler the memo let go."""
        for function_key in [
            k for k in self._generate_functions if k[0] == id(sampler)
        ]:
            del self._generate_functions[function_key]

    def _generate_function(self, key, generate_step, sampler):
        """The compiled `generate_step`, one per `key` and compile setting.

        `key` starts with `id(sampler)`: the sampler is memoised by the
        model (`_get_sampler`), so its id is not reused while the function
        lives.
        """
        key = (*key, bool(self.run_eagerly), bool(self.jit_compile))
        if key not in self._generate_functions:
            self._generate_functions[key] = make_generate_function(
                self, generate_step, sampler
            )
        return self._generate_functions[key]

    @staticmethod
    def _padded_batches(arrays, batch_size):
        """Yields `(size, batch)`: dicts of `batch_size` rows, the last padded.

        Padding (with copies of the first row) keeps one batch shape, so
        the decoding loop traces once.
        """
        count = len(next(iter(arrays.values())))
        for start in range(0, count, batch_size):
            batch = {
                key: value[start : start + batch_size] for key, value in arrays.items()
            }
            size = len(next(iter(batch.values())))
            yield (
                size,
                {
                    key: np.concatenate(
                        [value, np.repeat(value[:1], batch_size - size, axis=0)]
                    )
                    for key, value in batch.items()
                },
            )

    # === Config ===

    def get_config(self):
        return {
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "preprocessor": keras.saving.serialize_keras_object(self.preprocessor),
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("backbone", "preprocessor"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
