"""Checks that a matplotlib figure reads cleanly: no text runs into another.

Used by `tests/test_tutorials.py` inside the notebooks' kernels: every
figure a tutorial shows is checked as it is drawn, and the notebook fails
if a title, label or legend overlaps another text, or a legend covers bars.
Public matplotlib API only (window extents after a draw).
"""

from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

# Overlaps below this many square pixels are anti-aliasing, not collisions.
MIN_OVERLAP = 4.0


def _overlap_area(a, b):
    both = Bbox.intersection(a, b)
    return 0.0 if both is None else both.width * both.height


def _label(text):
    return repr(text.get_text()[:40])


def figure_overlaps(figure):
    """The collisions in `figure`: a list of sentences, empty if none.

    - two visible texts (titles, the figure's title, axis labels, legend
      entries, annotations; not tick labels) overlap;
    - an axes' title runs into another axes;
    - a legend covers a bar (a `Rectangle` patch of its axes) or a text
      outside the legend.
    """
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    legends = [ax.get_legend() for ax in figure.axes]
    legends = [legend for legend in legends if legend is not None]
    legends += list(figure.legends)
    legend_texts = {id(t) for legend in legends for t in legend.get_texts()}
    if legends:
        legend_texts |= {id(legend.get_title()) for legend in legends}
    ticks = set()  # tick labels: not compared (ticks out of view keep a place)
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks |= {id(tick.label1), id(tick.label2)}
    texts = [
        t
        for t in figure.findobj(Text)
        if t.get_visible()
        and t.get_text().strip()
        and t.figure is figure
        and id(t) not in ticks
    ]
    boxes = [t.get_window_extent(renderer) for t in texts]
    problems = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            a, b = texts[i], texts[j]
            if id(a) in legend_texts and id(b) in legend_texts:
                continue  # a legend lays out its own entries
            if _overlap_area(boxes[i], boxes[j]) > MIN_OVERLAP:
                problems.append(f"text {_label(a)} overlaps text {_label(b)}")
    # An axes' title must not run into another axes (an image above it).
    for ax in figure.axes:
        title = ax.title
        if not (title.get_visible() and title.get_text().strip()):
            continue
        title_box = title.get_window_extent(renderer)
        for other in figure.axes:
            if other is not ax and other.get_visible():
                area = _overlap_area(title_box, other.get_window_extent(renderer))
                if area > MIN_OVERLAP:
                    problems.append(f"title {_label(title)} runs into another panel")
                    break
    for legend in legends:
        box = legend.get_window_extent(renderer)
        ax = legend.axes if legend.axes is not None else None
        if ax is not None:
            for patch in ax.patches:
                if isinstance(patch, Rectangle) and patch.get_visible():
                    if _overlap_area(box, patch.get_window_extent(renderer)) > (
                        MIN_OVERLAP
                    ):
                        problems.append(
                            f"the legend of {_label(ax.title)} covers a bar"
                        )
                        break
        for text, text_box in zip(texts, boxes, strict=True):
            if id(text) in legend_texts:
                continue
            if _overlap_area(box, text_box) > MIN_OVERLAP:
                problems.append(f"a legend covers text {_label(text)}")
    return problems


# Run in a notebook's kernel before its first cell: every figure shown is
# checked as it is printed; the last injected cell asserts none collided.
KERNEL_SETUP = """
import sys as _sys
_sys.path.insert(0, {root!r})
from matplotlib.backend_bases import FigureCanvasBase as _Canvas
from tests.figure_checks import figure_overlaps as _figure_overlaps
_FIGURE_PROBLEMS = []
_print_figure = _Canvas.print_figure


def _checked_print_figure(self, *args, **kwargs):
    if not getattr(self.figure, "_keras_roleplay_checked", False):
        self.figure._keras_roleplay_checked = True
        _FIGURE_PROBLEMS.extend(_figure_overlaps(self.figure))
    return _print_figure(self, *args, **kwargs)


_Canvas.print_figure = _checked_print_figure
"""

KERNEL_CHECK = "assert not _FIGURE_PROBLEMS, _FIGURE_PROBLEMS"
