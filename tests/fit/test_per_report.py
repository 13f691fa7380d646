"""Leave-one-out weights of single reports, including floors that (almost) never bind."""

from __future__ import annotations

import numpy as np
import xarray as xr

from nkest.fit.per_report import loo_weights


def test_a_floor_binding_by_a_hair_gets_its_raw_ratios_and_a_pareto_k_of_zero():
    rng = np.random.default_rng(0)
    draws = 4000
    never = np.zeros(draws)
    # The DPRK case: one draw of 4,000 brushes the floor (log-likelihood -9e-6), the
    # rest are exactly 0; Pareto smoothing of such ratios gives k NaN.
    hair = np.zeros(draws)
    hair[17] = -9e-6
    figure = rng.normal(-2.0, 0.5, draws)
    log_lik = xr.DataArray(
        np.stack([never, hair, figure], axis=-1).reshape(2, draws // 2, 3),
        dims=("chain", "draw", "report"),
    )
    weights, k = loo_weights(log_lik)
    assert weights.shape == (draws, 3)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0)
    assert k[0] == 0
    assert k[1] == 0
    np.testing.assert_allclose(weights[:, 0], 1 / draws)
    # The draw that the floor penalised counts (a little) more when the floor is left out.
    assert weights[17, 1] > weights[0, 1]
    np.testing.assert_allclose(weights[17, 1] / weights[0, 1], np.exp(9e-6))
    assert np.isfinite(k[2])
    assert k[2] < 0.7
    # A figure's weights are smoothed, not its raw ratios.
    raw = np.exp(-figure) / np.exp(-figure).sum()
    assert not np.allclose(weights[:, 2], raw)
