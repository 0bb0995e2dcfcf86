"""Benchmark the generating models on every Keras backend installed.

    python benchmarks/backends.py [--rounds 3] [--backends tensorflow jax torch]

Each backend runs in its own process, one after the other; the table puts
them side by side. On each backend, with the same shapes:

1. `fit` throughput (examples/s) of `RoleResponder` (text-only, hidden 128,
   2+2 layers, 32-token contexts and replies) against the same network
   written by hand with KerasHub layers, and against KerasHub's
   `GPT2CausalLM` of similar size (4 layers, hidden 128, 64 tokens: the
   context and the reply as one sequence). Alternating epochs on the same
   arrays; the ratio is the median of per-round ratios (benchmarks/timing.py
   explains why).
2. Cached greedy `generate` (tokens/s, batch 32, 32 new tokens, `[END]`
   pushed down so every reply runs the full length) against re-running the
   model on the reply so far for every token (`generate_without_cache`), and
   against `GPT2CausalLM.generate` (32 new tokens after a 32-token prompt).
3. The same for `VGG16LSTMCaptioner` (64x64 scenes, 16 tokens) against the
   hand-written network of benchmarks/captioner.py; decoding against
   re-running the whole model on the prefix.

On the GPU machines (JAX and PyTorch, no TensorFlow) run it with
`--backends jax`; the arrays are made without TensorFlow there.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CONTEXT, REPLY, BATCH = 32, 32, 32


def paired_epochs(ours, reference, data, rounds):
    """Median seconds per epoch of two models on the same arrays, alternating."""
    x, y, weights = data
    times = {id(ours): [], id(reference): []}
    for model in (ours, reference):  # warm-up: tracing, compiling
        model.fit(x, y, sample_weight=weights, batch_size=BATCH, verbose=0)
    for i in range(rounds):
        pair = (ours, reference) if i % 2 == 0 else (reference, ours)
        for model in pair:
            start = time.perf_counter()
            model.fit(
                x, y, sample_weight=weights, batch_size=BATCH, shuffle=False, verbose=0
            )
            times[id(model)].append(time.perf_counter() - start)
    ratio = statistics.median(
        r / o for o, r in zip(times[id(ours)], times[id(reference)], strict=True)
    )
    return (
        statistics.median(times[id(ours)]),
        statistics.median(times[id(reference)]),
        ratio,
    )


def median_seconds(function, repeats):
    function()  # warm-up: tracing, compiling
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def compile_tokens(model):
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


# === Role responder ===


def hand_written_responder(vocabulary_size, num_roles, hidden=128, layers=2):
    """RoleResponder's text-only network written out with KerasHub layers."""
    import keras
    from keras import ops
    from keras_hub.layers import (
        TokenAndPositionEmbedding,
        TransformerDecoder,
        TransformerEncoder,
    )

    role = keras.Input((), dtype="int32", name="role")
    context = keras.Input((CONTEXT,), dtype="int32", name="context")
    reply = keras.Input((REPLY,), dtype="int32", name="reply")
    role_vector = keras.layers.Embedding(num_roles, hidden)(role)
    x = TokenAndPositionEmbedding(vocabulary_size, CONTEXT, hidden)(context)
    x = ops.concatenate([ops.expand_dims(role_vector, 1), x], axis=1)
    mask = ops.concatenate(
        [ops.ones_like(context[:, :1], "bool"), ops.not_equal(context, 0)], axis=1
    )
    for _ in range(layers):
        x = TransformerEncoder(2 * hidden, 4, dropout=0.1)(x, padding_mask=mask)
    y = TokenAndPositionEmbedding(vocabulary_size, REPLY, hidden)(reply)
    for _ in range(layers):
        y = TransformerDecoder(2 * hidden, 4, dropout=0.1)(
            y,
            x,
            decoder_padding_mask=ops.not_equal(reply, 0),
            encoder_padding_mask=mask,
        )
    logits = keras.layers.Dense(vocabulary_size, dtype="float32")(y)
    bias = keras.layers.Embedding(num_roles, vocabulary_size, dtype="float32")(role)
    logits = logits + ops.expand_dims(bias, 1)
    return keras.Model({"role": role, "context": context, "reply": reply}, logits)


def gpt2(vocabulary_size):
    from keras_hub.models import GPT2Backbone, GPT2CausalLM

    backbone = GPT2Backbone(
        vocabulary_size=vocabulary_size,
        num_layers=4,
        num_heads=4,
        hidden_dim=128,
        intermediate_dim=256,
        max_sequence_length=CONTEXT + REPLY,
    )
    return GPT2CausalLM(backbone=backbone, preprocessor=None)


def responder_arrays(count, vocabulary_size, num_roles, seed=0):
    """Token-id arrays of the responder's shapes (random words, full length)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    reply = rng.integers(4, vocabulary_size, (count, REPLY + 1)).astype("int32")
    x = {
        "role": rng.integers(0, num_roles, count).astype("int32"),
        "context": rng.integers(4, vocabulary_size, (count, CONTEXT)).astype("int32"),
        "reply": reply[:, :-1],
    }
    y = reply[:, 1:]
    return x, y, np.ones(y.shape, "float32")


def benchmark_responder(rounds, count):
    import keras
    import numpy as np

    from keras_roleplay.applications import RoleResponder
    from keras_roleplay.utils.special_tokens import END_ID, GENERATION_TOKENS

    vocabulary = [*GENERATION_TOKENS, *(f"w{i}" for i in range(2000 - 4))]
    roles = [f"role{i}" for i in range(10)]
    keras.utils.set_random_seed(0)
    ours = RoleResponder(
        vocabulary,
        roles,
        sequence_length=CONTEXT,
        reply_length=REPLY,
        hidden_dim=128,
        num_heads=4,
        num_layers=2,
    )
    reference = hand_written_responder(len(vocabulary), len(roles))
    data = responder_arrays(count, len(vocabulary), len(roles))
    result = {"parameters": [ours.count_params(), reference.count_params()]}
    compile_tokens(ours), compile_tokens(reference)
    ours_s, reference_s, ratio = paired_epochs(ours, reference, data, rounds)
    result["fit"] = [count / ours_s, count / reference_s, ratio]

    lm = gpt2(len(vocabulary))
    result["parameters"].append(lm.count_params())
    compile_tokens(lm)
    x, y, w = data
    tokens = np.concatenate([x["context"], x["reply"]], axis=1)
    targets = np.concatenate([np.zeros_like(x["context"]), y], axis=1)
    weights = np.concatenate([np.zeros_like(x["context"], "float32"), w], axis=1)
    lm_inputs = {"token_ids": tokens, "padding_mask": np.ones_like(tokens, bool)}
    lm_fit_s = median_seconds(
        lambda: lm.fit(
            lm_inputs, targets, sample_weight=weights, batch_size=BATCH, verbose=0
        ),
        rounds,
    )
    result["fit_gpt2"] = count / lm_fit_s

    # Generation: every reply runs its full length (no early [END]).
    logits = ours.backbone.get_layer("logits")
    bias = keras.ops.convert_to_numpy(logits.bias)
    bias[END_ID] = -1e4
    logits.bias.assign(bias)
    contexts, role_ids = x["context"][:BATCH], x["role"][:BATCH]
    produced = BATCH * REPLY
    cached_s = median_seconds(
        lambda: ours.generate(contexts, role=role_ids.tolist()), rounds
    )
    cached = ours.generate(contexts, role=role_ids.tolist())
    uncached_s = median_seconds(
        lambda: rerun_responder(ours, contexts, role_ids), max(1, rounds // 2)
    )
    same = bool((rerun_responder(ours, contexts, role_ids) == cached).all())
    prompt = np.zeros((BATCH, CONTEXT + REPLY), "int32")
    prompt[:, :CONTEXT] = contexts
    mask = np.zeros_like(prompt, bool)
    mask[:, :CONTEXT] = True
    lm.compile(sampler="greedy")
    lm_s = median_seconds(
        lambda: lm.generate(
            {"token_ids": prompt, "padding_mask": mask}, stop_token_ids=None
        ),
        rounds,
    )
    result["generate"] = {
        "cached": produced / cached_s,
        "rerun": produced / uncached_s,
        "gpt2": produced / lm_s,
        "same_tokens": same,
    }
    return result


def rerun_responder(model, contexts, role_ids):
    """Greedy replies the slow way: the whole model on the reply so far."""
    import numpy as np

    from keras_roleplay.utils.special_tokens import PAD_ID, START_ID

    reply = np.zeros((len(contexts), REPLY + 1), "int32")
    reply[:, 0] = START_ID
    inputs = {"role": role_ids, "context": contexts}
    for index in range(REPLY):
        logits = np.asarray(
            model.predict_on_batch({**inputs, "reply": reply[:, :REPLY]})
        )[:, index]
        logits[:, [PAD_ID, START_ID]] = -1e9
        reply[:, index + 1] = logits.argmax(-1)
    return reply[:, 1:]


# === Captioner ===


def benchmark_captioner(rounds, count):
    import keras
    import numpy as np
    from captioner import hand_written  # benchmarks/captioner.py

    from keras_roleplay.applications import VGG16LSTMCaptioner
    from keras_roleplay.datasets.shapes_captions import generate_examples
    from keras_roleplay.utils.special_tokens import GENERATION_TOKENS

    words = ["a", "red", "blue", "green", "circle", "square", "triangle", "on"]
    vocabulary = [*GENERATION_TOKENS, *words]
    keras.utils.set_random_seed(0)
    ours = VGG16LSTMCaptioner(vocabulary, sequence_length=16, image_shape=(64, 64, 3))
    reference = hand_written((64, 64, 3), len(vocabulary), 16)
    rng = np.random.default_rng(0)
    images = generate_examples(count, captions_per_image=1)["image"].astype("float32")
    tokens = rng.integers(4, len(vocabulary), (count, 17)).astype("int32")
    data = (
        {"image": images, "tokens": tokens[:, :-1]},
        tokens[:, 1:],
        np.ones((count, 16), "float32"),
    )
    compile_tokens(ours), compile_tokens(reference)
    ours_s, reference_s, ratio = paired_epochs(ours, reference, data, rounds)
    result = {"fit": [count / ours_s, count / reference_s, ratio]}
    batch = images[:BATCH]
    produced = BATCH * 16
    cached_s = median_seconds(
        lambda: ours.generate(batch, max_length=16, detokenize=False), rounds
    )
    rerun_s = median_seconds(lambda: rerun_captioner(ours, batch), 1)
    result["generate"] = {"cached": produced / cached_s, "rerun": produced / rerun_s}
    return result


def rerun_captioner(model, images):
    import numpy as np

    from keras_roleplay.utils.special_tokens import START_ID

    tokens = np.zeros((len(images), 16), "int32")
    tokens[:, 0] = START_ID
    for t in range(16):
        logits = np.asarray(model.predict_on_batch({"image": images, "tokens": tokens}))
        if t + 1 < 16:
            tokens[:, t + 1] = logits[:, t].argmax(-1)
    return tokens


# === Driver ===


def child(backend, rounds, output):
    import keras

    assert keras.config.backend() == backend, keras.config.backend()
    result = {
        "responder": benchmark_responder(rounds, count=512),
        "captioner": benchmark_captioner(rounds, count=128),
    }
    with open(output, "w") as f:
        json.dump(result, f)


def installed(backend):
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def print_table(results):
    def row(*cells):
        print("| " + " | ".join(str(c) for c in cells) + " |")

    row("backend", "model", "ours", "hand-written", "ours / hand-written")
    row("---", "---", "---", "---", "---")
    for backend, result in results.items():
        for name in ("responder", "captioner"):
            ours, reference, ratio = result[name]["fit"]
            row(
                backend,
                f"{name} `fit` examples/s",
                f"{ours:.0f}",
                f"{reference:.0f}",
                f"{ratio:.2f}x",
            )
    print()
    row("backend", "model", "cached `generate`", "re-run", "cached / re-run", "GPT2")
    row("---", "---", "---", "---", "---", "---")
    for backend, result in results.items():
        for name in ("responder", "captioner"):
            speed = result[name]["generate"]
            row(
                backend,
                f"{name} greedy tokens/s",
                f"{speed['cached']:.0f}",
                f"{speed['rerun']:.0f}",
                f"{speed['cached'] / speed['rerun']:.1f}x",
                f"{speed['gpt2']:.0f}" if "gpt2" in speed else "-",
            )
    print()
    for backend, result in results.items():
        responder = result["responder"]
        print(
            f"{backend}: GPT2CausalLM fit {responder['fit_gpt2']:.0f} examples/s; "
            f"parameters ours / hand-written / GPT-2: {responder['parameters']}; "
            f"cached = re-run greedy tokens: {responder['generate']['same_tokens']}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rounds, args.output)
        return
    results = {}
    for backend in args.backends:
        if not installed(backend):
            print(f"{backend}: not installed, skipped")
            continue
        output = os.path.join(HERE, f".backends_{backend}.json")
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                backend,
                "--rounds",
                str(args.rounds),
                "--output",
                output,
            ],
            env={**os.environ, "KERAS_BACKEND": backend},
            check=True,
        )
        with open(output) as f:
            results[backend] = json.load(f)
        os.remove(output)
        print(f"{backend}: done in {time.perf_counter() - start:.0f} s", flush=True)
    print_table(results)


if __name__ == "__main__":
    main()
