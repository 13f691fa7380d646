"""Public names that the topical tests do not reach, each called and its result checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import nkest


def test_reports_last_date_and_with_metadata(minimal_frame):
    reports = nkest.load_reports(minimal_frame, metadata={"subject": "soldiers"})
    assert reports.last_date == pd.Timestamp("2025-04-30")
    renamed = reports.with_metadata({"title": "Borovia"})
    assert renamed.metadata == {"subject": "soldiers", "title": "Borovia"}
    assert reports.metadata == {"subject": "soldiers"}  # a copy, not a change
    with pytest.raises(ValueError, match="origin"):
        reports.with_metadata({"origin": "not a date"})


def test_predicted_figures_follow_each_report(small_estimate):
    figures = small_estimate.predicted_figures(random_seed=3)
    assert figures.dims == ("chain", "draw", "report")
    assert figures.sizes["report"] == len(small_estimate.used)
    assert (figures > 0).all()
    assert (figures == small_estimate.predicted_figures(random_seed=3)).all()  # seeded
    assert not (figures == small_estimate.predicted_figures(random_seed=4)).all()
    checks = small_estimate.report_checks(random_seed=3)
    medians = figures.median(["chain", "draw"]).to_numpy()
    np.testing.assert_allclose(medians, checks["predicted_median"].to_numpy())
    # Around the latent value the report speaks of, times its source's bias: within noise.
    ratio = medians / checks["latent_median"].to_numpy()
    assert 0.2 < np.median(ratio) < 5


def test_model_options_parse_describe_and_refuse():
    from nkest.model.options import (
        FitOptions,
        Identification,
        MostGroupsUnbiased,
        Priors,
        SourceGroupsUnbiased,
    )

    assert Identification.parse("reference:NIS, UK").describe() == "NIS and UK unbiased"
    assert Identification.parse({"group_priors": {"Kyiv": (1.5, 0.2)}}).describe() == (
        "informative priors on group biases: Kyiv states x1.5 the truth (log sd 0.2)"
    )
    assert Identification.parse("groups") == SourceGroupsUnbiased()
    assert Identification.parse("groups").describe() == "source groups unbiased on average"
    assert Identification.parse("most_groups").describe() == "most source groups roughly unbiased"
    with pytest.raises(ValueError, match="identification kind"):
        Identification.parse("everyone")
    priors = Priors.parse({"wounded_ratio": (3, 0.4)})
    assert priors.wounded_ratio == (3.0, 0.4)
    assert Priors.parse(None) == Priors()
    with pytest.raises(TypeError, match="unknown prior"):
        Priors.parse({"woundedratio": (3, 0.4)})
    options = FitOptions()
    assert options.identification == MostGroupsUnbiased()
    assert isinstance(options.identification, Identification)
    assert options.to_dict()["target_accept"] == options.target_accept


def test_simulated_conflict_truth_at_reads_its_daily_totals():
    from nkest.validate import SimulatedConflict, simulate_conflict

    sim = simulate_conflict(2, days=60, n_reports=10)
    assert isinstance(sim, SimulatedConflict)
    last = sim.daily.index[-1]
    assert sim.truth_at(last, "killed") == float(sim.daily["killed"].iloc[-1])
    assert sim.truth_at(sim.daily.index[0], "killed") <= sim.truth_at(last, "killed")
