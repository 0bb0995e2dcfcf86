import h5py
import keras
import numpy as np
import pytest
from keras_hub.samplers import BeamSampler, TopPSampler

from keras_roleplay.applications import RoleResponder
from keras_roleplay.utils.special_tokens import END_ID, GENERATION_TOKENS
from keras_roleplay.utils.word_trie import (
    ROOT,
    WordPieceTrie,
    end_at_last_sentence,
    lexicon_words,
)

TEXTS = [
    "good morrow , my lord .",
    "what news from the king ?",
    "the kingdom is lost !",
    "my good lord , speak .",
]


def test_the_trie_allows_only_paths_to_words_of_the_lexicon():
    vocabulary = [*GENERATION_TOKENS, "king", "##dom", "##ly", "lo", "##st", "."]
    king, dom, ly, lo, st, stop = range(4, 10)
    trie = WordPieceTrie(vocabulary, [(king,), (king, dom), (lo, st), (stop,)])
    root = set(np.flatnonzero(trie.allowed(ROOT)))
    assert root == {END_ID, king, lo, stop}  # first pieces and [END]
    after_king = trie.next_node(ROOT, king)  # "king" is a word, "kingdom" too
    assert set(np.flatnonzero(trie.allowed(after_king))) == {
        END_ID,
        king,
        lo,
        stop,
        dom,
    }
    after_lo = trie.next_node(ROOT, lo)  # "lo" is no word: only "##st"
    assert set(np.flatnonzero(trie.allowed(after_lo))) == {st}
    lost = trie.next_node(after_lo, st)
    assert trie.boundary[lost] and not trie.boundary[after_lo]
    assert ly not in np.flatnonzero(trie.allowed(after_king))  # "kingly": unknown
    # A new word starts from the root whatever came before.
    assert trie.next_node(lost, king) == after_king


def test_lexicon_words_split_token_ids_into_words():
    vocabulary = [*GENERATION_TOKENS, "king", "##dom", "."]
    words = lexicon_words([[4, 5, 6, 4], [5, 4]], vocabulary)
    # A continuation piece with no first piece before it is no word.
    assert words == {(4, 5), (6,), (4,)}


def test_a_trie_too_big_for_int32_keys_is_refused():
    vocabulary = [*GENERATION_TOKENS, *(f"w{i}" for i in range(100_000))]
    with pytest.raises(ValueError, match="overflow int32"):
        WordPieceTrie(vocabulary, [(i,) for i in range(4, 30_000)])


def _pieces_model(**kwargs):
    """An untrained responder whose vocabulary is mostly letters and pieces."""
    keras.utils.set_random_seed(0)
    return RoleResponder.from_dialogues(
        TEXTS,
        roles=["knight"],
        vocabulary_size=60,
        sequence_length=12,
        reply_length=12,
        hidden_dim=16,
        num_heads=2,
        num_layers=1,
        **kwargs,
    )


def _words(model):
    return {w.replace(" ##", "") for w in model.lexicon}


def test_sampled_replies_use_only_words_of_the_lexicon():
    model = _pieces_model()
    assert any("##" in token for token in model.vocabulary)
    contexts = ["what news ?"] * 24
    options = dict(sampler=TopPSampler(p=1.0, temperature=1.5), seed=1)
    free = " ".join(model.generate(contexts, role="knight", **options)).split()
    assert model.learn_lexicon(TEXTS) == len(_words(model)) == 17
    words = _words(model)
    # Unconstrained, an untrained model joins pieces into non-words...
    made_up = [w for w in free if w not in words]
    assert len(made_up) > 0.5 * len(free)
    # ...with the lexicon (the default once it is set) it never does,
    # whatever the sampler.
    for extra in (
        options,
        dict(sampler="greedy"),
        dict(sampler=BeamSampler(num_beams=3)),
        dict(options, role_guidance=3.0),
    ):
        replies = model.generate(contexts, role="knight", **extra)
        assert set(" ".join(replies).split()) <= words, extra
    again = model.generate(contexts, role="knight", whole_words=False, **options)
    assert any(w not in words for w in " ".join(again).split())


def test_the_lexicon_is_saved_with_the_model_and_its_preset(tmp_path):
    model = _pieces_model()
    model.learn_lexicon(TEXTS)
    model.save(tmp_path / "model.keras")
    model.save_to_preset(tmp_path / "preset")
    assert (tmp_path / "preset" / "assets" / "tokenizer" / "lexicon.txt").exists()
    options = dict(sampler=TopPSampler(p=1.0, temperature=1.5), seed=2)
    expected = model.generate(["my lord ?"] * 8, role="knight", **options)
    for loaded in (
        keras.models.load_model(tmp_path / "model.keras"),
        RoleResponder.from_preset(tmp_path / "preset"),
    ):
        assert loaded.lexicon == model.lexicon
        assert loaded.generate(["my lord ?"] * 8, role="knight", **options) == expected


def test_float16_preset_weights_load_into_float32_close_to_the_originals(tmp_path):
    model = _pieces_model()
    model.save_to_preset(tmp_path / "half", weights_dtype="float16")
    model.save_to_preset(tmp_path / "full")

    def array_bytes(folder):
        sizes = []
        with h5py.File(tmp_path / folder / "model.weights.h5") as f:
            f.visititems(
                lambda _, item: (
                    sizes.append(item.nbytes)
                    if isinstance(item, h5py.Dataset)
                    else None
                )
            )
        return sum(sizes)

    assert array_bytes("half") == array_bytes("full") / 2
    loaded = RoleResponder.from_preset(tmp_path / "half")
    for a, b in zip(model.weights, loaded.weights, strict=True):
        assert b.dtype == "float32"
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match="weights_dtype"):
        model.save_to_preset(tmp_path / "x", weights_dtype="int8")


def test_whole_words_and_lexicon_errors():
    model = _pieces_model()
    with pytest.raises(ValueError, match="learn_lexicon"):
        model.generate("my lord", role="knight", whole_words=True)
    with pytest.raises(TypeError, match="whole_words"):
        model.generate("my lord", role="knight", whole_words="yes")
    with pytest.raises(ValueError, match="pieces outside the vocabulary"):
        model.preprocessor.lexicon = ["zzz ##qq"]
    continuation = next(t for t in model.vocabulary if t.startswith("##"))
    with pytest.raises(ValueError, match="without a first piece"):
        model.preprocessor.lexicon = [continuation]
    with pytest.raises(ValueError, match="without a first piece"):
        model.preprocessor.lexicon = [""]
    with pytest.raises(TypeError, match="lexicon"):
        model.preprocessor.lexicon = "good"


def test_replies_cut_by_max_length_end_at_their_last_sentence_end():
    vocabulary = [*GENERATION_TOKENS, "ay", ".", "but", "?"]
    ids = np.array(
        [
            [4, 5, 6, 6, 6],  # ran out mid-phrase: cut after "."
            [4, 7, 6, 5, 6],  # the last sentence end is the "."
            [4, END_ID, 0, 0, 0],  # finished: unchanged
            [6, 6, 6, 6, 6],  # no sentence end: unchanged
            [6, 6, 6, 6, 5],  # ends on its last token: unchanged
        ]
    )
    out = end_at_last_sentence(ids, vocabulary)
    assert out.tolist() == [
        [4, 5, END_ID, 0, 0],
        [4, 7, 6, 5, END_ID],
        [4, END_ID, 0, 0, 0],
        [6, 6, 6, 6, 6],
        [6, 6, 6, 6, 5],
    ]


def test_a_word_left_unfinished_by_max_length_is_dropped():
    vocabulary = [*GENERATION_TOKENS, "fro", "##m", "my", "."]
    fro, m, my, stop = range(4, 8)
    trie = WordPieceTrie(vocabulary, [(fro, m), (my,), (stop,)])
    out = trie.drop_unfinished_words(np.array([[my, fro], [fro, m], [my, END_ID]]))
    assert out.tolist() == [[my, 0], [fro, m], [my, END_ID]]


def test_a_reply_cut_inside_a_word_ends_at_its_last_sentence_end():
    options = dict(sampler=TopPSampler(p=1.0, temperature=1.5), seed=3, max_length=6)
    contexts = ["what news ?"] * 16
    replies = {}
    for end_at_sentence in (False, True):
        # A fresh model each time: a sampler's seed advances with each call.
        model = _pieces_model()
        model.learn_lexicon(TEXTS)
        replies[end_at_sentence] = model.generate(
            contexts, role="knight", end_at_sentence=end_at_sentence, **options
        )
    cut, ended = replies[False], replies[True]
    words = _words(model)
    changed = 0
    for before, after in zip(cut, ended, strict=True):
        b, a = before.split(), after.split()
        assert set(a) <= words and b[: len(a)] == a
        if a != b:  # it ran out of tokens
            changed += 1
            if set(b) & {".", "!", "?"}:  # cut back to its last sentence end
                assert a[-1] in {".", "!", "?"}
            else:  # with none, the last word it ran out inside is dropped
                assert len(b) == len(a) + 1
    assert changed
