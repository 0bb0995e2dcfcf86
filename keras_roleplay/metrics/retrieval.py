"""Recall@k of a cross-modal retrieval, with any number of right answers."""

import numpy as np

from keras_roleplay.utils.validation import check_positive_int


def recall_at_k(ranked, relevant, k=1):
    """The share of queries with a right candidate among their `k` best.

    Unlike recall against the paired item alone, any relevant candidate
    counts: in the bundled scenes many images share a true caption ("a red
    circle on the left"), and ranking another image it truly describes
    first is not a miss.

    Args:
        ranked: `(queries, >= k)` candidate indices, best first (as
            `DualEncoder.retrieve_images` returns).
        relevant: `(queries, candidates)` booleans, `True` where the
            candidate is a right answer to the query.
        k: how many of the best candidates count.

    Returns:
        A float in `[0, 1]`.

    Example:

    >>> recall_at_k([[2, 0], [1, 2]], [[0, 0, 1], [1, 0, 0]], k=1)
    0.5
    >>> recall_at_k([[2, 0], [1, 0]], [[0, 0, 1], [1, 0, 0]], k=2)
    1.0
    """
    k = check_positive_int("k", k)
    ranked = np.asarray(ranked)
    relevant = np.asarray(relevant, dtype=bool)
    if ranked.ndim != 2 or relevant.ndim != 2 or len(ranked) != len(relevant):
        raise ValueError(
            "`ranked` must be (queries, k) indices and `relevant` (queries, "
            f"candidates) booleans. Received: ranked with shape {ranked.shape}, "
            f"relevant with shape {relevant.shape}"
        )
    if ranked.shape[1] < k:
        raise ValueError(
            f"`ranked` holds {ranked.shape[1]} candidates per query, fewer than k={k}."
        )
    hits = np.take_along_axis(relevant, ranked[:, :k], axis=1).any(axis=1)
    return float(hits.mean())
