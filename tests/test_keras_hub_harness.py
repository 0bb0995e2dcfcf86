"""KerasHub's own test harness, applied to our layers, backbones and models.

`keras_hub.src.tests.test_case.TestCase` is how KerasHub checks every one
of its layers and models: config round trips (`run_serialization_test`),
every sublayer under a mixed-precision policy (`run_precision_test`),
construction with a quantized `DTypePolicyMap` (`run_quantization_test`),
`.keras` save and load (`run_model_saving_test`), and the whole layer
cycle (`run_layer_test`: build, symbolic and eager calls, a training step,
precision). The checks that do not fit, and why:

- `run_backbone_test` and `run_task_test` assume KerasHub's `Backbone`
  and `Task` (a `token_embedding` property, variable-length inputs, a
  `compile=False` argument): our backbones are functional models of fixed
  sequence lengths. Their parts that apply run here one by one.
- `run_layer_test` calls a layer on one tensor or on keyword tensors:
  `ModalityFusion` takes a list of modalities, so it gets the
  serialization and precision checks alone.
- The captioner's VGG16 comes from `keras.applications`, built under the
  global policy: its precision check runs under `dtype_policy`.

KerasHub's module imports `grain` (Google's data loader, not a dependency
of ours) for one check we do not call: a stand-in module is registered
when it is not installed.
"""

import sys
import types

import keras
import numpy as np

try:
    import grain  # noqa: F401
except ImportError:  # only run_grain_preprocessing_test uses it
    sys.modules["grain"] = types.ModuleType("grain")

from keras_hub.src.tests import test_case as keras_hub_test_case  # noqa: E402

from keras_roleplay.applications import (  # noqa: E402
    DualEncoder,
    RoleResponder,
    ThreeBranchClassifier,
    VGG16LSTMCaptioner,
)
from keras_roleplay.layers import (  # noqa: E402
    ContrastiveSimilarity,
    CrossModalAttention,
    ModalityFusion,
    RoleEmbedding,
)
from keras_roleplay.metrics import RoleJudge  # noqa: E402
from keras_roleplay.models.role_responder import (  # noqa: E402
    RoleResponderBackbone,
    RoleResponderPreprocessor,
)
from keras_roleplay.models.vgg16_lstm_captioner import (  # noqa: E402
    VGG16LSTMCaptionerBackbone,
    VGG16LSTMCaptionerPreprocessor,
)


def tensors(data):
    """Backend tensors, as KerasHub's tests pass (`compute_output_spec` needs them)."""
    return keras.tree.map_structure(keras.ops.convert_to_tensor, data)


def assert_every_layer_under(test, cls, init_kwargs, inputs, float32_layers):
    """`run_precision_test` for a model whose output layer is float32 on purpose.

    KerasHub's check wants every float output in the policy's compute
    dtype; our models end in float32 logits or probabilities (named in
    `float32_layers`), as mixed-precision training wants. Every other
    layer must take the policy, and the model must run under it.
    """
    for name in ("mixed_float16", "mixed_bfloat16", "bfloat16"):
        policy = keras.DTypePolicy(name)
        model = cls(**init_kwargs, dtype=name)
        outputs = model(inputs)
        test.assertDTypeEqual(keras.tree.flatten(outputs)[0], "float32")
        for layer in model._flatten_layers(include_self=False):
            if isinstance(layer, (keras.layers.InputLayer, keras.layers.Softmax)) or (
                isinstance(layer, keras.Model)  # holds no policy; its layers do
            ):
                continue
            expected = "float32" if layer.name in float32_layers else None
            test.assertEqual(
                expected or policy.compute_dtype, layer.compute_dtype, layer.path
            )
            test.assertEqual(
                "float32" if expected else policy.variable_dtype,
                layer.variable_dtype,
                layer.path,
            )


VOCABULARY = ["[PAD]", "[UNK]", "[START]", "[END]", "red", "circle", "it", "is"]
IMAGES = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")


class HarnessCase(keras_hub_test_case.TestCase):
    # `tf.test.TestCase.test_session` is a context manager, not a test:
    # collected, it would be reported as skipped.
    test_session = None


class LayerHarnessTest(HarnessCase):
    def test_cross_modal_attention(self):
        self.run_layer_test(
            cls=CrossModalAttention,
            init_kwargs={"num_heads": 2, "key_dim": 4},
            input_data=tensors(
                {
                    "text": np.ones((2, 5, 8), "float32"),
                    "regions": np.ones((2, 6, 8), "float32"),
                }
            ),
            expected_output_shape=(2, 5, 8),
            expected_num_trainable_weights=10,
        )

    def test_role_embedding(self):
        self.run_layer_test(
            cls=RoleEmbedding,
            init_kwargs={"num_roles": 3, "output_dim": 4},
            input_data=tensors(np.array([0, 2])),
            expected_output_shape=(2, 4),
            expected_num_trainable_weights=1,
            run_training_check=False,  # integer inputs: no gradient to them
        )

    def test_contrastive_similarity(self):
        self.run_layer_test(
            cls=ContrastiveSimilarity,
            init_kwargs={"temperature": 0.1},
            input_data=tensors(
                {
                    "text_embedding": np.ones((2, 4), "float32"),
                    "image_embedding": np.ones((2, 4), "float32"),
                }
            ),
            expected_output_shape=(2, 2),
            expected_num_trainable_weights=1,
        )

    def test_modality_fusion(self):
        for mode in ("concat", "weighted", "attention"):
            self.run_serialization_test(ModalityFusion(mode=mode))


class BackboneHarnessTest(HarnessCase):
    def test_role_responder_backbone(self):
        init_kwargs = dict(
            vocabulary_size=len(VOCABULARY),
            num_roles=2,
            sequence_length=6,
            reply_length=5,
            image_shape=(32, 32, 3),
            hidden_dim=8,
            num_heads=2,
            num_layers=1,
            cnn_filters=(4, 8),
        )
        inputs = tensors(
            {
                "role": np.array([0, 1]),
                "context": np.array([[4, 5, 0, 0, 0, 0], [6, 7, 4, 0, 0, 0]]),
                "reply": np.array([[2, 6, 7, 0, 0], [2, 4, 0, 0, 0]]),
                "image": IMAGES,
            }
        )
        backbone = RoleResponderBackbone(**init_kwargs)
        self.run_serialization_test(backbone)
        assert_every_layer_under(
            self,
            RoleResponderBackbone,
            init_kwargs,
            inputs,
            ("logits", "role_vocabulary_bias"),  # added to the float32 logits
        )
        self.run_quantization_test(backbone, RoleResponderBackbone, init_kwargs, inputs)
        self.run_model_saving_test(RoleResponderBackbone, init_kwargs, inputs)

    def test_captioner_backbone(self):
        init_kwargs = dict(
            vocabulary_size=len(VOCABULARY),
            sequence_length=5,
            image_shape=(32, 32, 3),
            feature_layer="block2_pool",
            embedding_dim=8,
            lstm_units=8,
        )
        inputs = tensors({"image": IMAGES, "tokens": np.array([[2, 4, 5, 0, 0]] * 2)})
        backbone = VGG16LSTMCaptionerBackbone(**init_kwargs)
        self.run_serialization_test(backbone)
        self.run_quantization_test(
            backbone, VGG16LSTMCaptionerBackbone, init_kwargs, inputs
        )
        self.run_model_saving_test(VGG16LSTMCaptionerBackbone, init_kwargs, inputs)


class ModelHarnessTest(HarnessCase):
    def test_role_responder(self):
        model = RoleResponder(
            VOCABULARY, ["doctor", "teacher"], sequence_length=6, hidden_dim=8,
            num_heads=2, num_layers=1,
        )  # fmt: skip
        self.run_serialization_test(model)
        self.run_serialization_test(model.preprocessor)

    def test_captioner(self):
        model = VGG16LSTMCaptioner(
            VOCABULARY, image_shape=(32, 32, 3), feature_layer="block2_pool",
            sequence_length=5, embedding_dim=8, lstm_units=8,
        )  # fmt: skip
        self.run_serialization_test(model)
        self.run_serialization_test(model.preprocessor)

    def test_preprocessors_alone(self):
        self.run_serialization_test(
            RoleResponderPreprocessor(VOCABULARY, ["doctor"], sequence_length=6)
        )
        self.run_serialization_test(
            VGG16LSTMCaptionerPreprocessor(VOCABULARY, sequence_length=5)
        )

    def test_three_branch_classifier(self):
        init_kwargs = dict(
            image_shape=(16, 16, 3), text_length=4, audio_shape=(4,),
            image_filters=(4,),
        )  # fmt: skip
        inputs = tensors(
            {
                "image": IMAGES[:, :16, :16],
                "text": np.ones((2, 4), "int32"),
                "audio": np.ones((2, 4), "float32"),
            }
        )
        model = ThreeBranchClassifier(**init_kwargs)
        self.run_serialization_test(model)
        assert_every_layer_under(
            self, ThreeBranchClassifier, init_kwargs, inputs, ("predictions",)
        )
        self.run_quantization_test(model, ThreeBranchClassifier, init_kwargs, inputs)
        self.run_model_saving_test(ThreeBranchClassifier, init_kwargs, inputs)

    def test_role_judge(self):
        init_kwargs = dict(
            vocabulary=VOCABULARY, roles=["doctor", "teacher"], sequence_length=4,
            hidden_dim=8,
        )  # fmt: skip
        inputs = tensors(np.array([[4, 5, 0, 0], [6, 7, 4, 0]]))
        model = RoleJudge(**init_kwargs)
        self.run_serialization_test(model)
        self.run_quantization_test(model, RoleJudge, init_kwargs, inputs)
        self.run_model_saving_test(RoleJudge, init_kwargs, inputs)

    def test_dual_encoder(self):
        init_kwargs = dict(
            vocabulary=VOCABULARY, image_shape=(32, 32, 3), sequence_length=4,
            embedding_dim=8, hidden_dim=8, cnn_filters=(4,),
        )  # fmt: skip
        inputs = tensors(
            {"image": IMAGES, "token_ids": np.array([[4, 5, 0, 0], [6, 0, 0, 0]])}
        )
        model = DualEncoder(**init_kwargs)
        self.run_serialization_test(model)
        self.run_quantization_test(model, DualEncoder, init_kwargs, inputs)
        self.run_model_saving_test(DualEncoder, init_kwargs, inputs)


def teardown_module():
    keras.config.set_dtype_policy("float32")
