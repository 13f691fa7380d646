"""The figures: they draw what the estimate holds, and leave global state alone."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

import nkest
from nkest.results import plots


@pytest.fixture
def close_figures():
    """Collect figures and close them after the test."""
    figures: list[Figure] = []
    yield figures.append
    for fig in figures:
        plt.close(fig)


def rendered(fig: Figure) -> np.ndarray:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    buffer.seek(0)
    return mpimg.imread(buffer, format="png")


def assert_drawn(fig: Figure) -> None:
    """The figure renders with content, and so does each of its axes.

    The whole image must have many colours; each axes must hold data (lines,
    collections, patches) with finite limits, and the pixels inside its frame
    must be inked (differ clearly from its background), so that a figure of
    empty axes with a legend, titles or notes around them fails.
    """
    image = rendered(fig)
    assert image.ndim == 3
    assert image.shape[0] > 200
    assert image.shape[1] > 200
    rgb = (image[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) > 50
    assert image[..., :3].std() > 0.05
    assert fig.axes, "the figure has no axes"
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float) / 255
    height = pixels.shape[0]
    for index, ax in enumerate(fig.axes):
        assert ax.has_data(), f"axes {index} holds no data"
        limits = np.asarray(ax.dataLim.get_points())
        assert np.isfinite(limits).all(), f"axes {index} has no finite data limits"
        box = ax.get_window_extent()
        x0, x1 = int(box.x0) + 3, int(box.x1) - 3
        y0, y1 = height - int(box.y1) + 3, height - int(box.y0) - 3
        assert x1 > x0, f"axes {index} has no width"
        assert y1 > y0, f"axes {index} has no height"
        inside = pixels[y0:y1, x0:x1]
        background = np.asarray(to_rgba(ax.get_facecolor())[:3])
        inked = np.abs(inside - background).max(axis=-1) > 0.2
        assert inked.mean() > 0.005, f"axes {index} is blank inside ({inked.mean():.4f} inked)"


def gid_lines(ax, prefix: str) -> dict[str, Line2D]:
    """The axes' lines whose gid starts with ``prefix``, by the rest of the gid."""
    found = {}
    for line in ax.lines:
        gid = line.get_gid()
        if gid and gid.startswith(prefix):
            found[gid.removeprefix(prefix)] = line
    return found


def expected_reports(estimate, quantity: str) -> set[str]:
    """Every used report of the panel, except upper bounds on a window."""
    used = estimate.used
    targets = (quantity, "all_losses") if quantity == "casualties" else (quantity,)
    silent = used["scope"].isin(["period", "incident"]) & (used["kind"] == "upper")
    drawn = used[used["target"].isin(targets) & ~silent]
    return set(drawn["report_id"])


def expected_excluded(estimate, quantity: str) -> set[str]:
    excluded = estimate.excluded
    dates = estimate.grid.dates
    drawn = excluded[
        (excluded["quantity"] == quantity)
        & (excluded["scope"] == "cumulative")
        & excluded["value"].notna()
        & (excluded["as_of"] >= dates[0])
        & (excluded["as_of"] <= dates[-1])
    ]
    return set(drawn["report_id"])


def windowed(estimate, quantities) -> pd.DataFrame:
    used = estimate.used
    return used[used["scope"].isin(["period", "incident"]) & used["target"].isin(quantities)]


def assert_every_report_accounted_for(fig: Figure, estimate) -> None:
    """Every used report is drawn on a panel or named in the footnote."""
    drawn = {r for ax in fig.axes for r in gid_lines(ax, "report:")}
    note = flat(footnote(fig) or "")
    missing = [r for r in estimate.used["report_id"] if r not in drawn and r not in note]
    assert not missing


def footnote(fig: Figure) -> str | None:
    texts = [t.get_text() for t in fig.texts if t.get_gid() == "footnote"]
    return " ".join(texts) if texts else None


def flat(text: str) -> str:
    return " ".join(text.split())


# -- plot_totals ---------------------------------------------------------------------------


def test_totals_small_estimate(small_estimate, close_figures):
    fig = plots.plot_totals(small_estimate)
    close_figures(fig)
    assert isinstance(fig, Figure)
    assert_drawn(fig)
    assert len(fig.axes) == 4  # and the troops sent, which the simulated reports state
    for ax, quantity in zip(fig.axes, ("killed", "wounded", "casualties"), strict=False):
        assert set(gid_lines(ax, "report:")) == expected_reports(small_estimate, quantity)
        assert gid_lines(ax, "excluded:") == {}
        # the median line and the two bands are drawn
        assert len(ax.collections) >= 2
    axes_labels = [ax.get_ylabel() for ax in fig.axes]
    assert axes_labels[0] == "Killed"
    assert axes_labels[3] == "Troops sent"
    assert_every_report_accounted_for(fig, small_estimate)


def test_totals_draw_window_reports_at_the_end_of_their_window(small_estimate, close_figures):
    fig = plots.plot_totals(small_estimate)
    close_figures(fig)
    windows = windowed(small_estimate, ("killed", "wounded", "casualties"))
    assert len(windows)
    window_marker = plots.totals.ARROWS["window"]
    lines = {r: line for ax in fig.axes for r, line in gid_lines(ax, "report:").items()}
    for row in windows.itertuples():
        line = lines[row.report_id]
        assert pd.Timestamp(line.get_xdata()[0]) == row.period_end
        assert line.get_ydata()[0] == pytest.approx(row.lower)
        assert np.array_equal(line.get_marker().vertices, window_marker.vertices)
    # and explained in the key
    legend_texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert any(t.startswith("count over a window") for t in legend_texts)


def test_totals_dprk_draws_every_kind_of_claim(dprk_estimate, close_figures):
    estimate = dprk_estimate
    quantities = ("killed", "wounded", "casualties", "deployed")  # troops sent: drawn too
    fig = plots.plot_totals(estimate)
    close_figures(fig)
    assert_drawn(fig)
    assert len(fig.axes) == len(quantities)
    used = estimate.used.set_index("report_id")
    black = to_rgba("black")
    for ax, quantity in zip(fig.axes, quantities, strict=True):
        reports = gid_lines(ax, "report:")
        assert set(reports) == expected_reports(estimate, quantity)
        for report_id, line in reports.items():
            if used.loc[report_id, "role"] in ("floor", "cap"):
                assert to_rgba(line.get_markeredgecolor()) == black
                assert to_rgba(line.get_markerfacecolor()) == black
            else:
                assert to_rgba(line.get_color()) != black
        excluded = gid_lines(ax, "excluded:")
        assert set(excluded) == expected_excluded(estimate, quantity)
        for line in excluded.values():
            assert line.get_markerfacecolor() == "none"
            assert to_rgba(line.get_markeredgecolor())[:3] == pytest.approx((0.55,) * 3)
    # the reports of troops sent are on their own panel, in their sources' colours
    sent = set(used.index[used["target"] == "deployed"])
    assert sent
    assert sent == set(gid_lines(fig.axes[3], "report:"))
    assert not sent & set(gid_lines(fig.axes[2], "report:"))
    legend_texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert any(t.startswith("floor") for t in legend_texts)
    assert any(t.startswith("excluded") for t in legend_texts)
    drawn = (
        (used["role"] == "observation")
        & (used["scope"] == "cumulative")
        & used["target"].isin(quantities)
    )
    sources = set(used.loc[drawn, "source"])
    windows = windowed(estimate, quantities)
    assert len(windows)
    # the sources of window reports are in the legend too
    assert set(windows.loc[windows["role"] == "observation", "source"]) <= set(legend_texts)
    assert "Activists" not in sources  # only speaks of captured, not drawn
    assert sources <= set(legend_texts)
    assert_every_report_accounted_for(fig, estimate)
    # the reports of quantities not drawn are named in the footnote
    others = used.index[~used["target"].isin([*quantities, "all_losses"])]
    assert len(others)
    assert all(report_id in flat(footnote(fig)) for report_id in others)
    title = " ".join(t.get_text() for t in fig.texts)
    assert "North Korean soldiers: estimated cumulative losses and troops sent" in flat(title)
    assert estimate.identification in flat(title)


def test_totals_mark_each_quantitys_last_report(dprk_estimate, close_figures):
    from nkest.results.cite import last_reports

    fig = plots.plot_totals(dprk_estimate)
    close_figures(fig)
    last = last_reports(dprk_estimate.used)
    end = pd.Timestamp(dprk_estimate.grid.dates[-1])
    marked = 0
    for ax, quantity in zip(fig.axes, ("killed", "wounded", "casualties", "deployed"), strict=True):
        lines = [line for line in ax.get_lines() if line.get_gid() == f"last:{quantity}"]
        if last[quantity] < end:
            # one dotted line, at the date the quantity was last reported
            assert len(lines) == 1
            assert pd.Timestamp(lines[0].get_xdata()[0]).date() == last[quantity].date()
            marked += 1
        else:
            assert not lines  # reported up to the end: nothing to mark
    # wounded (April 2025) and troops sent (November 2025) stop before the end
    assert marked >= 2
    legend_texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert any(t.startswith("last report of the quantity") for t in legend_texts)


def test_totals_corner_label_rounds_like_cite(dprk_estimate, close_figures):
    from nkest.results.cite import round_figure

    fig = plots.plot_totals(dprk_estimate, quantities=["killed"])
    close_figures(fig)
    last = dprk_estimate.summary(quantities=["killed"]).iloc[0]
    labels = [t.get_text() for t in fig.axes[0].texts]
    expected = (
        f"median {round_figure(last['median']):,} (90% interval "
        f"{round_figure(last['lower']):,}–{round_figure(last['upper']):,})"
    )
    assert any(expected in label for label in labels), labels


def test_date_axis_gives_the_year_on_the_first_tick_and_in_january(dprk_estimate, close_figures):
    fig = plots.plot_totals(dprk_estimate)
    close_figures(fig)
    ax = fig.axes[-1]
    fig.canvas.draw()
    low, high = ax.get_xlim()
    ticks = [
        (mdates.num2date(loc), label.get_text())
        for loc, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True)
        if low <= loc <= high
    ]
    first_date, first_label = ticks[0]
    assert str(first_date.year) in first_label
    januaries = [label for date, label in ticks if date.month == 1 and date.day == 1]
    assert januaries
    assert all(label == str(date.year) for (date, label) in ticks if date.month == 1)


def test_source_colours_are_the_same_in_the_fan_chart_and_the_forest_plot(
    dprk_estimate, close_figures
):
    totals = plots.plot_totals(dprk_estimate)
    bias = plots.plot_source_bias(dprk_estimate)
    close_figures(totals)
    close_figures(bias)
    used = dprk_estimate.used.set_index("report_id")
    in_totals = {}
    for ax in totals.axes:
        for report_id, line in gid_lines(ax, "report:").items():
            if used.loc[report_id, "role"] == "observation":
                marker = line.get_marker() != "o"
                colour = line.get_markeredgecolor() if marker else line.get_color()
                in_totals[used.loc[report_id, "source"]] = to_rgba(colour)
    in_bias = {
        source: to_rgba(line.get_color())
        for source, line in gid_lines(bias.axes[0], "source:").items()
    }
    shared = set(in_totals) & set(in_bias)
    assert len(shared) >= 5
    assert all(in_totals[s] == in_bias[s] for s in shared)
    # and different sources have different colours
    assert len(set(in_bias.values())) == len(in_bias)


def test_assert_drawn_fails_on_empty_axes(close_figures):
    from nkest.results.plots._layout import new_figure

    fig = new_figure(8, 8)
    close_figures(fig)
    axes = fig.subplots(3, 1)
    for ax in axes:
        ax.set_ylabel("Killed")
        ax.text(0.5, 0.5, "median 1,000", transform=ax.transAxes)
    fig.legend([Line2D([], [], color="C0")], ["a source"], loc="lower left")
    fig.suptitle("A title")
    with pytest.raises(AssertionError, match="holds no data"):
        assert_drawn(fig)
    # one axes with data is not enough: the others are still empty
    axes[0].plot([0, 1], [0, 1], lw=3)
    with pytest.raises(AssertionError, match="axes 1"):
        assert_drawn(fig)
    # data outside the view draws nothing inside the frame
    for ax in axes[1:]:
        ax.plot([5, 6], [5, 6])
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    with pytest.raises(AssertionError, match="blank inside"):
        assert_drawn(fig)
    for ax in axes:
        ax.fill_between([0, 1], [0, 0], [1, 1], color="C1")
    assert_drawn(fig)


def test_totals_sources_keep_their_colour_across_panels(dprk_estimate, close_figures):
    fig = plots.plot_totals(dprk_estimate)
    close_figures(fig)
    used = dprk_estimate.used.set_index("report_id")
    colours: dict[str, set] = {}
    for ax in fig.axes:
        for report_id, line in gid_lines(ax, "report:").items():
            if used.loc[report_id, "role"] == "observation":
                colours.setdefault(used.loc[report_id, "source"], set()).add(
                    to_rgba(
                        line.get_markeredgecolor() if line.get_marker() != "o" else line.get_color()
                    )
                )
    assert colours
    assert all(len(c) == 1 for c in colours.values())
    assert len({next(iter(c)) for c in colours.values()}) == len(colours)


def test_totals_options(dprk_estimate, close_figures):
    fig = plots.plot_totals(
        dprk_estimate,
        quantities=["killed"],
        show_reports=False,
        show_excluded=False,
        log_scale=True,
        title="My title",
    )
    close_figures(fig)
    assert_drawn(fig)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert gid_lines(ax, "report:") == {}
    assert gid_lines(ax, "excluded:") == {}
    assert footnote(fig) is None
    assert "My title" in [t.get_text() for t in fig.texts]


def test_totals_refuses_bad_arguments(small_estimate):
    with pytest.raises(ValueError, match="quantities"):
        plots.plot_totals(small_estimate, quantities=["captured"])
    with pytest.raises(ValueError, match="inner probability"):
        plots.plot_totals(small_estimate, prob_inner=0.9, prob=0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        plots.plot_totals(small_estimate, prob=1.5)


def test_totals_show_the_dates_asked_for_and_count_the_reports_left_out(
    dprk_estimate, close_figures
):
    fig = plots.plot_totals(dprk_estimate, start="2025-01-01", end="2025-06-30")
    close_figures(fig)
    low, high = (mdates.num2date(x).replace(tzinfo=None) for x in fig.axes[-1].get_xlim())
    assert pd.Timestamp("2024-12-31") <= low <= pd.Timestamp("2025-01-01")
    assert high < pd.Timestamp("2025-07-15")
    drawn = set().union(*(gid_lines(ax, "report:") for ax in fig.axes))
    used = dprk_estimate.used.set_index("report_id")
    assert drawn
    assert all("2025-01-01" <= str(used.loc[r, "as_of"].date()) <= "2025-06-30" for r in drawn)
    assert " outside the dates shown are not drawn (" in flat(footnote(fig))
    with pytest.raises(ValueError, match="start and end"):
        plots.plot_totals(dprk_estimate, start="2030-01-01")
    with pytest.raises(ValueError, match="start and end must be dates"):
        plots.plot_totals(dprk_estimate, start="not a date")


def test_plots_take_a_figure_size(dprk_estimate, close_figures):
    for make in (plots.plot_totals, plots.plot_source_bias, plots.plot_report_checks):
        fig = make(dprk_estimate, figsize=(7.0, 40.0))
        close_figures(fig)
        assert tuple(fig.get_size_inches()) == pytest.approx((7.0, 40.0))
        # a height too small for the legends and notes: each panel keeps its least height
        small = make(dprk_estimate, figsize=(7.0, 2.0))
        close_figures(small)
        assert small.get_size_inches()[1] > 2.0
        assert all(
            ax.get_position().height * small.get_size_inches()[1] >= 0.59 for ax in small.axes
        )
        narrow = make(dprk_estimate, figsize=(4.2, None))
        close_figures(narrow)
        assert narrow.get_size_inches()[0] == pytest.approx(4.2)
        assert_drawn(narrow)
        # nothing reaches beyond a narrow figure's edges (labels are wrapped to fit)
        narrow.canvas.draw()
        box = narrow.get_tightbbox(narrow.canvas.get_renderer())
        assert box.x0 >= -0.05
        assert box.x1 <= 4.2 + 0.05
    with pytest.raises(ValueError, match="figsize"):
        plots.plot_totals(dprk_estimate, figsize=(1.0, 2.0))
    with pytest.raises(ValueError, match="figsize"):
        plots.plot_source_bias(dprk_estimate, figsize="big")


def test_totals_draw_into_the_axes_given(dprk_estimate, close_figures):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    close_figures(fig)
    returned = plots.plot_totals(dprk_estimate, quantities=["killed", "wounded"], ax=axes)
    assert returned is fig
    assert len(fig.axes) == 2
    assert gid_lines(axes[0], "report:")
    assert not fig.texts  # no title, legend or footnote added to the caller's figure
    assert not fig.legends
    with pytest.raises(ValueError, match="one axes per quantity"):
        plots.plot_totals(dprk_estimate, quantities=["killed"], ax=axes)


def test_a_source_keeps_its_colour_whatever_the_other_sources():
    from nkest.results.plots._style import SOURCE_PALETTE, source_palette

    names = [f"Source {i}" for i in range(12)]
    together = source_palette(names)
    assert len(set(together.values())) == len(names)  # different sources, different colours
    assert source_palette(reversed(names)) == together  # the order given does not matter
    # a source keeps its colour when sources later in the alphabet are added
    ordered = sorted(names)
    for k in range(1, len(ordered)):
        fewer = source_palette(ordered[:k])
        assert fewer == {name: together[name] for name in ordered[:k]}
    many = source_palette([f"S{i}" for i in range(60)])
    assert set(many.values()) == set(SOURCE_PALETTE)


def _cielab(colour) -> np.ndarray:
    rgb = np.array(to_rgb(colour))
    linear = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    matrix = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    xyz = matrix @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _ciede2000(first: np.ndarray, second: np.ndarray) -> float:
    """The CIEDE2000 colour difference (Sharma, Wu and Dalal 2005)."""
    (l1, a1, b1), (l2, a2, b2) = first, second
    mean_c = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(mean_c**7 / (mean_c**7 + 25**7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1, h2 = np.degrees(np.arctan2(b1, a1)) % 360, np.degrees(np.arctan2(b2, a2)) % 360
    dh = h2 - h1
    dh = dh - 360 if dh > 180 else dh + 360 if dh < -180 else dh
    dh = 0.0 if c1 * c2 == 0 else dh
    big_dh = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    mean_l, mean_cp = (l1 + l2) / 2, (c1 + c2) / 2
    hue = h1 + h2
    mean_h = hue if c1 * c2 == 0 else (hue + 360) / 2 if abs(h1 - h2) > 180 else hue / 2
    mean_h %= 360
    t = (
        1
        - 0.17 * np.cos(np.radians(mean_h - 30))
        + 0.24 * np.cos(np.radians(2 * mean_h))
        + 0.32 * np.cos(np.radians(3 * mean_h + 6))
        - 0.20 * np.cos(np.radians(4 * mean_h - 63))
    )
    rotation = 30 * np.exp(-(((mean_h - 275) / 25) ** 2))
    rc = 2 * np.sqrt(mean_cp**7 / (mean_cp**7 + 25**7))
    sl = 1 + 0.015 * (mean_l - 50) ** 2 / np.sqrt(20 + (mean_l - 50) ** 2)
    sc, sh = 1 + 0.045 * mean_cp, 1 + 0.015 * mean_cp * t
    rt = -np.sin(np.radians(2 * rotation)) * rc
    dl, dc = l2 - l1, c2 - c1
    return float(
        np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (big_dh / sh) ** 2 + rt * dc / sc * big_dh / sh)
    )


def test_ciede2000_matches_published_pairs():
    # pairs 1 and 17 of Sharma, Wu and Dalal's test data
    assert _ciede2000(
        np.array([50.0, 2.6772, -79.7751]), np.array([50.0, 0.0, -82.7485])
    ) == pytest.approx(2.0425, abs=1e-4)
    assert _ciede2000(np.array([50.0, 2.5, 0.0]), np.array([73.0, 25.0, -18.0])) == pytest.approx(
        27.1492, abs=1e-4
    )


def test_the_source_palette_has_no_near_twins():
    from nkest.results.plots._style import SOURCE_PALETTE

    labs = [_cielab(c) for c in SOURCE_PALETTE]
    assert len(SOURCE_PALETTE) >= 24
    gaps = [_ciede2000(a, b) for i, a in enumerate(labs) for b in labs[i + 1 :]]
    assert min(gaps) >= 14.9
    # nor do they look like the grey of excluded reports or the black of floors and caps
    for reserved in ("0.55", "black", "white"):
        assert min(_ciede2000(_cielab(reserved), x) for x in labs) >= 19
    # and each shows on the white page: contrast (WCAG's formula) of at least 2.5:1
    for colour in SOURCE_PALETTE:
        rgb = np.array(to_rgb(colour))
        linear = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
        luminance = float(linear @ np.array([0.2126, 0.7152, 0.0722]))
        assert 1.05 / (luminance + 0.05) >= 2.5, colour


def test_plots_leave_global_state_alone(small_estimate, close_figures):
    params = dict(matplotlib.rcParams)
    open_before = plt.get_fignums()
    for make in (plots.plot_totals, plots.plot_source_bias, plots.plot_report_checks):
        fig = make(small_estimate)
        close_figures(fig)
        assert isinstance(fig, Figure)
    assert plt.get_fignums() == open_before
    assert dict(matplotlib.rcParams) == params


# -- plot_source_bias ------------------------------------------------------------------


@pytest.mark.parametrize("which", ["small", "dprk"])
def test_source_bias_has_one_row_per_source(which, small_estimate, dprk_estimate, close_figures):
    estimate = small_estimate if which == "small" else dprk_estimate
    fig = plots.plot_source_bias(estimate)
    close_figures(fig)
    assert isinstance(fig, Figure)
    assert_drawn(fig)
    (ax,) = fig.axes
    table = estimate.source_bias()
    medians = gid_lines(ax, "source:")
    assert set(medians) == set(table["source"])
    for row in table.itertuples():
        assert medians[row.source].get_xdata()[0] == pytest.approx(row.factor_median)
    labels = [t.get_text().strip() for t in ax.get_yticklabels()]
    assert set(labels) == set(table["source"]) | set(table["source_group"])
    assert len(labels) == len(table) + table["source_group"].nunique()
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "bias factor (1.3 = states 30% above the truth)"
    assert any(np.allclose(line.get_xdata(), 1.0) for line in ax.lines)
    # sources of a group are together, under the group's label
    groups = dict(zip(table["source"], table["source_group"], strict=True))
    current = None
    for tick in ax.get_yticklabels():
        name = tick.get_text().strip()
        if tick.get_fontweight() == "bold":
            current = name
        else:
            assert groups[name] == current


class _LongNames:
    """An estimate whose sources carry names as long as some real agencies' are."""

    LONG = (
        "Office of the United Nations High Commissioner for Human Rights, Human Rights "
        "Monitoring Mission in Ukraine (HRMMU) $1 and 50%"
    )

    def __init__(self, estimate):
        self._estimate = estimate

    def __getattr__(self, name):
        return getattr(self._estimate, name)

    def source_bias(self, prob=0.9):
        table = self._estimate.source_bias(prob)
        return table.assign(source=[f"{self.LONG} {i}" for i in range(len(table))])


@pytest.mark.parametrize("figsize", [None, (4.0, None)])
def test_source_bias_wraps_long_names_and_keeps_its_panel(figsize, dprk_estimate, close_figures):
    fig = plots.plot_source_bias(_LongNames(dprk_estimate), figsize=figsize)
    close_figures(fig)
    assert_drawn(fig)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert all(max(len(line) for line in label.split("\n")) <= 42 for label in labels)
    # the whole name is there, unescaped by the wrapping, and the panel keeps its width
    assert any("(HRMMU)" in label for label in labels)
    assert ax.get_position().width > 0.25


# -- plot_report_checks ----------------------------------------------------------------


@pytest.mark.parametrize("highlight", [0.05, 0.5])
def test_report_checks_highlights_the_surprising_reports(highlight, dprk_estimate, close_figures):
    fig = plots.plot_report_checks(dprk_estimate, highlight=highlight)
    close_figures(fig)
    assert isinstance(fig, Figure)
    assert_drawn(fig)
    (ax,) = fig.axes
    checks = dprk_estimate.report_checks(0.9)
    expected = set(checks.loc[checks["tail_p"] < highlight, "report_id"])
    labels = ax.get_yticklabels()
    assert len(labels) == len(dprk_estimate.used)
    bold = {t.get_text().split(" · ")[0] for t in labels if t.get_fontweight() == "bold"}
    assert bold == expected
    red = to_rgba(plots.SURPRISE_COLOUR)
    coloured = {t.get_text().split(" · ")[0] for t in labels if to_rgba(t.get_color()) == red}
    assert coloured == expected
    claims = gid_lines(ax, "claim:")
    assert set(claims) == set(checks["report_id"])
    highlighted = {
        report_id
        for report_id, line in claims.items()
        if to_rgba(line.get_markeredgecolor()) == red or to_rgba(line.get_color()) == red
    }
    assert highlighted == expected
    assert ax.get_xscale() == "log"


def test_report_checks_axis_starts_near_a_half(dprk_estimate, close_figures):
    checks = dprk_estimate.report_checks(0.9)
    assert checks["predicted_lower"].min() < 0.25  # the model predicts figures below a half
    fig = plots.plot_report_checks(dprk_estimate)
    close_figures(fig)
    low, _ = fig.axes[0].get_xlim()
    assert 0.25 <= low <= 0.5
    assert low <= checks["claim_lower"][checks["claim_lower"] > 0].min()


def test_report_checks_sorting(dprk_estimate, close_figures):
    checks = dprk_estimate.report_checks(0.9)
    fig = plots.plot_report_checks(dprk_estimate)
    close_figures(fig)
    order = [t.get_text().split(" · ")[0] for t in fig.axes[0].get_yticklabels()]
    tail = checks.set_index("report_id")["tail_p"]
    assert list(tail[order]) == sorted(tail)
    fig = plots.plot_report_checks(dprk_estimate, sort="date")
    close_figures(fig)
    order = [t.get_text().split(" · ")[0] for t in fig.axes[0].get_yticklabels()]
    as_of = dprk_estimate.used.set_index("report_id")["as_of"]
    assert list(as_of[order]) == sorted(as_of)
    with pytest.raises(ValueError, match="sort"):
        plots.plot_report_checks(dprk_estimate, sort="value")


@pytest.mark.parametrize("sort", ["tail_p", "date"])
def test_report_checks_most_keeps_the_least_consistent_and_says_so(
    sort, dprk_estimate, close_figures
):
    checks = dprk_estimate.report_checks(0.9)
    fig = plots.plot_report_checks(dprk_estimate, most=10, sort=sort)
    close_figures(fig)
    drawn = {t.get_text().split(" · ")[0] for t in fig.axes[0].get_yticklabels()}
    assert len(drawn) == 10
    tail = checks.set_index("report_id")["tail_p"]
    assert tail[list(drawn)].max() <= tail.drop(list(drawn)).min()
    texts = " ".join(" ".join(t.get_text() for t in fig.findobj(Text)).split())  # unwrapped
    assert f"the 10 of {len(checks)} reports with the lowest tail p" in texts
    assert f"the other {len(checks) - 10} reports fit at least as well" in texts
    surprising = int((checks["tail_p"] < 0.05).sum())
    assert f"{surprising} of {len(checks)} reports fall below 0.05" in texts  # all counted
    everything = plots.plot_report_checks(dprk_estimate, most=len(checks) + 5)
    close_figures(everything)
    assert len(everything.axes[0].get_yticklabels()) == len(checks)
    assert "Drawn:" not in " ".join(t.get_text() for t in everything.findobj(Text))
    assert fig.get_figheight() < everything.get_figheight()
    for bad in (0, -1, 2.5, True, "10"):
        with pytest.raises(ValueError, match="most"):
            plots.plot_report_checks(dprk_estimate, most=bad)
    numpy_count = plots.plot_report_checks(dprk_estimate, most=np.int64(3))
    close_figures(numpy_count)
    assert len(numpy_count.axes[0].get_yticklabels()) == 3


def test_report_checks_height_grows_with_reports(small_estimate, dprk_estimate, close_figures):
    small = plots.plot_report_checks(small_estimate)
    large = plots.plot_report_checks(dprk_estimate)
    close_figures(small)
    close_figures(large)
    assert len(dprk_estimate.used) > len(small_estimate.used)
    assert large.get_figheight() > small.get_figheight()
    assert_drawn(small)


# -- plot_prior_totals -----------------------------------------------------------------


def test_prior_totals(close_figures):
    from nkest.fit.prior import sample_prior

    reports = nkest.load_dataset("dprk")
    prior = sample_prior(reports, draws=60, random_seed=3)
    fig = plots.plot_prior_totals(prior, reports=reports)
    close_figures(fig)
    assert isinstance(fig, Figure)
    assert_drawn(fig)
    assert len(fig.axes) == 3
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    start, end = pd.Timestamp("2024-11-01"), pd.Timestamp("2025-03-01")
    fig = plots.plot_prior_totals(prior, quantities=["killed"], dates=(start, end))
    close_figures(fig)
    (ax,) = fig.axes
    low, high = ax.get_xlim()
    assert low >= mdates.date2num(start)
    assert high <= mdates.date2num(end)
    with pytest.raises(ValueError, match="quantities"):
        plots.plot_prior_totals(prior, quantities=["captured prisoners"])


def test_few_sources_are_named_beside_their_reports_instead_of_in_a_legend(
    small_estimate, dprk_estimate, close_figures
):
    fig = plots.plot_totals(small_estimate)
    close_figures(fig)
    named = {
        t.get_text(): t
        for ax in fig.axes
        for t in ax.texts
        if (t.get_gid() or "").startswith("label:")
    }
    shown = set(small_estimate.used.query("role == 'observation'")["source"])
    assert set(named) == shown
    assert "Sources (colour)" not in [legend.get_title().get_text() for legend in fig.legends]
    # each name in its source's colour, inside its panel, apart from the others
    palette = plots._style.source_colours(small_estimate)
    renderer = fig.canvas.get_renderer()
    for name, text in named.items():
        assert to_rgba(text.get_color()) == to_rgba(palette[name])
        box, panel = text.get_window_extent(renderer), text.axes.get_window_extent(renderer)
        assert panel.x0 <= box.x0
        assert box.x1 <= panel.x1
    # fifteen sources do not fit: the legend stays
    dprk = plots.plot_totals(dprk_estimate)
    close_figures(dprk)
    assert "Sources (colour)" in [legend.get_title().get_text() for legend in dprk.legends]
    assert not [t for ax in dprk.axes for t in ax.texts if (t.get_gid() or "").startswith("label:")]


def test_a_failed_fit_is_flagged_in_every_figure_title(small_estimate, close_figures):
    assert not small_estimate.diagnostics()["passed"]
    makers = (
        plots.plot_totals,
        plots.plot_source_bias,
        plots.plot_report_checks,
        plots.plot_losses_per_month,
    )
    for make in makers:
        fig = make(small_estimate)
        close_figures(fig)
        texts = [t.get_text() for t in fig.texts]
        assert any(text.startswith("NOT RELIABLE (the sampler") for text in texts), make
