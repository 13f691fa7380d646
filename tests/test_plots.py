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
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import nkest
from nkest.results import plots


@pytest.fixture(scope="module")
def dprk_estimate():
    """The DPRK dataset, fitted quickly: floors, caps, excluded and windowed reports."""
    return nkest.fit(
        nkest.load_dataset("dprk"),
        draws=200,
        tune=200,
        chains=2,
        random_seed=1,
        progressbar=False,
    )


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
    """The figure renders to a PNG with content: many colours, not a flat image."""
    image = rendered(fig)
    assert image.ndim == 3
    assert image.shape[0] > 200
    assert image.shape[1] > 200
    rgb = (image[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) > 50
    assert image[..., :3].std() > 0.05


def gid_lines(ax, prefix: str) -> dict[str, Line2D]:
    """The axes' lines whose gid starts with ``prefix``, by the rest of the gid."""
    found = {}
    for line in ax.lines:
        gid = line.get_gid()
        if gid and gid.startswith(prefix):
            found[gid.removeprefix(prefix)] = line
    return found


def expected_reports(estimate, quantity: str) -> set[str]:
    used = estimate.used
    targets = (quantity, "all_losses") if quantity == "casualties" else (quantity,)
    drawn = used[(used["scope"] == "cumulative") & used["target"].isin(targets)]
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


def windowed_count(estimate, quantities) -> int:
    used = estimate.used
    return int((used["scope"].isin(["period", "incident"]) & used["target"].isin(quantities)).sum())


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
    assert len(fig.axes) == 3
    for ax, quantity in zip(fig.axes, ("killed", "wounded", "casualties"), strict=True):
        assert set(gid_lines(ax, "report:")) == expected_reports(small_estimate, quantity)
        assert gid_lines(ax, "excluded:") == {}
        # the median line and the two bands are drawn
        assert len(ax.collections) >= 2
    axes_labels = [ax.get_ylabel() for ax in fig.axes]
    assert axes_labels[0] == "Killed"
    n = windowed_count(small_estimate, ("killed", "wounded", "casualties"))
    assert n > 0
    assert f"{n} reports counting a window" in flat(footnote(fig))
    assert "plot_report_checks" in flat(footnote(fig))


def test_totals_dprk_draws_every_kind_of_claim(dprk_estimate, close_figures):
    estimate = dprk_estimate
    quantities = ("killed", "wounded", "casualties")
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
    # the caps on troops deployed are on the casualties panel, and said to be caps
    caps = set(used.index[used["target"] == "all_losses"])
    assert caps
    assert caps <= set(gid_lines(fig.axes[2], "report:"))
    assert not caps & set(gid_lines(fig.axes[0], "report:"))
    legend_texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert any(t.startswith("cap: troops deployed") for t in legend_texts)
    assert any(t.startswith("floor") for t in legend_texts)
    assert any(t.startswith("excluded") for t in legend_texts)
    drawn = (
        (used["role"] == "observation")
        & (used["scope"] == "cumulative")
        & used["target"].isin(quantities)
    )
    sources = set(used.loc[drawn, "source"])
    assert "Activists" not in sources  # only speaks of captured, not drawn
    assert sources <= set(legend_texts)
    n = windowed_count(estimate, quantities)
    assert n == 10
    assert f"{n} reports counting a window" in flat(footnote(fig))
    title = " ".join(t.get_text() for t in fig.texts)
    assert "North Korean soldiers" in flat(title)
    assert estimate.identification in flat(title)


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
        plots.plot_totals(small_estimate, prob_inner=0.9, prob_outer=0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        plots.plot_totals(small_estimate, prob_outer=1.5)


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
        plots.plot_prior_totals(prior, quantities=["deployed"])
