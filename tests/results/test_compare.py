"""Updating an estimate: new reports, two fits compared, the losses of each month."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import nkest
from nkest.cli import main
from nkest.results.compare import report_influence
from nkest.results.plots import plot_losses_per_month


def _new_rows(simulated) -> pd.DataFrame:
    """Three later reports: a killed figure far above the truth, the truth, and a floor."""
    end = simulated.daily.index[-1]
    killed = simulated.truth_at(end.date().isoformat(), "killed")
    source = simulated.reports.to_frame()["source"].iloc[0]
    return pd.DataFrame(
        {
            "report_id": ["new-1", "new-2", "new-3"],
            "published": [end.date().isoformat()] * 3,
            "source": [source, source, "A newcomer"],
            "quantity": ["killed", "wounded", "killed"],
            "value": [str(int(killed * 3)), "10", str(int(killed))],
            "qualifier": ["approx", "at_least", "approx"],
        }
    )


@pytest.fixture(scope="module")
def updated_estimate(simulated):
    updated = simulated.reports.add(_new_rows(simulated))
    end = simulated.daily.index[-1].date().isoformat()
    return nkest.fit(
        updated, end=end, draws=300, tune=300, chains=2, random_seed=11, progressbar=False
    )


def test_compare_says_how_the_headline_moved_and_which_reports_moved_it(
    small_estimate, updated_estimate
):
    comparison = nkest.compare(small_estimate, updated_estimate)
    assert isinstance(comparison, nkest.Comparison)
    assert comparison.date == pd.Timestamp(small_estimate.grid.end)
    killed = comparison.headline.set_index("quantity").loc["killed"]
    before = small_estimate.summary(quantities=["killed"]).iloc[0]
    after = updated_estimate.summary(dates=[comparison.date], quantities=["killed"]).iloc[0]
    assert killed["old_median"] == pytest.approx(before["median"])
    assert killed["new_median"] == pytest.approx(after["median"])
    assert killed["change"] == pytest.approx(after["median"] / before["median"] - 1)
    assert set(comparison.reports["report_id"]) == {"new-1", "new-2", "new-3"}
    assert set(comparison.reports["change"]) == {"added"}
    movers = comparison.movers.set_index("report_id")
    assert movers["moved"].abs().is_monotonic_decreasing
    # three times the truth pulls the estimate up; the truth, below the estimate, down
    assert movers.loc["new-1", "moved"] > 0
    assert movers.loc["new-3", "moved"] < 0
    text = comparison.to_markdown()
    assert "**Reports:** 3 added." in text
    assert re.search(r"- new-1, added: .* raised it by about [\d,]+", text)
    assert re.search(r"- new-3, added: .* lowered it by about [\d,]+", text)
    assert str(comparison) == text


def test_compare_weighs_removed_and_changed_reports_in_the_fit_they_are_in(
    small_estimate, updated_estimate
):
    backwards = nkest.compare(updated_estimate, small_estimate)
    assert set(backwards.reports["change"]) == {"removed"}
    # removing the high figure lowers the estimate: the sign is turned
    first = backwards.movers.set_index("report_id").loc["new-1"]
    assert first["moved"] < 0
    with pytest.raises(ValueError, match="quantity"):
        nkest.compare(small_estimate, updated_estimate, quantity="captured")
    with pytest.raises(ValueError, match="date must be an ISO date like '2025-04-30'; got 'soon'"):
        nkest.compare(small_estimate, updated_estimate, date="soon")


def test_leaving_a_report_out_moves_the_median_the_way_its_figure_pulls(updated_estimate):
    influence = report_influence(updated_estimate, "killed").set_index("report_id")
    assert set(influence.index) == set(updated_estimate.used["report_id"])
    high = influence.loc["new-1"]
    assert high["median"] - high["median_without"] == pytest.approx(high["moved"])
    assert high["moved"] > 0
    assert influence.loc[["new-1", "new-2", "new-3"], "pareto_k"].notna().all()
    assert (influence["reliable"] == (influence["pareto_k"] <= 0.7)).all()


def test_losses_per_month_add_up_to_the_totals(small_estimate):
    table = small_estimate.losses_per_month(["killed", "wounded"])
    first, last = small_estimate.grid.dates[0], small_estimate.grid.dates[-1]
    totals = small_estimate.summary(dates=[first, last], quantities=["killed"])
    rise = totals["mean"].iloc[1] - totals["mean"].iloc[0]
    assert table.loc[table["quantity"] == "killed", "mean"].sum() == pytest.approx(rise)
    killed = table[table["quantity"] == "killed"]
    assert killed["start"].iloc[0] == first
    assert killed["end"].iloc[-1] == last
    assert (killed["start"].iloc[1:].to_numpy() == killed["end"].iloc[:-1].to_numpy()).all()
    whole = killed.iloc[1:-1]
    assert not whole["partial"].any()
    assert (whole["start"].dt.day == 1).all()
    assert (killed["lower"] <= killed["median"]).all()
    assert (killed["median"] <= killed["upper"]).all()
    assert killed["month"].is_unique


def test_losses_per_month_chart_has_a_bar_per_month(small_estimate):
    fig = plot_losses_per_month(small_estimate, quantities=["killed"])
    try:
        months = small_estimate.losses_per_month(["killed"])["month"]
        bars = {p.get_gid() for p in fig.axes[0].patches if p.get_gid()}
        assert bars == {f"month:killed:{m}" for m in months}
        with pytest.raises(ValueError, match="quantities"):
            plot_losses_per_month(small_estimate, quantities=["captured"])
    finally:
        plt.close(fig)


def test_cite_gives_the_monte_carlo_error_of_each_figure(small_estimate):
    note = small_estimate.cite("killed", allow_failed_diagnostics=True).note
    match = re.search(
        r"Monte Carlo standard error \(the spread of reruns with other seeds\): "
        r"median ±([\d,]+), interval ends ±([\d,]+) and ±([\d,]+)",
        note,
    )
    assert match
    errors = [int(m.replace(",", "")) for m in match.groups()]
    upper = small_estimate.summary(quantities=["killed"])["upper"].iloc[0]
    assert 0 <= errors[2] < upper / 5  # a few hundred draws: far below the figure itself


def test_the_command_line_adds_reports_and_compares_fits(simulated, tmp_path, capsys):
    base = tmp_path / "reports.csv"
    simulated.reports.to_csv(base)
    new = tmp_path / "new.xlsx"
    _new_rows(simulated).to_excel(new, index=False)
    end = simulated.daily.index[-1].date().isoformat()
    quick = ["--end", end, "--draws", "60", "--tune", "60", "--chains", "2", "--seed", "1"]
    quick += ["--quiet"]
    assert main(["fit", str(base), "--out", str(tmp_path / "old"), *quick]) in (0, 1)
    argv = ["fit", str(base), "--add", str(new), "--previous", str(tmp_path / "old")]
    assert main([*argv, "--out", str(tmp_path / "new"), *quick]) in (0, 1)
    text = (tmp_path / "new" / "report.md").read_text()
    assert "## What changed since the previous fit" in text
    assert "**Reports:** 3 added." in text
    changes = pd.read_csv(tmp_path / "new" / "tables" / "changes.csv")
    assert set(changes["report_id"]) == {"new-1", "new-2", "new-3"}
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "old"), str(tmp_path / "new" / "fit.nc")]) == 0
    out = capsys.readouterr().out
    assert "**Reports:** 3 added." in out
    assert main(["compare", str(tmp_path / "old"), str(tmp_path / "nothing")]) == 2
    assert "no saved fit" in capsys.readouterr().err
    assert np.isfinite(changes["moved"]).all()
