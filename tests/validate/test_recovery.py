"""Parameter recovery on simulated conflicts whose generator is not the model.

The quick study runs in CI; the full one (20 data sets, default draws) is the
evidence quoted in docs/validation.md: ``pytest --run-slow tests/test_recovery.py``.
"""

from __future__ import annotations

import pytest

from nkest.validate.recovery import run_recovery


def test_quick_recovery_covers_the_truth_and_the_biases():
    result = run_recovery(4, draws=400, tune=400, chains=2, first_seed=100)
    coverage = result.coverage()
    assert coverage["killed"] >= 0.75
    assert coverage["wounded"] >= 0.75
    assert result.bias_correlation() >= 0.6
    assert result.bias_coverage() >= 0.6


@pytest.mark.slow
def test_full_recovery_study():
    result = run_recovery(20)
    coverage = result.coverage()
    assert coverage["killed"] >= 0.8
    assert coverage["wounded"] >= 0.8
    assert result.bias_coverage() >= 0.8
    assert result.bias_correlation() >= 0.8
    assert result.totals.groupby("seed")["passed"].first().mean() >= 0.9
