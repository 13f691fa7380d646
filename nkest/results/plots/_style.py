"""The look shared by the figures: colours, line styles, markers, axes and number formats.

Nothing here makes a figure: these are the pieces the figure modules draw
with, so a report looks the same in every figure (a stated figure is a
point, a range a thick bar, a bound an arrow, a floor or cap a black arrow
with a double bar, an excluded report hollow and grey).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.path import Path
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from nkest.reports.qualifiers import QUALIFIER_TABLE

QUANTITY_LABELS = {
    "killed": "Killed",
    "wounded": "Wounded",
    "casualties": "Casualties\n(killed + wounded)",
    "captured": "Captured",
    "missing": "Missing",
    "deployed": "Troops sent",
}
"""Axis labels of the quantities."""

WINDOWED_SCOPES = ("period", "incident")
"""Scopes of reports that count a window, not a running total."""
POINT_QUALIFIERS = tuple(name for name, row in QUALIFIER_TABLE.items() if row.glyph == "point")
"""Figures drawn as a point (with the interval their rounding allows); other intervals are bars."""
BOUND_SHAPES = {
    name: row.glyph for name, row in QUALIFIER_TABLE.items() if row.glyph in ("lower", "upper")
}
"""The arrow (a key of ``ARROWS``) an excluded bound is drawn with, by its qualifier."""

FONT = 10.0
SMALL_FONT = 9.0
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


def sideways(path: Path) -> Path:
    """Turn an up (down) arrow to point right (left)."""
    return Path(np.column_stack([path.vertices[:, 1], -path.vertices[:, 0]]), path.codes)


def centred(path: Path) -> Path:
    """Shift a marker so its middle, not its base, sits on the point (for legends)."""
    vertices = path.vertices
    middle = (vertices.max(axis=0) + vertices.min(axis=0)) / 2
    return Path(vertices - middle, path.codes)


def _window_arrow_path(base: float = 0.4, rise: float = 0.3) -> Path:
    """Make an up arrow standing in a bracket (the window) rather than on a bar."""
    arrow = _arrow_path(base=base)
    # three separate strokes, so that the marker's face does not fill the bracket
    verts = [(-base, rise), (-base, 0.0), (-base, 0.0), (base, 0.0), (base, 0.0), (base, rise)]
    codes = [Path.MOVETO, Path.LINETO] * 3
    # the arrow's own base bar is replaced by the bracket
    return Path(
        np.concatenate([np.array(verts), arrow.vertices[2:]]),
        codes + list(arrow.codes[2:]),
    )


ARROWS = {
    "lower": _arrow_path(),
    "window": _window_arrow_path(),
    "upper": _arrow_path(down=True),
    "floor": _arrow_path(base=0.42, double=True),
    "cap": _arrow_path(down=True, base=0.42, double=True),
}
"""Bounds: arrows from the bound; floors and caps have a wide double bar; a count over a
window (incident, period) stands in a bracket: the total is at least that by the window's end."""

WINDOW_SPAN = {"lw": 1.2, "ls": (0, (2.5, 1.5)), "alpha": 0.8, "dash_capstyle": "butt"}
"""The thin line under a window report, from the window's start to its end."""

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


def marker_handle(path: Path, colour: Any, *, size: float = LEGEND_ARROW_SIZE) -> Line2D:
    """Make a legend handle showing one custom marker."""
    return Line2D([], [], ls="none", marker=MarkerStyle(path), ms=size, color=colour, mew=1.2)


# -- marks -----------------------------------------------------------------------------


def arrow(
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
    """Draw an arrow marker (one of ``ARROWS``, maybe turned) with its base at (x, y)."""
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


def draw_fan(ax: Axes, band_in: pd.DataFrame, band_out: pd.DataFrame, log_scale: bool) -> None:
    """Draw a median line over an inner and an outer band (columns date, lower, median, upper).

    The median drawn is the outer band's. On a log scale, values that are
    not positive are left out.
    """
    dates = band_out["date"].to_numpy()

    def values(frame: pd.DataFrame, column: str) -> np.ndarray:
        v = frame[column].to_numpy(float)
        return np.where(v > 0, v, np.nan) if log_scale else v

    for band, colour in ((band_out, OUTER_COLOUR), (band_in, INNER_COLOUR)):
        lower, upper = values(band, "lower"), values(band, "upper")
        ax.fill_between(dates, lower, upper, color=colour, lw=0, zorder=1)
    ax.plot(dates, values(band_out, "median"), color=MEDIAN_COLOUR, lw=1.8, zorder=2)


# -- words and numbers -----------------------------------------------------------------


def count_tick(value: float) -> str:
    """Format a tick of a count axis: whole numbers with thousands separators."""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


# -- axes ------------------------------------------------------------------------------


def format_count_axis(ax: Axes, log_scale: bool) -> None:
    """Format the y axis as counts, linear or logarithmic, with a light grid."""
    if log_scale:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=8))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: count_tick(v)))
    ax.grid(axis="y", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    style_axes(ax)


class _DateFormatter(mdates.ConciseDateFormatter):
    """Concise date ticks whose first visible tick also says the year ("Sep 2024").

    January already shows its year ("2025"): ``ConciseDateFormatter`` writes the
    year in place of the first month of a year.
    """

    def format_ticks(self, values):
        labels = list(super().format_ticks(values))
        if not labels:
            return labels
        low, high = sorted(self.axis.get_view_interval()) if self.axis else (-np.inf, np.inf)
        visible = [i for i, v in enumerate(values) if low <= v <= high] or [0]
        first = visible[0]
        label = labels[first]
        date = mdates.num2date(values[first])
        if label.isalpha():  # a month name, without its year
            labels[first] = f"{label} {date:%Y}"
        elif label.isdigit() and len(label) <= 2:  # a day of the month
            labels[first] = f"{date.day} {date:%b %Y}"
        return labels


def format_date_axis(ax: Axes, *, narrow: bool = False) -> None:
    """Put concise date ticks on the x axis, with the year on the first tick and in January.

    ``narrow``: fewer ticks, for a figure drawn for a phone.
    """
    locator = mdates.AutoDateLocator(minticks=3 if narrow else 5, maxticks=5 if narrow else 12)
    ax.xaxis.set_major_locator(locator)
    formatter = _DateFormatter(locator, show_offset=False)
    ax.xaxis.set_major_formatter(formatter)


# -- colours of the sources ------------------------------------------------------------


SOURCE_PALETTE = (
    "#e6194b",  # red
    "#3cb44b",  # green
    "#4363d8",  # blue
    "#f58231",  # orange
    "#911eb4",  # purple
    "#00aaff",  # sky blue
    "#f032e6",  # magenta
    "#227700",  # leaf green
    "#ff7799",  # rose
    "#469990",  # teal
    "#9999ff",  # periwinkle
    "#9a6324",  # brown
    "#800000",  # maroon
    "#808000",  # olive
    "#000075",  # navy
    "#005531",  # dark green
    "#cc9911",  # ochre
    "#793d55",  # plum
    "#9279aa",  # grey violet
    "#006d86",  # petrol
    "#554900",  # dark olive
    "#444477",  # slate
    "#cc3300",  # rust
    "#b6796d",  # rosy brown
)
"""Colours of the sources: twenty-four that no two readers confuse side by side,
each visible on white. Eleven are Trubetskoy's distinct colours, without the grey
that means "excluded", the black of floors and caps, and those with less than 2.5:1
contrast against white (by WCAG's formula; a pale source's points vanish on the page).
The other thirteen were chosen one at a time as the farthest from all the colours
chosen before them, the last seven from colours with that contrast and clear of grey
and black, and took the slots of the pale ones they replace. Each pair differs by at
least 15 in CIEDE2000 (``tests/results/test_plots.py``). Six are below the 3:1 that
WCAG asks of graphics, between 2.5 and 2.7 (green, orange, ochre, sky blue, rose,
periwinkle); a palette of 24 this far apart at 3:1 exists, without Trubetskoy's green
and orange. A chart with more sources than colours shares them."""


def _name_slot(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) % len(SOURCE_PALETTE)


def source_palette(sources: Iterable[str]) -> dict[str, str]:
    """Give each source a colour that follows from its name, the same in every fit.

    A source's name picks its colour (a hash, the same in every process and
    every fit). When two names pick the same colour, the name first in
    alphabetical order keeps it and the other takes the next free colour; only
    then can a source's colour depend on the others. With more sources than
    colours, colours are shared.
    """
    colours: dict[str, str] = {}
    taken: set[int] = set()
    for name in sorted(dict.fromkeys(sources)):
        if len(taken) == len(SOURCE_PALETTE):
            taken.clear()
        slot = _name_slot(name)
        while slot in taken:
            slot = (slot + 1) % len(SOURCE_PALETTE)
        taken.add(slot)
        colours[name] = SOURCE_PALETTE[slot]
    return colours


def source_colours(estimate: Any) -> dict[str, Any]:
    """Return the colour of every source with observations, the same in every figure.

    The colours follow from the names (``source_palette``); the order is by
    source group, then name, as the legends list them.
    """
    used = estimate.used
    observed = used[used["role"] == "observation"]
    pairs = observed[["source_group", "source"]].drop_duplicates()
    ordered = list(pairs.sort_values(["source_group", "source"])["source"])
    colours = source_palette(ordered)
    return {name: colours[name] for name in ordered}


def style_axes(ax: Axes) -> None:
    """Drop the top and right spines and soften the others and the ticks."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("0.4")
    ax.tick_params(colors="0.25", labelsize=FONT)


def literal(text: object) -> str:
    r"""Return text that matplotlib draws as it is written.

    Matplotlib reads text between two ``$`` as mathtext: a source named
    "US$5" beside one named "$6" would be drawn "US5" and crash on "$^$".
    An escaped ``\$`` is drawn as a plain dollar sign, whatever else the text holds.
    Apply it last, after any wrapping.
    """
    return str(text).replace("$", r"\$")
