"""The source-bias forest plot: each source's bias factor, grouped by source group."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from nkest.results.cite import percent
from nkest.results.plots._layout import (
    NARROW_WIDTH,
    arrange,
    check_probs,
    figure_size,
    fitted_legend,
    flagged,
    new_figure,
    note,
    subject_suffix,
)
from nkest.results.plots._style import (
    FONT,
    POINT,
    SMALL_FONT,
    literal,
    source_colours,
    style_axes,
)
from nkest.results.summaries import DEFAULT_PROB

if TYPE_CHECKING:
    from nkest.results.estimate import Estimate

__all__ = ["plot_source_bias"]


def plot_source_bias(
    estimate: Estimate,
    *,
    prob: float = DEFAULT_PROB,
    prob_inner: float | None = None,
    figsize: tuple[float, float | None] | None = None,
) -> Figure:
    """Draw each source's bias factor as a forest plot, grouped by source group.

    A source's bias factor is the ratio of what it states to the truth: 1.3
    means it states 30% above the truth. Each row shows the posterior median
    and two credible intervals on a log scale, with the median and outer
    interval written on the right. Each source has the colour it has in
    ``plot_totals``. Sources that only give floors or caps
    have no bias factor and no row.

    Parameters
    ----------
    estimate : Estimate
        The result of ``nkest.fit``.
    prob : float
        Probability of the outer (thin) interval.
    prob_inner : float
        Probability of the inner (thick) interval, below ``prob``.
    figsize : (float, float or None), optional
        Width and height in inches (default: 9 inches wide, 0.3 per row; a height of None: as
        the content needs).
        Below 6 inches wide the figure is laid out for a phone: the names
        are wrapped and the medians and intervals are not written beside
        the rows (the table of source biases has them).

    Returns
    -------
    matplotlib.figure.Figure
        One axes; the y tick labels are the groups (bold) each followed by
        its sources, and each source's median marker has the ``gid``
        ``"source:<source>"``.

    Raises
    ------
    ValueError
        For probabilities that are not ``0 < prob_inner < prob < 1``.
    """
    prob_inner, prob = check_probs(prob_inner, prob)
    outer = estimate.source_bias(prob).sort_values(["source_group", "source"], kind="stable")
    inner = estimate.source_bias(prob_inner).set_index("source")
    groups = list(dict.fromkeys(outer["source_group"]))
    colours = source_colours(estimate)

    width, height = figure_size(figsize, 9.0)
    narrow = width < NARROW_WIDTH
    wrap_at = 22 if narrow else 40
    names = [*groups, *outer["source"]]
    lines = max(_row_label(name, True, wrap_at).count("\n") + 1 for name in names)
    # room for the tallest wrapped name, so that long names neither overlap nor squeeze
    # the panel away
    row_height = max(0.45 if narrow else 0.3, 0.17 * lines + 0.06)
    n_rows = len(outer) + len(groups)
    fig = new_figure(width, height or n_rows * row_height + 3)
    ax = fig.subplots()
    right = ax.get_yaxis_transform()
    ticks: list[tuple[int, str, bool]] = []
    y = 0
    for index, group in enumerate(groups):
        first = y
        ticks.append((y, group, True))
        for row in outer[outer["source_group"] == group].itertuples():
            y += 1
            colour = colours.get(row.source, "0.3")
            ticks.append((y, row.source, False))
            thick = inner.loc[row.source, ["factor_lower", "factor_upper"]].to_numpy(float)
            ax.plot([row.factor_lower, row.factor_upper], [y, y], color=colour, lw=1.3, zorder=3)
            ax.plot(thick, [y, y], color=colour, lw=4.5, solid_capstyle="butt", zorder=3)
            ax.plot(
                [row.factor_median],
                [y],
                color=colour,
                zorder=4,
                gid=f"source:{row.source}",
                **{**POINT, "ms": 7.0, "mew": 1.0},
            )
            if narrow:
                continue
            ax.text(
                1.02,
                y,
                f"{row.factor_median:.2f}  ({row.factor_lower:.2f}–{row.factor_upper:.2f})",
                transform=right,
                va="center",
                fontsize=SMALL_FONT,
                color="0.2",
            )
        if index % 2 == 0:
            ax.axhspan(first - 0.5, y + 0.5, color="0.95", lw=0, zorder=0)
        y += 1
    if not narrow:
        ax.text(
            1.02,
            -1.0,
            f"median  ({percent(prob)} interval)",
            transform=right,
            va="center",
            fontsize=SMALL_FONT,
            fontweight="bold",
            color="0.2",
        )
    ax.set_ylim(y - 0.5, -1.5)
    ax.set_yticks(
        [t[0] for t in ticks],
        [_row_label(name, header, wrap_at) for _, name, header in ticks],
    )
    for tick, (_, _, header) in zip(ax.get_yticklabels(), ticks, strict=True):
        tick.set_fontweight("bold" if header else "normal")
    ax.tick_params(axis="y", length=0, labelsize=FONT)

    ax.set_xscale("log")
    low = min(float(outer["factor_lower"].min()), 1.0) / 1.15
    high = max(float(outer["factor_upper"].max()), 1.0) * 1.15
    # reach the next power of two when it is close, so the axis ends on a labelled tick
    below, above = 2.0 ** math.floor(math.log2(low)), 2.0 ** math.ceil(math.log2(high))
    low = below / 1.05 if low / below < 1.3 else low
    high = above * 1.05 if above / high < 1.3 else high
    ax.set_xlim(low, high)
    ax.xaxis.set_major_locator(FixedLocator(_factor_ticks(low, high)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axvline(1.0, color="0.35", lw=1, ls="--", zorder=2)
    ax.text(1.0, -1.0, " unbiased", va="center", fontsize=SMALL_FONT, color="0.35")
    ax.set_xlabel(
        "bias factor" + ("\n" if narrow else " ") + "(1.3 = states 30% above the truth)",
        fontsize=FONT,
    )
    ax.grid(axis="x", color="0.88", lw=0.6)
    ax.set_axisbelow(True)
    style_axes(ax)

    key = fitted_legend(
        fig,
        [
            Line2D([], [], color="0.3", **{**POINT, "ms": 7.0}),
            Line2D([], [], color="0.3", lw=4.5, solid_capstyle="butt"),
            Line2D([], [], color="0.3", lw=1.3),
        ],
        [
            "median",
            f"{percent(prob_inner)} credible interval",
            f"{percent(prob)} credible interval",
        ],
        width,
        title=None,
    )
    caption = (
        f"Identification: {estimate.identification}; bias factors are identified only "
        "relative to this assumption. Sources that give only floors or caps have no bias "
        "factor."
    )
    arrange(
        fig,
        [ax],
        width=width,
        panel_height=n_rows * row_height,
        title=flagged(
            estimate,
            f"How far each source's figures sit from the estimate{subject_suffix(estimate)}",
        ),
        below=[key, note(fig, caption, width)],
        height=height,
    )
    return fig


def _row_label(name: str, header: bool, wrap_at: int) -> str:
    """Return a row's label: a group in full, a source indented; wrapped at ``wrap_at``.

    Wrapped before it is made literal, so that no escape is split across lines.
    """
    text = literal(textwrap.fill(name, wrap_at))
    return text if header else textwrap.indent(text, "  ")


def _factor_ticks(low: float, high: float) -> list[float]:
    """Return readable ticks for a log axis of factors: powers of two, finer for a narrow range."""
    ticks = [2.0**k for k in range(-8, 9) if low <= 2.0**k <= high]
    if len(ticks) < 4:
        fine = [0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0]
        ticks = sorted({*ticks, *(t for t in fine if low <= t <= high)})
    return ticks
