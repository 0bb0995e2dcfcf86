"""Benchmark: reward tuning of the Shakespeare preset with a role judge's reward.

    python benchmarks/shakespeare_reward_tuning.py [--budget 600] [--test 184]
        [--reward fixed|adversarial|dpo] [--seed 0]

The `shakespeare_roles` preset, then `--budget` seconds of reward tuning
(`training.fit_reply_rewards`) on the characters' training contexts:
replies sampled as the chat samples them (top-p 0.9, temperature 0.8)
but **without role guidance**, rewarded by a role judge's probability of
the asked-for character (`RoleJudgeReward`, a judge trained on the gold
training replies with seed 1) minus a repetition penalty, with a KL
penalty to the preset's weights and the gold replies' teacher forcing
mixed in.

`--reward adversarial`: the reward is instead a discriminator's
probability that a reply is real and the asked-for character's
(`training.AdversarialRoleReward`, Li et al. 2017): a judge over the
characters and a "generated" class, pretrained on the training speeches
and the preset's own samples, retrained every 8 steps on the samples it
scored against as many real speeches.

`--reward dpo`: the offline alternative (`training.fit_reply_preferences`,
Rafailov et al. 2023): 4 replies sampled once a training context, the
reward's best and worst a pair, then DPO on the pairs; the sampling counts
in the budget.

Scored before and after, on the held-out test scenes, by another judge
(seed 2: not the reward's):

- how often the judge names the asked-for character of sampled replies
  without guidance, against how often it names the speakers of the real
  replies (the bar: at least 0.8x);
- made-up words: words of the replies the plays never use outside the
  held-out scenes (the preset's lexicon allows none);
- distinct-2 of the replies (the bar: at least 0.5);
- the held-out perplexity of the real replies with their true roles (the
  bar: not more than 5% worse).
"""

import argparse
import json
import re
import time

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras
from keras_hub.samplers import TopPSampler

from keras_roleplay.applications import RoleResponder
from keras_roleplay.metrics import distinct_n, reply_perplexity
from keras_roleplay.metrics.role_play import role_accuracy
from keras_roleplay.training import (
    AdversarialRoleReward,
    TimeBudget,
    fit_reply_preferences,
    fit_reply_rewards,
    sample_preference_pairs,
    train_role_discriminator,
)
from keras_roleplay.training.recipes.shakespeare_recipe import (
    shakespeare_data,
    shakespeare_judge,
)
from keras_roleplay.training.rewards import (
    RepetitionPenalty,
    RoleJudgeReward,
    WeightedRewards,
)

SAMPLING = dict(sampler=TopPSampler(p=0.9, temperature=0.8), truncate_context=True)


def words_of(text):
    """Lower-case words, punctuation and apostrophes dropped (both sides alike)."""
    return re.findall(r"[a-z]+", str(text).lower())


def scores(model, judge, test, plays_words, seed=0):
    contexts = list(test["context"])
    roles = [model.roles[i] for i in test["role"]]
    replies = model.generate(contexts, role=roles, seed=seed, **SAMPLING)
    words = [w for reply in replies for w in words_of(reply)]
    return {
        "judge names the asked role, sampled": role_accuracy(judge, replies, roles),
        "judge names the speaker, real": role_accuracy(
            judge, list(test["reply"]), roles
        ),
        "made-up words": sum(w not in plays_words for w in words) / max(len(words), 1),
        "distinct-2": distinct_n(replies, 2),
        "perplexity, true role": reply_perplexity(
            model, model.dialogue_dataset(contexts, list(test["reply"]), roles)
        ),
        "examples": replies[:5],
    }


def tune_by_preferences(model, train, train_roles, reward, args):
    """DPO within the budget: pairs sampled once (4 replies a context, the
    reward's best and worst), then trained on until the budget is spent."""
    start = time.perf_counter()
    pairs = sample_preference_pairs(
        model,
        list(train["context"]),
        train_roles,
        reward,
        num_samples=4,
        sampler=SAMPLING["sampler"],
        seed=args.seed,
    )
    sampling = time.perf_counter() - start
    print(f"{len(pairs['chosen'])} pairs sampled in {sampling:.0f} s", flush=True)
    return fit_reply_preferences(
        model,
        pairs,
        beta=args.beta,
        epochs=100,
        batch_size=8,
        learning_rate=args.learning_rate,
        seed=args.seed,
        callbacks=[TimeBudget(max(args.budget - sampling, 1.0))],
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0)
    parser.add_argument("--test", type=int, default=184)
    parser.add_argument("--learning-rate", type=float, default=1e-5)
    parser.add_argument("--kl-weight", type=float, default=0.05)
    parser.add_argument("--teacher-forcing", type=float, default=0.2)
    parser.add_argument(
        "--reward", choices=("fixed", "adversarial", "dpo"), default="fixed"
    )
    parser.add_argument("--beta", type=float, default=0.1, help="for dpo")
    parser.add_argument(
        "--seed", type=int, default=0, help="the tuning's order and sampling"
    )
    args = parser.parse_args()
    train, validation, test, plays = shakespeare_data()
    test = {k: v[: args.test] for k, v in test.items()}
    plays_words = {w for text in plays["reply"] for w in words_of(text)}
    plays_words |= {w for text in plays["context"] for w in words_of(text)}
    model = RoleResponder.from_preset("shakespeare_roles")
    judges = {}
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        judges[seed] = shakespeare_judge(
            model.tokenizer.vocabulary, model.roles, train, validation
        )
    before = scores(model, judges[2], test, plays_words)
    print(json.dumps({"before": before}, default=float), flush=True)
    train_roles = [model.roles[i] for i in train["role"]]
    if args.reward == "adversarial":
        discriminator = train_role_discriminator(
            model,
            list(train["context"]),
            train_roles,
            list(train["reply"]),
            sampler=SAMPLING["sampler"],
            epochs=8,
            sequence_length=64,
            hidden_dim=32,
            seed=1,
        )
        role_reward = AdversarialRoleReward(
            discriminator, list(train["reply"]), train_roles, update_every=8
        )
    else:
        role_reward = RoleJudgeReward(judges[1])
    reward = WeightedRewards({role_reward: 1.0, RepetitionPenalty(): 0.5})
    start = time.perf_counter()
    if args.reward == "dpo":
        history = tune_by_preferences(model, train, train_roles, reward, args)
    else:
        history = fit_reply_rewards(
            model,
            list(train["context"]),
            train_roles,
            reward,
            references=list(train["reply"]),
            epochs=100,
            batch_size=8,
            num_samples=4,
            learning_rate=args.learning_rate,
            kl_weight=args.kl_weight,
            teacher_forcing=args.teacher_forcing,
            sampler=TopPSampler(p=0.9, temperature=0.8),
            seed=args.seed,
            callbacks=[TimeBudget(args.budget)],
        )
    seconds = time.perf_counter() - start
    after = scores(model, judges[2], test, plays_words)
    print(json.dumps({"after": after, "seconds": seconds}, default=float))
    print(
        "per epoch:",
        {k: [round(v, 3) for v in values] for k, values in history.history.items()},
    )
    if args.reward == "adversarial":
        print(
            f"discriminator: {role_reward.updates} updates; share of fresh samples "
            f"it did not call generated, first and last: "
            f"{role_reward.fooled[0]:.3f}, {role_reward.fooled[-1]:.3f}"
            if role_reward.fooled
            else "discriminator: no update"
        )
    real = after["judge names the speaker, real"]
    for label, result in (("before", before), ("after", after)):
        named = result["judge names the asked role, sampled"]
        print(
            f"{label:>6}: named {named:.3f} ({named / real:.2f}x real {real:.3f}), "
            f"made-up words {result['made-up words']:.4f}, distinct-2 "
            f"{result['distinct-2']:.3f}, "
            f"perplexity {result['perplexity, true role']:.2f}"
        )
    ratio = after["perplexity, true role"] / before["perplexity, true role"]
    named = after["judge names the asked role, sampled"] / real
    print(
        f"bars: named >= 0.8x real: {named >= 0.8}; made-up words not more: "
        f"{after['made-up words'] <= before['made-up words']}; distinct-2 >= 0.5: "
        f"{after['distinct-2'] >= 0.5}; perplexity within 5%: {ratio <= 1.05} "
        f"({ratio:.3f}x)"
    )


if __name__ == "__main__":
    main()
