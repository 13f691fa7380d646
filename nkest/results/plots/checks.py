"""The report checks: each used report's claim against the figure the model predicts for it."""

from __future__ import annotations

import numbers
import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from nkest.errors import OptionError
from nkest.results.cite import counted, percent
from nkest.results.plots._layout import (
    NARROW_WIDTH,
    arrange,
    figure_size,
    fitted_legend,
    flagged,
    new_figure,
    note,
    subject_suffix,
)
from nkest.results.plots._style import (
    ARROWS,
    CLAIM_COLOUR,
    FONT,
    POINT,
    POINT_QUALIFIERS,
    PREDICTED_COLOUR,
    PREDICTED_MEDIAN_COLOUR,
    RANGE,
    ROUNDING,
    SIDEWAYS,
    SMALL_FONT,
    SURPRISE_COLOUR,
    WINDOWED_SCOPES,
    arrow,
    centred,
    count_tick,
    literal,
    marker_handle,
    sideways,
    style_axes,
)
from nkest.results.summaries import DEFAULT_PROB

if TYPE_CHECKING:
    from nkest.results.estimate import Estimate

__all__ = ["plot_report_checks"]

_LOWEST = 0.4
"""Where the axis of figures starts at the lowest: a predicted figure below it is cut off."""


def plot_report_checks(
    estimate: Estimate,
    *,
    prob: float = DEFAULT_PROB,
    sort: str = "tail_p",
    highlight: float = 0.05,
    figsize: tuple[float, float | None] | None = None,
    most: int | None = None,
) -> Figure:
    """Draw each used report's claim against the figure the model predicts its source states.

    A posterior predictive check: for every report in the likelihood, a grey
    bar shows the ``prob`` interval (and a tick the median) of the figure the
    source would state according to the fit (the estimated total, the
    source's bias and its noise; for floors and caps the total itself), and
    the claim is drawn on it: a point for a stated figure, a bar for a range,
    an arrow for a bound. Claims whose tail probability is below
    ``highlight`` are the ones the model finds surprising: they are drawn in
    red with a bold red label. Windowed reports (period, incident) are
    included: their predicted figure is the increase over their window.

    Parameters
    ----------
    estimate : Estimate
        The result of ``nkest.fit``.
    prob : float
        Probability of the predicted interval.
    sort : {"tail_p", "date"}
        Row order, top to bottom: most surprising first, or by ``as_of``.
    highlight : float
        Tail probability below which a report is highlighted.
    figsize : (float, float or None), optional
        Width and height in inches (default: 10 inches wide, 0.26 per report; a height of None: as
        the content needs).
        Below 6 inches wide the labels are wrapped for a phone.
    most : int, optional
        Draw only this many reports, those with the lowest tail probability
        (the ones a reader should look at first); the caption says how many
        are left out and the highest tail probability among those drawn.
        Default: every report.

    Returns
    -------
    matplotlib.figure.Figure
        One axes, one row per report drawn (every used report, or ``most``), labelled
        ``"<report_id> · <source> · <quantity>"``; the claim's main artist
        has the ``gid`` ``"claim:<report_id>"``.

    Raises
    ------
    ValueError
        For an unknown ``sort``, ``prob`` or ``highlight`` not between 0 and 1, or ``most``
        not a positive whole number.
    """
    if sort not in ("tail_p", "date"):
        raise OptionError(f"sort must be 'tail_p' or 'date'; got {sort!r}")
    if most is not None and (
        isinstance(most, bool) or not isinstance(most, numbers.Integral) or most < 1
    ):
        raise OptionError(f"most must be a positive whole number or None; got {most!r}")
    if not isinstance(highlight, int | float) or not 0 <= highlight <= 1:
        raise OptionError(f"highlight must be a probability between 0 and 1; got {highlight!r}")
    checks = estimate.report_checks(prob).reset_index(drop=True)
    used = estimate.used.reset_index(drop=True)
    table = pd.concat([checks, used[["value", "qualifier", "scope", "as_of"]]], axis=1)
    every = len(table)
    surprising_anywhere = int((table["tail_p"] < highlight).sum())
    if most is not None and most < every:
        table = table.sort_values(["tail_p", "as_of"], kind="stable").head(most)
    order = ["tail_p", "as_of"] if sort == "tail_p" else ["as_of", "report_id"]
    table = table.sort_values(order, kind="stable").reset_index(drop=True)
    surprising = (table["tail_p"] < highlight).to_numpy()

    width, height = figure_size(figsize, 10.0)
    narrow = width < NARROW_WIDTH
    # wrapped before made literal, so that no escape is split across lines
    wrap_at = 26 if narrow else 60
    labels = [literal(textwrap.fill(_check_label(row), wrap_at)) for row in table.itertuples()]
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    row_height = max(0.26, 0.17 * lines + 0.06)  # room for the tallest wrapped label
    n = len(table)
    fig = new_figure(width, height or n * row_height + 3)
    ax = fig.subplots()
    right = ax.get_yaxis_transform()
    for y, row in enumerate(table.itertuples()):
        colour = SURPRISE_COLOUR if surprising[y] else CLAIM_COLOUR
        ax.plot(
            [row.predicted_lower, row.predicted_upper],
            [y, y],
            color=PREDICTED_COLOUR,
            lw=7,
            solid_capstyle="butt",
            zorder=2,
        )
        ax.plot(
            [row.predicted_median],
            [y],
            ls="none",
            marker="|",
            ms=9,
            mew=1.6,
            color=PREDICTED_MEDIAN_COLOUR,
            zorder=3,
        )
        _draw_claim(ax, row, y, colour)
        ax.text(
            1.01,
            y,
            _tail(row.tail_p),
            transform=right,
            va="center",
            fontsize=SMALL_FONT,
            color=colour,
            fontweight="bold" if surprising[y] else "normal",
        )
        if y % 2 == 0:
            ax.axhspan(y - 0.5, y + 0.5, color="0.965", lw=0, zorder=0)
    ax.text(
        1.01, -1.1, "tail p", transform=right, va="center", fontsize=SMALL_FONT, fontweight="bold"
    )
    style_axes(ax)
    ax.set_ylim(n - 0.5, -1.6)
    ax.set_yticks(range(n), labels)
    for tick, hit in zip(ax.get_yticklabels(), surprising, strict=True):
        tick.set_fontweight("bold" if hit else "normal")
        tick.set_color(SURPRISE_COLOUR if hit else "0.1")
    ax.tick_params(axis="y", length=0, labelsize=SMALL_FONT)
    ax.set_xscale("log")
    ends = table[["predicted_lower", "predicted_upper", "claim_lower", "claim_upper"]]
    ends = ends.to_numpy(float)
    ends = ends[np.isfinite(ends) & (ends > 0)]
    # counts below a half are not figures anyone states: the axis starts near 0.5
    ax.set_xlim(max(_LOWEST, float(ends.min()) / 2), float(ends.max()) * 2)
    ax.xaxis.set_major_locator(LogLocator(base=10, numticks=4 if narrow else 8))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: count_tick(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_tick_params(labeltop=True, top=True)
    ax.grid(axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("the source's figure (log scale)", fontsize=FONT)

    intervals = table["kind"] == "interval"
    pointed = table["qualifier"].isin(POINT_QUALIFIERS)
    observed = table["role"] == "observation"
    entries = [
        (
            True,
            (
                Line2D([], [], color=PREDICTED_COLOUR, lw=7, solid_capstyle="butt"),
                Line2D([], [], ls="none", marker="|", ms=9, mew=1.6, color=PREDICTED_MEDIAN_COLOUR),
            ),
            f"predicted figure: {percent(prob)} interval, tick at median",
        ),
        (
            (intervals & pointed).any(),
            (
                Line2D([], [], color=CLAIM_COLOUR, **{**ROUNDING, **SIDEWAYS}),
                Line2D([], [], color=CLAIM_COLOUR, **POINT),
            ),
            "claim: a stated figure (thin bar: its rounding)",
        ),
        (
            (intervals & ~pointed).any(),
            Line2D([], [], color=CLAIM_COLOUR, **{**RANGE, **SIDEWAYS}),
            "claim: a range",
        ),
        (
            (~intervals & observed).any(),
            marker_handle(centred(sideways(ARROWS["lower"])), CLAIM_COLOUR),
            "claim: a bound ('at least' →, 'at most' ←)",
        ),
        (
            (~observed).any(),
            marker_handle(centred(sideways(ARROWS["floor"])), CLAIM_COLOUR),
            "floor or cap: a hard bound on the total",
        ),
        (
            True,
            Line2D([], [], color=SURPRISE_COLOUR, **POINT),
            f"surprising: tail p < {highlight:g}",
        ),
    ]
    key = fitted_legend(
        fig,
        [handle for shown, handle, _ in entries if shown],
        [label for shown, _, label in entries if shown],
        width,
        title=None,
        labelspacing=0.9,
        max_columns=3,
    )
    caption = (
        "For every report in the fit, the grey bar is where the model expects the source's "
        "figure to fall, given the estimated total, the source's bias and its noise (for floors "
        "and caps, the estimated total itself). Tail p is how far out in the predicted "
        "distribution the claim lies (for a two-sided claim, twice the smaller tail; for a "
        f"bound, its one tail): {surprising_anywhere} of {counted(every, 'report')} fall below "
        f"{highlight:g}.{_left_out(table, every)} Rows marked 'window' count the increase "
        f"over a period or one incident. Identification: {estimate.identification}."
    )
    arrange(
        fig,
        [ax],
        width=width,
        panel_height=n * row_height,
        title=flagged(
            estimate,
            "Does each report fit the estimate? Posterior predictive check"
            + subject_suffix(estimate),
        ),
        below=[key, note(fig, caption, width)],
        height=height,
    )
    return fig


def _left_out(drawn: pd.DataFrame, every: int) -> str:
    """Say which reports a chart limited by ``most`` leaves out: none is dropped silently."""
    if len(drawn) == every:
        return ""
    others = every - len(drawn)
    return (
        f" Drawn: the {len(drawn)} of {every} reports with the lowest tail p; the other "
        f"{counted(others, 'report')} {'fits' if others == 1 else 'fit'} at least as well "
        "as those drawn."
    )


def _draw_claim(ax: Axes, row: Any, y: float, colour: Any) -> None:
    """Draw a report's claim on row ``y``, as it was worded (point, range or bound)."""
    gid = f"claim:{row.report_id}"
    if row.kind in ("lower", "upper"):
        constraint = {"lower": "floor", "upper": "cap"}[row.kind]
        shape = constraint if row.role == constraint else row.kind
        bound = row.claim_lower if row.kind == "lower" else row.claim_upper
        arrow(ax, bound, y, sideways(ARROWS[shape]), colour, gid=gid, size=22)
    elif row.qualifier in POINT_QUALIFIERS:
        ends = [row.claim_lower, row.claim_upper]
        ax.plot(ends, [y, y], color=colour, zorder=4, gid="rounding", **{**ROUNDING, **SIDEWAYS})
        ax.plot([float(row.value)], [y], color=colour, zorder=5, gid=gid, **POINT)
    else:
        ends = [row.claim_lower, row.claim_upper]
        ax.plot(ends, [y, y], color=colour, zorder=4, gid=gid, **{**RANGE, **SIDEWAYS})


def _check_label(row: Any) -> str:
    """Return a row's label: report id, source, quantity and [role, window] if any."""
    quantity = "troops deployed (all losses)" if row.quantity == "deployed" else row.quantity
    extras = [row.role] if row.role != "observation" else []
    if row.scope in WINDOWED_SCOPES:
        extras.append("window")
    suffix = f" [{', '.join(extras)}]" if extras else ""
    return f"{row.report_id} · {row.source} · {quantity}{suffix}"


def _tail(p: float) -> str:
    """Format a tail probability with two or three decimals, or "<0.001"."""
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"
