"""The frame shared by the figures: canvas, titles, legends, notes and their arrangement.

A figure is made with ``new_figure`` (its own Agg canvas, nothing
registered with pyplot), its legends with ``fitted_legend`` and its notes
with ``note``; ``arrange`` then measures everything and sets the figure's
size so that the panels have the height asked for and nothing overlaps.
The checks of the band probabilities, common to the figures, are here too.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.legend_handler import HandlerTuple
from matplotlib.text import Text

from nkest.errors import OptionError
from nkest.results.plots._style import NOTE_COLOUR, SMALL_FONT, literal
from nkest.results.summaries import inner_prob

if TYPE_CHECKING:
    from nkest.results.estimate import Estimate


MIN_PANEL_HEIGHT = 0.6
"""The least height of a panel, in inches, whatever figure size is asked for."""
NARROW_WIDTH = 6.0
"""Figures narrower than this (inches) are laid out for a phone: labels wrapped, fewer words."""


def figure_size(
    figsize: tuple[float, float | None] | None, width: float
) -> tuple[float, float | None]:
    """Return the width and the asked-for height of a figure (None: from its content).

    Raises
    ------
    nkest.errors.OptionError
        If ``figsize`` is not a width of at least 3 inches and a positive
        height (or None).
    """
    if figsize is None:
        return width, None
    try:
        asked_width, asked_height = figsize
        asked_width = float(asked_width)
        asked_height = None if asked_height is None else float(asked_height)
    except (TypeError, ValueError):
        raise OptionError(f"figsize must be (width, height) in inches; got {figsize!r}") from None
    if not asked_width >= 3 or not (asked_height is None or asked_height > 0):
        raise OptionError(
            f"figsize must be at least 3 inches wide and of positive height; got {figsize!r}"
        )
    return asked_width, asked_height


def smallest_text_px(fig: Figure, dpi: float) -> float:
    """Return the height of the smallest text drawn on ``fig``, in pixels at ``dpi``.

    The report records it in each figure's PNG so that a browser check can tell
    how large the text is where the figure is shown (``browser.report_layout``).
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    sizes = []
    for text in fig.findobj(Text):
        if not (text.get_visible() and text.get_text().strip()):
            continue
        box = text.get_window_extent(renderer)  # tick labels beyond the limits lie outside
        if box.width > 0 and fig.bbox.overlaps(box):
            sizes.append(text.get_fontsize())
    return min(sizes, default=0.0) * dpi / 72


def new_figure(width: float, height: float) -> Figure:
    """Make a figure with its own Agg canvas: not registered with pyplot, no global state."""
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def check_probs(inner: float | None, outer: float) -> tuple[float, float]:
    """Return the inner and outer probabilities as floats, if ``0 < inner < outer < 1``.

    ``inner`` None is ``inner_prob(outer)``: 50% inside a 90% band.

    Raises
    ------
    nkest.errors.OptionError
        If either is not a number between 0 and 1, or ``inner >= outer``.
    """
    if inner is None and isinstance(outer, int | float):
        inner = inner_prob(outer)
    for name, p in (("prob_inner", inner), ("prob", outer)):
        if not isinstance(p, int | float) or not 0 < p < 1:
            raise OptionError(f"{name} must be a number between 0 and 1; got {p!r}")
    if not inner < outer:
        raise OptionError(f"the inner probability ({inner}) must be below the outer one ({outer})")
    return float(inner), float(outer)


# -- titles ----------------------------------------------------------------------------


def subject(estimate: Estimate) -> str | None:
    """Return the subject of the estimate's reports (their ``subject`` metadata), if any."""
    name = estimate.reports.metadata.get("subject")
    return str(name) if name else None


def subject_suffix(estimate: Estimate) -> str:
    """Return " (<subject>)" to end a title with, or "" without a subject."""
    name = subject(estimate)
    return f" ({name})" if name else ""


def flagged(estimate: Estimate, title: str) -> str:
    """Return ``title``, led by a warning when the fit fails its sampler diagnostics.

    A figure travels without the report around it: its title is where the warning goes.
    """
    if estimate.diagnostics()["passed"]:
        return title
    return f"NOT RELIABLE (the sampler's diagnostics failed): {title}"


_TITLE_NOUNS = {
    "killed": "deaths",
    "wounded": "wounded",
    "casualties": "casualties",
    "captured": "captured",
    "missing": "missing",
    "deployed": "troops sent",
}


def default_title(estimate: Estimate, quantities: Sequence[str]) -> str:
    """Return "<subject>: estimated cumulative losses" (or deaths, wounded, ...).

    "Losses" for several of killed, wounded and casualties ("losses and troops
    sent" with the troops sent); otherwise the quantities by name ("deaths" for
    killed).
    """
    names = list(dict.fromkeys(quantities))
    losses = [q for q in names if q != "deployed"]
    if len(losses) > 1 and set(losses) <= {"killed", "wounded", "casualties"}:
        listed = "losses" + (" and troops sent" if "deployed" in names else "")
    else:
        nouns = [_TITLE_NOUNS.get(q, q) for q in names]
        listed = nouns[0] if len(nouns) == 1 else ", ".join(nouns[:-1]) + " and " + nouns[-1]
    name = subject(estimate)
    return f"{name}: estimated cumulative {listed}" if name else f"Estimated cumulative {listed}"


# -- legends and notes -----------------------------------------------------------------


def fitted_legend(
    fig: Figure,
    handles: list[Any],
    labels: list[str],
    width: float,
    *,
    title: str | None,
    labelspacing: float = 0.7,
    max_columns: int = 4,
) -> Legend:
    """Make a frameless legend with as many columns (up to four) as fit in the figure's width."""
    available = (width - 0.5) * fig.dpi
    renderer = fig.canvas.get_renderer()
    ncol = min(len(handles), max_columns)
    wrap_at = None
    while True:
        # wrapped before made literal, so that no escape is split across lines
        shown = [
            literal(label if wrap_at is None else textwrap.fill(label, wrap_at)) for label in labels
        ]
        legend = fig.legend(
            handles,
            shown,
            loc="upper left",
            ncols=ncol,
            frameon=False,
            fontsize=SMALL_FONT,
            title=None if title is None else literal(title),
            title_fontproperties={"size": SMALL_FONT, "weight": "bold"},
            alignment="left",
            handler_map={tuple: HandlerTuple(ndivide=1)},
            handlelength=2.2,
            columnspacing=1.6,
            labelspacing=labelspacing,
        )
        fits = legend.get_window_extent(renderer).width <= available
        if fits or (ncol == 1 and wrap_at is not None and wrap_at <= 12):
            return legend
        legend.remove()
        if ncol > 1:
            ncol -= 1
        else:  # one column is still too wide (a narrow figure): wrap the labels, shorter each time
            longest = max(len(label) for label in labels)
            wrap_at = int((wrap_at or longest) * 0.85)


def note(fig: Figure, text: str, width: float, *, gid: str | None = None) -> Text:
    """Add a note in small grey type, wrapped to the figure's width (placed by ``arrange``)."""
    chars = int((width - 0.5) * 72 / (SMALL_FONT * 0.5))
    return fig.text(
        0,
        0,
        literal(textwrap.fill(text, chars)),
        fontsize=SMALL_FONT,
        color=NOTE_COLOUR,
        ha="left",
        va="top",
        gid=gid,
        linespacing=1.4,
    )


# -- arrangement -----------------------------------------------------------------------


@dataclass
class _Extents:
    """How far an axes' labels reach beyond it, in inches."""

    left: float
    right: float
    top: float
    bottom: float


def _extents(ax: Axes, renderer: Any, dpi: float) -> _Extents:
    """Measure how far an axes' labels reach beyond it."""
    box = ax.get_window_extent(renderer)
    tight = ax.get_tightbbox(renderer)
    return _Extents(
        left=max(0.0, box.x0 - tight.x0) / dpi,
        right=max(0.0, tight.x1 - box.x1) / dpi,
        top=max(0.0, tight.y1 - box.y1) / dpi,
        bottom=max(0.0, box.y0 - tight.y0) / dpi,
    )


def arrange(
    fig: Figure,
    axes: Sequence[Axes],
    *,
    width: float,
    panel_height: float,
    title: str,
    below: Sequence[Legend | Text],
    height: float | None = None,
) -> None:
    """Lay out a column of axes with a title above and legends and notes below.

    Sizes are measured (tick labels, legends, wrapped notes), and the
    figure's height is set so that every panel is ``panel_height`` inches
    tall and nothing overlaps. With ``height``, the panels share what the
    figure's ``height`` leaves them instead (at least ``MIN_PANEL_HEIGHT`` each).
    """
    pad, gap, margin = 0.15, 0.12, 0.2
    heading = fig.text(
        0,
        0,
        literal(textwrap.fill(title, int((width - 0.4) * 72 / (12 * 0.55)))),
        fontsize=12,
        fontweight="bold",
        ha="left",
        va="top",
    )
    dpi = fig.dpi
    renderer = fig.canvas.get_renderer()
    fig.subplots_adjust(left=0.3, right=0.7, top=0.8, bottom=0.3)
    extents = [_extents(ax, renderer, dpi) for ax in axes]
    left = max(e.left for e in extents) + margin
    right = max(e.right for e in extents) + margin
    between = gap + max(
        (upper.bottom + lower.top for upper, lower in itertools.pairwise(extents)),
        default=0.0,
    )
    top = pad + heading.get_window_extent(renderer).height / dpi + gap + extents[0].top
    heights = [item.get_window_extent(renderer).height / dpi for item in below]
    bottom = extents[-1].bottom + sum(heights) + gap * (len(below) + 1) + pad
    if height is not None:
        free = height - top - bottom - (len(axes) - 1) * between
        panel_height = max(MIN_PANEL_HEIGHT, free / len(axes))
    height = top + len(axes) * panel_height + (len(axes) - 1) * between + bottom
    fig.set_size_inches(width, height)
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        top=1 - top / height,
        bottom=bottom / height,
        hspace=between / panel_height,
    )
    x = margin / width
    heading.set_position((x, 1 - pad / height))
    y = bottom - extents[-1].bottom - gap
    for item, item_height in zip(below, heights, strict=True):
        if isinstance(item, Legend):
            item.set_bbox_to_anchor((x, y / height), transform=fig.transFigure)
        else:
            item.set_position((x, y / height))
        y -= item_height + gap
