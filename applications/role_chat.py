"""Chat with a role: a shipped preset, a saved `RoleResponder`, or one trained here.

    # no model, no training: the shipped role-play VQA preset (English)
    python applications/role_chat.py --role doctor

    # the Chinese one
    python applications/role_chat.py --preset role_vqa_zh --role teacher

    # Shakespeare's characters, pretrained on the plays and role-tuned (shipped)
    python applications/role_chat.py --preset shakespeare_roles --role "Iago (Othello)"

    # the same recipe trained here (pretraining on the plays, then the roles:
    # a few minutes on a laptop CPU), saved for later
    python applications/role_chat.py --train shakespeare --epochs 6 \\
        --save-model bard.keras --role "Hamlet (Hamlet)"

    # chat with a saved model; /roles lists the roles, /role NAME switches
    python applications/role_chat.py --model bard.keras --role "Iago (Othello)"

    # your own characters: a dialogue file (JSONL or CSV rows of role, context,
    # reply, or a script of speaker/text turns), saved as a preset folder
    python applications/role_chat.py --train my_dialogues.jsonl \
        --characters characters.csv --save-preset my_cast/ --role Ann

    # a new character from a few of its lines, added to a saved model
    python applications/role_chat.py --preset ./my_cast --add-role Cy \
        --examples cy_lines.jsonl --save-preset my_cast_and_cy/ --role Cy

    # about an image: role-play VQA (questions on a shapes scene)
    python applications/role_chat.py --train role_vqa --role doctor --image scene.png

    # from a pipe: one reply per input line, nothing else on stdout
    printf 'what colour is the circle ?\\n' | python applications/role_chat.py \\
        --model vqa.keras --role teacher --image scene.png

Without `--image`, an image model chats about a bundled shapes scene
(`--scene-seed`), whose ground truth is printed so answers can be checked.
Dialogue is sampled (top-p, temperature 0.8) with classifier-free role
guidance 4, which makes the role heard in sampled replies (`--role-guidance
1` turns it off; it suits models pretrained without roles, whose no-role
stream is a language model); image models answer greedily. A model with a
lexicon (the Shakespeare preset: the words of the plays' training speeches)
writes no other word, and a reply that runs out of tokens ends at its last
sentence end (`RoleResponder.generate`'s defaults).
A line longer than the model reads keeps its last words, with a note.
"""

import argparse
import os
import sys
import warnings

import keras_roleplay  # noqa: F401  (first: TensorFlow starts quietly)

# isort: split
import keras
import numpy as np
from keras_hub.samplers import TopKSampler, TopPSampler

from keras_roleplay.applications import RoleResponder
from keras_roleplay.data.dialogues import load_dialogues
from keras_roleplay.data.images import read_image_file
from keras_roleplay.datasets import role_vqa
from keras_roleplay.datasets.shapes import draw_scene
from keras_roleplay.datasets.shapes_captions import random_objects
from keras_roleplay.models.role_responder.role_guidance import (
    DIALOGUE_ROLE_GUIDANCE,
)
from keras_roleplay.saving import load_model
from keras_roleplay.training import (
    DIALOGUE_FILE_SIZE,
    adapt_to_role,
    fit_responder,
    train_responder_on_dialogues,
)
from keras_roleplay.training.recipes import train_shakespeare_responder
from keras_roleplay.utils.atomic_files import (
    atomic_output,
    check_new_folder,
    check_writable,
)
from keras_roleplay.utils.progress import EpochLog
from keras_roleplay.utils.warning_lines import one_line_warnings

BUNDLED = ("shakespeare", "role_vqa")
# Plain fine-tuning of a new role's two rows (its vector and word bias).
# A MAML start (`training.meta_learn_role_start`) needs the model's own
# roles' data, which a saved model does not carry.
ADD_ROLE_STEPS = 60


def train_responder(source, epochs, log, args=None):
    """A responder trained on a bundled dataset or on a dialogue file.

    Shakespeare: the `shakespeare_roles` preset's recipe (one epoch of
    pretraining on the plays without roles, then `epochs` of role-tuning
    at most, with early stopping). A `.jsonl`/`.csv` file:
    `training.train_responder_on_dialogues` (the same recipe).
    """
    if source == "shakespeare":
        return train_shakespeare_responder(epochs=epochs, log=log)
    if source != "role_vqa":
        data = load_dialogues(source, characters=args.characters)
        if data["characters"]:
            described = [name for name in data["roles"] if name in data["characters"]]
            log(f"{len(described)} of {len(data['roles'])} characters described")
        size = dict(DIALOGUE_FILE_SIZE, hidden_dim=args.hidden_dim)
        size["num_layers"] = args.num_layers
        model, _ = train_responder_on_dialogues(
            data,
            pretrain_epochs=args.pretrain_epochs,
            epochs=epochs,
            validation_split=args.validation_split,
            size=size,
            log=log,
        )
        return model
    keras.utils.set_random_seed(0)
    train, _, _ = role_vqa.load_data(3000, 1, 1)
    contexts, replies = train["question"], train["answer"]
    roles, images = list(role_vqa.ROLES), train["image"]
    model = RoleResponder.from_dialogues(
        np.concatenate([contexts, replies]),
        roles=roles,
        num_layers=2,
        vocabulary_size=400,
        sequence_length=16,
        reply_length=40,
        hidden_dim=96,
        dropout=0.0,
        image_shape=images.shape[1:],
    )
    log(f"training on {len(contexts)} {source} examples for {epochs} epochs...")
    fit_responder(
        model,
        contexts,
        replies,
        train["role"],
        images,
        epochs=epochs,
        callbacks=[EpochLog(log)],
    )
    return model


def add_role_from_file(model, name, path, log):
    """`model` with the role `name` learnt from its lines in `path`."""
    if name in model.roles:
        raise SystemExit(f"error: --add-role {name!r}: the model already has it.")
    data = load_dialogues(path)
    rows = [i for i, role in enumerate(data["role"]) if role == name]
    if not rows:
        raise SystemExit(
            f"error: --examples {path} has no line of {name!r} (its roles: "
            f"{', '.join(data['roles'])})."
        )
    contexts = [data["context"][i] for i in rows]
    replies = [data["reply"][i] for i in rows]
    log(f"adding {name} from {len(rows)} of its lines ({ADD_ROLE_STEPS} steps)")
    return adapt_to_role(model, name, contexts, replies, steps=ADD_ROLE_STEPS)


def load_chat_image(model, path, scene_seed, log):
    """The image to talk about: a file, or a bundled scene; None if text-only."""
    if model.image_shape is None:
        if path:
            raise SystemExit(
                "error: this model is text-only (no image_shape); drop --image."
            )
        return None
    if path:
        image, reason = read_image_file(path, model.image_shape)
        if reason:
            raise SystemExit(f"error: --image {path}: {reason}")
        return np.asarray(image, "float32")
    rng = np.random.default_rng(scene_seed)
    objects = random_objects(rng)
    log(f"(no --image: a bundled scene, seed {scene_seed}: {objects})")
    return draw_scene(rng, model.image_shape[0], objects).astype("float32")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--preset",
        default="role_vqa_en",
        help="a shipped preset or a preset folder (the default, with no --model "
        "or --train: role_vqa_en)",
    )
    source.add_argument("--model", help="a saved RoleResponder (.keras)")
    source.add_argument(
        "--train",
        help="train one first: shakespeare, role_vqa, or a dialogue file (.jsonl or "
        ".csv: rows of role, context, reply; or turns of speaker, text, scene)",
    )
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument(
        "--characters", help="with a dialogue file: a file of name, description"
    )
    parser.add_argument(
        "--pretrain-epochs",
        type=int,
        default=2,
        help="with a dialogue file: epochs over every exchange, roles hidden",
    )
    parser.add_argument("--validation-split", type=float, default=0.1)
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument(
        "--add-role", help="a new role, learnt from its lines in --examples"
    )
    parser.add_argument("--examples", help="a dialogue file with the new role's lines")
    parser.add_argument("--save-model", help="where to save the trained model")
    parser.add_argument(
        "--save-preset", help="a folder to save the model in, for from_preset"
    )
    parser.add_argument("--role", help="the role to play (default: the first)")
    parser.add_argument("--image", help="image file to talk about (image models)")
    parser.add_argument("--scene-seed", type=int, default=0)
    parser.add_argument(
        "--sampler",
        default="auto",
        choices=("auto", "greedy", "beam", "top_k", "top_p"),
        help="auto: greedy for an image model (its answers must be right about "
        "the image), top_p for dialogue (measured: greedy says the same reply "
        "to almost every line)",
    )
    parser.add_argument(
        "--temperature", type=float, default=0.8, help="for top_k and top_p"
    )
    parser.add_argument(
        "--role-guidance",
        type=float,
        default=None,
        help="classifier-free role guidance weight (1: none); default 4 for "
        "sampled dialogue (measured on the Shakespeare preset: the role is heard "
        "0.85x as often as in real speeches, against 0.36x without), 1 otherwise",
    )
    parser.add_argument(
        "--no-repeat-ngram-size",
        type=int,
        default=0,
        help="no n-gram of a reply said twice (0: no such rule)",
    )
    parser.add_argument(
        "--ban", nargs="*", default=None, help="words the role must never say"
    )
    args = parser.parse_args(argv)
    one_line_warnings()

    interactive = sys.stdin.isatty()
    # Bytes that are not UTF-8 on standard input are replaced, not fatal.
    sys.stdin.reconfigure(errors="replace")

    def log(message):
        # Keep stdout for replies when piped.
        print(message, file=sys.stdout if interactive else sys.stderr, flush=True)

    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1. Received: {args.epochs}")
    if args.temperature <= 0:
        parser.error(f"--temperature must be above 0. Received: {args.temperature}")
    if args.role_guidance is not None and args.role_guidance <= 0:
        parser.error(f"--role-guidance must be above 0. Received: {args.role_guidance}")
    if args.no_repeat_ngram_size < 0:
        parser.error(
            f"--no-repeat-ngram-size must be 0 or more. Received: "
            f"{args.no_repeat_ngram_size}"
        )
    if args.pretrain_epochs < 0:
        parser.error(
            f"--pretrain-epochs must be 0 or more. Received: {args.pretrain_epochs}"
        )
    if not 0 <= args.validation_split < 1:
        parser.error(
            f"--validation-split must be in [0, 1). Received: {args.validation_split}"
        )
    if args.train and args.train not in BUNDLED:
        if not args.train.lower().endswith((".jsonl", ".csv")):
            parser.error(
                "--train must be shakespeare, role_vqa or a .jsonl/.csv dialogue "
                f"file. Received: {args.train}"
            )
        if not os.path.isfile(args.train):
            parser.error(f"--train: no such file: {args.train}")
    elif args.characters:
        parser.error("--characters goes with --train and a dialogue file")
    if bool(args.add_role) != bool(args.examples):
        parser.error("--add-role and --examples go together")
    if args.save_model:
        try:  # before minutes of training, not after
            check_writable(args.save_model)
        except ValueError as error:
            parser.error(str(error))
    if args.save_preset:
        try:
            check_new_folder("--save-preset", args.save_preset)
        except ValueError as error:
            parser.error(str(error))
    if args.model:
        try:  # checked first: a damaged or hostile file is named and refused
            model = load_model(args.model)
        except ValueError as error:
            raise SystemExit(f"error: {error}") from None
        if not isinstance(model, RoleResponder):
            raise SystemExit(f"error: {args.model} holds a {type(model).__name__}.")
    elif not args.train:
        try:
            model = RoleResponder.from_preset(args.preset)
        except ValueError as error:
            raise SystemExit(f"error: {error}") from None
    else:
        try:
            model = train_responder(args.train, args.epochs, log, args)
        except ValueError as error:
            raise SystemExit(f"error: {error}") from None
    if args.add_role:
        try:
            model = add_role_from_file(model, args.add_role, args.examples, log)
        except (ValueError, FileNotFoundError) as error:
            raise SystemExit(f"error: {error}") from None
    if args.save_model and (args.train or args.add_role):
        with atomic_output(args.save_model) as tmp:
            model.save(tmp)
        log(f"saved to {args.save_model}")
    if args.save_preset:
        model.save_to_preset(args.save_preset)
        log(f"saved as a preset in {args.save_preset} (from_preset loads it)")
    role = args.role or model.roles[0]
    try:
        model.role_ids(role)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    image = load_chat_image(model, args.image, args.scene_seed, log)
    sampler = args.sampler
    if sampler == "auto":
        sampler = "greedy" if model.image_shape is not None else "top_p"
    role_guidance = args.role_guidance
    if role_guidance is None:
        role_guidance = DIALOGUE_ROLE_GUIDANCE if sampler in ("top_p", "top_k") else 1.0
    # Greedy and beam search (image models) have no temperature.
    if sampler == "top_p":
        sampler = TopPSampler(p=0.9, temperature=args.temperature)
    elif sampler == "top_k":
        sampler = TopKSampler(k=5, temperature=args.temperature)

    if interactive:
        log(
            f"You are talking to {role}. /roles lists roles, /role NAME switches, "
            "/quit ends."
        )
    while True:
        if interactive:
            try:
                line = input("you> ")
            except EOFError:
                break
        else:
            line = sys.stdin.readline()
            if not line:
                break
        line = line.strip()
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        if line == "/roles":
            log(", ".join(model.roles))
            continue
        if line.startswith("/role "):
            name = line[len("/role ") :].strip()
            if name in model.roles:
                role = name
                log(f"now talking to {role}")
            else:
                log(f"unknown role {name!r}; /roles lists them")
            continue
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                reply = model.generate(
                    line,
                    role=role,
                    image=image,
                    sampler=sampler,
                    no_repeat_ngram_size=args.no_repeat_ngram_size,
                    role_guidance=role_guidance,
                    banned_tokens=args.ban or None,
                )
        except ValueError as error:
            log(f"error: {error}")
            continue
        for warning in caught:  # a long line was shortened: say so, briefly
            log(f"note: {warning.message}")
        print(f"{role}> {reply}" if interactive else reply, flush=True)


if __name__ == "__main__":
    main()
