import keras
import numpy as np
import pytest

from keras_roleplay.layers import RoleEmbedding


def test_each_role_gets_its_own_row_and_unknown_ids_get_zeros():
    layer = RoleEmbedding(3, 4)
    ids = np.array([[0, 2], [1, 3]])  # 3 is out of range: "no role"
    out = np.asarray(layer(ids))
    table = np.asarray(layer.embeddings)
    np.testing.assert_allclose(out[0, 0], table[0])
    np.testing.assert_allclose(out[0, 1], table[2])
    np.testing.assert_allclose(out[1, 0], table[1])
    np.testing.assert_allclose(out[1, 1], np.zeros(4))
    np.testing.assert_allclose(np.asarray(layer(np.array([-1]))), np.zeros((1, 4)))
    assert layer.compute_output_shape((2, 2)) == (2, 2, 4)


def test_initial_embeddings_from_descriptions():
    vocabulary = ["calm", "doctor", "loud", "pirate"]

    def encode(texts):
        return np.array(
            [[w in t.split() for w in vocabulary] for t in texts], "float32"
        )

    layer = RoleEmbedding.from_descriptions(["calm doctor", "loud pirate"], encode)
    np.testing.assert_allclose(
        np.asarray(layer(np.array([0, 1]))), [[1, 1, 0, 0], [0, 0, 1, 1]]
    )
    # Descriptions alike give vectors alike: the point of starting from text.
    close = RoleEmbedding.from_descriptions(["calm doctor", "calm pirate"], encode)
    a, b = np.asarray(close(np.array([0, 1])))
    assert a @ b > 0


def test_trains_and_round_trips_through_config(tmp_path):
    inputs = keras.Input(shape=(), dtype="int32")
    outputs = keras.layers.Dense(1)(RoleEmbedding(4, 3, name="roles")(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.05), "mse")
    ids, targets = np.arange(4), np.array([1.0, -1.0, 2.0, 0.0])
    before = model.evaluate(ids, targets, verbose=0)
    model.fit(ids, targets, epochs=50, verbose=0)
    assert model.evaluate(ids, targets, verbose=0) < before / 10
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(
        loaded.predict(ids, verbose=0), model.predict(ids, verbose=0), atol=1e-6
    )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="initial_embeddings"):
        RoleEmbedding(2, 3, initial_embeddings=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="num_roles"):
        RoleEmbedding(0, 3)
    with pytest.raises(TypeError, match="descriptions"):
        RoleEmbedding.from_descriptions("a doctor", lambda t: np.zeros((1, 2)))
    with pytest.raises(ValueError, match="encode"):
        RoleEmbedding.from_descriptions(["a", "b"], lambda t: np.zeros((3, 2)))
