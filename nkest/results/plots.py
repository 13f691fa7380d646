"""Figures of an estimate: totals over time with the reports, source biases, report checks.

Every function returns a new ``matplotlib.figure.Figure``. The figures
are not registered with pyplot and no global setting (``rcParams``) is
changed, so they are safe in loops, scripts and notebooks alike: save one
with ``fig.savefig("totals.png", dpi=150)``, or return it from a notebook
cell to display it.

>>> from nkest.results.plots import plot_totals   # doctest: +SKIP
>>> plot_totals(estimate).savefig("totals.png")    # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Patch
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

if TYPE_CHECKING:
    import xarray as xr

    from nkest.fit.estimate import Estimate
    from nkest.reports import Reports

__all__ = ["plot_prior_totals", "plot_report_checks", "plot_source_bias", "plot_totals"]

QUANTITY_LABELS = {
    "killed": "Killed",
    "wounded": "Wounded",
    "casualties": "Casualties\n(killed + wounded)",
    "captured": "Captured",
    "missing": "Missing",
}
"""Axis labels of the quantities."""

WINDOWED_SCOPES = ("period", "incident")
POINT_QUALIFIERS = ("exact", "approx")
"""Figures drawn as a point (with the interval their rounding allows); other intervals are bars."""
BOUND_SHAPES = {
    "at_least": "lower",
    "more_than": "lower",
    "at_most": "upper",
    "fewer_than": "upper",
}

FONT = 9.0
SMALL_FONT = 8.0
MEDIAN_COLOUR = "#1d3557"
INNER_COLOUR = "#9db4d0"
OUTER_COLOUR = "#dde6f0"
CONSTRAINT_COLOUR = "black"
EXCLUDED_COLOUR = "0.55"
PREDICTED_COLOUR = "#c9ced6"
PREDICTED_MEDIAN_COLOUR = "#4a5566"
CLAIM_COLOUR = "#1d3557"
SURPRISE_COLOUR = "#c0392b"
NOTE_COLOUR = "0.3"
KEY_COLOUR = "0.25"

ARROW_SIZE = 26.0
"""Marker size of arrows drawn from a bound: the arrow is half as long, in points."""
LEGEND_ARROW_SIZE = 12.0
"""Legend arrows are centred on the handle, and as long as their marker size."""

POINT = {"ls": "none", "marker": "o", "ms": 6.5, "mec": "white", "mew": 0.6}
"""A stated figure."""
ROUNDING = {"lw": 1.1, "marker": "_", "ms": 5, "mew": 1.1}
"""The thin bar of what a stated figure's rounding allows."""
RANGE = {"lw": 3.2, "solid_capstyle": "butt", "marker": "_", "ms": 9, "mew": 1.8}
"""A range ("between 1,000 and 2,000", "approaching 1,000")."""
HOLLOW = {"ls": "none", "marker": "o", "ms": 9.0, "mfc": "none", "mec": EXCLUDED_COLOUR, "mew": 1.3}
"""An excluded report."""
SIDEWAYS = {"marker": "|"}
"""Bars across a horizontal interval (the report checks) instead of along a vertical one."""


# -- the totals over time with the reports ---------------------------------------------


def plot_totals(
    estimate: Estimate,
    *,
    quantities: Sequence[str] = ("killed", "wounded", "casualties"),
    prob_inner: float = 0.5,
    prob_outer: float = 0.9,
    show_reports: bool = True,
    show_excluded: bool = True,
    log_scale: bool = False,
    title: str | None = None,
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
    drawn hollow and grey. Reports counting a window (period or incident)
    are not running totals and are left off; a footnote says how many.

    The reports are drawn as their sources stated them, before the model's
    correction for each source's bias, so a source the model finds to
    over-report sits above the band.

    Parameters
    ----------
    estimate : Estimate
        The result of ``nkest.fit``.
    quantities : sequence of str
        The panels, top to bottom; any of ``estimate.quantities``.
    prob_inner, prob_outer : float
        Probabilities of the inner and outer credible bands
        (``prob_inner < prob_outer``).
    show_reports : bool
        Draw the reports used in the fit.
    show_excluded : bool
        Draw the excluded reports that have a cumulative figure (hollow).
    log_scale : bool
        Use a logarithmic y axis.
    title : str, optional
        The figure's title; default: "Estimated <subject> killed, wounded ...".

    Returns
    -------
    matplotlib.figure.Figure
        One axes per quantity, top to bottom. Each drawn report's main
        artist has the ``gid`` ``"report:<report_id>"`` (excluded ones
        ``"excluded:<report_id>"``); the footnote's is ``"footnote"``.

    Raises
    ------
    ValueError
        For an unknown quantity or probabilities that are not
        ``0 < prob_inner < prob_outer < 1``.
    """
    quantities = _check_quantities(estimate, quantities)
    prob_inner, prob_outer = _check_probs(prob_inner, prob_outer)
    inner = estimate.summary(dates="all", quantities=quantities, prob=prob_inner)
    outer = estimate.summary(dates="all", quantities=quantities, prob=prob_outer)
    start, end = estimate.grid.dates[0], estimate.grid.dates[-1]

    used = estimate.used
    targets = {q: _panel_targets(q) for q in quantities}
    drawn = used[
        (used["scope"] == "cumulative")
        & used["target"].isin([t for ts in targets.values() for t in ts])
    ]
    windowed = used[used["scope"].isin(WINDOWED_SCOPES) & used["target"].isin(quantities)]
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
    colours = _source_colours(_sources_in_group_order(observations))

    width, panel_height = 11.0, 2.7
    fig = _new_figure(width, len(quantities) * panel_height + 4)
    axes = list(fig.subplots(len(quantities), 1, sharex=True, squeeze=False)[:, 0])
    kinds: set[str] = set()
    for ax, quantity in zip(axes, quantities, strict=True):
        band_out = outer[outer["quantity"] == quantity]
        _draw_fan(ax, inner[inner["quantity"] == quantity], band_out, log_scale)
        if show_excluded:
            for row in excluded[excluded["quantity"] == quantity].itertuples():
                _draw_excluded(ax, row)
                kinds.add("excluded")
        if show_reports:
            rows = drawn[drawn["target"].isin(targets[quantity])].sort_values("as_of")
            kinds.update(_draw_report(ax, row, colours) for row in rows.itertuples())
        _format_count_axis(ax, log_scale)
        ax.set_ylabel(QUANTITY_LABELS.get(quantity, quantity.capitalize()), fontsize=FONT)
        _label_last(ax, band_out, prob_outer)
        _set_count_limits(ax, band_out, log_scale)
    _format_date_axis(axes[-1])
    axes[-1].set_xlim(start, end + (end - start) * 0.015)

    below: list[Artist] = []
    if show_reports and len(observations):
        below.append(_source_legend(fig, colours, width))
    below.append(_key_legend(fig, kinds, prob_inner, prob_outer, width))
    caption = (
        f"Line: posterior median. Bands: {_pct(prob_inner)} and {_pct(prob_outer)} "
        f"equal-tailed credible intervals. Identification: {estimate.identification}. "
        "Reports are drawn as their sources stated them, before the correction for each "
        "source's bias."
    )
    below.append(_note(fig, caption, width))
    notes = []
    if show_reports and len(windowed):
        notes.append(
            f"{_counted(len(windowed), 'report')} counting a window (period or incident) "
            f"rather than a running total {_be(len(windowed))} not drawn; "
            "see plot_report_checks."
        )
    if show_excluded and undrawable:
        notes.append(
            f"{_counted(undrawable, 'excluded report')} of these quantities without a "
            f"cumulative figure in the estimate's time range {_be(undrawable)} not drawn."
        )
    if notes:
        below.append(_note(fig, " ".join(notes), width, gid="footnote"))
    heading = title if title is not None else _default_title(estimate, quantities)
    _arrange(fig, axes, width=width, panel_height=panel_height, title=heading, below=below)
    return fig


def _panel_targets(quantity: str) -> tuple[str, ...]:
    """Return the targets drawn on a quantity's panel (caps on all losses go on casualties)."""
    return (quantity, "all_losses") if quantity == "casualties" else (quantity,)


def _draw_fan(ax: Axes, band_in: pd.DataFrame, band_out: pd.DataFrame, log_scale: bool) -> None:
    dates = band_out["date"].to_numpy()

    def values(frame: pd.DataFrame, column: str) -> np.ndarray:
        v = frame[column].to_numpy(float)
        return np.where(v > 0, v, np.nan) if log_scale else v

    for band, colour in ((band_out, OUTER_COLOUR), (band_in, INNER_COLOUR)):
        lower, upper = values(band, "lower"), values(band, "upper")
        ax.fill_between(dates, lower, upper, color=colour, lw=0, zorder=1)
    ax.plot(dates, values(band_out, "median"), color=MEDIAN_COLOUR, lw=1.8, zorder=2)


def _label_last(ax: Axes, band: pd.DataFrame, prob: float) -> None:
    """Write the last date's median and interval in the panel's top left corner."""
    last = band.iloc[-1]
    date = last["date"]
    ax.text(
        0.01,
        0.96,
        f"{date.day} {date:%b %Y}: median {_count(last['median'])} "
        f"({_pct(prob)} interval {_count(last['lower'])}–{_count(last['upper'])})",
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=SMALL_FONT,
        color=MEDIAN_COLOUR,
        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.8},
        zorder=6,
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


def _draw_report(ax: Axes, row: Any, colours: dict[str, Any]) -> str:
    """Draw one used cumulative report as it was worded; return which kind of claim it is."""
    x, gid = row.as_of, f"report:{row.report_id}"
    if row.role == "floor":
        _arrow(ax, x, row.lower, ARROWS["floor"], CONSTRAINT_COLOUR, gid=gid, zorder=5)
        return "floor"
    if row.role == "cap":
        _arrow(ax, x, row.upper, ARROWS["cap"], CONSTRAINT_COLOUR, gid=gid, zorder=5)
        return "deployed" if row.target == "all_losses" else "cap"
    colour = colours[row.source]
    if row.kind in ("lower", "upper"):
        bound = row.lower if row.kind == "lower" else row.upper
        _arrow(ax, x, bound, ARROWS[row.kind], colour, gid=gid)
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
        _arrow(ax, row.as_of, float(row.value), path, EXCLUDED_COLOUR, gid=gid, hollow=True)


def _arrow(
    ax: Axes,
    x: Any,
    y: float,
    path: Path,
    colour: Any,
    *,
    gid: str,
    hollow: bool = False,
    zorder: float = 4,
    size: float = ARROW_SIZE,
) -> None:
    ax.plot(
        [x],
        [y],
        ls="none",
        marker=MarkerStyle(path),
        ms=size,
        mfc="none" if hollow else colour,
        mec=colour,
        mew=1.3,
        zorder=3 if hollow else zorder,
        gid=gid,
    )


# -- markers ---------------------------------------------------------------------------


def _arrow_path(*, down: bool = False, base: float = 0.28, double: bool = False) -> Path:
    """Make an arrow marker from its base at (0, 0) to its tip at (0, 1), or (0, -1) pointing down.

    A custom marker is scaled so that its farthest vertex is half the marker
    size away: the tip, so the arrow is half as long as the marker size.
    """
    head_length, head_width = 0.34, 0.2
    neck = 1 - head_length
    verts = [(-base, 0.0), (base, 0.0), (0.0, 0.0), (0.0, neck)]
    codes = [Path.MOVETO, Path.LINETO] * 2
    if double:
        verts += [(-base, -0.12), (base, -0.12)]
        codes += [Path.MOVETO, Path.LINETO]
    verts += [(-head_width, neck), (head_width, neck), (0.0, 1.0), (-head_width, neck)]
    codes += [Path.MOVETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY]
    vertices = np.array(verts)
    if down:
        vertices[:, 1] *= -1
    return Path(vertices, codes)


def _sideways(path: Path) -> Path:
    """Turn an up (down) arrow to point right (left)."""
    return Path(np.column_stack([path.vertices[:, 1], -path.vertices[:, 0]]), path.codes)


def _centred(path: Path) -> Path:
    """Shift a marker so its middle, not its base, sits on the point (for legends)."""
    vertices = path.vertices
    middle = (vertices.max(axis=0) + vertices.min(axis=0)) / 2
    return Path(vertices - middle, path.codes)


ARROWS = {
    "lower": _arrow_path(),
    "upper": _arrow_path(down=True),
    "floor": _arrow_path(base=0.42, double=True),
    "cap": _arrow_path(down=True, base=0.42, double=True),
}
"""Bounds: arrows from the bound; floors and caps have a wide double bar."""

RANGE_CAPS = [(-0.4, -1), (0.4, -1), (-0.4, 1), (0.4, 1)]
BARS = {
    "rounding": Path(
        [(0, -1), (0, 1), (-0.3, -1), (0.3, -1), (-0.3, 1), (0.3, 1)],
        [Path.MOVETO, Path.LINETO] * 3,
    ),
    "range": Path(
        [(-0.13, -1), (0.13, -1), (0.13, 1), (-0.13, 1), (-0.13, -1), *RANGE_CAPS],
        [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY]
        + [Path.MOVETO, Path.LINETO] * 2,
    ),
}
"""Vertical bars as legend markers: the interval a rounded figure allows, and a range."""


def _marker_handle(path: Path, colour: Any, *, size: float = LEGEND_ARROW_SIZE) -> Line2D:
    return Line2D([], [], ls="none", marker=MarkerStyle(path), ms=size, color=colour, mew=1.2)


# -- legends and notes -----------------------------------------------------------------


def _source_colours(sources: Sequence[str]) -> dict[str, Any]:
    """Give each source one colour from a qualitative palette.

    The nine strong colours of tab20 come first (grey left out: it means
    "excluded" here), then their light partners, then Set3.
    """
    tab20 = colormaps["tab20"].colors
    palette = [tab20[i] for i in range(0, 20, 2) if i != 14]
    palette += [tab20[i] for i in range(1, 20, 2) if i != 15]
    palette += list(colormaps["Set3"].colors)
    return {s: palette[i % len(palette)] for i, s in enumerate(dict.fromkeys(sources))}


def _sources_in_group_order(rows: pd.DataFrame) -> list[str]:
    pairs = rows[["source_group", "source"]].drop_duplicates()
    return list(pairs.sort_values(["source_group", "source"])["source"])


def _source_legend(fig: Figure, colours: dict[str, Any], width: float) -> Legend:
    handles = [Line2D([], [], color=c, **POINT) for c in colours.values()]
    return _fitted_legend(fig, handles, list(colours), width, title="Sources (colour)")


def _key_legend(
    fig: Figure, kinds: set[str], prob_inner: float, prob_outer: float, width: float
) -> Legend:
    """Make the legend of what the lines, bands and symbols mean (only the symbols drawn)."""
    handles: list[Any] = [
        Line2D([], [], color=MEDIAN_COLOUR, lw=1.8),
        Patch(fc=INNER_COLOUR),
        Patch(fc=OUTER_COLOUR),
    ]
    labels = [
        "posterior median",
        f"{_pct(prob_inner)} credible interval",
        f"{_pct(prob_outer)} credible interval",
    ]
    entries = {
        "point": (
            (
                _marker_handle(BARS["rounding"], KEY_COLOUR, size=14),
                Line2D([], [], color=KEY_COLOUR, **POINT),
            ),
            "figure as stated (thin bar: what its rounding allows)",
        ),
        "range": (
            _marker_handle(BARS["range"], KEY_COLOUR, size=14),
            "range, or 'approaching' a figure",
        ),
        "lower": (
            _marker_handle(_centred(ARROWS["lower"]), KEY_COLOUR),
            "lower bound: 'at least', 'more than'",
        ),
        "upper": (
            _marker_handle(_centred(ARROWS["upper"]), KEY_COLOUR),
            "upper bound: 'at most', 'fewer than'",
        ),
        "floor": (
            _marker_handle(_centred(ARROWS["floor"]), CONSTRAINT_COLOUR),
            "floor: the true count is at least this (a hard bound)",
        ),
        "cap": (
            _marker_handle(_centred(ARROWS["cap"]), CONSTRAINT_COLOUR),
            "cap: the true count is at most this (a hard bound)",
        ),
        "deployed": (
            _marker_handle(_centred(ARROWS["cap"]), CONSTRAINT_COLOUR),
            "cap: troops deployed (casualties + captured + missing are at most this)",
        ),
        "excluded": (
            Line2D([], [], **{**HOLLOW, "ms": 8.0}),
            "excluded from the fit (hollow, grey)",
        ),
    }
    for kind, (handle, label) in entries.items():
        if kind in kinds:
            handles.append(handle)
            labels.append(label)
    return _fitted_legend(fig, handles, labels, width, title="How to read", labelspacing=1.25)


def _fitted_legend(
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
    while True:
        legend = fig.legend(
            handles,
            labels,
            loc="upper left",
            ncols=ncol,
            frameon=False,
            fontsize=SMALL_FONT,
            title=title,
            title_fontproperties={"size": SMALL_FONT, "weight": "bold"},
            alignment="left",
            handler_map={tuple: HandlerTuple(ndivide=1)},
            handlelength=2.2,
            columnspacing=1.6,
            labelspacing=labelspacing,
        )
        if ncol == 1 or legend.get_window_extent(renderer).width <= available:
            return legend
        legend.remove()
        ncol -= 1


def _note(fig: Figure, text: str, width: float, *, gid: str | None = None) -> Text:
    """Add a note in small grey type, wrapped to the figure's width (placed by _arrange)."""
    chars = int((width - 0.5) * 72 / (SMALL_FONT * 0.5))
    return fig.text(
        0,
        0,
        textwrap.fill(text, chars),
        fontsize=SMALL_FONT,
        color=NOTE_COLOUR,
        ha="left",
        va="top",
        gid=gid,
        linespacing=1.4,
    )


# -- source biases ---------------------------------------------------------------------


def plot_source_bias(estimate: Estimate, *, prob: float = 0.9, prob_inner: float = 0.5) -> Figure:
    """Draw each source's bias factor as a forest plot, grouped by source group.

    A source's bias factor is the ratio of what it states to the truth: 1.3
    means it states 30% above the truth. Each row shows the posterior median
    and two credible intervals on a log scale, with the median and outer
    interval written on the right. Sources that only give floors or caps
    have no bias factor and no row.

    Parameters
    ----------
    estimate : Estimate
        The result of ``nkest.fit``.
    prob : float
        Probability of the outer (thin) interval.
    prob_inner : float
        Probability of the inner (thick) interval, below ``prob``.

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
    prob_inner, prob = _check_probs(prob_inner, prob)
    outer = estimate.source_bias(prob).sort_values(["source_group", "source"], kind="stable")
    inner = estimate.source_bias(prob_inner).set_index("source")
    groups = list(dict.fromkeys(outer["source_group"]))
    palette = colormaps["tab10"].colors

    width, row_height = 9.0, 0.3
    n_rows = len(outer) + len(groups)
    fig = _new_figure(width, n_rows * row_height + 3)
    ax = fig.subplots()
    right = ax.get_yaxis_transform()
    ticks: list[tuple[int, str, bool]] = []
    y = 0
    for index, group in enumerate(groups):
        colour = palette[index % len(palette)]
        first = y
        ticks.append((y, group, True))
        for row in outer[outer["source_group"] == group].itertuples():
            y += 1
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
    ax.text(
        1.02,
        -1.0,
        f"median  ({_pct(prob)} interval)",
        transform=right,
        va="center",
        fontsize=SMALL_FONT,
        fontweight="bold",
        color="0.2",
    )
    ax.set_ylim(y - 0.5, -1.5)
    ax.set_yticks(
        [t[0] for t in ticks], [name if header else f"  {name}" for _, name, header in ticks]
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
    ax.set_xlabel("bias factor (1.3 = states 30% above the truth)", fontsize=FONT)
    ax.grid(axis="x", color="0.88", lw=0.6)
    ax.set_axisbelow(True)
    _style_axes(ax)

    key = _fitted_legend(
        fig,
        [
            Line2D([], [], color="0.3", **{**POINT, "ms": 7.0}),
            Line2D([], [], color="0.3", lw=4.5, solid_capstyle="butt"),
            Line2D([], [], color="0.3", lw=1.3),
        ],
        ["median", f"{_pct(prob_inner)} credible interval", f"{_pct(prob)} credible interval"],
        width,
        title=None,
    )
    caption = (
        f"Identification: {estimate.identification}; bias factors are identified only "
        "relative to this assumption. Sources that give only floors or caps have no bias "
        "factor."
    )
    _arrange(
        fig,
        [ax],
        width=width,
        panel_height=n_rows * row_height,
        title=f"How far each source's figures sit from the estimate{_subject_suffix(estimate)}",
        below=[key, _note(fig, caption, width)],
    )
    return fig


def _factor_ticks(low: float, high: float) -> list[float]:
    """Return readable ticks for a log axis of factors: powers of two, finer for a narrow range."""
    ticks = [2.0**k for k in range(-8, 9) if low <= 2.0**k <= high]
    if len(ticks) < 4:
        fine = [0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0]
        ticks = sorted({*ticks, *(t for t in fine if low <= t <= high)})
    return ticks


# -- report checks ---------------------------------------------------------------------


def plot_report_checks(
    estimate: Estimate, *, prob: float = 0.9, sort: str = "tail_p", highlight: float = 0.05
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

    Returns
    -------
    matplotlib.figure.Figure
        One axes, one row per used report, labelled
        ``"<report_id> · <source> · <quantity>"``; the claim's main artist
        has the ``gid`` ``"claim:<report_id>"``.

    Raises
    ------
    ValueError
        For an unknown ``sort``, or ``prob`` or ``highlight`` not between 0 and 1.
    """
    if sort not in ("tail_p", "date"):
        raise ValueError(f"sort must be 'tail_p' or 'date'; got {sort!r}")
    if not isinstance(highlight, int | float) or not 0 <= highlight <= 1:
        raise ValueError(f"highlight must be a probability between 0 and 1; got {highlight!r}")
    checks = estimate.report_checks(prob).reset_index(drop=True)
    used = estimate.used.reset_index(drop=True)
    table = pd.concat([checks, used[["value", "qualifier", "scope", "as_of"]]], axis=1)
    order = ["tail_p", "as_of"] if sort == "tail_p" else ["as_of", "report_id"]
    table = table.sort_values(order, kind="stable").reset_index(drop=True)
    surprising = (table["tail_p"] < highlight).to_numpy()

    width, row_height = 11.0, 0.26
    n = len(table)
    fig = _new_figure(width, n * row_height + 3)
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
    _style_axes(ax)
    ax.set_ylim(n - 0.5, -1.6)
    ax.set_yticks(range(n), [_check_label(row) for row in table.itertuples()])
    for tick, hit in zip(ax.get_yticklabels(), surprising, strict=True):
        tick.set_fontweight("bold" if hit else "normal")
        tick.set_color(SURPRISE_COLOUR if hit else "0.1")
    ax.tick_params(axis="y", length=0, labelsize=SMALL_FONT)
    ax.set_xscale("log")
    ends = table[["predicted_lower", "predicted_upper", "claim_lower", "claim_upper"]]
    ends = ends.to_numpy(float)
    ends = ends[np.isfinite(ends) & (ends > 0)]
    ax.set_xlim(float(ends.min()) / 2, float(ends.max()) * 2)
    ax.xaxis.set_major_locator(LogLocator(base=10, numticks=8))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _count_tick(v)))
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
            f"predicted figure: {_pct(prob)} interval, tick at median",
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
            _marker_handle(_centred(_sideways(ARROWS["lower"])), CLAIM_COLOUR),
            "claim: a bound ('at least' →, 'at most' ←)",
        ),
        (
            (~observed).any(),
            _marker_handle(_centred(_sideways(ARROWS["floor"])), CLAIM_COLOUR),
            "floor or cap: a hard bound on the total",
        ),
        (
            True,
            Line2D([], [], color=SURPRISE_COLOUR, **POINT),
            f"surprising: tail p < {highlight:g}",
        ),
    ]
    key = _fitted_legend(
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
        f"bound, its one tail): {int(surprising.sum())} of {_counted(n, 'report')} fall below "
        f"{highlight:g}. Rows marked 'window' count the increase over a period or one "
        f"incident. Identification: {estimate.identification}."
    )
    _arrange(
        fig,
        [ax],
        width=width,
        panel_height=n * row_height,
        title="Does each report fit the estimate? Posterior predictive check"
        + _subject_suffix(estimate),
        below=[key, _note(fig, caption, width)],
    )
    return fig


def _draw_claim(ax: Axes, row: Any, y: float, colour: Any) -> None:
    gid = f"claim:{row.report_id}"
    if row.kind in ("lower", "upper"):
        constraint = {"lower": "floor", "upper": "cap"}[row.kind]
        shape = constraint if row.role == constraint else row.kind
        bound = row.claim_lower if row.kind == "lower" else row.claim_upper
        _arrow(ax, bound, y, _sideways(ARROWS[shape]), colour, gid=gid, size=22)
    elif row.qualifier in POINT_QUALIFIERS:
        ends = [row.claim_lower, row.claim_upper]
        ax.plot(ends, [y, y], color=colour, zorder=4, gid="rounding", **{**ROUNDING, **SIDEWAYS})
        ax.plot([float(row.value)], [y], color=colour, zorder=5, gid=gid, **POINT)
    else:
        ends = [row.claim_lower, row.claim_upper]
        ax.plot(ends, [y, y], color=colour, zorder=4, gid=gid, **{**RANGE, **SIDEWAYS})


def _check_label(row: Any) -> str:
    quantity = "troops deployed (all losses)" if row.quantity == "deployed" else row.quantity
    extras = [row.role] if row.role != "observation" else []
    if row.scope in WINDOWED_SCOPES:
        extras.append("window")
    suffix = f" [{', '.join(extras)}]" if extras else ""
    return f"{row.report_id} · {row.source} · {quantity}{suffix}"


def _tail(p: float) -> str:
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


# -- prior predictive ------------------------------------------------------------------


def plot_prior_totals(
    prior_dataset: xr.Dataset,
    *,
    quantities: Sequence[str] = ("killed", "wounded", "casualties"),
    dates: tuple[Any, Any] | None = None,
    reports: Reports | None = None,
    prob_inner: float = 0.5,
    prob_outer: float = 0.9,
) -> Figure:
    """Draw the prior predictive of the cumulative totals, to check the prior is plausible.

    One panel per quantity on a log scale: the median and two credible
    bands of the totals drawn from the prior alone (before the reports'
    values are seen).

    Parameters
    ----------
    prior_dataset : xarray.Dataset
        The result of ``nkest.fit.prior.sample_prior``: ``total`` with dims
        ``chain, draw, quantity, date``.
    quantities : sequence of str
        The panels, top to bottom.
    dates : (start, end), optional
        Limit the x axis to these dates (anything ``pandas.Timestamp``
        reads); default: every date of the draws.
    reports : Reports, optional
        If given, their cumulative figures are drawn as small grey points,
        for scale only (the prior does not see their values).
    prob_inner, prob_outer : float
        Probabilities of the inner and outer bands.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per quantity.

    Raises
    ------
    ValueError
        For a quantity not in the draws, or bad probabilities.
    """
    prob_inner, prob_outer = _check_probs(prob_inner, prob_outer)
    total = prior_dataset["total"]
    available = [str(q) for q in total["quantity"].to_numpy()]
    quantities = [quantities] if isinstance(quantities, str) else list(quantities)
    unknown = [q for q in quantities if q not in available]
    if unknown or not quantities:
        raise ValueError(f"quantities must be among {', '.join(available)}; got {quantities!r}")
    if dates is not None:
        first, last = (pd.Timestamp(d) for d in dates)
        total = total.sel(date=slice(first, last))
    draws = total.stack(sample=("chain", "draw")).transpose("sample", "quantity", "date")
    axis_dates = pd.DatetimeIndex(total["date"].to_numpy())
    observed = _cumulative_figures(reports) if reports is not None else None

    width, panel_height = 10.0, 2.5
    fig = _new_figure(width, len(quantities) * panel_height + 3)
    axes = list(fig.subplots(len(quantities), 1, sharex=True, squeeze=False)[:, 0])
    for ax, quantity in zip(axes, quantities, strict=True):
        values = draws.sel(quantity=quantity).to_numpy()

        def band(prob: float, values: np.ndarray = values) -> pd.DataFrame:
            low, median, high = np.quantile(values, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
            return pd.DataFrame({"date": axis_dates, "lower": low, "median": median, "upper": high})

        _draw_fan(ax, band(prob_inner), band(prob_outer), log_scale=True)
        if observed is not None:
            mine = observed[
                (observed["quantity"] == quantity)
                & (observed["as_of"] >= axis_dates[0])
                & (observed["as_of"] <= axis_dates[-1])
            ]
            ax.plot(mine["as_of"], mine["value"], color="0.35", zorder=4, **{**POINT, "ms": 4.0})
        _format_count_axis(ax, log_scale=True)
        ax.set_ylabel(QUANTITY_LABELS.get(quantity, quantity.capitalize()), fontsize=FONT)
    _format_date_axis(axes[-1])
    axes[-1].set_xlim(axis_dates[0], axis_dates[-1])

    handles: list[Any] = [
        Line2D([], [], color=MEDIAN_COLOUR, lw=1.8),
        Patch(fc=INNER_COLOUR),
        Patch(fc=OUTER_COLOUR),
    ]
    labels = [
        "prior median",
        f"{_pct(prob_inner)} prior interval",
        f"{_pct(prob_outer)} prior interval",
    ]
    if observed is not None:
        handles.append(Line2D([], [], color="0.35", **{**POINT, "ms": 4.0}))
        labels.append("reported cumulative figures, for scale")
    key = _fitted_legend(fig, handles, labels, width, title=None)
    caption = (
        f"Totals drawn from the model's prior ({draws.sizes['sample']} draws), before it sees "
        "the reports' values: the bands should cover every plausible path, a few orders of "
        "magnitude wide, without being absurd."
    )
    _arrange(
        fig,
        axes,
        width=width,
        panel_height=panel_height,
        title="Prior predictive check: cumulative totals before the reports' values are seen",
        below=[key, _note(fig, caption, width)],
    )
    return fig


def _cumulative_figures(reports: Reports) -> pd.DataFrame:
    frame = reports.to_frame()
    keep = (frame["scope"] == "cumulative") & frame["value"].notna() & (frame["exclude"] == "")
    frame = frame[keep]
    return pd.DataFrame(
        {
            "quantity": frame["quantity"],
            "as_of": pd.to_datetime(frame["as_of"]),
            "value": frame["value"].astype(float),
        }
    )


# -- shared helpers --------------------------------------------------------------------


def _new_figure(width: float, height: float) -> Figure:
    """Make a figure with its own Agg canvas: not registered with pyplot, no global state."""
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _check_quantities(estimate: Estimate, quantities: Sequence[str]) -> list[str]:
    names = [quantities] if isinstance(quantities, str) else list(quantities)
    unknown = [q for q in names if q not in estimate.quantities]
    if unknown or not names:
        raise ValueError(
            f"quantities must be among {', '.join(estimate.quantities)}; got {names!r}"
        )
    return names


def _check_probs(inner: float, outer: float) -> tuple[float, float]:
    for name, p in (("prob_inner", inner), ("prob_outer", outer)):
        if not isinstance(p, int | float) or not 0 < p < 1:
            raise ValueError(f"{name} must be a number between 0 and 1; got {p!r}")
    if not inner < outer:
        raise ValueError(f"the inner probability ({inner}) must be below the outer one ({outer})")
    return float(inner), float(outer)


def _pct(prob: float) -> str:
    return f"{prob * 100:g}%"


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _be(n: int) -> str:
    return "is" if n == 1 else "are"


def _count(value: float) -> str:
    """Format a count rounded to three significant figures, with thousands separators."""
    if not np.isfinite(value):
        return "–"
    if value < 1:
        return f"{value:.2g}"
    digits = max(0, math.floor(math.log10(value)) - 2)
    return f"{round(value, -digits):,.0f}"


def _count_tick(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _subject(estimate: Estimate) -> str | None:
    subject = estimate.reports.metadata.get("subject")
    return str(subject) if subject else None


def _subject_suffix(estimate: Estimate) -> str:
    subject = _subject(estimate)
    return f" ({subject})" if subject else ""


def _default_title(estimate: Estimate, quantities: Sequence[str]) -> str:
    names = list(quantities)
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    subject = _subject(estimate)
    return f"Estimated {subject + ' ' if subject else ''}{listed}, cumulative"


def _format_count_axis(ax: Axes, log_scale: bool) -> None:
    if log_scale:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=8))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _count_tick(v)))
    ax.grid(axis="y", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    _style_axes(ax)


def _format_date_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=5, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _style_axes(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("0.4")
    ax.tick_params(colors="0.25", labelsize=FONT)


@dataclass
class _Extents:
    """How far an axes' labels reach beyond it, in inches."""

    left: float
    right: float
    top: float
    bottom: float


def _extents(ax: Axes, renderer: Any, dpi: float) -> _Extents:
    box = ax.get_window_extent(renderer)
    tight = ax.get_tightbbox(renderer)
    return _Extents(
        left=max(0.0, box.x0 - tight.x0) / dpi,
        right=max(0.0, tight.x1 - box.x1) / dpi,
        top=max(0.0, tight.y1 - box.y1) / dpi,
        bottom=max(0.0, box.y0 - tight.y0) / dpi,
    )


def _arrange(
    fig: Figure,
    axes: Sequence[Axes],
    *,
    width: float,
    panel_height: float,
    title: str,
    below: Sequence[Legend | Text],
) -> None:
    """Lay out a column of axes with a title above and legends and notes below.

    Sizes are measured (tick labels, legends, wrapped notes), and the
    figure's height is set so that every panel is ``panel_height`` inches
    tall and nothing overlaps.
    """
    pad, gap, margin = 0.15, 0.12, 0.2
    heading = fig.text(
        0,
        0,
        textwrap.fill(title, int((width - 0.4) * 72 / (12 * 0.55))),
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
