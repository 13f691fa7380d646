"""Losses per month: the increase of each total in each calendar month, with its interval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from nkest.results.cite import percent
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
    FONT,
    INNER_COLOUR,
    MEDIAN_COLOUR,
    OUTER_COLOUR,
    QUANTITY_LABELS,
    format_count_axis,
    format_date_axis,
)
from nkest.results.summaries import DEFAULT_PROB

if TYPE_CHECKING:
    from nkest.results.estimate import Estimate

__all__ = ["plot_losses_per_month"]


def plot_losses_per_month(
    estimate: Estimate,
    *,
    quantities: Sequence[str] = ("killed", "wounded"),
    prob: float = DEFAULT_PROB,
    figsize: tuple[float, float | None] | None = None,
) -> Figure:
    """Draw each month's losses: a bar at the median increase, a line over its interval.

    The increase of a cumulative total over each calendar month
    (``Estimate.losses_per_month``). Months after a quantity's last report
    are drawn pale: their losses follow the model, not reports of the
    quantity. The first and last months, cut by the estimate's dates, are
    partial and say so in the caption.

    Parameters
    ----------
    estimate : Estimate
        The result of ``nkest.fit``.
    quantities : sequence of str
        One panel each, top to bottom; any of ``estimate.quantities``.
    prob : float
        Probability of the interval.
    figsize : (float, float or None), optional
        Width and height in inches (default: 10 inches wide, 2.2 per panel;
        a height of None: as the content needs).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per quantity; each month's bar has the ``gid``
        ``"month:<quantity>:<YYYY-MM>"``.
    """
    table = estimate.losses_per_month(quantities, prob=prob)  # it checks the quantities
    names = list(dict.fromkeys(table["quantity"]))
    width, height = figure_size(figsize, 10.0)
    panel_height = 2.2
    fig = new_figure(width, height or len(names) * panel_height + 2)
    axes = list(fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0])
    for ax, quantity in zip(axes, names, strict=True):
        rows = table[table["quantity"] == quantity]
        middle = rows["start"] + (rows["end"] - rows["start"]) / 2
        spans = (rows["end"] - rows["start"]).dt.days * 0.8
        reported = ~rows["past_last_report"].to_numpy()
        for row, x, span, solid in zip(rows.itertuples(), middle, spans, reported, strict=True):
            ax.bar(
                x,
                row.median,
                width=span,
                color=INNER_COLOUR if solid else OUTER_COLOUR,
                edgecolor="none",
                zorder=2,
                gid=f"month:{quantity}:{row.month}",
            )
            ax.plot([x, x], [row.lower, row.upper], color=MEDIAN_COLOUR, lw=1.2, zorder=3)
        format_count_axis(ax, log_scale=False)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(QUANTITY_LABELS.get(quantity, quantity.capitalize()), fontsize=FONT)
    format_date_axis(axes[-1], narrow=width < NARROW_WIDTH)
    first, last = table["start"].min(), table["end"].max()
    axes[-1].set_xlim(first - pd.Timedelta(days=5), last + pd.Timedelta(days=5))
    axes[-1].xaxis.set_minor_locator(mdates.MonthLocator())

    key = fitted_legend(
        fig,
        [
            Patch(fc=INNER_COLOUR),
            Patch(fc=OUTER_COLOUR),
            Line2D([], [], color=MEDIAN_COLOUR, lw=1.2),
        ],
        [
            "median losses in the month",
            "after the quantity's last report: the model, not reports",
            f"{percent(prob)} credible interval",
        ],
        width,
        title=None,
    )
    partial = table[table["partial"]].drop_duplicates("month")
    cut = ", ".join(
        f"{row.month} ({row.start:%d %b} to {row.end:%d %b})" for row in partial.itertuples()
    )
    caption = (
        "The increase of each cumulative total over each calendar month, from the same draws "
        "as the totals." + (f" Partial months, cut by the estimate's dates: {cut}." if cut else "")
    )
    arrange(
        fig,
        axes,
        width=width,
        panel_height=panel_height,
        title=flagged(estimate, "Losses per month" + subject_suffix(estimate)),
        below=[key, note(fig, caption, width)],
        height=height,
    )
    return fig
