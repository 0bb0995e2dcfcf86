import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_hub.samplers import BeamSampler, GreedySampler, TopKSampler, TopPSampler

from keras_roleplay.applications import RoleResponder
from keras_roleplay.data.text import END_ID, GENERATION_TOKENS, PAD_ID, START_ID
from keras_roleplay.metrics import reply_perplexity
from tests.saving import reload_in_fresh_process

ROLES = ["knight", "pirate"]
# The reply depends on the role and the context: the model must read both.
REPLIES = {
    ("knight", "hello there"): "good morrow , fair traveller",
    ("pirate", "hello there"): "ahoy matey , welcome aboard",
    ("knight", "goodbye now"): "farewell , and god speed",
    ("pirate", "goodbye now"): "yo ho , off ye go",
}
SMALL = dict(
    sequence_length=6, reply_length=10, hidden_dim=32, num_heads=2, num_layers=1
)


def _data(repeat=8):
    keys = list(REPLIES) * repeat
    contexts = [c for _, c in keys]
    roles = [r for r, _ in keys]
    replies = [REPLIES[k] for k in keys]
    return contexts, replies, roles


def _model(**kwargs):
    contexts, replies, _ = _data(1)
    # A whole-word vocabulary: a WordPiece learner splits the words of so
    # small a corpus into pieces.
    words = sorted({w for text in contexts + replies for w in text.split()})
    vocabulary = [*GENERATION_TOKENS, *words, "a", "b", "c"]
    return RoleResponder(vocabulary, roles=ROLES, **{**SMALL, **kwargs})


def _images(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (n, 16, 16, 3)).astype("float32")


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    model = _model(dropout=0.0)
    contexts, replies, roles = _data()
    data = model.dialogue_dataset(contexts, replies, roles, batch_size=8)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(data, epochs=25, verbose=0)
    return model, history


def test_output_is_logits_per_reply_position():
    model = _model()
    inputs = {
        "role": np.array([0, 1]),
        "context": np.ones((2, 6), "int32"),
        "reply": np.ones((2, 10), "int32"),
    }
    logits = model.predict(inputs, verbose=0)
    assert logits.shape == (2, 10, model.vocabulary_size)
    assert logits.dtype == np.float32
    assert model.num_roles == 2 and model.feature_grid is None


def test_image_model_has_a_region_grid():
    model = _model(image_shape=(16, 16, 3), cnn_filters=(4, 8))
    assert model.feature_grid == (4, 4)
    inputs = {
        "role": np.array([0]),
        "context": np.ones((1, 6), "int32"),
        "reply": np.ones((1, 10), "int32"),
        "image": _images(1),
    }
    assert model.predict(inputs, verbose=0).shape == (1, 10, model.vocabulary_size)


def test_preprocess_teacher_forcing_and_context_truncation():
    model = _model()
    features = {
        "context": tf.constant(["hello there", "a b c d e f g hello there"]),
        "reply": tf.constant(["yo ho", "farewell"]),
        "role": tf.constant([1, 0]),
    }
    inputs, targets, weights = model.preprocess(features)
    reply = np.asarray(inputs["reply"])
    assert reply.shape == (2, 10) and (reply[:, 0] == START_ID).all()
    np.testing.assert_array_equal(np.asarray(targets)[:, :-1], reply[:, 1:])
    assert np.asarray(weights).sum(1).tolist() == [3.0, 2.0]  # yo ho [END]
    context = np.asarray(inputs["context"])
    # The long context keeps its last tokens, the most recent words.
    n = int((context[0] != PAD_ID).sum())
    assert (context[1] != PAD_ID).all()
    assert context[1, -n:].tolist() == context[0, :n].tolist()


def test_learns_replies_that_depend_on_role_and_context(trained):
    model, history = trained
    assert history.history["loss"][-1] < history.history["loss"][0] / 4
    contexts = [c for _, c in REPLIES]
    roles = [r for r, _ in REPLIES]
    assert model.generate(contexts, role=roles) == list(REPLIES.values())


def test_cached_generation_equals_rerunning_the_model(trained):
    model, _ = trained
    contexts = ["hello there", "goodbye now", "hello", "goodbye there"]
    roles = ["pirate", "knight", "knight", "pirate"]
    cached = model.generate(contexts, role=roles)
    assert cached == model.generate_without_cache(contexts, role=roles)
    # Batching and the padded last batch change nothing.
    assert model.generate(contexts, role=roles, batch_size=3) == cached


def test_role_guidance_follows_its_rule_with_caches(trained):
    model, _ = trained
    contexts = ["hello there", "goodbye now", "hello", "goodbye there"]
    roles = ["pirate", "knight", "knight", "pirate"]
    for weight in (0.5, 3.0):
        guided = model.generate(contexts, role=roles, role_guidance=weight)
        expected = model.generate_without_cache(
            contexts, role=roles, role_guidance=weight
        )
        assert guided == expected, weight
    # Beam search keeps a reply's two streams together.
    beam = model.generate(
        ["hello there"], role="knight", sampler="beam", role_guidance=2.0
    )
    assert beam == [REPLIES[("knight", "hello there")]]
    sampled = model.generate(
        contexts, role=roles, sampler="top_p", seed=1, role_guidance=2.0
    )
    assert len(sampled) == 4
    with pytest.raises(ValueError, match="role_guidance.*Received: role_guidance=0"):
        model.generate(contexts, role=roles, role_guidance=0)


def test_beam_and_top_k_samplers(trained):
    model, _ = trained
    beam = model.generate(["hello there"], role="knight", sampler="beam")
    assert beam == [REPLIES[("knight", "hello there")]]
    sampled = model.generate(
        ["hello there"] * 3, role="pirate", sampler=TopKSampler(k=2)
    )
    assert len(sampled) == 3 and all(isinstance(s, str) for s in sampled)


def test_top_p_sampling_and_repeated_ngrams(trained):
    model, _ = trained
    # Nucleus sampling at a low temperature keeps to the learned reply.
    sampled = model.generate(
        ["hello there"] * 2,
        role="pirate",
        sampler=TopPSampler(p=0.9, temperature=0.1),
        seed=0,
    )
    assert sampled == [REPLIES[("pirate", "hello there")]] * 2
    # An untrained model's greedy reply loops; the rule stops it.
    keras.utils.set_random_seed(3)
    untrained = _model()
    looping = untrained.generate("hello there", role="knight").split()
    assert len(set(looping)) < len(looping)
    for n, sampler in ((1, "greedy"), (2, "greedy"), (2, "beam")):
        words = untrained.generate(
            "hello there", role="knight", sampler=sampler, no_repeat_ngram_size=n
        ).split()
        ngrams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        assert len(set(ngrams)) == len(ngrams), (n, sampler, words)
    # A learned reply with no repeated bigram is unchanged by the rule.
    assert (
        model.generate("hello there", role="knight", no_repeat_ngram_size=2)
        == (REPLIES[("knight", "hello there")])
    )
    with pytest.raises(ValueError, match="no_repeat_ngram_size"):
        model.generate("hello there", role="knight", no_repeat_ngram_size=-1)


def test_banned_words_are_never_generated(trained):
    model, _ = trained
    contexts = [c for _, c in REPLIES] * 2
    roles = [r for r, _ in REPLIES] * 2
    banned = ["ahoy", "farewell", "god speed"]  # "god speed": a two-word sequence
    free = model.generate(contexts, role=roles)
    assert any("ahoy" in r for r in free) and any("god speed" in r for r in free)
    for sampler in ("greedy", "beam", "top_k"):
        replies = model.generate(
            contexts, role=roles, banned_tokens=banned, sampler=sampler, seed=1
        )
        words = [f" {r} " for r in replies]
        assert not any(f" {b} " in w for w in words for b in banned), replies
    # Per role: only the pirate may not say "ahoy"; the knight is untouched.
    replies = model.generate(
        ["hello there"] * 2, role=ROLES, banned_tokens={"pirate": ["ahoy"]}
    )
    assert replies[0] == REPLIES[("knight", "hello there")]
    assert "ahoy" not in replies[1].split()


def test_allowed_words_are_the_only_ones_generated(trained):
    model, _ = trained
    allowed = ["yo", "ho", "off", "go", ","]
    replies = model.generate(
        ["hello there", "goodbye now"], role="pirate", allowed_tokens=allowed
    )
    for reply in replies:
        assert set(reply.split()) <= set(allowed), reply
    # Only the knight is constrained.
    replies = model.generate(
        ["goodbye now"] * 2, role=ROLES, allowed_tokens={"knight": ["farewell"]}
    )
    assert set(replies[0].split()) <= {"farewell"}
    assert replies[1] == REPLIES[("pirate", "goodbye now")]


def test_round_trip_in_a_fresh_process(trained, tmp_path):
    model, _ = trained
    contexts, replies, roles = _data(1)
    batch = next(iter(model.dialogue_dataset(contexts, replies, roles)))[0]
    inputs = {k: np.asarray(v) for k, v in batch.items()}
    request = {"context": contexts, "role": roles}
    loaded = reload_in_fresh_process(model, inputs, tmp_path, generate=request)
    np.testing.assert_allclose(
        loaded["outputs"], model.predict(inputs, verbose=0), atol=1e-6
    )
    assert loaded["generated"] == model.generate(**request)


def test_image_model_round_trip_and_attention_maps(tmp_path):
    keras.utils.set_random_seed(1)
    model = _model(image_shape=(16, 16, 3), cnn_filters=(4, 8))
    contexts, replies, roles = _data(1)
    images = _images(len(contexts))
    model.compile()
    model.fit(
        model.dialogue_dataset(contexts, replies, roles, images=images),
        epochs=2,
        verbose=0,
    )
    maps = model.attention_maps("hello there", "knight", images[0])
    assert maps["tokens"][0] == "<role>" and len(maps["tokens"]) == 3
    assert maps["maps"].shape == (3, 4, 4)
    np.testing.assert_allclose(maps["maps"].sum((1, 2)), 1.0, atol=1e-5)
    batch = next(iter(model.dialogue_dataset(contexts, replies, roles, images=images)))
    inputs = {k: np.asarray(v) for k, v in batch[0].items()}
    request = {"context": contexts[:2], "role": roles[:2], "image": images[:2]}
    loaded = reload_in_fresh_process(model, inputs, tmp_path, generate=request)
    np.testing.assert_allclose(
        loaded["outputs"], model.predict(inputs, verbose=0), atol=1e-6
    )
    assert loaded["generated"] == model.generate(**request)


def test_role_changes_perplexity_and_no_role_ablation_ignores_it(trained):
    model, _ = trained
    contexts, replies, roles = _data(1)
    true = reply_perplexity(model, model.dialogue_dataset(contexts, replies, roles))
    swapped = [ROLES[1 - ROLES.index(r)] for r in roles]
    wrong = reply_perplexity(model, model.dialogue_dataset(contexts, replies, swapped))
    assert true < 1.5 < wrong
    ablation = _model(use_role=False)
    inputs = next(iter(ablation.dialogue_dataset(contexts, replies, roles)))[0]
    other = dict(inputs, role=tf.constant([1 - int(r) for r in inputs["role"]]))
    np.testing.assert_allclose(ablation(inputs), ablation(other), atol=1e-6)


def test_perplexity_is_exp_of_the_mean_token_loss(trained):
    model, _ = trained
    contexts, replies, roles = _data(1)
    data = model.dialogue_dataset(contexts, replies, roles, batch_size=3)
    losses, counts = 0.0, 0
    for inputs, targets, weights in data:
        logits = np.asarray(model(inputs, training=False), "float64")
        logits -= logits.max(-1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        picked = np.take_along_axis(log_probs, np.asarray(targets)[..., None], -1)
        losses -= (picked[..., 0] * np.asarray(weights)).sum()
        counts += np.asarray(weights).sum()
    assert reply_perplexity(model, data) == pytest.approx(
        np.exp(losses / counts), rel=1e-4
    )


def test_special_ids_follow_the_shared_convention():
    model = _model()
    assert model.vocabulary[PAD_ID] == "[PAD]" and model.vocabulary[END_ID] == "[END]"


def test_bad_input_gets_clear_errors(trained):
    model, _ = trained
    with pytest.raises(ValueError, match="Unknown role 'wizard'"):
        model.generate("hello there", role="wizard")
    with pytest.raises(ValueError, match=r"Role ids must be in \[0, 2\)"):
        model.generate("hello there", role=5)
    with pytest.raises(TypeError, match="role"):
        model.generate("hello there", role=1.5)
    with pytest.raises(ValueError, match="7 tokens.*sequence_length=6"):
        model.generate("hello there a b c d e", role="knight", truncate_context=False)
    with pytest.raises(ValueError, match="text-only"):
        model.generate("hello there", role="knight", image=_images(1)[0])
    with pytest.raises(ValueError, match="sampler"):
        model.generate("hello there", role="knight", sampler="nucleus")
    with pytest.raises(ValueError, match="max_length"):
        model.generate("hello there", role="knight", max_length=11)
    # Bounds on the work a call asks for, and settings that mean nothing.
    for bad in (0, -1):
        with pytest.raises(ValueError, match=f"max_length={bad}"):
            model.generate("hello there", role="knight", max_length=bad)
    with pytest.raises(ValueError, match=r"k=1000000"):
        model.generate("hello", role="knight", sampler=TopKSampler(k=10**6))
    for value in (float("inf"), float("nan")):
        for name, options in (
            ("temperature", dict(sampler=TopPSampler(p=0.9, temperature=value))),
            ("p", dict(sampler=TopPSampler(p=value))),
            ("role_guidance", dict(sampler="top_p", role_guidance=value)),
        ):
            with pytest.raises(ValueError, match=f"`{name}` must be a finite"):
                model.generate("hello", role="knight", **options)
    with pytest.raises(ValueError, match="`temperature` only changes"):
        model.generate("hello", role="knight", sampler=GreedySampler(temperature=0.5))
    with pytest.raises(ValueError, match="`temperature` only changes"):
        model.generate("hello", role="knight", sampler=BeamSampler(temperature=2.0))
    with pytest.raises(ValueError, match="return_all_beams"):
        model.generate(
            "hello", role="knight", sampler=BeamSampler(return_all_beams=True)
        )
    with pytest.raises(ValueError, match="2 roles for 3 contexts"):
        model.generate(["hello"] * 3, role=["knight", "pirate"])
    with pytest.raises(ValueError, match="cannot spell"):
        model.generate("hello", role="knight", banned_tokens=["🙂"])
    with pytest.raises(TypeError, match="banned_tokens"):
        model.generate("hello", role="knight", banned_tokens="ahoy")
    # Nothing to reply to: refused, not answered as if it were a question.
    for empty, where in (("", r"\[0\]"), ("   \n", r"\[0\]"), (["hi", " "], r"\[1\]")):
        with pytest.raises(ValueError, match=f"`context` {where} is empty"):
            model.generate(empty, role="knight")
    for ids in (np.zeros((0, 6), "int32"), np.zeros((2, 6), "int32")):
        with pytest.raises(ValueError, match="at least one row"):
            model.generate(ids, role="knight")
    image_model = _model(image_shape=(16, 16, 3), cnn_filters=(4, 8))
    for bad in (np.full((16, 16, 3), np.nan), np.full((16, 16, 3), np.inf)):
        with pytest.raises(ValueError, match="NaN or infinite"):
            image_model.generate("hello", role="knight", image=bad)
    with pytest.raises(TypeError, match="booleans"):
        image_model.generate("hello", role="knight", image=np.ones((16, 16, 3), bool))
    with pytest.warns(UserWarning, match=r"scaled to \[0, 1\]"):
        image_model.generate("hello", role="knight", image=np.full((16, 16, 3), 0.5))
    with pytest.raises(ValueError, match="pass `image`"):
        image_model.generate("hello there", role="knight")
    with pytest.raises(ValueError, match="must be RGB images"):
        image_model.generate("hello", role="knight", image=np.zeros((8, 8, 1)))
    with pytest.raises(ValueError, match="one per context"):
        image_model.generate(["hello"] * 3, role="knight", image=_images(2))
    with pytest.raises(ValueError, match=r"sequence_length=6. Received: context"):
        model.generate(np.ones((1, 7), "int32"), role="knight")
    with pytest.raises(ValueError, match=rf"in \[0, {model.vocabulary_size}\)"):
        model.generate(np.array([[4, 99]]), role="knight")
    with pytest.raises(ValueError, match="num_heads"):
        _model(hidden_dim=30, num_heads=4)
    with pytest.raises(ValueError, match="distinct"):
        RoleResponder(vocabulary=model.vocabulary, roles=["a", "a"])
    with pytest.raises(ValueError, match="special tokens"):
        RoleResponder(vocabulary=["a", "b"], roles=ROLES)
    with pytest.raises(ValueError, match="image_encoder"):
        _model(image_shape=(32, 32, 3), image_encoder="resnet")


@pytest.mark.parametrize("use_role", [True, False])
def test_mixed_precision_and_xla(use_role):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = _model(image_shape=(16, 16, 3), cnn_filters=(4, 8), use_role=use_role)
        contexts, replies, roles = _data(1)
        data = model.dialogue_dataset(
            contexts, replies, roles, images=_images(len(contexts))
        )
        model.compile(jit_compile=True)
        history = model.fit(data, epochs=2, verbose=0)
        assert np.isfinite(history.history["loss"]).all()
        assert model.compute_dtype == "bfloat16"
        replies = model.generate(contexts[:2], role=roles[:2], image=_images(2))
        assert len(replies) == 2 and all(isinstance(r, str) for r in replies)
    finally:
        keras.config.set_dtype_policy(previous)


@pytest.mark.parametrize("sampler", ["greedy", "beam"])
def test_generate_with_xla_gives_the_graph_replies(trained, sampler):
    model, _ = trained
    contexts, _, roles = _data(1)
    options = dict(role=roles, sampler=sampler, banned_tokens={ROLES[0]: ["ahoy"]})
    expected = model.generate(contexts, **options)
    previous = model.jit_compile
    model.jit_compile = True  # what compile() picks on a GPU
    try:
        assert model.generate(contexts, **options) == expected
        assert any(key[-1] for key in model._generate_functions)  # XLA was used
    finally:
        model.jit_compile = previous


def test_fit_under_distribution_strategy():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = _model()
        model.compile()
    contexts, replies, roles = _data(2)
    history = model.fit(
        model.dialogue_dataset(contexts, replies, roles, batch_size=4),
        epochs=2,
        verbose=0,
    )
    assert np.isfinite(history.history["loss"]).all()
    assert len(model.generate(contexts[:3], role=roles[:3])) == 3


def test_no_role_is_the_zero_role_and_takes_global_constraints(trained):
    model, _ = trained
    inputs = next(iter(model.dialogue_dataset(["hello there"], ["yo ho"], [None])))[0]
    assert int(inputs["role"][0]) == -1
    embedding = model.backbone.get_layer("role_embedding")
    np.testing.assert_allclose(embedding(np.array([-1])), np.zeros((1, 32)))
    bias = model.backbone.get_layer("role_vocabulary_bias")
    np.testing.assert_allclose(bias(np.array([-1])), 0.0)
    free = model.generate(["hello there"] * 2, role=[None, "pirate"])
    assert all(isinstance(r, str) for r in free)
    banned = model.generate(
        ["hello there"] * 2, role=[None, "pirate"], banned_tokens=["ahoy", "good"]
    )
    assert not {"ahoy", "good"} & set(" ".join(banned).split())
    # A role's own list leaves "no role" alone.
    per_role = model.generate(
        ["hello there"], role=[None], banned_tokens={"pirate": ["ahoy", "good"]}
    )
    assert per_role == free[:1]


def test_long_context_can_be_truncated_as_in_training(trained):
    model, _ = trained
    long_context = "a b c goodbye now"  # 5 tokens: "b" + these are the last 6
    with pytest.raises(ValueError, match="sequence_length=6"):
        model.generate("a b " + long_context, role="pirate", truncate_context=False)
    kept = model.generate("a b " + long_context, role="pirate", truncate_context=True)
    assert kept == model.generate("b " + long_context, role="pirate")
    # The default (chat use): shortened the same way, with a warning.
    with pytest.warns(UserWarning, match=r"7 tokens.*1 context\(s\) shortened"):
        warned = model.generate("a b " + long_context, role="pirate")
    assert warned == kept


def test_one_context_gives_one_reply_and_token_ids_give_token_ids(trained):
    model, _ = trained
    contexts, _, roles = _data(1)
    replies = model.generate(contexts, role=roles)
    assert model.generate(contexts[1], role=roles[1]) == replies[1]
    # Token ids in, token ids out: what runs without TensorFlow.
    ids = np.asarray(model.tokenize_context(contexts))[:, :3]  # shorter is padded
    generated = model.generate(ids, role=roles)
    assert generated.dtype.kind == "i" and generated.shape == (4, model.reply_length)
    assert model.detokenize(generated) == replies
    one = model.generate(ids[1], role=roles[1])
    np.testing.assert_array_equal(one, generated[1])


def test_images_of_another_size_are_resized():
    keras.utils.set_random_seed(0)
    model = _model(image_shape=(16, 16, 3), cnn_filters=(4, 8))
    large = np.repeat(np.repeat(_images(2), 2, axis=1), 2, axis=2)  # 32x32
    resized = keras.ops.image.resize(large, (16, 16), antialias=True)
    options = dict(role=["knight", "pirate"], max_length=4)
    assert model.generate(["hello"] * 2, image=large, **options) == model.generate(
        ["hello"] * 2, image=keras.ops.convert_to_numpy(resized), **options
    )


def test_preprocessing_one_unbatched_example_gives_the_batched_row():
    model = _model()
    example = {"context": "hello there", "reply": "ahoy matey", "role": 1}
    inputs, targets, weights = model.preprocessor(example)
    batch = {key: [value] for key, value in example.items()}
    batched, batched_targets, batched_weights = model.preprocessor(batch)
    assert inputs["reply"].shape == (SMALL["reply_length"],)
    for key in inputs:
        np.testing.assert_array_equal(inputs[key], batched[key][0])
    np.testing.assert_array_equal(targets, batched_targets[0])
    np.testing.assert_array_equal(weights, batched_weights[0])


def test_lengths_cannot_change_after_construction():
    model = _model()
    for name in ("sequence_length", "reply_length"):
        with pytest.raises(AttributeError, match=f"`{name}` is fixed"):
            setattr(model.preprocessor, name, 99)
    assert model.preprocessor.get_config()["sequence_length"] == 6


def _policies(model):
    """Each layer's policy but the float32 logits' (and nested functional
    models', which Keras gives no policy of their own)."""
    float32_outputs = {"logits", "role_vocabulary_bias"}
    return {
        layer.name: layer.dtype_policy.name
        for layer in model.backbone._flatten_layers(include_self=False)
        if layer.weights
        and layer.name not in float32_outputs
        and not isinstance(layer, keras.Model)
    }


@pytest.mark.parametrize("image", [False, True])
def test_dtype_reaches_every_layer_and_is_saved(tmp_path, image):
    kwargs = dict(image_shape=(16, 16, 3), cnn_filters=(4,)) if image else {}
    model = _model(dtype="mixed_bfloat16", **kwargs)
    policies = _policies(model)
    assert len(policies) >= 6 and set(policies.values()) == {"mixed_bfloat16"}
    inputs = {
        "role": np.array([0]),
        "context": np.ones((1, 6), "int32"),
        "reply": np.ones((1, 10), "int32"),
    }
    if image:
        inputs["image"] = _images(1)
    outputs = model(inputs)
    assert keras.backend.standardize_dtype(outputs.dtype) == "float32"  # logits
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert _policies(loaded) == policies
    np.testing.assert_allclose(loaded(inputs), outputs, atol=1e-6)
    # No dtype: the global policy, and none saved in the config.
    plain = _model(**kwargs)
    assert set(_policies(plain).values()) == {"float32"}
    assert "dtype" not in plain.backbone.get_config()
