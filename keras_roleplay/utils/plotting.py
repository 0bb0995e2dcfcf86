"""Plots for tutorials and applications (matplotlib is imported when called)."""

import numpy as np


def plot_caption_attention(image, caption, attention, columns=5):
    """Plots an image, its caption, and where the model looked for each token.

    Args:
        image: array `(height, width, 3)` with values in `[0, 255]`.
        caption: the generated caption (a string), shown as the title.
        attention: one entry of the attention list that
            `VGG16LSTMCaptioner.generate(..., return_attention=True)` returns:
            a dict with `"tokens"` and `"maps"` `(tokens, grid_h, grid_w)`.
        columns: panels per row.

    Returns:
        The matplotlib `Figure`: the image, then one panel per token with the
        attention map, upsampled to the image, laid over it.

    Example:

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> figure = plot_caption_attention(
    ...     np.zeros((32, 32, 3)), "a red circle",
    ...     {"tokens": ["a", "red"], "maps": np.full((2, 2, 2), 0.25)})
    >>> len(figure.axes)
    5
    """
    import matplotlib.pyplot as plt

    tokens, maps = attention["tokens"], np.asarray(attention["maps"], "float32")
    if len(tokens) != len(maps):
        raise ValueError(
            "`attention` needs one map per token. Received: "
            f"{len(tokens)} tokens and {len(maps)} maps"
        )
    image = np.asarray(image, dtype="float32")
    panels = len(tokens) + 1
    rows = -(-panels // columns)
    # Constrained layout keeps each panel's title clear of the panel above.
    figure, axes = plt.subplots(
        rows, columns, figsize=(2.2 * columns, 2.5 * rows), layout="constrained"
    )
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.axis("off")
    axes[0].imshow(image.astype("uint8"))
    axes[0].set_title("image", fontsize=9)
    height, width = image.shape[:2]
    for ax, token, attention_map in zip(axes[1:], tokens, maps, strict=False):
        ax.imshow(image.astype("uint8"))
        # Each region covers a block of pixels: show it as such, not blurred.
        ax.imshow(
            attention_map,
            cmap="magma",
            alpha=0.6,
            extent=(0, width, height, 0),
            interpolation="nearest",
        )
        ax.set_title(token, fontsize=9)
    figure.suptitle(caption)
    return figure
