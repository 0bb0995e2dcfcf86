import warnings

import keras
import numpy as np
import pytest

from keras_roleplay.applications import RoleResponder, ThreeBranchClassifier
from keras_roleplay.utils.special_tokens import GENERATION_TOKENS

SMALL = dict(
    image_shape=(16, 16, 3), text_length=4, audio_shape=(4,), image_filters=(4,)
)


def _data(n=16):
    rng = np.random.default_rng(0)
    x = {
        "image": rng.uniform(0, 255, (n, 16, 16, 3)).astype("float32"),
        "text": rng.normal(size=(n, 4)).astype("float32"),
        "audio": rng.normal(size=(n, 4)).astype("float32"),
    }
    return x, (np.arange(n) % 2).astype("float32")


def test_a_loaded_model_is_compiled_as_saved_without_a_warning(tmp_path):
    model = ThreeBranchClassifier(**SMALL)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    x, y = _data()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "model.keras")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
    assert not [w for w in caught if "compile()" in str(w.message)]
    assert loaded.compiled
    assert float(loaded.optimizer.learning_rate) == pytest.approx(0.01)
    # The optimizer state came back too: training resumes where it stopped.
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 4
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6
    )


def test_fit_on_our_pipelines_does_not_warn_about_shuffle():
    words = ["hello", "there", "ahoy"]
    model = RoleResponder(
        [*GENERATION_TOKENS, *words],
        roles=["a", "b"],
        sequence_length=4,
        hidden_dim=8,
        num_heads=2,
        num_layers=1,
    )
    model.compile()
    data = model.dialogue_dataset(["hello"] * 4, ["there", "ahoy"] * 2, ["a", "b"] * 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(data, epochs=1, verbose=0)
    assert not [w for w in caught if "shuffle" in str(w.message)]


def test_predict_on_zero_examples_is_refused_by_name():
    from keras_roleplay import presets

    model = presets.load("three_branch_agreement")
    empty = {
        "image": np.zeros((0, 32, 32, 3)),
        "text": np.zeros((0, 16)),
        "audio": np.zeros((0, 30, 32)),
    }
    with pytest.raises(ValueError, match="holds no examples"):
        model.predict(empty, verbose=0)
    one = {name: np.zeros((1, *a.shape[1:])) for name, a in empty.items()}
    assert model.predict(one, verbose=0).shape[0] == 1
