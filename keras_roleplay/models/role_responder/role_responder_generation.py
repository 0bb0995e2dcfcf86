"""`RoleResponder`'s decoding: `generate` and the compiled steps behind it.

A mixin of `RoleResponder` (its only user), kept apart so that the task's
file holds what the model is and this one how it writes: samplers and beam
search from `GenerativeTask`, with classifier-free role guidance
(`role_guidance.py`), the role's vocabulary constraints and whole-word
decoding over the lexicon's trie (`utils.word_trie`).
"""

import functools

import keras
import numpy as np
from keras import ops

from keras_roleplay.models.role_responder.role_guidance import (
    MODEL_CACHE,
    pair_rows,
    unpair_rows,
    with_no_role_rows,
)
from keras_roleplay.models.role_responder.role_responder_preprocessor import (
    is_token_ids,
)
from keras_roleplay.utils.sampling import (
    NEG_INF,
    block_banned_sequences,
    block_repeated_ngrams,
    mask_next_token_logits,
    previous_tokens,
)
from keras_roleplay.utils.special_tokens import END_ID, PAD_ID, START_ID, UNK_ID
from keras_roleplay.utils.validation import (
    check_positive_int,
    check_positive_number,
    check_texts,
)
from keras_roleplay.utils.word_trie import (
    TRIE_ARRAYS,
    allowed_tokens,
    finish_replies,
    next_nodes,
)


class RoleResponderGeneration:
    """`generate`, its steps and caches, for `RoleResponder` (see its docstring)."""

    def generate(
        self,
        context,
        role,
        image=None,
        max_length=None,
        sampler=None,
        seed=None,
        allowed_tokens=None,
        banned_tokens=None,
        batch_size=32,
        truncate_context="warn",
        no_repeat_ngram_size=0,
        role_guidance=1.0,
        whole_words=None,
        end_at_sentence=True,
    ):
        """Replies to `context` as `role`, one token at a time, with caches.

        Role-specific vocabulary constraints are logit masks:
        a banned word is never generated (like Hugging Face's
        `bad_words_ids`: a word of several word pieces is blocked at its
        last piece when the ones before it were just generated); with
        `allowed_tokens`, only the word pieces of the allowed words (and
        `[END]`) can be generated.

        Encoding, cache seeding and the sampler's loop run as one compiled
        function on every Keras backend (`generate_step`), as KerasHub's
        `CausalLM.generate` does: a TF graph, XLA-compiled when the model's
        `jit_compile` is on (`compile(jit_compile=True)`, or `"auto"` on a
        GPU); `jax.jit` on JAX; eager under `torch.no_grad()` on PyTorch.

        Args:
            context: a string or a list of strings; or token ids, an int
                array `(n, length)` (or `(length,)`) with `length <=
                sequence_length` and 0 for padding (no tokenizer needed:
                this works without TensorFlow).
            role: a role name or id, or one per context; `None` replies
                without a role (best after training with `role_dropout`).
            image: for an image model, one image `(height, width, 3)` or one
                per context `(n, height, width, 3)`, values in `[0, 255]`.
            max_length: most tokens per reply (default and maximum:
                `reply_length`).
            sampler: how the next token is chosen: a
                `keras_hub.samplers.Sampler` with its settings (e.g.
                `TopPSampler(p=0.9, temperature=0.8)`, `BeamSampler(
                num_beams=4)`), or a name as shorthand: `"greedy"`, `"beam"`
                (4 beams), `"top_k"` (k = 5), `"top_p"` (nucleus, p = 0.9).
                `None` (default): the one set with `compile(sampler=...)`,
                greedy unless set.
            seed: random seed for the sampling samplers (top-k, top-p): the
                same seed, the same replies.
            allowed_tokens: `None`, a list of words allowed for every role,
                or a dict `{role name: list of words}` (roles left out are
                unconstrained).
            banned_tokens: `None`, a list of words banned for every role, or
                a dict `{role name: list of words}`.
            batch_size: contexts decoded at once.
            truncate_context: a context longer than `sequence_length` keeps
                its last tokens, as in training: `"warn"` (default) with a
                warning, `True` silently; `False` raises a `ValueError`.
            no_repeat_ngram_size: `0`, or `n`: no n-gram of the reply is
                generated twice (Hugging Face's rule of that name); with
                greedy or beam search it stops replies looping on a phrase.
            role_guidance: `1.0` (default) decodes the model's own
                distribution; `w > 1` amplifies the role with classifier-free
                guidance: every step also runs the context without a role,
                and the next-token logits are `none + w * (role - none)`
                (Ho and Salimans' rule), for a model that has learnt a
                no-role stream: pretrained without roles
                (`training.pretrain_responder`) or trained with
                `role_dropout`. Twice the decoding work. 4 makes the
                Shakespeare preset's sampled replies about as recognisable
                as real ones (`DIALOGUE_ROLE_GUIDANCE`).
            whole_words: `None` (default): `True` when the model has a
                `lexicon` (`learn_lexicon`), else `False`. `True`: every
                word of a reply is a word of the lexicon (the sampler may
                continue a word only into pieces that lead to one, inside the
                compiled loop: `utils.word_trie`).
            end_at_sentence: a reply that reaches `max_length` without
                `[END]` is cut after its last `.`, `!` or `?`, if it has one,
                rather than mid-phrase.

        Returns:
            A reply string for one context (a string, or one row of ids), a
            list of them for a list. From token ids: an int array
            `(n, max_length)` (or `(max_length,)`), the reply's ids up to and
            including `[END]`, then `[PAD]` (0).

        Raises:
            ValueError: an unknown role or sampler, a context longer than
                `sequence_length` with `truncate_context=False`, an image for
                a text-only model or none for an image model, `max_length`
                above `reply_length`.
        """
        single = isinstance(context, str) or (
            is_token_ids(context) and np.ndim(context) == 1
        )
        if is_token_ids(context):
            context_ids = self.preprocessor.check_context_ids(context)
        else:
            contexts = check_texts("context", [context] if single else context)
            empty = [i for i, text in enumerate(contexts) if not text.strip()]
            if empty:
                # It would be answered as if it were a question.
                raise ValueError(
                    f"`context` {empty[:10]} {'is' if len(empty) == 1 else 'are'} "
                    "empty: there is nothing to reply to. Received: "
                    f"{[contexts[i] for i in empty[:3]]}"
                )
            context_ids = self.tokenize_context(contexts, truncate=truncate_context)
            context_ids = np.asarray(context_ids)
        count = len(context_ids)
        role_ids = self.role_ids(role, count=count)
        images = self.preprocessor.check_images(image, count)
        max_length = check_positive_int(
            "max_length", self.reply_length if max_length is None else max_length
        )
        if max_length > self.reply_length:
            raise ValueError(
                f"`max_length` can be at most reply_length={self.reply_length} "
                f"(the reply positions this model learned). Received: "
                f"max_length={max_length}"
            )
        sampler = self._get_sampler(sampler, seed)
        constraints = self._constraints(allowed_tokens, banned_tokens)
        no_repeat_ngram_size = check_positive_int(
            "no_repeat_ngram_size", no_repeat_ngram_size, allow_zero=True
        )
        role_guidance = check_positive_number("role_guidance", role_guidance)
        word_trie = self._word_trie(whole_words)
        batch_size = min(check_positive_int("batch_size", batch_size), count)
        arrays = {"role": role_ids, "context": context_ids}
        if images is not None:
            arrays["image"] = images
        generated = []
        for size, batch in self._padded_batches(arrays, batch_size):
            ids = self._generate_ids(
                batch,
                max_length,
                sampler,
                constraints,
                no_repeat_ngram_size,
                role_guidance,
                word_trie,
            )
            generated.append(ids[:size, 1:])  # without [START]
        generated = np.concatenate(generated)
        generated = finish_replies(
            generated, self.vocabulary, word_trie, end_at_sentence=end_at_sentence
        )
        replies = generated if is_token_ids(context) else self.detokenize(generated)
        return replies[0] if single else replies

    def _word_trie(self, whole_words):
        if whole_words is None:
            return self.preprocessor.word_trie
        if not isinstance(whole_words, bool):
            raise TypeError(
                "`whole_words` must be None, True or False. Received: "
                f"whole_words={whole_words!r}"
            )
        if whole_words and self.lexicon is None:
            raise ValueError(
                "`whole_words=True` needs the words the model may write: call "
                "`model.learn_lexicon(training_texts)` first. Received: "
                "whole_words=True on a model with no lexicon"
            )
        return self.preprocessor.word_trie if whole_words else None

    def _word_pieces(self, words, argument):
        if isinstance(words, str) or not hasattr(words, "__iter__"):
            raise TypeError(
                f"`{argument}` must be a list of words (or a dict of such lists "
                f"per role). Received: {argument}={words!r:.60}"
            )
        pieces = []
        for word in words:
            ids = [int(i) for i in np.asarray(self.tokenizer(str(word)))]
            if not ids or any(i == UNK_ID for i in ids):
                raise ValueError(
                    f"`{argument}` holds {word!r}, which this model's vocabulary "
                    "cannot spell (it maps to [UNK] or to nothing), so it could "
                    "never be generated."
                )
            pieces.append(ids)
        return pieces

    def _per_role(self, value, argument):
        """A list (every role, and no role) or a dict by role name -> {row: words}.

        Rows are role ids, and `num_roles` for "no role" (id -1).
        """
        if value is None:
            return {}
        if isinstance(value, dict):
            return {
                int(self.role_ids(name)[0]): self._word_pieces(words, argument)
                for name, words in value.items()
            }
        pieces = self._word_pieces(value, argument)
        return {r: pieces for r in range(self.num_roles + 1)}

    def _constraints(self, allowed_tokens, banned_tokens):
        """Role-indexed masks: allowed token ids, and banned word sequences.

        One row per role and a last row for "no role".
        """
        vocabulary_size = self.vocabulary_size
        allowed = np.ones((self.num_roles + 1, vocabulary_size), bool)
        for role_id, words in self._per_role(allowed_tokens, "allowed_tokens").items():
            allowed[role_id] = False
            allowed[role_id, END_ID] = True
            for ids in words:
                allowed[role_id, ids] = True
        sequences = {}  # word-piece sequence -> roles that ban it
        for role_id, words in self._per_role(banned_tokens, "banned_tokens").items():
            for ids in words:
                if len(ids) == 1:
                    allowed[role_id, ids[0]] = False
                else:
                    roles = sequences.setdefault(
                        tuple(ids), np.zeros(self.num_roles + 1, bool)
                    )
                    roles[role_id] = True
        return allowed, sequences

    def _generate_ids(
        self,
        batch,
        max_length,
        sampler,
        constraints,
        no_repeat_ngram_size=0,
        role_guidance=1.0,
        word_trie=None,
    ):
        allowed, sequences = constraints
        size = len(batch["role"])
        prompt = np.zeros((size, max_length + 1), "int32")
        prompt[:, 0] = START_ID
        mask = np.zeros_like(prompt, dtype=bool)
        mask[:, 0] = True
        rows = np.where(batch["role"] >= 0, batch["role"], self.num_roles)
        banned_sequences = list(sequences)
        sequence_roles = (
            np.stack([sequences[s][rows] for s in banned_sequences], axis=1)
            if banned_sequences
            else np.zeros((size, 1), bool)  # a width of 0 upsets beam search
        )
        whole_words = word_trie is not None
        generate_function = self._generate_function(
            (
                id(sampler),
                tuple(banned_sequences),
                no_repeat_ngram_size,
                role_guidance,
                whole_words,
            ),
            functools.partial(
                self.generate_step,
                sampler=sampler,
                banned_sequences=banned_sequences,
                no_repeat_ngram_size=no_repeat_ngram_size,
                role_guidance=role_guidance,
                whole_words=whole_words,
            ),
            sampler,
        )
        inputs = {
            "model_inputs": batch,
            "prompt": prompt,
            "mask": mask,
            "allowed": allowed[rows],
            "sequence_roles": sequence_roles,
        }
        if whole_words:
            inputs.update(word_trie.arrays())
        return generate_function(inputs)

    def _start_cache(self, inputs, prompt):
        """Encodes the inputs and seeds the caches with `[START]`."""
        memory, memory_mask, role_bias = self.backbone.encode(inputs)
        size, length = ops.shape(prompt)[0], ops.shape(prompt)[1]
        heads, head_dim = self.num_heads, self.hidden_dim // self.num_heads
        dtype = keras.backend.standardize_dtype(memory.dtype)
        self_caches = ops.zeros(
            (size, self.num_layers, 2, length, heads, head_dim), dtype
        )
        cross_caches = ops.zeros(
            (size, self.num_layers, 2, ops.shape(memory)[1], heads, head_dim), dtype
        )
        # The first step also fills the cross-attention keys/values.
        _, self_caches, cross_caches = self.backbone.call_with_cache(
            prompt[:, :1],
            0,
            self_caches,
            cross_caches,
            memory,
            memory_mask,
            role_bias,
            seed_cross_caches=True,
        )
        return {
            "self_caches": self_caches,
            "cross_caches": cross_caches,
            "memory": memory,
            "memory_mask": memory_mask,
            "role_bias": role_bias,
        }

    def generate_step(
        self,
        inputs,
        sampler,
        banned_sequences=(),
        no_repeat_ngram_size=0,
        role_guidance=1.0,
        whole_words=False,
    ):
        """Encoding, cache seeding and the sampler's decoding loop, in one step.

        Backend-agnostic (`keras.ops`); `generate` compiles it for the
        backend (`keras_roleplay.utils.generation.make_generate_function`).

        Args:
            inputs: a dict: `"model_inputs"` (`"role"`, `"context"` and, for
                an image model, `"image"`), `"prompt"` `(batch, length)`
                int (`[START]` then padding), `"mask"` (True where the prompt
                is given), `"allowed"` `(batch, vocabulary_size)` bool and
                `"sequence_roles"` `(batch, max(1, len(banned_sequences)))`
                bool (which rows ban which word-piece sequence).
            sampler: a `keras_hub.samplers.Sampler`.
            banned_sequences: word-piece sequences (tuples of ids) blocked at
                their last piece.
            no_repeat_ngram_size: `0`, or the length of the n-grams that may
                not repeat (`utils.sampling.block_repeated_ngrams`).
            role_guidance: `1.0`, or the classifier-free guidance weight
                `w`: the model's caches then hold two rows per reply, with
                and without the role (axis 1, so that beam search, which
                repeats the cache along axis 0, keeps them together).
            whole_words: `inputs` also holds a `WordPieceTrie`'s `arrays()`;
                each reply's node in it rides in the cache (`"word_node"`)
                and only tokens that keep the reply's words in the lexicon
                may come next (`utils.word_trie`).

        Returns:
            `(batch, length)` token ids.
        """
        prompt = inputs["prompt"]
        model_inputs = inputs["model_inputs"]
        guided = role_guidance != 1.0
        if guided:
            model_inputs = with_no_role_rows(model_inputs)
        trie = {key: inputs[key] for key in TRIE_ARRAYS} if whole_words else None

        def next_token_logits(prompt, cache, index):
            tokens = previous_tokens(prompt, index)
            state = {key: cache[key] for key in MODEL_CACHE}
            step_tokens = tokens
            if guided:
                step_tokens = ops.repeat(tokens, 2, axis=0)
                state = {key: unpair_rows(value) for key, value in state.items()}
            logits, self_caches, _ = self.backbone.call_with_cache(
                step_tokens,
                index - 1,
                state["self_caches"],
                state["cross_caches"],
                state["memory"],
                state["memory_mask"],
                state["role_bias"],
            )
            if guided:
                role, none = ops.unstack(pair_rows(logits), axis=1)
                logits = none + role_guidance * (role - none)
                self_caches = pair_rows(self_caches)
            keep = block_banned_sequences(
                cache["allowed"],
                prompt,
                index,
                banned_sequences,
                cache["sequence_roles"],
            )
            keep = block_repeated_ngrams(keep, prompt, index, no_repeat_ngram_size)
            new_cache = {**cache, "self_caches": self_caches}
            if whole_words:
                node = next_nodes(trie, cache["word_node"], tokens[:, 0])
                keep = ops.logical_and(keep, allowed_tokens(trie, node))
                new_cache["word_node"] = node
            logits = mask_next_token_logits(logits[:, 0], tokens[:, 0], keep)
            return logits, None, new_cache

        cache = self._start_cache(
            model_inputs, ops.repeat(prompt, 2, axis=0) if guided else prompt
        )
        if guided:
            cache = {key: pair_rows(value) for key, value in cache.items()}
        cache.update(allowed=inputs["allowed"], sequence_roles=inputs["sequence_roles"])
        if whole_words:
            cache["word_node"] = ops.zeros((ops.shape(prompt)[0],), "int32")
        return sampler(
            next_token_logits,
            prompt,
            cache=cache,
            index=1,
            mask=inputs["mask"],
            stop_token_ids=[END_ID],
            model=self,
        )

    def generate_without_cache(
        self, context, role, image=None, max_length=None, role_guidance=1.0
    ):
        """Greedy replies by re-running the whole model on the reply so far.

        The reference `generate` is measured against (it must give the same
        greedy replies): each new token costs a full forward pass (two with
        `role_guidance`: with the role and without, `none + w * (role -
        none)`).
        """
        contexts = [context] if isinstance(context, str) else context
        contexts = check_texts("context", contexts)
        inputs = {
            "role": self.role_ids(role, count=len(contexts)),
            "context": self.tokenize_context(contexts, truncate=False).numpy(),
        }
        images = self.preprocessor.check_images(image, len(contexts))
        if images is not None:
            inputs["image"] = images
        max_length = min(max_length or self.reply_length, self.reply_length)
        reply = np.zeros((len(contexts), self.reply_length + 1), "int32")
        reply[:, 0] = START_ID
        done = np.zeros(len(contexts), bool)
        for index in range(max_length):
            prefix = {**inputs, "reply": reply[:, : self.reply_length]}
            logits = np.asarray(self.predict_on_batch(prefix))[:, index].copy()
            if role_guidance != 1.0:
                no_role = {**prefix, "role": np.full_like(prefix["role"], -1)}
                none = np.asarray(self.predict_on_batch(no_role))[:, index]
                logits = none + role_guidance * (logits - none)
            logits[:, [PAD_ID, START_ID]] = NEG_INF
            token = np.where(done, PAD_ID, logits.argmax(-1))
            done |= token == END_ID
            reply[:, index + 1] = token
        return self.detokenize(reply)
