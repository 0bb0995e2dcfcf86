"""Chooses the reply sampler by measurement: variety and role against real replies.

On the shipped `shakespeare_roles` preset (or a folder given with
`--preset`), generates a reply to every held-out test context with each
candidate decoding rule (greedy, beam, top-k, nucleus, with and without the
no-repeat-n-gram rule) and prints distinct-1/2 of the replies and how often
a role judge (trained here on the characters' training speeches, as the demo
does) names the asked-for character, beside its accuracy on the real
replies and chance. The bars for the default: distinct-2 >= 0.3 and
the judge at least 0.8x as often right as on real replies. Sampled rules
are the mean over `--seeds`. About 3 minutes on 2 CPU cores.

Usage:

    python scripts/measure_reply_samplers.py
"""

import argparse
import re

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras
import numpy as np
from keras_hub.samplers import TopKSampler, TopPSampler

from keras_roleplay.applications import RoleResponder
from keras_roleplay.metrics.role_play import reply_perplexity
from keras_roleplay.training import evaluate_replies
from keras_roleplay.training.recipes import (
    shakespeare_data,
    shakespeare_judge,
)
from keras_roleplay.utils.sampling import sampler_settings

CANDIDATES = {
    "greedy": dict(sampler="greedy"),
    "greedy, no repeated 3-gram": dict(sampler="greedy", no_repeat_ngram_size=3),
    "beam 4, no repeated 3-gram": dict(sampler="beam", no_repeat_ngram_size=3),
    "top-k 40, T 0.8": dict(sampler=TopKSampler(k=40, temperature=0.8)),
    "top-p 0.9, T 0.8": dict(sampler=TopPSampler(p=0.9, temperature=0.8)),
    "top-p 0.9, T 0.8, no repeated 3-gram": dict(
        sampler=TopPSampler(p=0.9, temperature=0.8), no_repeat_ngram_size=3
    ),
    "top-p 0.9, T 1.0, no repeated 3-gram": dict(
        sampler=TopPSampler(p=0.9, temperature=1.0), no_repeat_ngram_size=3
    ),
    "top-p 0.95, T 0.7, no repeated 3-gram": dict(
        sampler=TopPSampler(p=0.95, temperature=0.7), no_repeat_ngram_size=3
    ),
    **{
        f"top-p 0.9, T 0.8, role guidance {w:g}": dict(
            sampler=TopPSampler(p=0.9, temperature=0.8), role_guidance=w
        )
        for w in (2, 4, 8, 12, 16, 24)
    },
}
SAMPLED = ("top_k", "top_p")
WORD = re.compile(r"[a-z]+")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="shakespeare_roles")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--only", default="", help="the rules whose name holds this text"
    )
    args = parser.parse_args()

    model = RoleResponder.from_preset(args.preset)
    train, validation, test, plays = shakespeare_data()
    keras.utils.set_random_seed(0)
    judge = shakespeare_judge(model.vocabulary, model.roles, train, validation)
    print(f"{len(test['reply'])} test contexts, {len(model.roles)} characters")
    example = None
    # Every word of the plays outside the held-out scenes.
    words = {w for text in plays["reply"] for w in WORD.findall(str(text).lower())}
    print(f"{'rule':40s} distinct-1 distinct-2  judge  judge/real  fluency real words")
    for name, options in CANDIDATES.items():
        if args.only not in name:
            continue
        sampled = sampler_settings(options["sampler"])["sampler"] in SAMPLED
        seeds = args.seeds if sampled else [None]
        rows = []
        for seed in seeds:
            scores = evaluate_replies(
                model,
                judge,
                test["context"],
                test["role"],
                test["reply"],
                sampler=options["sampler"],
                generate_options={
                    **{k: v for k, v in options.items() if k != "sampler"},
                    "seed": seed,
                },
            )
            rows.append(
                [scores[k] for k in ("distinct_1", "distinct_2", "judge_generated")]
                + [fluency(model, test["context"], scores["replies"])]
                + [real_word_share(scores["replies"], words)]
            )
        distinct_1, distinct_2, judged, perplexity, real = np.mean(rows, axis=0)
        print(
            f"{name:40s} {distinct_1:10.3f} {distinct_2:10.3f} {judged:6.3f}"
            f" {judged / scores['judge_gold']:10.2f} {perplexity:8.1f} {real:10.3f}",
            flush=True,
        )
        if name == "greedy":
            example = scores["replies"][0]
    print(
        f"real replies: judge {scores['judge_gold']:.3f}, chance "
        f"{scores['chance']:.3f}, fluency "
        f"{fluency(model, test['context'], test['reply']):.1f}, real words "
        f"{real_word_share(test['reply'], words):.3f}; greedy's first "
        f"reply: {example!r}"
    )


def real_word_share(replies, words):
    """The share of the replies' words that the plays' training speeches hold
    (word pieces joined into a word the plays never use count against it)."""
    found = [w in words for reply in replies for w in WORD.findall(reply.lower())]
    return float(np.mean(found)) if found else 0.0


def fluency(model, contexts, replies):
    """The model's no-role perplexity of replies to contexts (lower: likelier
    English of the plays, whoever speaks), over the non-empty replies."""
    kept = [(c, r) for c, r in zip(contexts, replies, strict=True) if r.strip()]
    contexts, replies = zip(*kept, strict=True)
    dataset = model.dialogue_dataset(list(contexts), list(replies), None)
    return reply_perplexity(model, dataset)


if __name__ == "__main__":
    main()
