"""MAML against plain fine-tuning for new roles, by the number of examples k.

Used by `scripts/measure_few_shot_roles.py`, the demo and tutorial 04.
"""

import keras
import numpy as np

from keras_roleplay.training.few_shot import adapt_to_role, meta_learn_role_start
from keras_roleplay.training.role_slots import add_roles
from keras_roleplay.utils.validation import check_positive_int, check_positive_number


def compare_role_adaptation(
    model,
    contexts,
    replies,
    roles,
    characters,
    shots=(8, 16, 32),
    draws=3,
    steps=5,
    meta_steps=300,
    learning_rates=(1e-2, 3e-2, 1e-1),
    first_order=True,
    seed=0,
    log=None,
):
    """MAML against plain fine-tuning: new roles from k speeches, by k.

    For each k in `shots`: MAML meta-learns a start and step sizes over the
    model's own roles (`meta_learn_role_start` on `contexts`, `replies`,
    `roles`); then, for each new character, `draws` times, k of its
    `"support"` speeches are drawn and a role is adapted from them with the
    same number of steps, from MAML's start and by plain fine-tuning at
    each of `learning_rates`; each adapted model's perplexity is scored on
    the character's `"test"` speeches, beside the model with no role for it
    (`add_roles`'s zero start).

    Args:
        model: a trained text-only `RoleResponder`.
        contexts, replies, roles: the dialogue of the model's own roles.
        characters: new characters, as `datasets.shakespeare.new_characters`
            gives them: dicts of `"name"`, `"support"` and `"test"` (each a
            dict of `"context"` and `"reply"` arrays).
        shots: the k values.
        draws: support sets drawn per character and k.
        steps, meta_steps, first_order: as for `meta_learn_role_start`.
        learning_rates: Adam's rates tried for plain fine-tuning.
        seed: seeds the meta-learning and the draws (plus k).
        log: optional callable receiving progress lines.

    Returns:
        A list of dicts, one per (k, rule, character): `"shots"`, `"rule"`
        (`"no role"`, `"MAML"` or `"plain, Adam <rate>"`), `"character"`,
        `"perplexity"` (the mean over the draws).

    Example:

    >>> from keras_roleplay.applications import RoleResponder
    >>> model = RoleResponder.from_dialogues(["hi", "hello", "ahoy"],
    ...     roles=["a", "b"], sequence_length=4, hidden_dim=8, num_heads=2,
    ...     num_layers=1)
    >>> newcomer = {"name": "c", "support": {"context": ["hi"] * 4,
    ...     "reply": ["ahoy"] * 4}, "test": {"context": ["hi"], "reply": ["ahoy"]}}
    >>> rows = compare_role_adaptation(model, ["hi"] * 8, ["hello", "ahoy"] * 4,
    ...     ["a", "b"] * 4, [newcomer], shots=[2], draws=1, steps=1,
    ...     meta_steps=2, learning_rates=[0.1])
    >>> [row["rule"] for row in rows]
    ['no role', 'MAML', 'plain, Adam 0.1']
    """
    from keras_roleplay.metrics.role_play import reply_perplexity

    draws = check_positive_int("draws", draws)
    shots = [check_positive_int("shots", k) for k in np.atleast_1d(shots)]
    learning_rates = [
        check_positive_number("learning_rates", lr) for lr in learning_rates
    ]
    for character in characters:
        if not (
            isinstance(character, dict)
            and {"name", "support", "test"} <= set(character)
        ):
            raise ValueError(
                "`characters` must hold dicts with 'name', 'support' and 'test', "
                "as datasets.shakespeare.new_characters gives them. Received: "
                f"{character!r:.200}"
            )
        if len(character["support"]["reply"]) < max(shots):
            raise ValueError(
                f"{character['name']!r} has {len(character['support']['reply'])} "
                f"support speeches, fewer than the largest k in `shots`={shots}."
            )
    rules = ["no role", "MAML"] + [f"plain, Adam {lr:g}" for lr in learning_rates]
    rows = []
    for k in shots:
        keras.utils.set_random_seed(seed + k)
        start = meta_learn_role_start(
            model,
            contexts,
            replies,
            roles,
            shots=k,
            steps=steps,
            meta_steps=meta_steps,
            first_order=first_order,
            seed=seed + k,
            log=log,
        )
        if log:
            log(f"k={k}: {start}")
        rng = np.random.default_rng(seed + k)
        for character in characters:
            name, own = character["name"], character["support"]
            heard = character["test"]
            scores = {rule: [] for rule in rules}
            for _ in range(draws):
                drawn = rng.choice(len(own["reply"]), k, replace=False)
                support = (
                    np.asarray(own["context"])[drawn],
                    np.asarray(own["reply"])[drawn],
                )
                adapted = {
                    "no role": add_roles(model, [name]),
                    "MAML": adapt_to_role(model, name, *support, start=start),
                }
                for lr, rule in zip(learning_rates, rules[2:], strict=True):
                    adapted[rule] = adapt_to_role(
                        model, name, *support, steps=start.steps, learning_rate=lr
                    )
                for rule, m in adapted.items():
                    data = m.dialogue_dataset(heard["context"], heard["reply"], name)
                    scores[rule].append(reply_perplexity(m, data))
            rows += [
                {
                    "shots": k,
                    "rule": rule,
                    "character": name,
                    "perplexity": float(np.mean(scores[rule])),
                }
                for rule in rules
            ]
            if log:
                log(
                    f"  k={k} {name}: "
                    + ", ".join(f"{r} {np.mean(scores[r]):.1f}" for r in rules)
                )
    return rows


def summarize_role_adaptation(rows):
    """`compare_role_adaptation`'s rows over characters, by k and rule.

    Args:
        rows: the list `compare_role_adaptation` returns.

    Returns:
        A list of dicts, one per (k, rule) in the rows' order: `"shots"`,
        `"rule"`, `"mean"` (the mean perplexity over characters),
        `"lowest"` and `"highest"` (the spread across characters) and
        `"characters"` (how many).

    Example:

    >>> rows = [{"shots": 8, "rule": "MAML", "character": c, "perplexity": p}
    ...         for c, p in (("Puck", 90.0), ("Iago", 110.0))]
    >>> summarize_role_adaptation(rows)
    [{'shots': 8, 'rule': 'MAML', 'mean': 100.0, 'lowest': 90.0, 'highest': 110.0, 'characters': 2}]
    """  # noqa: E501
    summary = []
    for k in dict.fromkeys(row["shots"] for row in rows):
        for rule in dict.fromkeys(row["rule"] for row in rows):
            values = [
                row["perplexity"]
                for row in rows
                if row["shots"] == k and row["rule"] == rule
            ]
            if values:
                summary.append(
                    {
                        "shots": k,
                        "rule": rule,
                        "mean": float(np.mean(values)),
                        "lowest": float(min(values)),
                        "highest": float(max(values)),
                        "characters": len(values),
                    }
                )
    return summary
