"""The bundled DPRK data with the defaults: what users cite must sample cleanly."""

from __future__ import annotations

import pytest


def test_default_fit_of_the_dprk_data_passes_its_diagnostics_with_margin(dprk_estimate):
    """Not at the edge of the gate (R-hat 1.01, ESS 400): ten seeds in docs/performance.md."""
    diagnostics = dprk_estimate.diagnostics()
    assert diagnostics["divergences"] == 0
    assert diagnostics["max_rhat"] <= 1.005
    assert diagnostics["min_ess_bulk"] >= 600
    assert diagnostics["min_ess_tail"] >= 600


def test_dprk_totals_are_monotone_and_consistent(dprk_estimate):
    total = dprk_estimate.posterior["posterior"]["total"]
    assert (total.diff("date") >= 0).all()
    assert (total.sel(quantity="killed") <= total.sel(quantity="casualties")).all()


def test_dprk_floors_hold(dprk_estimate):
    """North Korea's own 101 named dead (by 2025-08-22) is a floor the estimate respects."""
    killed = dprk_estimate.totals(["2025-08-22"]).sel(quantity="killed")
    assert float(killed.quantile(0.01)) >= 101 * 0.95


def test_dprk_report_and_loo_handle_floors_that_never_bind(dprk_estimate, tmp_path):
    """A floor far below the totals has the same log-likelihood in every draw."""
    from nkest.validate.predictive import loo_checks

    checks = loo_checks(dprk_estimate).set_index("report_id")
    for floor in ("dprk-076", "dprk-078", "dprk-217"):  # 101, 350 and 300 named dead
        assert checks.loc[floor, "pareto_k"] == 0
        assert checks.loc[floor, "reliable"]
        assert checks.loc[floor, "loo_tail_p"] == pytest.approx(1)
    path = dprk_estimate.report(tmp_path)
    assert "## Sources the others contradict" in path.read_text()
