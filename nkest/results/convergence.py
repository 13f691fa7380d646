"""R-hat and effective sample sizes of many variables at once.

The same statistics as ArviZ's ``rhat`` (rank-normalised split R-hat, the
larger of the bulk and the folded one) and ``ess`` (bulk, and tail at the
quantiles ``TAIL_PROBS``), from Vehtari et al. (2021), computed for every
variable of a (chain, draw, variables) array in one pass: each rank
normalisation once rather than once per statistic and variable, and the
autocovariances of all variables in one FFT. ArviZ loops over the variables
in Python and ranks each variable's draws three times; on a fit of a few
hundred variables that took seconds, a large part of a warm refit
(docs/performance.md). The tests check the results against ArviZ's.

Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of
MCMC", Bayesian Analysis 16(2).
"""

from __future__ import annotations

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft
from scipy.special import ndtri

__all__ = ["BLOCK_VARIABLES", "TAIL_PROBS", "average_ranks", "rhat_and_ess"]

TAIL_PROBS = (1 - 0.89, 0.89)
"""Quantiles of the tail ESS: those of ArviZ 1's default (``stats.ci_prob`` 0.89, and
``1 - 0.89`` as ArviZ computes it, which is not quite 0.11), fixed here so that a change
to ArviZ's settings does not move nkest's gate."""

BLOCK_VARIABLES = 128
"""Variables handled together: the working arrays are about ten times the draws they
hold, so a posterior of thousands of variables is taken a slice at a time."""

_BLOM = 3 / 8


def rhat_and_ess(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return R-hat, bulk ESS and tail ESS of each variable.

    Parameters
    ----------
    values : array (chain, draw, variables)

    Returns
    -------
    tuple of three arrays (variables,)
        R-hat (NaN with fewer than 2 chains, or for a constant variable), bulk
        ESS and tail ESS (the number of draws for a constant variable). A
        variable with a NaN draw, or fewer than 4 draws, gets NaN in all
        three (``diagnostics_of`` fails such a fit on its own).
    """
    values = np.asarray(values, dtype=float)
    parts = [
        _rhat_and_ess(values[..., start : start + BLOCK_VARIABLES])
        for start in range(0, max(values.shape[-1], 1), BLOCK_VARIABLES)
    ]
    return tuple(np.concatenate(part) for part in zip(*parts, strict=True))  # type: ignore[return-value]


def _rhat_and_ess(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    chains, draws, _ = values.shape
    # variables first, draws last and contiguous (a copy: the caller's array is not touched)
    series = np.moveaxis(values, -1, 0).copy()
    # as ArviZ: a NaN draw leaves a variable without diagnostics; an infinite one is ranked
    valid = ~np.isnan(series).any(axis=(1, 2)) & (draws >= 4)
    series[~valid] = 0.0
    split = _split_chains(series)
    bulk = _z_scale(split)
    median = np.median(split.reshape(len(split), -1), axis=1)
    folded = _z_scale(np.abs(split - median[:, None, None]))
    if chains >= 2:
        rhat_bulk, rhat_folded = _rhat(bulk), _rhat(folded)
        # the larger of the two, or the bulk one where the folded one is undefined (as ArviZ)
        rhat = np.where(rhat_folded > rhat_bulk, rhat_folded, rhat_bulk)
    else:
        rhat = np.full(len(series), np.nan)
    ess_bulk = _ess(bulk)
    pooled = series.reshape(len(series), -1)
    ess_tail = np.minimum.reduce(
        [
            _ess(_split_chains(series <= np.quantile(pooled, prob, axis=1)[:, None, None]))
            for prob in TAIL_PROBS
        ]
    )
    rhat[~valid] = ess_bulk[~valid] = ess_tail[~valid] = np.nan
    return rhat, ess_bulk, ess_tail


def _split_chains(series: np.ndarray) -> np.ndarray:
    """(variables, chains, draws) to (variables, 2 chains, draws // 2): halves as chains."""
    half = series.shape[-1] // 2
    return np.concatenate([series[..., :half], series[..., series.shape[-1] - half :]], axis=1)


def _z_scale(split: np.ndarray) -> np.ndarray:
    """Return the normal scores of the pooled ranks of each variable (ties: average rank)."""
    count = len(split)
    size = split[0].size
    ranks = average_ranks(split.reshape(count, size))
    return ndtri((ranks - _BLOM) / (size - 2 * _BLOM + 1)).reshape(split.shape)


def average_ranks(rows: np.ndarray) -> np.ndarray:
    """Rank each row's values from 1, ties taking the average of their ranks.

    As ``scipy.stats.rankdata(rows, method="average", axis=1)``, without its
    per-row work: one sort of all rows, and the runs of equal values worked
    out only in the rows that have any (draws of a continuous variable rarely
    tie).
    """
    count, size = rows.shape
    order = np.argsort(rows, axis=1)
    ranks = np.empty((count, size))
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1.0, size + 1), (count, size)), 1)
    ordered = np.take_along_axis(rows, order, axis=1)
    tied = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
    for row in np.flatnonzero(tied):
        values = ordered[row]
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        length = np.diff(np.append(starts, size))
        ranks[row, order[row]] = np.repeat(starts + 1 + (length - 1) / 2, length)
    return ranks


def _rhat(split: np.ndarray) -> np.ndarray:
    draws = split.shape[-1]
    between = draws * split.mean(axis=2).var(axis=1, ddof=1)
    within = split.var(axis=2, ddof=1).mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt((between / within + draws - 1) / draws)


def _ess(split: np.ndarray) -> np.ndarray:
    """Effective sample size by Geyer's initial monotone sequence, as ArviZ computes it."""
    split = split.astype(float, copy=False)
    count, chains, draws = split.shape
    size = chains * draws
    spread = split.max(axis=(1, 2)) - split.min(axis=(1, 2))
    constant = spread < np.finfo(float).resolution
    chain_mean = split.mean(axis=2)
    length = next_fast_len(2 * draws)
    spectrum = rfft(split - chain_mean[..., None], n=length, axis=2)
    spectrum *= np.conjugate(spectrum)
    acov = irfft(spectrum, n=length, axis=2)[..., :draws] / draws
    mean_acov = acov.mean(axis=1)  # (variables, lags)
    mean_var = mean_acov[:, 0] * draws / (draws - 1.0)
    var_plus = mean_var * (draws - 1.0) / draws
    if chains > 1:
        var_plus = var_plus + chain_mean.var(axis=1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = 1.0 - (mean_var[:, None] - mean_acov) / var_plus[:, None]
    rho[:, 0] = 1.0
    # Geyer's initial positive sequence over the pairs of lags (2k, 2k + 1): it runs while
    # a pair's sum is positive, up to pair ``last_pair`` (as far as ArviZ's loop goes), and
    # is then made monotone; the even lag of the pair where it stops counts when positive.
    last_pair = max((draws - 3) // 2, 0)
    pair_sums = rho[:, 0 : 2 * last_pair + 2 : 2] + rho[:, 1 : 2 * last_pair + 2 : 2]
    failing = pair_sums[:, 1:] <= 0
    stopped = failing.any(axis=1)
    first_failing = np.argmax(failing, axis=1) + 1 if last_pair else np.zeros(count, int)
    last = np.where(stopped, first_failing, last_pair)
    monotone = np.minimum.accumulate(pair_sums, axis=1)
    kept = np.arange(last_pair + 1)[None, :] < last[:, None]
    total = np.where(kept, monotone, 0.0).sum(axis=1)
    row = np.arange(count)
    even_at_last = rho[row, 2 * last]
    counted = ~stopped | (even_at_last > 0) | (pair_sums[row, last] == 0)
    tau = -1.0 + 2.0 * total + np.where(counted, even_at_last, 0.0)
    tau = np.maximum(tau, 1 / np.log10(size))
    ess = size / tau
    ess[np.isnan(rho).any(axis=1)] = np.nan
    ess[constant] = size
    return ess
