"""The figure checks the tutorial test runs in the notebooks' kernels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tests.figure_checks import figure_overlaps  # noqa: E402


def test_a_clean_figure_has_no_collisions():
    figure, axes = plt.subplots(1, 3, figsize=(12, 3))
    for ax, title in zip(axes, ("one", "two", "three"), strict=True):
        ax.plot([0, 1], [0, 1], label="line")
        ax.set_title(title)
        ax.legend(loc="upper left")
    figure.suptitle("a figure", y=1.05)
    assert figure_overlaps(figure) == []
    plt.close(figure)


def test_titles_running_into_each_other_are_found():
    figure, axes = plt.subplots(1, 3, figsize=(4, 2))
    for ax in axes:
        ax.set_title("a rather long title for a narrow panel")
        ax.axis("off")
    problems = figure_overlaps(figure)
    assert problems and "overlaps text 'a rather long title" in problems[0]
    plt.close(figure)


def test_a_legend_over_the_bars_is_found():
    figure, ax = plt.subplots(figsize=(4, 3))
    ax.bar(np.arange(4), [1.0, 1.0, 1.0, 1.0], label="bars")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="center")
    assert any("covers a bar" in p for p in figure_overlaps(figure))
    ax.set_ylim(0, 2.0)
    ax.legend(loc="upper center")
    assert figure_overlaps(figure) == []
    plt.close(figure)
