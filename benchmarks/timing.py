"""Timing helpers shared by the benchmarks: paired, alternating epochs.

This machine's speed drifts by up to 2x over seconds (shared cores), so two
models are compared epoch by epoch, back to back, alternating which goes
first, and the ratio is the median of the per-round ratios.
"""

import statistics
import time


def epoch_seconds(model, dataset):
    """Wall-clock seconds of one `model.fit` epoch over `dataset`."""
    start = time.perf_counter()
    model.fit(dataset, epochs=1, verbose=0, shuffle=False)
    return time.perf_counter() - start


def alternating_epochs(ours, reference, dataset, rounds, reference_dataset=None):
    """Times `rounds` epochs of each model, alternating the order.

    `reference_dataset`: the reference's own data (the same by default).

    Returns:
        `(ours_median_seconds, reference_median_seconds, ratio)`, where
        `ratio` is the median of reference/ours per round (> 1: ours faster).
    """
    reference_data = dataset if reference_dataset is None else reference_dataset
    ours_s, reference_s = [], []
    for i in range(rounds):
        pair = [
            (ours, dataset, ours_s),
            (reference, reference_data, reference_s),
        ]
        for model, data, times in pair if i % 2 == 0 else pair[::-1]:
            times.append(epoch_seconds(model, data))
    ratio = statistics.median(r / o for o, r in zip(ours_s, reference_s, strict=True))
    return statistics.median(ours_s), statistics.median(reference_s), ratio
