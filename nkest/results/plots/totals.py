"""The fan chart: estimated cumulative totals over time, with the reports drawn on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text

from nkest.errors import OptionError
from nkest.results.cite import be, count, counted, last_reports, percent
from nkest.results.plots._layout import (
    NARROW_WIDTH,
    arrange,
    check_probs,
    default_title,
    figure_size,
    fitted_legend,
    flagged,
    new_figure,
    note,
)
from nkest.results.plots._style import (
    ARROWS,
    BARS,
    BOUND_SHAPES,
    CONSTRAINT_COLOUR,
    EXCLUDED_COLOUR,
    FONT,
    HOLLOW,
    INNER_COLOUR,
    KEY_COLOUR,
    MEDIAN_COLOUR,
    OUTER_COLOUR,
    POINT,
    POINT_QUALIFIERS,
    QUANTITY_LABELS,
    RANGE,
    ROUNDING,
    SMALL_FONT,
    WINDOW_SPAN,
    WINDOWED_SCOPES,
    arrow,
    centred,
    draw_fan,
    format_count_axis,
    format_date_axis,
    literal,
    marker_handle,
    source_colours,
)
from nkest.results.summaries import DEFAULT_PROB, headline_quantities

if TYPE_CHECKING:
    from nkest.results.estimate import Estimate

DateLike = str | pd.Timestamp | dt.date
"""A date as a string ("2025-04-30"), a ``datetime.date`` or a ``pandas.Timestamp``."""

__all__ = ["plot_totals"]

_CHECKED_IN = "each is checked in the chart 'Does each report fit the estimate?'."

LAST_REPORT_STYLE = (0, (1.5, 2.0))
"""Dotted: the line marking a quantity's last report."""


def plot_totals(
    estimate: Estimate,
    *,
    quantities: Sequence[str] | None = None,
    prob: float = DEFAULT_PROB,
    prob_inner: float | None = None,
    show_reports: bool = True,
    show_excluded: bool = True,
    log_scale: bool = False,
    title: str | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    figsize: tuple[float, float | None] | None = None,
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Draw the estimated cumulative totals over time, with the reports on them.

    One panel per quantity: the posterior median and two equal-tailed
    credible bands, and every cumulative report of that quantity at its
    ``as_of`` date, coloured by source, drawn as it was worded: a stated
    figure as a point (with the interval its rounding allows as a thin bar),
    a range as a thick bar, a lower bound as an arrow up from the bound and
    an upper bound as an arrow down. Floors and caps (hard bounds, not
    corrected for bias) are black; caps on troops deployed bound all losses
    and are drawn on the casualties panel. Excluded reports with a figure are
    drawn hollow and grey. A report counting a window (an incident or a
    period) is not a running total, but the total is at least its count by
    the window's end: it is drawn as an arrow up from its lower end, standing
    in a bracket, at the window's end, over a thin line spanning the window.
    A dotted line marks a quantity's last report when the estimate goes on
    past it (``gid`` ``"last:<quantity>"``): to its right the band follows the
    model (the other quantities' reports, the wounded:killed ratio, the rate
    process), not reports of the quantity itself.
    Every report not drawn is accounted for in the footnote: upper bounds on
    a window (they say nothing about the total), reports of quantities not
    drawn, and excluded reports without a cumulative figure in the time
    range.

    The reports are drawn as their sources stated them, before the model's
    correction for each source's bias, so a source the model finds to
    over-report sits above the band. With up to eight sources, each is named
    beside its last report in each panel, in its colour (``gid``
    ``"label:<source>"``), where the names fit without overlapping; otherwise,
    and always with more sources, a legend names the colours.

    Parameters
    ----------
    estimate : Estimate
        The result of ``nkest.fit``.
    quantities : sequence of str, optional
        The panels, top to bottom; any of ``estimate.quantities``. Default:
        killed, wounded, casualties, and the troops sent when estimated.
    prob, prob_inner : float
        Probabilities of the inner and outer credible bands
        (``prob_inner < prob``).
    show_reports : bool
        Draw the reports used in the fit.
    show_excluded : bool
        Draw the excluded reports that have a cumulative figure (hollow).
    log_scale : bool
        Use a logarithmic y axis.
    title : str, optional
        The figure's title; default: "<subject>: estimated cumulative losses".
    start, end : date-like, optional
        The dates shown (default: the estimate's time range). Reports outside
        them are not drawn, and the footnote counts them.
    figsize : (float, float or None), optional
        Width and height in inches (default: 10 inches wide, 2.7 per panel;
        a height of None: as the content needs). The panels share what the
        title, legends and notes leave of the height, at least 0.6 inches each.
        Below 6 inches wide the figure is laid out for a phone: the legends'
        labels are wrapped.
    ax : Axes or sequence of Axes, optional
        Draw into these axes, one per quantity, instead of a new figure: the
        bands, the reports and the last-report lines only (no title, legend
        or footnote, which need the figure's room).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per quantity, top to bottom (with ``ax``, the figure it
        belongs to). Each drawn report's main artist has the ``gid``
        ``"report:<report_id>"`` (excluded ones ``"excluded:<report_id>"``;
        the line spanning a window ``"window"``); the footnote's is
        ``"footnote"``.

    Raises
    ------
    ValueError
        For an unknown quantity or probabilities that are not
        ``0 < prob_inner < prob < 1``.
    """
    if quantities is None:
        quantities = headline_quantities(estimate.quantities)
    quantities = _check_quantities(estimate, quantities)
    prob_inner, prob = check_probs(prob_inner, prob)
    start, end = _date_range(estimate, start, end)
    inner = _between(
        estimate.summary(dates="all", quantities=quantities, prob=prob_inner), start, end
    )
    outer = _between(estimate.summary(dates="all", quantities=quantities, prob=prob), start, end)

    used = estimate.used
    targets = {q: _panel_targets(q) for q in quantities}
    on_panels = used["target"].isin([t for ts in targets.values() for t in ts])
    windowed = used["scope"].isin(WINDOWED_SCOPES)
    # an upper bound on a window bounds the increase over it, not the running total
    silent = on_panels & windowed & (used["kind"] == "upper")
    shown_dates = used["as_of"].between(start, end)
    outside = used[on_panels & ~silent & ~shown_dates]
    drawn = used[on_panels & ~silent & shown_dates]
    silent_windows = used[silent]
    elsewhere = used[~on_panels]
    excluded = estimate.excluded
    excluded = excluded[excluded["quantity"].isin(quantities)]
    drawable = (
        (excluded["scope"] == "cumulative")
        & excluded["value"].notna()
        & (excluded["as_of"] >= start)
        & (excluded["as_of"] <= end)
    )
    undrawable = int((~drawable).sum())
    excluded = excluded[drawable]
    observations = drawn[drawn["role"] == "observation"]
    palette = source_colours(estimate)
    shown = set(observations["source"])
    colours = {source: colour for source, colour in palette.items() if source in shown}

    width, height = figure_size(figsize, 10.0)
    panel_height = 2.7
    if ax is not None:
        axes = [ax] if isinstance(ax, Axes) else list(ax)
        if len(axes) != len(quantities):
            raise OptionError(
                f"ax must give one axes per quantity ({len(quantities)}); got {len(axes)}"
            )
        fig = axes[0].get_figure(root=True)
    else:
        fig = new_figure(width, height or len(quantities) * panel_height + 4)
        axes = list(fig.subplots(len(quantities), 1, sharex=True, squeeze=False)[:, 0])
    kinds: set[str] = set()
    last_read = last_reports(used)
    for panel, quantity in zip(axes, quantities, strict=True):
        band_out = outer[outer["quantity"] == quantity]
        draw_fan(panel, inner[inner["quantity"] == quantity], band_out, log_scale)
        last = last_read.get(quantity)
        if last is not None and start <= last < end:
            _mark_last_report(panel, quantity, last, right=(last - start) / (end - start) > 0.8)
            kinds.add("last report")
        if show_excluded:
            for row in excluded[excluded["quantity"] == quantity].itertuples():
                _draw_excluded(panel, row)
                kinds.add("excluded")
        if show_reports:
            rows = drawn[drawn["target"].isin(targets[quantity])].sort_values("as_of")
            kinds.update(_draw_report(panel, row, colours) for row in rows.itertuples())
        format_count_axis(panel, log_scale)
        panel.set_ylabel(QUANTITY_LABELS.get(quantity, quantity.capitalize()), fontsize=FONT)
        _label_last(panel, band_out, prob, narrow=width < NARROW_WIDTH)
        _set_count_limits(panel, band_out, log_scale)
    for panel in axes if ax is not None else axes[-1:]:
        format_date_axis(panel, narrow=width < NARROW_WIDTH)
        panel.set_xlim(start, end + (end - start) * 0.015)
    if ax is not None:
        return fig

    below: list[Legend | Text] = []
    panels = dict(zip(quantities, axes, strict=True))
    if (
        show_reports
        and len(observations)
        and not _label_directly(fig, panels, targets, drawn, colours)
    ):
        below.append(_source_legend(fig, colours, width))
    below.append(_key_legend(fig, kinds, prob_inner, prob, width))
    caption = (
        f"Line: posterior median. Bands: {percent(prob_inner)} and {percent(prob)} "
        f"equal-tailed credible intervals. Identification: {estimate.identification}. "
        "Reports are drawn as their sources stated them, before the correction for each "
        "source's bias."
    )
    below.append(note(fig, caption, width))
    notes = []
    if show_reports and len(silent_windows):
        n = len(silent_windows)
        notes.append(
            f"Not drawn: {counted(n, 'upper bound')} on a window, which "
            f"{'says' if n == 1 else 'say'} nothing about the running total "
            f"({_ids(silent_windows)}); {_CHECKED_IN}"
        )
    if show_reports and len(elsewhere):
        n = len(elsewhere)
        names = ", ".join(dict.fromkeys(_quantity_name(q) for q in elsewhere["target"]))
        notes.append(
            f"{counted(n, 'report')} of {names} {be(n)} not drawn ({_ids(elsewhere)}); "
            + _CHECKED_IN
        )
    if show_reports and len(outside):
        n = len(outside)
        notes.append(
            f"{counted(n, 'report')} outside the dates shown {be(n)} not drawn ({_ids(outside)})."
        )
    if show_excluded and undrawable:
        notes.append(
            f"{counted(undrawable, 'excluded report')} of these quantities without a "
            f"cumulative figure in the dates shown {be(undrawable)} not drawn."
        )
    if notes:
        below.append(note(fig, " ".join(notes), width, gid="footnote"))
    heading = title if title is not None else default_title(estimate, quantities)
    arrange(
        fig,
        axes,
        width=width,
        panel_height=panel_height,
        title=flagged(estimate, heading),
        below=below,
        height=height,
    )
    return fig


def _date_range(
    estimate: Estimate, start: DateLike | None, end: DateLike | None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the dates to show: the estimate's range, or the part of it asked for."""
    first, last = pd.Timestamp(estimate.grid.dates[0]), pd.Timestamp(estimate.grid.dates[-1])
    try:
        low = first if start is None else pd.Timestamp(start)
        high = last if end is None else pd.Timestamp(end)
    except (TypeError, ValueError):
        raise OptionError(f"start and end must be dates; got {start!r} and {end!r}") from None
    low, high = max(low, first), min(high, last)
    if not low < high:
        raise OptionError(
            f"start and end must leave some of the estimate's dates ({first:%Y-%m-%d} to "
            f"{last:%Y-%m-%d}); got {start!r} and {end!r}"
        )
    return low, high


def _between(band: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    return band[band["date"].between(start, end)]


def _check_quantities(estimate: Estimate, quantities: Sequence[str]) -> list[str]:
    """Return the quantities as a list, if they are all among the estimate's."""
    names = [quantities] if isinstance(quantities, str) else list(quantities)
    unknown = [q for q in names if q not in estimate.quantities]
    if unknown or not names:
        raise OptionError(
            f"quantities must be among {', '.join(estimate.quantities)}; got {names!r}"
        )
    return names


def _panel_targets(quantity: str) -> tuple[str, ...]:
    """Return the targets drawn on a quantity's panel (caps on all losses go on casualties)."""
    return (quantity, "all_losses") if quantity == "casualties" else (quantity,)


def _label_last(ax: Axes, band: pd.DataFrame, prob: float, *, narrow: bool = False) -> None:
    """Write the last date's median and interval in the panel's top left corner.

    The label stays inside the panel (on two lines when ``narrow``), so it takes
    no part in the layout.
    """
    last = band.iloc[-1]
    date = last["date"]
    ax.text(
        0.01,
        0.96,
        f"{date.day} {date:%b %Y}: median {count(last['median'])}"
        + ("\n" if narrow else " ")
        + f"({percent(prob)} interval {count(last['lower'])}–{count(last['upper'])})",
        in_layout=False,
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=SMALL_FONT,
        color=MEDIAN_COLOUR,
        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.8},
        zorder=6,
    )


def _mark_last_report(ax: Axes, quantity: str, last: pd.Timestamp, *, right: bool) -> None:
    """Mark the last report of a quantity: to its right the band follows the model alone.

    ``right``: the line is near the panel's right edge, so its label goes on its left.
    """
    ax.axvline(
        last, color=KEY_COLOUR, lw=1.0, ls=LAST_REPORT_STYLE, zorder=1.5, gid=f"last:{quantity}"
    )
    ax.text(
        last,
        0.72,  # below the two-line label of the last date's estimate in the corner
        "last report " if right else " last report",
        in_layout=False,
        transform=ax.get_xaxis_transform(),
        fontsize=SMALL_FONT,
        color=KEY_COLOUR,
        ha="right" if right else "left",
        va="top",
    )


def _set_count_limits(ax: Axes, band: pd.DataFrame, log_scale: bool) -> None:
    """Leave room above the data for arrows; start at 0 (linear) or below the band (log)."""
    ax.margins(y=0.12)
    ax.autoscale_view()
    if not log_scale:
        ax.set_ylim(bottom=0)
        return
    positive = band["lower"].to_numpy(float)
    positive = positive[positive > 0]
    low = float(positive.min()) / 1.5 if positive.size else 1.0
    ax.set_ylim(bottom=max(0.5, min(ax.get_ylim()[0], low)))


def _ids(rows: pd.DataFrame, most: int = 12) -> str:
    """List the report ids of rows, up to ``most`` of them."""
    ids = list(rows["report_id"])
    shown = ", ".join(ids[:most])
    return shown if len(ids) <= most else f"{shown} and {len(ids) - most} more"


def _quantity_name(target: str) -> str:
    return "troops deployed" if target == "all_losses" else target


def _draw_window(ax: Axes, row: Any, colour: Any) -> str:
    """Draw a count over a window: the total is at least its lower end by the window's end."""
    end = row.period_end if pd.notna(row.period_end) else row.as_of
    start = row.period_start if pd.notna(row.period_start) else end
    if start < end:
        ax.plot(
            [start, end],
            [row.lower, row.lower],
            color=colour,
            zorder=3,
            gid="window",
            **WINDOW_SPAN,
        )
    arrow(ax, end, row.lower, ARROWS["window"], colour, gid=f"report:{row.report_id}", zorder=5)
    return "window"


def _draw_report(ax: Axes, row: Any, colours: dict[str, Any]) -> str:
    """Draw one used report as it was worded; return which kind of claim it is."""
    x, gid = row.as_of, f"report:{row.report_id}"
    if row.scope in WINDOWED_SCOPES:
        colour = CONSTRAINT_COLOUR if row.role != "observation" else colours[row.source]
        return _draw_window(ax, row, colour)
    if row.role == "floor":
        arrow(ax, x, row.lower, ARROWS["floor"], CONSTRAINT_COLOUR, gid=gid, zorder=5)
        return "floor"
    if row.role == "cap":
        arrow(ax, x, row.upper, ARROWS["cap"], CONSTRAINT_COLOUR, gid=gid, zorder=5)
        return "deployed" if row.target == "all_losses" else "cap"
    colour = colours[row.source]
    if row.kind in ("lower", "upper"):
        bound = row.lower if row.kind == "lower" else row.upper
        arrow(ax, x, bound, ARROWS[row.kind], colour, gid=gid)
        return row.kind
    if row.qualifier in POINT_QUALIFIERS:
        ax.plot([x, x], [row.lower, row.upper], color=colour, zorder=3, gid="rounding", **ROUNDING)
        ax.plot([x], [row.value], color=colour, zorder=4, gid=gid, **POINT)
        return "point"
    ax.plot([x, x], [row.lower, row.upper], color=colour, zorder=4, gid=gid, **RANGE)
    return "range"


def _draw_excluded(ax: Axes, row: Any) -> None:
    """Draw an excluded report hollow, in grey, shaped by its wording."""
    gid = f"excluded:{row.report_id}"
    shape = BOUND_SHAPES.get(row.qualifier)
    if shape is None:
        ax.plot([row.as_of], [float(row.value)], zorder=3, gid=gid, **HOLLOW)
    else:
        path = ARROWS[shape]
        arrow(ax, row.as_of, float(row.value), path, EXCLUDED_COLOUR, gid=gid, hollow=True)


# -- source colours and legends --------------------------------------------------------


DIRECT_LABELS_MOST = 8
"""Up to this many sources are named beside their last report instead of in a legend."""


def _label_directly(
    fig: Figure,
    panels: dict[str, Axes],
    targets: dict[str, tuple[str, ...]],
    drawn: pd.DataFrame,
    colours: dict[str, Any],
) -> bool:
    """Name each source beside its last report in each panel, in its colour, where they fit.

    Returns False, drawing nothing, when there are more than
    ``DIRECT_LABELS_MOST`` sources or when a name would overlap another or
    leave its panel: the legend is drawn instead.
    """
    if not 0 < len(colours) <= DIRECT_LABELS_MOST:
        return False
    observed = drawn[drawn["role"] == "observation"].sort_values("as_of")
    labels = []
    for quantity, ax in panels.items():  # each source named at its last report in each panel
        on_panel = observed[observed["target"].isin(targets[quantity])]
        for source, rows in on_panel.groupby("source", sort=False):
            row = rows.iloc[-1]
            y = row["value"] if pd.notna(row["value"]) else row["lower"]
            x = row["period_end"] if pd.notna(row["period_end"]) else row["as_of"]
            labels.append(
                ax.annotate(
                    literal(source),
                    (x, y),
                    xytext=(5, 5),
                    textcoords="offset points",
                    fontsize=SMALL_FONT,
                    color=colours[source],
                    fontweight="bold",
                    gid=f"label:{source}",
                    zorder=7,
                    path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
                )
            )
    renderer = fig.canvas.get_renderer()
    for label in labels:  # a name that would leave its panel on the right goes on the left
        if label.get_window_extent(renderer).x1 > label.axes.get_window_extent(renderer).x1:
            label.set_horizontalalignment("right")
            label.xyann = (-5, 5)
    boxes = [label.get_window_extent(renderer).expanded(1.15, 1.3) for label in labels]
    inside = all(
        label.axes.get_window_extent(renderer).contains(box.x0, box.y0)
        and label.axes.get_window_extent(renderer).contains(box.x1, box.y1)
        for label, box in zip(labels, boxes, strict=True)
    )
    apart = not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    if inside and apart:
        return True
    for label in labels:
        label.remove()
    return False


def _source_legend(fig: Figure, colours: dict[str, Any], width: float) -> Legend:
    handles = [Line2D([], [], color=c, **POINT) for c in colours.values()]
    return fitted_legend(fig, handles, list(colours), width, title="Sources (colour)")


def _key_legend(
    fig: Figure, kinds: set[str], prob_inner: float, prob: float, width: float
) -> Legend:
    """Make the legend of what the lines, bands and symbols mean (only the symbols drawn)."""
    handles: list[Any] = [
        Line2D([], [], color=MEDIAN_COLOUR, lw=1.8),
        Patch(fc=INNER_COLOUR),
        Patch(fc=OUTER_COLOUR),
    ]
    labels = [
        "posterior median",
        f"{percent(prob_inner)} credible interval",
        f"{percent(prob)} credible interval",
    ]
    entries = {
        "point": (
            (
                marker_handle(BARS["rounding"], KEY_COLOUR, size=14),
                Line2D([], [], color=KEY_COLOUR, **POINT),
            ),
            "figure as stated (thin bar: what its rounding allows)",
        ),
        "range": (
            marker_handle(BARS["range"], KEY_COLOUR, size=14),
            "range, or 'approaching' a figure",
        ),
        "lower": (
            marker_handle(centred(ARROWS["lower"]), KEY_COLOUR),
            "lower bound: 'at least', 'more than'",
        ),
        "upper": (
            marker_handle(centred(ARROWS["upper"]), KEY_COLOUR),
            "upper bound: 'at most', 'fewer than'",
        ),
        "floor": (
            marker_handle(centred(ARROWS["floor"]), CONSTRAINT_COLOUR),
            "floor: the true count is at least this (a hard bound)",
        ),
        "cap": (
            marker_handle(centred(ARROWS["cap"]), CONSTRAINT_COLOUR),
            "cap: the true count is at most this (a hard bound)",
        ),
        "deployed": (
            marker_handle(centred(ARROWS["cap"]), CONSTRAINT_COLOUR),
            "cap: troops deployed (casualties + captured + missing are at most this)",
        ),
        "window": (
            marker_handle(centred(ARROWS["window"]), KEY_COLOUR),
            "count over a window (incident, period): the total is at least this by the "
            "window's end (dashed: the window)",
        ),
        "excluded": (
            Line2D([], [], **{**HOLLOW, "ms": 8.0}),
            "excluded from the fit (hollow, grey)",
        ),
        "last report": (
            Line2D([], [], color=KEY_COLOUR, lw=1.0, ls=LAST_REPORT_STYLE),
            "last report of the quantity: past it, the band follows the model, not its reports",
        ),
    }
    for kind, (handle, label) in entries.items():
        if kind in kinds:
            handles.append(handle)
            labels.append(label)
    return fitted_legend(fig, handles, labels, width, title="How to read", labelspacing=1.25)
