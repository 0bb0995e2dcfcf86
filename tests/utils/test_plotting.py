import matplotlib
import numpy as np
import pytest

from keras_roleplay.utils.plotting import plot_caption_attention
from tests.figure_checks import figure_overlaps

matplotlib.use("Agg")


def test_one_panel_per_token_with_the_map_over_the_image():
    maps = np.zeros((3, 2, 2))
    maps[:, 0, 1] = 1.0  # all attention on the top-right region
    figure = plot_caption_attention(
        np.full((32, 32, 3), 200.0),
        "a red circle",
        {"tokens": ["a", "red", "[END]"], "maps": maps},
        columns=2,
    )
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[:4] == ["image", "a", "red", "[END]"]
    assert figure.get_suptitle() == "a red circle"
    overlay = figure.axes[1].images[1]
    np.testing.assert_array_equal(overlay.get_array(), maps[0])
    assert overlay.get_extent() == [0, 32, 32, 0]
    assert figure_overlaps(figure) == []  # titles clear of each other


def test_a_long_caption_with_many_tokens_lays_out_cleanly():
    tokens = "a purple circle and a red triangle [END]".split()
    figure = plot_caption_attention(
        np.full((32, 32, 3), 200.0),
        "a purple circle and a red triangle",
        {"tokens": tokens, "maps": np.full((len(tokens), 4, 4), 1 / 16)},
        columns=6,
    )
    assert figure_overlaps(figure) == []


def test_mismatched_attention_is_refused():
    with pytest.raises(ValueError, match="2 tokens and 1 maps"):
        plot_caption_attention(
            np.zeros((8, 8, 3)),
            "x",
            {"tokens": ["a", "b"], "maps": np.zeros((1, 2, 2))},
        )
