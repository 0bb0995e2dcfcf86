"""A trie of known words over word pieces: decoding that never makes up a word.

A WordPiece model writes a word as a first piece (`"ham"`) and continuation
pieces (`"##let"`). Sampled freely, it can join pieces into words no text
ever used ("prumius", "horivide"). `WordPieceTrie` holds the words of a
lexicon (the words of the training text) as paths of piece ids; during
decoding, each reply carries its node in the trie (the pieces of the word
it is writing so far), and the next token may only be

- a continuation piece that leads on to a word of the lexicon, or
- when the pieces so far already spell a whole word (or no word is begun):
  the first piece of a new word, a punctuation mark, or `[END]`.

So every word of a reply is a word of the lexicon. The trie is stored as
sorted integer keys (`node * vocabulary_size + token`) with the child node
of each, so one step's mask is a `keras.ops.searchsorted` over them: the
same code runs inside the compiled decoding loop on TensorFlow, JAX and
PyTorch. No library offers this for KerasHub's samplers (Hugging Face's
`prefix_allowed_tokens_fn` is a Python callback, outside a compiled loop),
hence it is written here.
"""

import numpy as np
from keras import ops

from keras_roleplay.utils.special_tokens import END_ID, UNK_ID

ROOT = 0
TRIE_ARRAYS = ("trie_keys", "trie_children", "trie_boundary", "trie_continuation")
SENTENCE_ENDS = (".", "!", "?")


class WordPieceTrie:
    """The words of a lexicon as paths of word-piece ids.

    Args:
        vocabulary: the tokenizer's tokens (continuation pieces start with
            `"##"`).
        words: the lexicon, each word as a sequence of piece ids (as the
            tokenizer splits it; a word with an unknown piece is left out by
            the caller).

    Attributes:
        keys: sorted int32 `node * vocabulary_size + token` of every edge.
        children: the node each edge leads to.
        boundary: bool per node: the pieces so far spell a whole word (or,
            for the root, no word is begun), so a new word may start.
        continuation: bool per token: a `"##"` piece.
        num_nodes: nodes, the root included.

    Example:

    >>> vocabulary = ["[PAD]", "[UNK]", "[START]", "[END]", "ham", "##let", "."]
    >>> trie = WordPieceTrie(vocabulary, [(4, 5), (6,)])  # "hamlet", "."
    >>> node = trie.next_node(ROOT, 4)  # "ham": not a word yet
    >>> [vocabulary[t] for t in np.flatnonzero(trie.allowed(node))]
    ['##let']
    >>> node = trie.next_node(node, 5)  # "hamlet"
    >>> [vocabulary[t] for t in np.flatnonzero(trie.allowed(node))]
    ['[END]', 'ham', '.']
    """

    def __init__(self, vocabulary, words):
        vocabulary = list(vocabulary)
        self.vocabulary_size = len(vocabulary)
        self.continuation = np.array([t.startswith("##") for t in vocabulary])
        edges = {}  # (node, token) -> child
        terminal = [False]
        for word in words:
            node = ROOT
            for token in word:
                token = int(token)
                if not 0 <= token < self.vocabulary_size:
                    raise ValueError(
                        f"`words` holds the token id {token}, outside the "
                        f"vocabulary of {self.vocabulary_size} tokens."
                    )
                child = edges.get((node, token))
                if child is None:
                    child = edges[(node, token)] = len(terminal)
                    terminal.append(False)
                node = child
            if node != ROOT:
                terminal[node] = True
        self.num_nodes = len(terminal)
        if self.num_nodes * self.vocabulary_size >= 2**31:
            raise ValueError(
                f"The lexicon makes a trie of {self.num_nodes} nodes; with "
                f"{self.vocabulary_size} tokens its keys overflow int32. Use "
                "fewer words."
            )
        pairs = sorted(
            (node * self.vocabulary_size + token, child)
            for (node, token), child in edges.items()
        )
        self.keys = np.array([k for k, _ in pairs], "int32")
        self.children = np.array([c for _, c in pairs], "int32")
        self.boundary = np.array(terminal)
        self.boundary[ROOT] = True

    def arrays(self):
        """The trie as arrays for a compiled loop (`next_nodes`, `allowed_tokens`)."""
        return {
            "trie_keys": self.keys,
            "trie_children": self.children,
            "trie_boundary": self.boundary,
            "trie_continuation": self.continuation,
        }

    def drop_unfinished_words(self, token_ids):
        """Removes a last word left unfinished by a reply that ran out of tokens.

        Decoding with the trie keeps every finished word in the lexicon,
        but a reply cut by `max_length` can stop inside a word ("fro" of
        "from"); its pieces are removed.

        Args:
            token_ids: `(batch, length)` generated ids (no `[START]`),
                `[END]` then `[PAD]` (0) after a finished reply.

        Returns:
            A new int array of the same shape.
        """
        token_ids = np.array(token_ids, copy=True)
        lookup = dict(zip(self.keys.tolist(), self.children.tolist(), strict=True))
        size = self.vocabulary_size
        for row in token_ids:
            if (row == END_ID).any() or (row == 0).any():
                continue
            node, word_start = ROOT, 0
            for position, token in enumerate(row.tolist()):
                if not self.continuation[token]:
                    word_start = position
                    node = lookup.get(ROOT * size + token, ROOT)
                else:
                    node = lookup.get(node * size + token, ROOT)
            if not self.boundary[node]:
                row[word_start:] = 0
        return token_ids

    def next_node(self, node, token):
        """The node after `token` (NumPy, one reply: for tests and tools)."""
        out = next_nodes(self.arrays(), np.array([node], "int32"), np.array([token]))
        return int(np.asarray(out)[0])

    def allowed(self, node):
        """The tokens that may follow `node` (NumPy, one reply)."""
        out = allowed_tokens(self.arrays(), np.array([node], "int32"), END_ID)
        return np.asarray(out)[0]


def _lookup(keys, queries):
    """Where each of `queries` is in the sorted `keys`: `(found, position)`."""
    shape = ops.shape(queries)
    flat = ops.reshape(queries, (-1,))
    size = ops.shape(keys)[0]
    position = ops.minimum(ops.searchsorted(keys, flat), size - 1)
    position = ops.cast(position, "int32")
    found = ops.equal(ops.take(keys, position), flat)
    return ops.reshape(found, shape), ops.reshape(position, shape)


def next_nodes(arrays, nodes, tokens):
    """The trie node of each reply after it adds `tokens` (`keras.ops`).

    A continuation piece moves down from the reply's node; any other token
    starts from the root (a new word); a token with no edge there (`[START]`,
    `[END]`, a word outside the lexicon when decoding was not constrained)
    leaves the reply at the root.

    Args:
        arrays: `WordPieceTrie.arrays()`.
        nodes: `(batch,)` int32 nodes before the tokens.
        tokens: `(batch,)` the tokens just generated.

    Returns:
        `(batch,)` int32 nodes.
    """
    tokens = ops.cast(tokens, "int32")
    vocabulary_size = ops.shape(arrays["trie_continuation"])[0]
    continues = ops.take(arrays["trie_continuation"], tokens)
    source = ops.where(continues, nodes, ROOT)
    found, position = _lookup(arrays["trie_keys"], source * vocabulary_size + tokens)
    child = ops.take(arrays["trie_children"], position)
    return ops.where(found, child, ROOT)


def allowed_tokens(arrays, nodes, end_id=END_ID):
    """The tokens that may come next for replies at `nodes` (`keras.ops`).

    Args:
        arrays: `WordPieceTrie.arrays()`.
        nodes: `(batch,)` int32 trie nodes.
        end_id: the `[END]` token, allowed where a word is complete.

    Returns:
        `(batch, vocabulary_size)` bool.
    """
    vocabulary_size = ops.shape(arrays["trie_continuation"])[0]
    ids = ops.arange(vocabulary_size, dtype="int32")
    keys = arrays["trie_keys"]
    below, _ = _lookup(keys, ops.expand_dims(nodes * vocabulary_size, 1) + ids)
    new_word, _ = _lookup(keys, ops.expand_dims(ids, 0))  # the root's edges
    boundary = ops.expand_dims(ops.take(arrays["trie_boundary"], nodes), 1)
    allowed = ops.logical_or(below, ops.logical_and(boundary, new_word))
    is_end = ops.expand_dims(ops.equal(ids, end_id), 0)
    return ops.where(is_end, boundary, allowed)


def lexicon_words(token_ids, vocabulary, unknown_id=UNK_ID):
    """The words of tokenized texts, each as a tuple of piece ids.

    A word is a first piece and the continuation (`"##"`) pieces after it;
    words with an unknown piece are left out.

    Args:
        token_ids: an iterable of token-id sequences (one per text).
        vocabulary: the tokens.
        unknown_id: the `[UNK]` id.

    Returns:
        A set of tuples of ints.

    Example:

    >>> vocabulary = ["[PAD]", "[UNK]", "[START]", "[END]", "ham", "##let", "."]
    >>> sorted(lexicon_words([[4, 5, 6], [1, 6]], vocabulary))  # 1: [UNK]
    [(4, 5), (6,)]
    """
    continuation = np.array([t.startswith("##") for t in vocabulary])
    words = set()

    def add(word):
        if word and unknown_id not in word:
            words.add(tuple(word))

    for ids in token_ids:
        word = []
        for token in (int(t) for t in ids):
            if continuation[token]:
                if word:  # a continuation with no first piece is no word
                    word.append(token)
            else:
                add(word)
                word = [token]
        add(word)
    return words


def end_at_last_sentence(token_ids, vocabulary):
    """Cuts replies that never reached `[END]` after their last sentence end.

    A reply that ran out of tokens stops mid-phrase; if it holds a `.`,
    `!` or `?`, it ends there instead (`[END]` follows it, `[PAD]` the
    rest). Replies with `[END]`, or with no sentence end, are unchanged.

    Args:
        token_ids: `(batch, length)` int array of generated ids (no
            `[START]`), `[END]` then `[PAD]` (0) after a finished reply.
        vocabulary: the tokens.

    Returns:
        A new int array of the same shape.

    Example:

    >>> vocabulary = ["[PAD]", "[UNK]", "[START]", "[END]", "ay", ".", "but"]
    >>> end_at_last_sentence(np.array([[4, 5, 6, 6], [4, 3, 0, 0]]),
    ...                      vocabulary).tolist()
    [[4, 5, 3, 0], [4, 3, 0, 0]]
    """
    token_ids = np.array(token_ids, copy=True)
    ends = [i for i, token in enumerate(vocabulary) if token in SENTENCE_ENDS]
    if not ends or token_ids.ndim != 2 or token_ids.shape[1] < 2:
        return token_ids
    for row in token_ids:
        if (row == END_ID).any() or (row == 0).any():
            continue
        positions = np.flatnonzero(np.isin(row, ends))
        if len(positions) and positions[-1] < len(row) - 1:
            row[positions[-1] + 1] = END_ID
            row[positions[-1] + 2 :] = 0
    return token_ids


def finish_replies(token_ids, vocabulary, trie=None, end_at_sentence=True):
    """What `RoleResponder.generate` does to replies that ran out of tokens.

    First, with `end_at_sentence`, a reply with a sentence end is cut after
    its last one (`end_at_last_sentence`: whole words only); then, with a
    `trie`, a reply left without one loses the last word it ran out inside
    (`WordPieceTrie.drop_unfinished_words`). In the other order a reply
    would lose its unfinished word and keep the half sentence before it.

    Example:

    >>> vocabulary = ["[PAD]", "[UNK]", "[START]", "[END]", "ay", ".", "fro", "##m"]
    >>> trie = WordPieceTrie(vocabulary, [(4,), (5,), (6, 7)])
    >>> finish_replies(np.array([[4, 5, 4, 6]]), vocabulary, trie).tolist()
    [[4, 5, 3, 0]]
    >>> finish_replies(np.array([[4, 4, 4, 6]]), vocabulary, trie).tolist()
    [[4, 4, 4, 0]]
    """
    if end_at_sentence:
        token_ids = end_at_last_sentence(token_ids, vocabulary)
    if trie is not None:
        token_ids = trie.drop_unfinished_words(token_ids)
    return np.asarray(token_ids)
