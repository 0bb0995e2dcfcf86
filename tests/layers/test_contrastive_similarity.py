import math

import keras
import numpy as np
import pytest

from keras_roleplay.layers import ContrastiveSimilarity


def test_scaled_cosine_similarity_of_every_text_with_every_image():
    rng = np.random.default_rng(0)
    text, image = rng.normal(size=(3, 5)), rng.normal(size=(4, 5))
    layer = ContrastiveSimilarity(temperature=0.2)
    logits = keras.ops.convert_to_numpy(layer(text, image))
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(logits, unit(text) @ unit(image).T / 0.2, rtol=1e-5)
    assert layer.compute_output_shape((3, 5), (4, 5)) == (3, 4)


def test_the_learned_scale_is_capped():
    layer = ContrastiveSimilarity(temperature=0.1, max_scale=20.0)
    layer(np.ones((1, 2)), np.ones((1, 2)))
    assert float(layer.scale()) == pytest.approx(10.0)
    layer.logit_scale.assign(math.log(1000.0))
    assert float(layer.scale()) == pytest.approx(20.0)
    logits = layer(np.ones((1, 2)), np.ones((1, 2)))
    assert float(keras.ops.convert_to_numpy(logits)[0, 0]) == pytest.approx(20.0)


def test_config_round_trip_and_bad_arguments():
    layer = ContrastiveSimilarity(temperature=0.5, max_scale=10.0)
    clone = ContrastiveSimilarity.from_config(layer.get_config())
    assert (clone.temperature, clone.max_scale) == (0.5, 10.0)
    with pytest.raises(ValueError, match="temperature"):
        ContrastiveSimilarity(temperature=0.0)
    with pytest.raises(TypeError, match="max_scale"):
        ContrastiveSimilarity(max_scale="big")
    with pytest.raises(ValueError, match="1 / 0.01 > 50"):
        ContrastiveSimilarity(temperature=0.01, max_scale=50)
