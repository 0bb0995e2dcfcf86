import numpy as np
import pytest
import tensorflow as tf

from keras_roleplay.data.text import END_ID, PAD_ID, START_ID
from keras_roleplay.utils.sampling import (
    NEG_INF,
    get_sampler,
    mask_next_token_logits,
    previous_tokens,
)

VOCABULARY_SIZE = 8


def test_mask_bans_pad_start_and_what_keep_excludes():
    logits = np.arange(2 * VOCABULARY_SIZE, dtype="float16").reshape(2, -1)
    keep = np.ones((2, VOCABULARY_SIZE), bool)
    keep[1, 7] = False
    out = np.asarray(mask_next_token_logits(logits, np.array([5, 6]), keep))
    assert out.dtype == np.float32
    assert (out[:, [PAD_ID, START_ID]] == NEG_INF).all()
    assert out[1, 7] == NEG_INF and out[0, 7] == 7.0  # keep is per row
    others = [i for i in range(6) if i not in (PAD_ID, START_ID)]
    np.testing.assert_array_equal(out[:, others], logits[:, others])


@pytest.mark.parametrize("previous", [END_ID, PAD_ID])
def test_a_finished_sequence_only_adds_pad_at_no_cost(previous):
    logits = np.random.default_rng(0).normal(size=(2, VOCABULARY_SIZE))
    out = np.asarray(mask_next_token_logits(logits, np.array([previous, 6])))
    assert out[0, PAD_ID] == 0.0
    assert (np.delete(out[0], PAD_ID) == NEG_INF).all()
    unfinished = [i for i in range(VOCABULARY_SIZE) if i not in (PAD_ID, START_ID)]
    np.testing.assert_allclose(out[1, unfinished], logits[1, unfinished], rtol=1e-6)


def test_get_sampler_errors_name_the_argument():
    with pytest.raises(ValueError, match="`sampler` must be one of"):
        get_sampler({}, "nucleus")
    with pytest.raises(ValueError, match="num_beams"):
        get_sampler({}, "beam", num_beams=0)


def test_previous_tokens_has_a_static_shape_under_xla():
    prompt = tf.constant([[2, 7, 9, 0], [2, 8, 3, 0]])

    @tf.function(jit_compile=True)
    def step(index):
        tokens = previous_tokens(prompt, index)
        assert tokens.shape == (2, 1)  # known while tracing
        return tokens

    assert step(tf.constant(3)).numpy().tolist() == [[9], [3]]
