"""Small versions of the validation studies, and fits in parallel (processes and Dask).

The full studies (hundreds of fits) run with ``python -m validation.publish``;
these check that each study runs, returns what it says, and measures what it
claims to, on few data sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import nkest
from nkest.validate import simulate_conflict
from nkest.validate.coverage import REGIMES, baselines, coverage_table, run_coverage
from nkest.validate.parallel import FitTask, run_fits
from nkest.validate.predictive import (
    future_rate,
    leave_future_out,
    loo_checks,
    rate_interval,
    source_conflicts,
)
from nkest.validate.sbc import rank_uniformity, run_sbc, sbc_template
from validation.publish import coverage_section

FAST = {"draws": 200, "tune": 200, "chains": 2}


def _killed_median(estimate):
    return float(estimate.summary(quantities=["killed"]).iloc[0]["median"])


def _tasks(n=2):
    tasks = []
    for seed in range(n):
        sim = simulate_conflict(seed, days=200, n_reports=40)
        end = sim.daily.index[-1].date().isoformat()
        tasks.append(
            FitTask(
                sim.reports, {**FAST, "end": end, "random_seed": seed, "cores": 1}, _killed_median
            )
        )
    return tasks


def test_fits_in_worker_processes_match_fits_in_this_process():
    tasks = _tasks()
    here = run_fits(tasks, max_workers=1)
    there = run_fits(tasks, max_workers=2)
    assert here == there  # exactly: a seed fixes the draws in any process


def test_fits_on_a_local_dask_cluster_match_fits_in_this_process():
    distributed = pytest.importorskip("distributed")
    tasks = _tasks()
    here = run_fits(tasks, max_workers=1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        there = run_fits(tasks, executor=client.get_executor())
    assert here == there  # exactly: a seed fixes the draws in any process


def test_sbc_ranks_are_in_range_and_uniformity_test_rejects_skewed_ranks():
    result = run_sbc(
        4,
        template=sbc_template(days=150, n_reports=24),
        draws=150,
        tune=150,
        thin_to=50,
        max_workers=1,
    )
    assert len(result.ranks) == 4
    assert ((result.ranks >= 0) & (result.ranks <= 50)).all().all()
    assert "killed_log_rate_mean" in result.ranks.columns
    assert any(column.startswith("wounded@") for column in result.ranks.columns)
    rng = np.random.default_rng(0)
    uniform = pd.DataFrame({"u": rng.integers(0, 100, 400), "skewed": rng.integers(0, 40, 400)})
    table = rank_uniformity(uniform, 99).set_index("quantity")
    assert table.loc["u", "p_value"] > 0.01
    assert table.loc["skewed", "p_value"] < 1e-6


def test_coverage_study_and_baselines():
    results = run_coverage(1, regimes={"few reports": {"n_reports": 20}}, max_workers=1, **FAST)
    assert set(results["prob"]) == {0.5, 0.9}
    table = coverage_table(results)
    assert list(table["regime"]) == ["few reports", "few reports"]
    section = coverage_section(results)
    assert "1 simulated conflicts in each regime (seeds 1000–1000)" in section
    assert "| few reports" in section
    frame = pd.DataFrame(
        {
            "quantity": ["killed"] * 3,
            "scope": ["cumulative"] * 3,
            "source": ["A", "B", "A"],
            "as_of": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
            "value": [100, 300, 200],
            "value_high": [pd.NA, 400, pd.NA],
        }
    )
    assert baselines(frame, "killed") == {"latest report": 200.0, "mean of sources' latest": 275.0}
    floor = {"source": "Acknowledged", "as_of": pd.Timestamp("2025-04-01"), "value": 50}
    with_floor = pd.concat(
        [frame.assign(constraint=""), pd.DataFrame([{**floor, "constraint": "floor"}])]
    ).assign(quantity="killed", scope="cumulative")
    assert baselines(with_floor, "killed") == baselines(frame, "killed")  # floors are not figures


def test_loo_checks_and_source_conflicts(small_estimate):
    checks = loo_checks(small_estimate)
    assert len(checks) == len(small_estimate.used)
    assert ((checks["loo_tail_p"] >= 0) & (checks["loo_tail_p"] <= 1)).all()
    pit = checks["loo_pit"].dropna()
    assert ((pit >= 0) & (pit <= 1)).all()
    assert (checks["kind"] == "interval").sum() == len(pit)
    conflicts = source_conflicts(checks)
    assert set(conflicts["source"]) == set(small_estimate.sources)
    assert (conflicts["conflict_p"] >= conflicts["min_tail_p"]).all()


def test_leave_future_out_scores_later_reports(simulated):
    frame = simulated.reports.to_frame()
    cutoff = frame["published"].quantile(0.7).date().isoformat()
    end = simulated.daily.index[-1].date().isoformat()
    checks = leave_future_out(simulated.reports, [cutoff], end=end, random_seed=1, **FAST)
    is_later = frame["published"] >= pd.Timestamp(cutoff)
    # a quantity first reported after the cutoff (here the troops sent) has no early total
    known = set(frame.loc[~is_later, "quantity"])
    later = frame.loc[is_later & frame["quantity"].isin(known), "report_id"]
    assert set(checks["report_id"]) == set(later)
    assert not frame.loc[is_later, "quantity"].isin(known).all()
    rate = future_rate(checks)
    assert 0 <= rate["rate_lower"] <= rate["rate"] <= rate["rate_upper"] <= 1


def test_rate_interval_is_the_wilson_interval():
    low, high = rate_interval(45, 50)
    assert low == pytest.approx(0.7864, abs=1e-3)
    assert high == pytest.approx(0.9565, abs=1e-3)


def test_a_wild_source_is_found_by_leave_one_source_out(simulated):
    from nkest.validate.conflicts import leave_one_source_out

    frame = simulated.reports.to_frame()
    wild = frame["source"] == "S1"
    frame.loc[wild, "value"] = frame.loc[wild, "value"] * 8
    frame.loc[wild, "value_high"] = frame.loc[wild, "value_high"] * 8
    reports = nkest.load_reports(frame, metadata=simulated.reports.metadata)
    end = simulated.daily.index[-1].date().isoformat()
    table = leave_one_source_out(
        reports, sources=["S1", "S4"], end=end, random_seed=1, quantities=("killed",), **FAST
    )
    shift = table.set_index("left_out")["shift_pct"]
    assert shift["none"] == 0
    assert abs(shift["S1"]) > abs(shift["S4"])


def test_compare_fits_tabulates_variants_and_shows_a_failed_fit(simulated):
    from nkest.validate.sensitivity import compare_fits, identification_markdown

    end = simulated.daily.index[-1].date().isoformat()
    variants = {
        "groups": {},
        "S1 unbiased": {"identification": {"reference": ["S1"]}},
        # 2 chains x 30 draws cannot reach 200 effective draws: a fit that fails.
        "too short": {"draws": 30, "tune": 30},
    }
    table = compare_fits(
        simulated.reports, variants, end=end, random_seed=1, quantities=("killed",), **FAST
    )
    assert list(table["variant"].unique()) == list(variants)
    assert table.set_index("variant").loc["S1 unbiased", "identification"] == "S1 unbiased"
    status = table.groupby("variant")["diagnostics"].first()
    assert not table.set_index("variant").loc["too short", "passed"]
    assert "ESS" in status["too short"]
    assert (table["lower"] <= table["median"]).all()
    assert (table["median"] <= table["upper"]).all()
    markdown = identification_markdown(table)
    assert "diagnostics" in markdown.splitlines()[0]
    assert status["too short"] in markdown


def test_simulated_belligerent_deployment_and_quantity_biases_are_what_they_say():
    from nkest.validate import simulate_conflict

    sim = simulate_conflict(
        5, belligerent=(5.0, 20.0), family_bias_sd=0.4, deployment=True, n_reports=80
    )
    frame = sim.reports.to_frame()
    # the belligerent's two sources understate by a factor of 5 to 20 (and a little spread)
    bias = sim.bias[sim.groups.reindex(sim.bias.index) == "Belligerent"]
    assert list(bias.index) == ["B1", "B2"]
    assert (bias < 1 / 3).all()
    assert (bias > 1 / 40).all()
    assert (frame["source"].isin(["B1", "B2"])).sum() >= 4
    # troops sent never fall, and never below the losses
    sent = sim.daily["deployed"]
    assert (sent.diff().dropna() >= 0).all()
    assert (sent >= sim.daily["casualties"]).all()
    deployed = frame[frame["quantity"] == "deployed"]
    assert len(deployed) == 6
    # two batches: the troops sent in a window, seen through the source's bias
    batches = deployed[deployed["scope"] == "period"]
    assert len(batches) == 2
    for _, row in batches.iterrows():
        rise = sent[row["period_end"]] - sent[row["period_start"] - pd.Timedelta(days=1)]
        factor = float(sim.bias[row["source"]])
        assert rise > 0
        assert 0.2 < row["value"] / (rise * factor) < 5
    assert "Troops sent" not in set(frame["source"])  # the sources state the troops sent
    assert sim.settings["family_bias_sd"] == 0.4
    # the default conflict is unchanged by the new options' existence
    assert simulate_conflict(7, days=200, n_reports=40).reports.fingerprint() == (
        simulate_conflict(7, days=200, n_reports=40, family_bias_sd=0.0).reports.fingerprint()
    )


def test_coverage_records_whether_the_biased_groups_factor_is_covered():
    results = run_coverage(
        1,
        regimes={"belligerent": {"n_reports": 40, "belligerent": (5.0, 20.0)}},
        max_workers=1,
        **FAST,
    )
    covered = results["biased group's factor covered"]
    assert covered.between(0, 1).all()
    table = coverage_table(results)
    assert table["biased group's factor coverage (90%)"].between(0, 1).all()


def _coverage_rows(regime: str, seeds: int, missed: int = 1) -> pd.DataFrame:
    """Coverage results where every seed but the first ``missed`` is covered at 90%."""
    rows = []
    for seed in range(seeds):
        for quantity, truth in (("killed", 1000.0), ("wounded", 3000.0)):
            for prob, width in ((0.5, 0.1), (0.9, 0.5 if seed >= missed else 0.01)):
                rows.append(
                    {
                        "regime": regime,
                        "seed": seed,
                        "quantity": quantity,
                        "prob": prob,
                        "truth": truth,
                        "median": truth * 1.05,
                        "lower": truth * (1 + 0.05 - width),
                        "upper": truth * (1 + 0.05 + width),
                        "covered": seed >= missed or prob == 0.5,
                        "baseline: latest report": truth * 1.5,
                        "baseline: mean of sources' latest": truth * 0.9,
                        "passed": True,
                        "biased group's factor covered": 1.0,
                    }
                )
    return pd.DataFrame(rows)


def test_the_coverage_section_names_what_misses_the_targets_and_what_is_not_rerun(tmp_path):
    from validation.publish import _coverage_glance

    current = _coverage_rows("belligerent group", 4)
    previous = _coverage_rows("few reports", 5)
    centred = _coverage_rows("belligerent group", 3)
    section = coverage_section(current, previous=previous, centred=centred)
    # 3 of 4 covered: outside 0.85-0.95, and named; error 5% against the better baseline's 10%
    assert "0 of 2 regime and quantity rows are within 0.85–0.95" in section
    assert "(outside: belligerent group, killed: 0.75" in section
    assert "at least 30% below the better baseline's in 2 of 2" in section
    # every median is 5% high: a lopsided row is named with its side
    assert "one side of the truth in: belligerent group, killed (above in 100%)" in section
    # the previous model's run shows only regimes the current run lacks, marked as outdated
    assert "### Regimes not yet rerun on the current model" in section
    assert "Made with the previous model" in section
    assert section.count("| few reports") == 2
    assert section.count("| belligerent group") == 4
    assert "### When the groups average exactly no bias" in section
    assert "Seeds 0–2" in section
    assert "before and after" not in section
    # a regime of the previous run that is rerun: side by side, with the common bias's error
    rerun = coverage_section(
        pd.concat([current, _coverage_rows("few reports", 3, missed=0)]), previous=previous
    )
    assert "### The previous model's regimes, before and after" in rerun
    # the regimes ran different seeds: each range is named
    assert "(seeds 0–3 for belligerent group; 0–2 for few reports)" in rerun
    gappy = pd.concat([current, _coverage_rows("few reports", 4).query("seed != 2")])
    assert "0–3 but 2 for few reports" in coverage_section(gappy)
    assert "### Regimes not yet rerun" not in rerun
    kept = "90% coverage is within 0.85–0.95 in 0 of 2 rows (outside: few reports, killed: 1.00;"
    assert kept in rerun
    # the spreads the sentence on coverage gives are the regimes' own
    strong = REGIMES["strong source bias"]
    assert f"strong source bias, {strong['group_bias_sd']:g};" in rerun
    assert f"and {strong['source_bias_sd']:g})" in rerun
    table = rerun.split("before and after")[1].split("\n\n")[1]
    header, _, *rows = table.splitlines()
    assert "error floor: sources' common bias (%)" in header
    assert len(rows) == 2
    assert all(row.startswith("| few reports") for row in rows)
    # the floor comes from the simulated truth: finite, and the same for both quantities
    floors = {row.split("|")[-2].strip() for row in rows}
    assert len(floors) == 1
    assert float(floors.pop()) > 0
    # nothing kept beside it: no subsections
    alone = coverage_section(_coverage_rows("few reports", 2))
    assert "###" not in alone

    current.to_csv(tmp_path / "coverage.csv", index=False)
    centred.to_csv(tmp_path / "coverage_centred.csv", index=False)
    (line, centred_line) = _coverage_glance(tmp_path)
    assert "(4 data sets in each of 1 regimes" in line
    assert "the other 8 regimes not yet rerun" in line
    assert "covered by their 90% intervals in 100% of cases" in line
    assert "(3 data sets in each of 1 regimes" in centred_line
    assert "cover the truth in 67%: narrower than they claim" in centred_line
    # the words follow the numbers: all covered reads as too wide
    _coverage_rows("belligerent group", 3, missed=0).to_csv(
        tmp_path / "coverage_centred.csv", index=False
    )
    assert "in 100%: wider than that world needs" in _coverage_glance(tmp_path)[1]


def test_the_page_summarises_the_ukrainian_study(tmp_path):
    from validation.publish import _ukraine_glance

    assert _ukraine_glance(tmp_path) == []
    pd.DataFrame(
        {
            "source": ["Army A", "Army A aide", "Govt B"],
            "source_group": ["Russia government", "Russia government", "Ukraine government"],
            "reports_used": [10, 1, 4],
            "factor_median": [2.0, 1.1, 0.5],
            "factor_lower": [1.2, 0.5, 0.3],
            "factor_upper": [3.0, 2.0, 0.9991],
            "excludes_1": [True, False, True],
        }
    ).to_csv(tmp_path / "ukraine_bias_factors.csv", index=False)
    pd.DataFrame({"interval_above_floor": [True, False]}).to_csv(
        tmp_path / "ukraine_named_death_floors.csv", index=False
    )
    pd.DataFrame({"role": ["observation"] * 4, "inside": [True, True, True, False]}).to_csv(
        tmp_path / "ukraine_leave_future_out.csv", index=False
    )
    (line,) = _ukraine_glance(tmp_path)
    assert "Army A, the most frequent of Russia government, 2.00 (90% 1.20–3.00" in line
    assert "intervals excluding 1: 1 of its 2 sources" in line
    # an interval that ends just below 1 does not read as ending at 1
    assert "Govt B, the most frequent of Ukraine government, 0.50 (90% 0.30–0.999;" in line
    assert "above 1 of 2 named-death floors" in line
    assert "3 of 4 later reports" in line


def test_simulated_group_biases_are_drawn_around_no_bias_or_centred_on_request():
    def group_means(sim):
        log_bias = np.log(sim.bias[sim.groups.reindex(sim.bias.index).str.startswith("G")])
        return log_bias.groupby(sim.groups).mean()

    settings = {"days": 60, "n_reports": 20, "source_bias_sd": 0.0, "n_groups": 4}
    drawn = [group_means(simulate_conflict(seed, **settings)).mean() for seed in range(40)]
    centred = [
        group_means(simulate_conflict(seed, centre_groups=True, **settings)).mean()
        for seed in range(40)
    ]
    # drawn independently, the groups' average is itself a draw: sd 0.35 / sqrt(4)
    assert 0.1 < np.std(drawn) < 0.3
    assert np.abs(centred).max() < 1e-12
    assert simulate_conflict(3, centre_groups=True, **settings).settings["centre_groups"]


def test_a_coverage_table_refuses_a_conflict_counted_twice():
    rows = _coverage_rows("few reports", 3)
    with pytest.raises(ValueError, match=r"repeat 1 \(regime, seed\) fits: few reports seed 2"):
        coverage_table(pd.concat([rows, rows[rows["seed"] == 2]]))


def test_studies_that_record_diagnostics_silence_the_unreliable_estimate_warning():
    import warnings

    from nkest.errors import UnreliableEstimateWarning
    from nkest.validate.quiet import diagnostics_recorded

    @diagnostics_recorded()
    def study() -> None:
        warnings.warn("failed", UnreliableEstimateWarning, stacklevel=2)
        warnings.warn("other", UserWarning, stacklevel=2)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        study()
    assert [str(w.message) for w in seen] == ["other"]
