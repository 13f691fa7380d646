"""R-hat and ESS of many variables at once: the same numbers as ArviZ's, variable by variable."""

from __future__ import annotations

import warnings

import arviz_stats as azs
import numpy as np
import pytest
import xarray as xr
from scipy.stats import rankdata

from nkest.results.convergence import TAIL_PROBS, average_ranks, rhat_and_ess


def _arviz(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    draws = xr.DataArray(values, dims=("chain", "draw", "variable"))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return (
            azs.rhat(draws).to_numpy(),
            azs.ess(draws, method="bulk").to_numpy(),
            azs.ess(draws, method="tail", prob=TAIL_PROBS[1]).to_numpy(),
        )


def _draws(kind: str, chains: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    values = rng.normal(size=(chains, draws, 12))
    if kind == "autocorrelated":
        for t in range(1, draws):
            values[:, t] = 0.95 * values[:, t - 1] + 0.3 * values[:, t]
    elif kind == "tied":
        values = np.round(values, 1)
    elif kind == "constant and binary":
        values[..., 0] = 3.0
        values[..., 1] = rng.integers(0, 2, size=(chains, draws))
    elif kind == "alternating":
        values[:, ::2] *= -1
        values += 2 * (np.arange(draws) % 2)[None, :, None]
    elif kind == "one chain apart":
        values[0] += 2
    return values


@pytest.mark.parametrize(
    "kind",
    [
        "independent",
        "autocorrelated",
        "tied",
        "constant and binary",
        "alternating",
        "one chain apart",
    ],
)
@pytest.mark.parametrize(
    ("chains", "draws"), [(4, 400), (2, 7), (1, 50), (3, 101), (4, 4), (1, 101)]
)
def test_rhat_and_ess_equal_arviz_for_every_variable(kind, chains, draws):
    values = _draws(kind, chains, draws, np.random.default_rng(chains * 1000 + draws))
    for ours, theirs in zip(rhat_and_ess(values), _arviz(values), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_a_nan_draw_leaves_its_variable_without_diagnostics_and_an_infinite_one_is_ranked():
    values = np.random.default_rng(0).normal(size=(4, 100, 3))
    values[2, 10, 1] = np.nan
    values[0, 0, 2] = np.inf
    before = values.copy()
    ours = rhat_and_ess(values)
    np.testing.assert_array_equal(values, before)  # the caller's draws are not touched
    assert np.isnan([part[1] for part in ours]).all()
    for mine, theirs in zip(ours, _arviz(values), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, equal_nan=True)


def test_many_variables_are_taken_in_slices_with_the_same_results():
    values = _draws("autocorrelated", 2, 60, np.random.default_rng(5))
    wide = np.concatenate([values] * 30, axis=-1)  # 360 variables: three slices
    for mine, theirs in zip(rhat_and_ess(wide), _arviz(wide), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, equal_nan=True)


def test_a_chain_stuck_apart_is_flagged():
    values = _draws("one chain apart", 4, 400, np.random.default_rng(1))
    rhat, bulk, _ = rhat_and_ess(values)
    assert (rhat > 1.1).all()
    assert (bulk < 200).all()


def test_average_ranks_equal_scipy_with_ties():
    rng = np.random.default_rng(2)
    rows = np.vstack([rng.normal(size=50), rng.integers(0, 4, size=50), np.zeros(50)])
    np.testing.assert_array_equal(average_ranks(rows), rankdata(rows, method="average", axis=1))


def test_a_fit_with_non_finite_draws_fails_and_names_the_variables():
    from nkest.results.summaries import diagnostics_of, failures

    rng = np.random.default_rng(3)
    posterior = xr.Dataset(
        {
            "a": (("chain", "draw"), rng.normal(size=(4, 400))),
            "b": (("chain", "draw", "source"), rng.normal(size=(4, 400, 2))),
        }
    )
    posterior["b"][1, 7, 0] = np.inf
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((4, 400), dtype=bool))})
    diagnostics = diagnostics_of(posterior, stats, ["a", "b"])
    assert diagnostics["nonfinite"] == ["b"]
    assert failures(diagnostics) == ["non-finite draws in b"]
    posterior["b"][1, 7, 0] = 0.0
    posterior["b"][0] += 3  # one chain apart: the worst R-hat is named
    diagnostics = diagnostics_of(posterior, stats, ["a", "b"])
    assert diagnostics["nonfinite"] == []
    assert diagnostics["worst_rhat"] == "b"
    assert diagnostics["worst_ess_bulk"] == "b"
    assert diagnostics["max_rhat"] > 1.2


def test_the_diagnostics_of_a_posterior_in_blocks_equal_arviz_variable_by_variable():
    from nkest.results.summaries import diagnostics_of

    rng = np.random.default_rng(4)
    posterior = xr.Dataset(
        {
            "a": (("chain", "draw", "date"), rng.normal(size=(3, 80, 100))),
            "b": (("chain", "draw", "quantity", "step"), rng.normal(size=(3, 80, 2, 40))),
            "c": (("chain", "draw"), rng.normal(size=(3, 80))),
        }
    )
    posterior["b"][0, :, 1, 7] += 1.5  # the worst R-hat, in the second block
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((3, 80), dtype=bool))})
    ours = diagnostics_of(posterior, stats, ["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = max(float(azs.rhat(posterior[n]).max()) for n in "abc")
        bulk = min(float(azs.ess(posterior[n], method="bulk").min()) for n in "abc")
        tail = min(float(azs.ess(posterior[n], method="tail").min()) for n in "abc")
    assert ours["max_rhat"] == pytest.approx(rhat, rel=1e-9)
    assert ours["min_ess_bulk"] == pytest.approx(bulk, rel=1e-9)
    assert ours["min_ess_tail"] == pytest.approx(tail, rel=1e-9)
    assert ours["worst_rhat"] == "b"
    assert np.isnan(diagnostics_of(posterior, stats, [])["max_rhat"])  # nothing to check
