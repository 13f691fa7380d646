"""nkest.fit and the Estimate it returns: the public API on a small real fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import nkest

SUMMARY_COLUMNS = ["date", "quantity", "mean", "median", "lower", "upper"]


def test_summary_defaults_to_the_last_grid_date(small_estimate):
    table = small_estimate.summary()
    assert list(table.columns) == SUMMARY_COLUMNS
    assert list(table["quantity"]) == ["killed", "wounded", "casualties"]
    assert (table["date"] == small_estimate.grid.dates[-1]).all()
    assert (table["lower"] < table["median"]).all()
    assert (table["median"] < table["upper"]).all()


def test_summary_between_grid_dates_interpolates_rather_than_snaps(small_estimate):
    grid = small_estimate.grid.dates
    middle = grid[10] + pd.Timedelta(days=3)
    totals = small_estimate.posterior["posterior"]["total"].sel(quantity="killed")
    expected = (4 / 7) * totals.sel(date=grid[10]) + (3 / 7) * totals.sel(date=grid[11])
    row = small_estimate.summary(dates=[middle], quantities=["killed"]).iloc[0]
    assert row["date"] == middle
    assert row["mean"] == pytest.approx(float(expected.mean()))
    assert row["median"] == pytest.approx(float(expected.median()))


def test_summary_all_dates_and_interval_probability(small_estimate):
    everything = small_estimate.summary(dates="all", quantities=("killed",))
    assert len(everything) == small_estimate.grid.size
    narrow = small_estimate.summary(prob=0.5).set_index("quantity")
    wide = small_estimate.summary(prob=0.9).set_index("quantity")
    assert (narrow["lower"] > wide["lower"]).all()
    assert (narrow["upper"] < wide["upper"]).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dates": ["2030-01-01"]}, "outside the estimate's grid"),
        ({"dates": ["not a date"]}, "dates must be None, 'all', or dates"),
        ({"quantities": ["captured"]}, "quantities must be among killed, wounded, casualties"),
        ({"prob": 1.5}, "prob must be a number between 0 and 1"),
    ],
)
def test_summary_refuses_bad_arguments_clearly(small_estimate, kwargs, message):
    with pytest.raises(ValueError, match=message):
        small_estimate.summary(**kwargs)


def test_totals_never_decrease_and_killed_never_exceeds_casualties(small_estimate):
    total = small_estimate.posterior["posterior"]["total"]
    assert (total.diff("date") >= 0).all()
    assert (total.sel(quantity="killed") <= total.sel(quantity="casualties")).all()


def test_source_bias_table(small_estimate, simulated):
    table = small_estimate.source_bias()
    assert list(table.columns) == [
        "source",
        "source_group",
        "factor_median",
        "factor_lower",
        "factor_upper",
    ]
    assert set(table["source"]) == set(simulated.bias.index)
    assert (table["source_group"] == table["source"].map(simulated.groups)).all()
    assert (table["factor_lower"] > 0).all()
    assert (table["factor_lower"] < table["factor_median"]).all()


def test_diagnostics_report_every_check(small_estimate):
    diagnostics = small_estimate.diagnostics()
    for key in ("divergences", "max_rhat", "min_ess_bulk", "min_ess_tail", "passed", "failures"):
        assert key in diagnostics
    assert diagnostics["chains"] == 2
    assert diagnostics["draws"] == 300
    assert np.isfinite(diagnostics["max_rhat"])
    assert diagnostics["passed"] == (not diagnostics["failures"])


def test_posterior_has_named_dims_and_coords(small_estimate, simulated):
    posterior = small_estimate.posterior["posterior"]
    assert posterior["total"].dims == ("chain", "draw", "quantity", "date")
    assert list(posterior["quantity"].values[:3]) == ["killed", "wounded", "casualties"]
    assert set(posterior["source"].values) == set(simulated.bias.index)
    log_lik = small_estimate.posterior["log_likelihood"]["reports"]
    assert log_lik.dims == ("chain", "draw", "report")
    assert list(log_lik["report"].values) == list(small_estimate.used["report_id"])
    assert np.isfinite(log_lik).all()


def test_every_report_is_used_or_excluded_with_a_reason(small_estimate):
    used, excluded = small_estimate.used, small_estimate.excluded
    assert len(used) + len(excluded) == len(small_estimate.reports)
    assert (excluded["reason"] != "").all()


def test_a_second_fit_of_the_same_shape_reuses_the_compiled_model(simulated, small_estimate):
    changed = simulated.reports.exclude(["sim-030"], "left out for the test")
    end = simulated.daily.index[-1].date().isoformat()
    again = nkest.fit(
        changed, end=end, draws=50, tune=50, chains=2, random_seed=1, progressbar=False
    )
    assert again.sampling.reused_compiled_model
    assert "sim-030" in set(again.excluded["report_id"])


def test_unknown_options_are_refused_with_the_valid_ones(simulated):
    with pytest.raises(TypeError, match=r"unknown option\(s\) identifiction; valid: end, freq"):
        nkest.fit(simulated.reports, identifiction="groups")
    with pytest.raises(TypeError, match=r"unknown prior\(s\) ratio; valid:"):
        nkest.fit(simulated.reports, priors={"ratio": 3})


def test_repr_states_the_headline_and_the_diagnostics(small_estimate):
    text = repr(small_estimate)
    assert "killed by" in text
    assert "source groups are assumed unbiased on average" in text
    assert "diagnostics" in text
