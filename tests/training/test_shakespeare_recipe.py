import keras
import numpy as np

from keras_roleplay.applications import RoleResponder
from keras_roleplay.training import fit_responder
from keras_roleplay.training.recipes import ROLE_LAYERS, only_roles_trainable


def test_the_role_stage_trains_the_roles_alone_and_restores_the_flags():
    keras.utils.set_random_seed(0)
    texts = ["good morrow , my lord .", "what news ?", "ay , my lord ."]
    model = RoleResponder.from_dialogues(
        texts,
        roles=["a", "b"],
        sequence_length=8,
        hidden_dim=8,
        num_heads=2,
        num_layers=1,
    )
    before = {w.path: np.array(w.numpy()) for w in model.weights}
    with only_roles_trainable(model):
        fit_responder(model, texts * 4, texts[::-1] * 4, ["a", "b", "a"] * 4, epochs=2)
    changed = {
        w.path for w in model.weights if not np.array_equal(before[w.path], w.numpy())
    }
    assert changed and all(path.split("/")[0] in ROLE_LAYERS for path in changed)
    assert all(layer.trainable for layer in model.backbone.layers)
