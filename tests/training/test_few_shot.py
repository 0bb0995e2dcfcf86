"""Few-shot adaptation to a new role: role slots, MAML's start, adaptation."""

import keras
import numpy as np
import pytest

from keras_roleplay.applications import RoleResponder
from keras_roleplay.data.text import GENERATION_TOKENS
from keras_roleplay.metrics import reply_perplexity
from keras_roleplay.training import (
    RoleStart,
    adapt_to_role,
    add_roles,
    compare_role_adaptation,
    meta_learn_role_start,
    summarize_role_adaptation,
)
from tests.saving import reload_in_fresh_process

# A reply repeats its context and ends with its role's own word.
MARKERS = ["ahoy", "indeed", "verily", "aye", "forsooth", "zounds"]
ROLES = [f"role {i}" for i in range(len(MARKERS))]
SHARED = ["the", "ship", "tea", "is", "good", "here"]
TRAINED = 4  # roles 0-3 train the model and meta-learn; 4 and 5 are new


def _dialogue(role, n, seed):
    rng = np.random.default_rng(seed)
    contexts = [" ".join(rng.choice(SHARED, 2)) for _ in range(n)]
    return contexts, [f"{c} {MARKERS[role]}" for c in contexts]


def _data(roles, n, seed):
    contexts, replies, names = [], [], []
    for role in roles:
        c, r = _dialogue(role, n, seed + role)
        contexts += c
        replies += r
        names += [ROLES[role]] * n
    return contexts, replies, names


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    model = RoleResponder(
        [*GENERATION_TOKENS, *SHARED, *MARKERS],
        roles=ROLES[:TRAINED],
        sequence_length=4,
        reply_length=5,
        hidden_dim=16,
        num_heads=2,
        num_layers=1,
        dropout=0.0,
    )
    contexts, replies, roles = _data(range(TRAINED), 24, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(
        model.dialogue_dataset(contexts, replies, roles, shuffle=True, seed=0),
        epochs=15,
        verbose=0,
    )
    return model


def _perplexity(model, role, contexts, replies):
    return reply_perplexity(model, model.dialogue_dataset(contexts, replies, role))


def test_new_role_slots_keep_the_old_roles_and_start_as_no_role(trained):
    grown = add_roles(trained, ["new"])
    assert grown.roles == [*ROLES[:TRAINED], "new"]
    contexts, replies, roles = _data(range(TRAINED), 2, seed=5)
    data = grown.dialogue_dataset(contexts, replies, roles)
    inputs = {k: np.asarray(v) for k, v in next(iter(data))[0].items()}
    np.testing.assert_allclose(grown(inputs), trained(inputs), atol=1e-6)
    # A zero start is the "no role" of the model (role id -1).
    new = {**inputs, "role": np.full(len(contexts), grown.num_roles - 1)}
    none = {**inputs, "role": np.full(len(contexts), -1)}
    np.testing.assert_allclose(grown(new), trained(none), atol=1e-6)
    with pytest.raises(ValueError, match=r"\['role 0'\] are already roles"):
        add_roles(trained, ["role 0"])
    with pytest.raises(ValueError, match=r"`vector` must have shape \(16,\)"):
        add_roles(trained, ["new"], vector=np.zeros(3))


def test_maml_learns_a_start_that_adapts_a_new_role_from_few_speeches(trained):
    contexts, replies, roles = _data(range(TRAINED), 24, seed=10)
    start = meta_learn_role_start(
        trained,
        contexts,
        replies,
        roles,
        shots=4,
        query_size=8,
        steps=2,
        meta_steps=60,
        meta_learning_rate=3e-2,
        seed=0,
    )
    assert isinstance(start, RoleStart) and start.steps == 2
    # The query loss after adaptation falls as the start is meta-learned.
    assert np.mean(start.history[-10:]) < 0.5 * np.mean(start.history[:10])
    # Roles 4 and 5 were never seen: 4 speeches each, held-out ones scored.
    for role in (4, 5):
        support = _dialogue(role, 4, seed=100 + role)
        held_out = _dialogue(role, 16, seed=200 + role)
        name = ROLES[role]
        maml = adapt_to_role(trained, name, *support, start=start)
        plain = adapt_to_role(trained, name, *support, steps=start.steps)
        unadapted = add_roles(trained, [name])
        scores = [_perplexity(m, name, *held_out) for m in (maml, plain, unadapted)]
        assert scores[0] < scores[1] <= scores[2], (role, scores)
        # Only the new role's rows moved.
        inputs, _, _ = next(iter(maml.dialogue_dataset(*support, ROLES[0])))
        np.testing.assert_allclose(maml(inputs), unadapted(inputs), atol=1e-6)


def test_second_order_maml_runs_and_bad_arguments_are_refused(trained, tmp_path):
    contexts, replies, roles = _data(range(TRAINED), 8, seed=20)
    start = meta_learn_role_start(
        trained, contexts, replies, roles, shots=2, query_size=2, steps=1,
        meta_steps=2, first_order=False,
    )  # fmt: skip
    assert np.isfinite(start.history).all() and len(start.history) == 2
    assert all(s > 0 for s in start.step_sizes)
    # An adapted model is a RoleResponder like any: saved, reloaded safely.
    adapted = adapt_to_role(trained, "new", contexts[:2], replies[:2], start=start)
    inputs, _, _ = next(iter(adapted.dialogue_dataset(contexts, replies, "new")))
    inputs = {k: np.asarray(v) for k, v in inputs.items()}
    loaded = reload_in_fresh_process(adapted, inputs, tmp_path)
    expected = adapted.predict(inputs, verbose=0)
    np.testing.assert_allclose(loaded["outputs"], expected, atol=1e-6)
    with pytest.raises(ValueError, match="No role has more than `shots`=8"):
        meta_learn_role_start(trained, contexts, replies, roles, shots=8)
    with pytest.raises(ValueError, match="`shots` must be an integer >= 1"):
        meta_learn_role_start(trained, contexts, replies, roles, shots=0)
    with pytest.raises(ValueError, match="`steps` is required"):
        adapt_to_role(trained, "new", contexts[:2], replies[:2])
    with pytest.raises(TypeError, match="`start` must be a RoleStart"):
        adapt_to_role(trained, "new", contexts[:2], replies[:2], start="warm")


def test_the_comparison_table_scores_each_rule_on_each_new_character(trained):
    contexts, replies, roles = _data(range(TRAINED), 16, seed=30)
    characters = []
    for role in (4,):
        support, heard = _dialogue(role, 8, seed=300 + role), _dialogue(role, 8, 400)
        characters.append(
            {
                "name": ROLES[role],
                "support": dict(zip(("context", "reply"), support, strict=True)),
                "test": dict(zip(("context", "reply"), heard, strict=True)),
            }
        )
    # Small: whether MAML's start helps is the test above; this one checks
    # the table (each adapted model is a new RoleResponder, built and traced).
    rows = compare_role_adaptation(
        trained, contexts, replies, roles, characters, shots=[2, 4], draws=1,
        steps=2, meta_steps=2, learning_rates=[0.1], seed=0,
    )  # fmt: skip
    assert [(r["shots"], r["rule"], r["character"]) for r in rows] == [
        (k, rule, ROLES[role])
        for k in (2, 4)
        for role in (4,)
        for rule in ("no role", "MAML", "plain, Adam 0.1")
    ]
    # "No role" is the model as it is, for every k.
    for row in rows:
        if row["rule"] == "no role":
            heard = characters[ROLES.index(row["character"]) - 4]["test"]
            unadapted = add_roles(trained, [row["character"]])
            expected = _perplexity(unadapted, row["character"], *heard.values())
            assert row["perplexity"] == pytest.approx(expected, rel=1e-5)
        else:  # adapted: the role moved
            assert np.isfinite(row["perplexity"]) and row["perplexity"] != expected
    with pytest.raises(ValueError, match="fewer than the largest k"):
        compare_role_adaptation(
            trained, contexts, replies, roles, characters, shots=[16]
        )
    with pytest.raises(ValueError, match="'name', 'support' and 'test'"):
        compare_role_adaptation(trained, contexts, replies, roles, [{"name": "x"}])


def test_the_summary_averages_characters_by_k_and_rule():
    rows = [
        {"shots": k, "rule": rule, "character": c, "perplexity": p + k}
        for k in (8, 16)
        for rule in ("no role", "MAML")
        for c, p in (("Puck", 10.0 if rule == "MAML" else 30.0), ("Iago", 20.0))
    ]
    summary = summarize_role_adaptation(rows)
    assert [(s["shots"], s["rule"]) for s in summary] == [
        (8, "no role"), (8, "MAML"), (16, "no role"), (16, "MAML")
    ]  # fmt: skip
    assert [s["mean"] for s in summary] == [33.0, 23.0, 41.0, 31.0]
    assert [(s["lowest"], s["highest"]) for s in summary][1] == (18.0, 28.0)
    assert {s["characters"] for s in summary} == {2}
