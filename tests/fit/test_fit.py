"""nkest.fit and the Estimate it returns: the public API on a small real fit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import nkest

SUMMARY_COLUMNS = [
    "date",
    "quantity",
    "mean",
    "median",
    "lower",
    "upper",
    "past_last_report",
]


def test_summary_defaults_to_the_last_grid_date(small_estimate):
    table = small_estimate.summary()
    assert list(table.columns) == SUMMARY_COLUMNS
    assert list(table["quantity"]) == ["killed", "wounded", "casualties", "deployed"]
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
        ({"dates": ["not a date"]}, "dates must be None, 'all', or ISO dates"),
        # day and month could be either way round: not guessed at
        ({"dates": "04/03/2024"}, "or ISO dates like '2025-04-30'; got '04/03/2024'"),
        ({"dates": 20240430}, "or ISO dates like"),
        ({"dates": []}, "at least one date"),
        ({"quantities": ["captured"]}, "quantities must be among killed, wounded, casualties"),
        ({"prob": 1.5}, "prob must be a number between 0 and 1"),
    ],
)
def test_summary_refuses_bad_arguments_clearly(small_estimate, kwargs, message):
    with pytest.raises(ValueError, match=message):
        small_estimate.summary(**kwargs)


def test_a_date_with_a_time_zone_is_its_day(small_estimate):
    day = small_estimate.grid.dates[3]
    plain = small_estimate.summary(dates=[day])
    zoned = small_estimate.summary(dates=[day.tz_localize("UTC")])
    pd.testing.assert_frame_equal(zoned, plain)


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


def test_diagnostics_in_words_say_what_failed():
    from nkest.results.summaries import diagnostics_in_words, failures

    diagnostics = {
        "chains": 4,
        "divergences": 3,
        "max_rhat": 1.02,
        "min_ess_bulk": 900.0,
        "min_ess_tail": 250.0,
    }
    problems = failures(diagnostics)
    assert problems == [
        "3 divergent transitions",
        "max R-hat 1.020 > 1.01",
        "min tail ESS 250 < 400",
    ]
    assert diagnostics_in_words({"passed": False, "failures": problems}) == (
        "FAILED: 3 divergent transitions; max R-hat 1.020 > 1.01; min tail ESS 250 < 400"
    )
    assert diagnostics_in_words({"passed": True, "failures": []}) == "passed"


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


def test_a_second_fit_of_the_same_shape_reuses_the_compiled_model(simulated):
    # Both fits here: the cache holds a few structures, so under xdist other tests'
    # fits in the same worker could evict a model compiled by a shared fixture.
    changed = simulated.reports.exclude(["sim-030"], "left out for the test")
    end = simulated.daily.index[-1].date().isoformat()
    quick = {"end": end, "draws": 20, "tune": 20, "chains": 1, "progressbar": False}
    nkest.fit(simulated.reports, random_seed=1, **quick)
    again = nkest.fit(changed, random_seed=2, **quick)
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
    assert "most source groups roughly unbiased" in text
    assert "diagnostics" in text


def test_posterior_attrs_record_what_produced_it(small_estimate, simulated):
    import json

    attrs = small_estimate.posterior.attrs
    assert attrs["nkest_version"] == nkest.__version__
    assert attrs["reports_fingerprint"] == simulated.reports.fingerprint()
    assert attrs["identification"] == "most source groups roughly unbiased"
    options = json.loads(attrs["options"])
    assert options["identification"]["kind"] == "most_groups"
    assert json.loads(attrs["sampling"])["random_seed"] == 11


def test_report_checks_predict_each_report(small_estimate):
    checks = small_estimate.report_checks()
    assert list(checks["report_id"]) == list(small_estimate.used["report_id"])
    assert ((checks["tail_p"] >= 0) & (checks["tail_p"] <= 1)).all()
    assert ((checks["p_claim"] > 0) & (checks["p_claim"] <= 1)).all()
    assert (checks["predicted_lower"] <= checks["predicted_median"]).all()
    assert (checks["predicted_median"] <= checks["predicted_upper"]).all()
    # the simulated reports come from the model's kind of process: few are surprising
    assert (checks["tail_p"] < 0.01).mean() < 0.15


def test_report_checks_flag_a_wild_report_that_barely_moves_the_estimate(simulated, small_estimate):
    wild = simulated.reports.to_frame()
    cumulative = (wild["quantity"] == "killed") & (wild["scope"] == "cumulative")
    row = wild.index[cumulative & (wild["qualifier"] == "approx")][0]
    wild.loc[row, "value"] = wild.loc[row, "value"] * 30
    end = simulated.daily.index[-1].date().isoformat()
    reports = nkest.load_reports(wild, metadata=simulated.reports.metadata)
    estimate = nkest.fit(
        reports, end=end, draws=300, tune=300, chains=2, random_seed=3, progressbar=False
    )
    checks = estimate.report_checks().set_index("report_id")
    wild_id = wild.loc[row, "report_id"]
    assert checks.loc[wild_id, "tail_p"] == checks["tail_p"].min()
    assert checks.loc[wild_id, "tail_p"] < 0.05
    # the robust likelihood: one figure 30 times the truth moves the total by a few percent
    moved = estimate.summary(quantities=["killed"]).iloc[0]["median"]
    clean = small_estimate.summary(quantities=["killed"]).iloc[0]["median"]
    assert abs(moved / clean - 1) < 0.1


def test_cite_gives_a_rounded_sentence_with_provenance(small_estimate, simulated):
    import re

    from nkest.results.cite import round_figure

    diagnostics = small_estimate.diagnostics()
    text = small_estimate.cite("killed", "2024-05-31", allow_failed_diagnostics=True)
    row = small_estimate.summary(dates=["2024-05-31"], quantities=["killed"]).iloc[0]
    assert text.startswith(
        f"An estimated {round_figure(row['median']):,} simulated soldiers had been killed "
        f"by 31 May 2024 (90% credible interval {round_figure(row['lower']):,}–"
        f"{round_figure(row['upper']):,}; NOT RELIABLE: the sampler's diagnostics failed)."
    )
    assert f"reports fingerprint {simulated.reports.fingerprint()}" in text
    assert "assuming most source groups roughly unbiased" in text
    assert text == f"{text.sentence} {text.note}"  # a str, with its two parts apart
    assert text.sentence.endswith("failed).")
    assert text.note.startswith("Source: nkest ")
    assert f"{diagnostics['divergences']} divergences" in text
    # two significant figures: no number in the sentence has a third non-zero digit
    sentence = text.split(").")[0]
    for number in re.findall(
        r"\d[\d,]*", sentence.split(" by ")[0] + sentence.split("interval")[1]
    ):
        digits = number.replace(",", "").rstrip("0")
        assert len(digits) <= 2
    # the interval's probability as given, not rounded to a whole percent
    for prob, words in ((0.995, "99.5%"), (0.975, "97.5%"), (0.5, "50%")):
        cited = small_estimate.cite("killed", prob=prob, allow_failed_diagnostics=True)
        assert f"({words} credible interval " in cited


def test_cite_refuses_an_unconverged_fit_unless_insisted(simulated):
    end = simulated.daily.index[-1].date().isoformat()
    poor = nkest.fit(
        simulated.reports, end=end, draws=30, tune=30, chains=2, random_seed=1, progressbar=False
    )
    assert not poor.diagnostics()["passed"]
    with pytest.raises(nkest.ConvergenceError, match="fails its sampler diagnostics"):
        poor.cite("killed")
    text = poor.cite("killed", allow_failed_diagnostics=True)
    assert "WARNING: the sampler's diagnostics failed" in text
    # "no" is not a way to say False, and a typo is named as one on a failed fit too
    with pytest.raises(ValueError, match="allow_failed_diagnostics must be True or False"):
        poor.cite("killed", allow_failed_diagnostics="no")
    with pytest.raises(ValueError, match="quantities must be among"):
        poor.cite("kiled")
    # its tables say so too, once per estimate: the first table warns, and no other
    with pytest.warns(
        nkest.UnreliableEstimateWarning, match="fails its sampler diagnostics"
    ) as seen:
        poor.source_bias()
    assert seen[0].filename == __file__  # the user's line, not nkest's
    with warnings.catch_warnings():
        warnings.simplefilter("error", nkest.UnreliableEstimateWarning)
        poor.summary()
        poor.losses_per_month()
    assert "diagnostics FAILED" in repr(poor)


@pytest.mark.parametrize(
    ("value", "rounded"),
    [(2653.4, 2700), (1346, 1300), (87.6, 88), (4.4, 4), (0.2, 0), (1e5, 100000)],
)
def test_round_figure(value, rounded):
    from nkest.results.cite import round_figure

    assert round_figure(value) == rounded


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_save_and_load_round_trip_gives_identical_summaries(small_estimate, tmp_path, suffix):
    path = small_estimate.save(tmp_path / f"fit{suffix}")
    loaded = nkest.load(path)
    pd.testing.assert_frame_equal(loaded.summary(dates="all"), small_estimate.summary(dates="all"))
    pd.testing.assert_frame_equal(loaded.source_bias(), small_estimate.source_bias())
    assert loaded.reports == small_estimate.reports
    assert loaded.options == small_estimate.options
    assert loaded.diagnostics() == small_estimate.diagnostics()
    assert loaded.posterior.attrs["nkest_version"] == nkest.__version__
    assert loaded.posterior.attrs["reports_fingerprint"] == small_estimate.reports.fingerprint()


def test_load_refuses_incompatible_files_clearly(small_estimate, tmp_path):
    import xarray as xr

    path = small_estimate.save(tmp_path / "fit.nc")
    tree = xr.open_datatree(path, engine="h5netcdf").load()
    tree.attrs["nkest_file_format"] = 99
    tree.to_netcdf(tmp_path / "future.nc", engine="h5netcdf")
    with pytest.raises(nkest.IncompatibleFileError, match=r"file format 99 .* reads format 1"):
        nkest.load(tmp_path / "future.nc")
    tree.attrs["nkest_file_format"] = 1
    tree.attrs["reports_fingerprint"] = "0" * 16
    tree.to_netcdf(tmp_path / "altered.nc", engine="h5netcdf")
    with pytest.raises(nkest.IncompatibleFileError, match="do not match its fingerprint"):
        nkest.load(tmp_path / "altered.nc")
    xr.Dataset({"x": ("a", [1.0])}).to_netcdf(tmp_path / "other.nc", engine="h5netcdf")
    with pytest.raises(nkest.IncompatibleFileError, match="not an nkest fit"):
        nkest.load(tmp_path / "other.nc")
    with pytest.raises(ValueError, match=r"save to a \.nc \(netCDF\) or \.zarr path"):
        small_estimate.save(tmp_path / "fit.pickle")


def test_summary_and_cite_say_when_a_date_lies_past_the_last_report(small_estimate):
    from nkest.results.cite import last_reports

    used = small_estimate.used
    last = last_reports(used)
    observed = used[used["role"] == "observation"]
    killed = observed[observed["quantity"] == "killed"]
    assert last["killed"] == killed["period_end"].fillna(killed["as_of"]).max()
    before, after = last["killed"] - pd.Timedelta(days=1), last["killed"] + pd.Timedelta(days=1)
    table = small_estimate.summary(dates=[before, after], quantities=["killed"])
    assert list(table["past_last_report"]) == [False, True]
    day = f"{last['killed'].day} {last['killed']:%B %Y}"
    cite = small_estimate.cite
    assert f"last reported {day}" in cite("killed", after, allow_failed_diagnostics=True).sentence
    assert "last reported" not in cite("killed", before, allow_failed_diagnostics=True).sentence


def test_a_quantity_two_others_give_is_reported_until_the_earlier_of_them():
    from nkest.results.cite import last_reports, reported_quantities

    used = pd.DataFrame(
        {
            "quantity": ["wounded", "casualties", "casualties", "killed"],
            "role": ["observation", "observation", "observation", "floor"],
            "as_of": pd.to_datetime(["2025-04-30", "2025-03-01", "2025-06-15", "2025-09-01"]),
            "period_end": pd.NaT,
        }
    )
    last = last_reports(used)
    # killed is casualties less wounded while both are reported: to 30 April, not never
    assert "killed" in reported_quantities(used)
    assert last == {
        "wounded": pd.Timestamp("2025-04-30"),
        "casualties": pd.Timestamp("2025-06-15"),
        "killed": pd.Timestamp("2025-04-30"),
    }
    # a floor is no report of the total, and one part alone gives nothing
    assert "killed" not in last_reports(used[used["quantity"] != "wounded"])


def test_progress_log_writes_a_line_every_few_seconds_and_at_the_end(monkeypatch):
    import io
    from types import SimpleNamespace

    from nkest.fit import progress

    def chains(done, tuning=False, divergences=0):
        return [
            SimpleNamespace(
                finished_draws=done, total_draws=100, tuning=tuning, divergences=divergences
            )
            for _ in range(2)
        ]

    stream = io.StringIO()
    log = progress.ProgressLog(2, stream)
    monkeypatch.setattr(progress, "LOG_SECONDS", 3600.0)
    log(chains(0, tuning=True))  # the first call writes a line
    log(chains(50, tuning=True))  # too soon for another
    log(chains(100, divergences=1))  # the end always gets its line
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("nkest: sampling 2 chains: 0 of 200 iterations (0%, tuning)")
    assert "200 of 200 iterations (100%, done), 2 divergences" in lines[1]
    assert not progress.interactive(io.StringIO())  # a file is not a terminal


def test_a_fit_without_a_terminal_says_it_compiles_and_logs_its_progress(
    simulated, capsys, monkeypatch
):
    from nkest.cli import _progress_lines
    from nkest.fit import progress, sampling

    monkeypatch.setattr(progress, "LOG_SECONDS", 0.0)
    sampling.clear_cache()
    end = simulated.daily.index[-1].date().isoformat()
    with _progress_lines(True):  # as the CLI runs it: nkest's log also goes to stderr
        nkest.fit(simulated.reports, end=end, draws=100, tune=100, chains=2, random_seed=3)
    err = capsys.readouterr().err
    assert err.count("compiling the model") == 1, err
    lines = [line for line in err.splitlines() if line.startswith("nkest: sampling 2 chains")]
    assert lines
    assert "(100%, done)" in lines[-1]
    # quiet when asked
    nkest.fit(
        simulated.reports, end=end, draws=100, tune=100, chains=2, random_seed=3, progressbar=False
    )
    assert "nkest:" not in capsys.readouterr().err
