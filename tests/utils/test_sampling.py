import numpy as np
import pytest
import tensorflow as tf
from keras_hub.samplers import BeamSampler, TopKSampler, TopPSampler

from keras_roleplay.data.text import END_ID, PAD_ID, START_ID
from keras_roleplay.utils.sampling import (
    NEG_INF,
    block_repeated_ngrams,
    get_sampler,
    make_sampler,
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
        get_sampler({}, BeamSampler(num_beams=0))
    with pytest.raises(ValueError, match=r"`p` must be in \(0, 1\]. Received: p=1.5"):
        get_sampler({}, TopPSampler(p=1.5))
    with pytest.raises(ValueError, match="temperature"):
        get_sampler({}, TopKSampler(temperature=0))
    with pytest.raises(ValueError, match="k=9"):
        get_sampler({}, TopKSampler(k=9), vocabulary_size=8)


def test_names_are_shorthand_for_samplers_with_our_defaults():
    assert make_sampler("top_p").p == 0.9  # KerasHub's own default is 0.1
    assert make_sampler("beam").num_beams == 4
    assert make_sampler("top_k").k == 5
    given = TopPSampler(p=0.5)
    assert make_sampler(given) is given


def test_samplers_are_memoised_by_their_settings_not_their_seed():
    memo = {}
    sampler = get_sampler(memo, TopPSampler(p=0.8, temperature=0.7), seed=1)
    assert (sampler.p, sampler.temperature) == (0.8, 0.7)
    # A new object with the same settings (and another seed): the same sampler.
    again = get_sampler(memo, TopPSampler(p=0.8, temperature=0.7, seed=5))
    assert again is sampler and len(memo) == 1
    assert np.asarray(sampler.variables[0]).tolist() == [5, 0]  # its seed, applied
    assert get_sampler(memo, TopPSampler(p=0.9, temperature=0.7)) is not sampler
    assert get_sampler(memo, "top_p") is get_sampler(memo, TopPSampler(p=0.9))


def _repeated_ngram_bans(prompt, index, n):
    """A plain-Python reference: the tokens that would repeat an n-gram."""
    banned = set()
    reply = prompt[1:index]  # what was generated before `index`
    if len(reply) < n - 1:
        return banned
    prefix = tuple(reply[len(reply) - (n - 1) :]) if n > 1 else ()
    for start in range(len(reply) - n + 1):
        if tuple(reply[start : start + n - 1]) == prefix:
            banned.add(reply[start + n - 1])
    return banned


@pytest.mark.parametrize("n", [1, 2, 3])
def test_block_repeated_ngrams_bans_what_would_repeat_an_ngram(n):
    rng = np.random.default_rng(n)
    prompt = np.zeros((4, 12), "int32")
    prompt[:, 0] = START_ID
    prompt[:, 1:] = rng.integers(4, 7, size=(4, 11))  # few words: many repeats
    for index in range(1, 12):
        keep = np.asarray(
            block_repeated_ngrams(np.ones((4, 10), bool), prompt, index, n)
        )
        for row in range(4):
            expected = _repeated_ngram_bans(prompt[row].tolist(), index, n)
            assert set(np.flatnonzero(~keep[row]).tolist()) == expected, (n, index)
    # 0: no rule.
    keep = np.ones((4, 10), bool)
    assert block_repeated_ngrams(keep, prompt, 11, 0) is keep


def test_block_repeated_ngrams_compiles_with_xla():
    prompt = tf.constant([[2, 7, 8, 7, 0, 0]])

    @tf.function(jit_compile=True)
    def step(index):
        return block_repeated_ngrams(tf.ones((1, 10), bool), prompt, index, 2)

    assert np.flatnonzero(~step(tf.constant(4)).numpy()[0]).tolist() == [8]


def test_previous_tokens_has_a_static_shape_under_xla():
    prompt = tf.constant([[2, 7, 9, 0], [2, 8, 3, 0]])

    @tf.function(jit_compile=True)
    def step(index):
        tokens = previous_tokens(prompt, index)
        assert tokens.shape == (2, 1)  # known while tracing
        return tokens

    assert step(tf.constant(3)).numpy().tolist() == [[9], [3]]
