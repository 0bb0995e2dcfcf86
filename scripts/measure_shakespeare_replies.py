"""What a reader of the Shakespeare preset's replies gets: real words, fluency, voice.

On the shipped `shakespeare_roles` preset (or a folder given with
`--preset`), for every held-out test context (184 speeches of the 10
characters), generates the asked-for character's reply with each decoding
rule below (the library's default for dialogue first) and prints:

- made-up words: the share of the replies' words that no training speech
  of the plays uses (word pieces joined into non-words count here), beside
  the real held-out replies' share;
- n-gram perplexity: a Kneser-Ney trigram model of the plays' training
  speeches (`metrics.KneserNeyLanguageModel`), its perplexity of the
  replies against its perplexity of the real replies (ratio);
- the model's own no-role perplexity of the replies (the reference model);
- distinct-2, and how often a role judge trained on the characters' real
  training speeches names the asked-for character, against real replies;
- the share of replies that end at a sentence end (`.`, `!`, `?`).

Then held-out nats per character of the real replies with the true role
(`metrics.reply_nats_per_character`), for this preset and, with
`--baseline FOLDER`, for another one on the same replies (those whole in
both), and the first two held-out contexts of each character with the
default decoding's reply, verbatim (not chosen). `--write-card` stores the
default decoding's figures in the preset's card (`reply_figures`).

Sampled rules are the mean over `--seeds`. About 5 minutes on 2 CPU cores.

Usage:

    python scripts/measure_shakespeare_replies.py
    python scripts/measure_shakespeare_replies.py --baseline old_preset/
"""

import argparse
import json
import os

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras
import numpy as np

from keras_roleplay.applications import RoleResponder
from keras_roleplay.data.sentences import ends_a_sentence
from keras_roleplay.metrics import (
    KneserNeyLanguageModel,
    reply_nats_per_character,
    reply_perplexity,
    role_accuracy,
)
from keras_roleplay.models.role_responder.role_guidance import (
    DIALOGUE_DECODING,
)
from keras_roleplay.presets import CARD_FILE
from keras_roleplay.training import evaluate_replies
from keras_roleplay.training.recipes import (
    shakespeare_data,
    shakespeare_judge,
)
from keras_roleplay.utils.presets import _preset_folder
from keras_roleplay.utils.sampling import sampler_settings

RULES = {
    "default (whole words)": {},
    "default without whole words": dict(whole_words=False),
    "role guidance 12, whole words": dict(role_guidance=12.0),
    "no role guidance, whole words": dict(role_guidance=1.0),
    "no role guidance, no whole words": dict(role_guidance=1.0, whole_words=False),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="shakespeare_roles")
    parser.add_argument("--baseline", help="another preset folder to compare with")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", default="", help="the rules whose name holds this")
    parser.add_argument("--write-card", action="store_true")
    args = parser.parse_args()
    decoding = {
        **sampler_settings(DIALOGUE_DECODING["sampler"]),
        "role_guidance": DIALOGUE_DECODING["role_guidance"],
    }

    model = RoleResponder.from_preset(args.preset)
    train, validation, test, plays = shakespeare_data()
    ngrams = KneserNeyLanguageModel(plays["reply"])
    keras.utils.set_random_seed(0)
    judge = shakespeare_judge(model.vocabulary, model.roles, train, validation)
    real = list(test["reply"])
    real_ngram = ngrams.perplexity(real)
    print(
        f"{len(real)} test contexts, {len(model.roles)} characters; decoding "
        f"default {decoding}"
    )
    header = (
        f"{'rule':34s} made-up  n-gram ppl (x real)  own ppl  distinct-2  "
        "judge (x real)  sentence end"
    )
    print(header)
    figures = {}
    judge_real = role_accuracy(judge, real, test["role"])
    for name, change in RULES.items():
        if args.only not in name:
            continue
        options = {**DIALOGUE_DECODING, **change}
        rows = []
        for seed in args.seeds:
            scores = evaluate_replies(
                model,
                judge,
                test["context"],
                test["role"],
                real,
                sampler=options["sampler"],
                generate_options={
                    **{k: v for k, v in options.items() if k != "sampler"},
                    "seed": seed,
                },
                shuffled_roles=False,
            )
            replies = scores["replies"]
            rows.append(
                [
                    ngrams.unknown_share(replies),
                    ngrams.perplexity(replies),
                    own_perplexity(model, test["context"], replies),
                    scores["distinct_2"],
                    scores["judge_generated"],
                    float(np.mean([ends_a_sentence(r) for r in replies])),
                ]
            )
        made_up, ngram, own, distinct_2, judged, ends = np.mean(rows, axis=0)
        figures[name] = {
            "made-up word share": made_up,
            "n-gram perplexity / real": ngram / real_ngram,
            "own no-role perplexity": own,
            "distinct-2": distinct_2,
            "judge / real": judged / judge_real,
            "ends at a sentence end": ends,
        }
        print(
            f"{name:34s} {made_up:7.3f}  {ngram:8.1f} ({ngram / real_ngram:4.2f}x)"
            f"  {own:7.1f}  {distinct_2:10.3f}  {judged:5.3f} "
            f"({judged / judge_real:4.2f}x)  {ends:12.3f}",
            flush=True,
        )
    print(
        f"{'real replies':34s} {ngrams.unknown_share(real):7.3f}  {real_ngram:8.1f}"
        f" (1.00x)  {own_perplexity(model, test['context'], real):7.1f}  "
        f"{'':10s}  {judge_real:5.3f} (1.00x)  "
        f"{np.mean([ends_a_sentence(r) for r in real]):12.3f}"
    )

    held_out = [("this preset", model)]
    if args.baseline:
        held_out.append(("baseline", RoleResponder.from_preset(args.baseline)))
    whole = [
        i
        for i, reply in enumerate(real)
        if all(len(m.tokenizer(reply)) + 1 <= m.reply_length for _, m in held_out)
    ]
    print(f"\nHeld-out real replies whole in every model compared: {len(whole)}")
    for label, m in held_out:
        scores = reply_nats_per_character(
            m,
            [test["context"][i] for i in whole],
            [real[i] for i in whole],
            [test["role"][i] for i in whole],
        )
        everything = reply_perplexity(
            m, m.dialogue_dataset(test["context"], test["reply"], test["role"])
        )
        print(
            f"  {label}: {scores['nats_per_character']:.3f} nats a character, "
            f"perplexity {scores['perplexity']:.1f} a token on them; "
            f"{everything:.1f} on all {len(real)} (cut at {m.reply_length} tokens)"
        )

    print(
        "\nThe first two held-out contexts of each character (test scenes; "
        "validation scenes for a character the test scenes lack), default decoding:"
    )
    picks = []  # (split, index)
    for role in range(len(model.roles)):
        for split in (test, validation):
            rows = np.flatnonzero(np.asarray(split["role"]) == role)[:2]
            if len(rows):
                picks += [(split, i) for i in rows]
                break
    replies = model.generate(
        [split["context"][i] for split, i in picks],
        role=[int(split["role"][i]) for split, i in picks],
        truncate_context=True,
        seed=args.seeds[0],
        **DIALOGUE_DECODING,
    )
    for (split, i), reply in zip(picks, replies, strict=True):
        where = "test" if split is test else "validation"
        print(f"- {model.roles[int(split['role'][i])]} ({where})")
        print(f"    context: {split['context'][i]}")
        print(f"    reply:   {reply}")

    if args.write_card:
        path = os.path.join(_preset_folder(args.preset), CARD_FILE)
        with open(path, encoding="utf-8") as f:
            card = json.load(f)
        default = figures[next(iter(RULES))]
        card["reply_figures"] = {
            "decoding": decoding,
            "seeds": len(args.seeds),
            **{k: round(float(v), 4) for k, v in default.items()},
            "real replies: made-up word share": round(ngrams.unknown_share(real), 4),
            "rebuild": "python scripts/measure_shakespeare_replies.py --write-card",
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(card, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(f"\nWrote the default decoding's figures to {path}")


def own_perplexity(model, contexts, replies):
    """The model's no-role perplexity of replies (the non-empty ones)."""
    kept = [(c, r) for c, r in zip(contexts, replies, strict=True) if r.strip()]
    contexts, replies = zip(*kept, strict=True)
    return reply_perplexity(
        model, model.dialogue_dataset(list(contexts), list(replies), None)
    )


if __name__ == "__main__":
    main()
