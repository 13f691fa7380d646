"""What the posterior draws say of each report: its likelihood, its predicted figure, LOO.

Computed after sampling with the model's own formulas (``nkest.model.likelihood``),
so the checks and the model cannot drift apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from nkest.model.design import Design
from nkest.model.likelihood import (
    NUMPY_OPS,
    draw_log_noise,
    pointwise_logp,
    report_latent,
    tail_probability,
)

__all__ = [
    "PARETO_K_RELIABLE",
    "centres_from_arrays",
    "loo_checks",
    "predicted_figures",
    "report_centres",
    "report_checks",
    "report_log_likelihood",
    "source_conflicts",
    "with_report_log_likelihood",
]

PARETO_K_RELIABLE = 0.7
"""Above this Pareto k, a report's PSIS-LOO value is unreliable (Vehtari et al. 2024)."""


def with_report_log_likelihood(
    tree: xr.DataTree, design: Design, constraint_scale: float
) -> xr.DataTree:
    """Add per-report log-likelihood, computed from the draws with the model's own formulas."""
    posterior = tree["posterior"].to_dataset()
    log_lik = report_log_likelihood(posterior, design, constraint_scale)
    groups = {name: tree[name].to_dataset() for name in tree.children}
    groups["log_likelihood"] = xr.Dataset({"reports": log_lik})
    return xr.DataTree.from_dict(groups)


def report_centres(
    posterior: xr.Dataset, design: Design, constraint_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per draw and report, ``log(latent) + bias`` and the noise scale."""
    return centres_from_arrays(
        posterior["total"].transpose("chain", "draw", "quantity", "date").to_numpy(),
        posterior["pair_bias_factor"].transpose("chain", "draw", "bias_pair").to_numpy(),
        posterior["noise"].transpose("chain", "draw", "source").to_numpy(),
        design,
        constraint_scale,
    )


def centres_from_arrays(
    total: np.ndarray,
    pair_bias: np.ndarray,
    noise: np.ndarray,
    design: Design,
    constraint_scale: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Like ``report_centres``, from arrays.

    ``pair_bias`` has a last axis of ``design.pairs`` (each source's bias factor
    on each family of figures), ``noise`` one of ``design.sources``.
    """
    latent = report_latent(total, design.arrays, design.grid.size, NUMPY_OPS)
    zeros = np.zeros((*pair_bias.shape[:-1], 1))
    bias_all = np.concatenate([np.log(pair_bias), zeros], axis=-1)
    scale_all = np.concatenate([noise, zeros + constraint_scale], axis=-1)
    return (
        np.log(latent) + bias_all[..., design.arrays["pair_index"]],
        scale_all[..., design.arrays["source_index"]],
    )


BOUNDED_LOG_RATIO = 0.01
"""Spread of a report's log-likelihood over the draws up to which its leave-one-out
importance ratios (within 1% of each other) are used as they are, without smoothing."""


def loo_weights(log_lik: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """Return leave-one-out importance weights (draws, reports) and each report's Pareto k.

    A floor or cap that never binds, or binds by a hair in a few draws, has all
    but the same log-likelihood in every draw: its importance ratios lie within
    1% of each other and are stable weights as they are (k = 0), while Pareto
    smoothing, which fits a tail to them, fails there (k NaN). The other
    reports get PSIS; a k that PSIS cannot estimate stays NaN (not reliable).
    """
    ll = _draws_by_report(log_lik)
    bounded = np.ptp(ll, axis=0) <= BOUNDED_LOG_RATIO
    ratios = np.exp(-(ll - ll.min(axis=0)))
    weights = ratios / ratios.sum(axis=0)
    k = np.zeros(ll.shape[1])
    if not bounded.all():
        log_weights, pareto_k = log_lik.isel(report=np.flatnonzero(~bounded)).azstats.psislw(
            r_eff=1.0, dim=["chain", "draw"]
        )
        weights[:, ~bounded] = np.exp(_draws_by_report(log_weights))
        k[~bounded] = pareto_k.to_numpy()
    return weights, k


def _draws_by_report(values: xr.DataArray) -> np.ndarray:
    """Return per-report values as an array of (chain and draw, report)."""
    array = values.transpose("chain", "draw", "report").to_numpy()
    return array.reshape(-1, array.shape[-1])


def report_log_likelihood(
    posterior: xr.Dataset, design: Design, constraint_scale: float
) -> xr.DataArray:
    """Return each used report's log-likelihood per draw (dims chain, draw, report)."""
    centre, scale = report_centres(posterior, design, constraint_scale)
    values = pointwise_logp(centre, scale, design.arrays)
    return xr.DataArray(
        values,
        dims=("chain", "draw", "report"),
        coords={
            "chain": posterior["chain"],
            "draw": posterior["draw"],
            "report": design.rows["report_id"].to_numpy(),
        },
    )


def predicted_figures(
    posterior: xr.Dataset, design: Design, constraint_scale: float, random_seed: int
) -> xr.DataArray:
    """Simulate, per posterior draw, the figure each used report's source would state.

    The latent value the report speaks of, seen through its source's bias
    and noise (floors and caps: through no bias and the constraint's small
    noise). Dims ``chain, draw, report``.
    """
    centre, scale = report_centres(posterior, design, constraint_scale)
    rng = np.random.default_rng(random_seed)
    figure = np.exp(centre + draw_log_noise(scale, design.arrays, rng))
    return xr.DataArray(
        figure,
        dims=("chain", "draw", "report"),
        coords={
            "chain": posterior["chain"],
            "draw": posterior["draw"],
            "report": design.rows["report_id"].to_numpy(),
        },
    )


def _bias_of_rows(posterior: xr.Dataset, design: Design) -> np.ndarray:
    """Return each draw's bias factor for each used report (1 for floors and caps)."""
    bias = posterior["pair_bias_factor"].transpose("chain", "draw", "bias_pair").to_numpy()
    bias = bias.reshape(-1, bias.shape[-1])
    bias = np.concatenate([bias, np.ones((bias.shape[0], 1))], axis=-1)
    return bias[:, design.arrays["pair_index"]]


def report_checks(
    tree: xr.DataTree, design: Design, constraint_scale: float, prob: float, random_seed: int
) -> pd.DataFrame:
    """Check every used report against its posterior predictive distribution.

    See ``Estimate.report_checks`` for the columns.
    """
    posterior = tree["posterior"].to_dataset()
    figure = predicted_figures(posterior, design, constraint_scale, random_seed).to_numpy()
    figure = figure.reshape(-1, figure.shape[-1])
    centre, _ = report_centres(posterior, design, constraint_scale)
    centre = centre.reshape(-1, centre.shape[-1])
    rows = design.rows
    lower = rows["lower"].to_numpy(float)
    upper = rows["upper"].to_numpy(float)
    kind = rows["kind"].to_numpy()
    tail = tail_probability(figure, None, lower, upper, kind)
    log_lik = tree["log_likelihood"]["reports"].to_numpy()
    log_lik = log_lik.reshape(-1, log_lik.shape[-1])
    latent = np.exp(centre - np.log(_bias_of_rows(posterior, design)))
    q = (1 - prob) / 2
    return pd.DataFrame(
        {
            "report_id": rows["report_id"],
            "source": rows["source"],
            "quantity": rows["quantity"],
            "role": rows["role"],
            "kind": kind,
            "claim_lower": lower,
            "claim_upper": upper,
            "latent_median": np.median(latent, axis=0),
            "predicted_median": np.median(figure, axis=0),
            "predicted_lower": np.quantile(figure, q, axis=0),
            "predicted_upper": np.quantile(figure, 1 - q, axis=0),
            "p_claim": np.exp(log_lik).mean(axis=0),
            "tail_p": tail,
        }
    )


def loo_checks(
    tree: xr.DataTree, design: Design, constraint_scale: float, random_seed: int
) -> pd.DataFrame:
    """Leave-one-out predictive check of every used report (PSIS-LOO).

    See ``Estimate.loo_checks`` for the columns.
    """
    log_lik = tree["log_likelihood"]["reports"]
    ll = _draws_by_report(log_lik)
    weights, k = loo_weights(log_lik)
    elpd = np.log((weights * np.exp(ll)).sum(axis=0))
    posterior = tree["posterior"].to_dataset()
    figures = predicted_figures(posterior, design, constraint_scale, random_seed).to_numpy()
    figures = figures.reshape(weights.shape)
    rows = design.rows
    lower = rows["lower"].to_numpy(float)
    upper = rows["upper"].to_numpy(float)
    kind = rows["kind"].to_numpy()
    tail = tail_probability(figures, weights, lower, upper, kind)
    midpoint = np.where(kind == "interval", np.sqrt(np.maximum(lower, 1e-9) * upper), np.nan)
    pit = np.where(kind == "interval", (weights * (figures <= midpoint)).sum(axis=0), np.nan)
    return pd.DataFrame(
        {
            "report_id": rows["report_id"],
            "source": rows["source"],
            "quantity": rows["quantity"],
            "role": rows["role"],
            "kind": kind,
            "elpd_loo": elpd,
            "pareto_k": k,
            "reliable": k <= PARETO_K_RELIABLE,
            "loo_tail_p": tail,
            "loo_pit": pit,
        }
    )


def source_conflicts(checks: pd.DataFrame) -> pd.DataFrame:
    """Combine per-report LOO tail probabilities into one conflict p-value per source.

    The conflict p-value is the smallest tail probability of the source's
    observations, Bonferroni-corrected for their number: small means at
    least one of the source's figures disagrees with what all the other
    reports imply. Floors and caps are facts, not observations, and are left
    out.

    Returns
    -------
    pandas.DataFrame
        ``source, reports, min_tail_p, conflict_p, unreliable`` (reports whose
        Pareto k makes their LOO value doubtful), sorted by ``conflict_p``.
    """
    observed = checks[checks["role"] == "observation"]
    table = observed.groupby("source").agg(
        reports=("report_id", "size"),
        min_tail_p=("loo_tail_p", "min"),
        unreliable=("reliable", lambda r: int((~r).sum())),
    )
    table["conflict_p"] = np.minimum(1.0, table["min_tail_p"] * table["reports"])
    return (
        table.reset_index()
        .sort_values("conflict_p")
        .reset_index(drop=True)[["source", "reports", "min_tail_p", "conflict_p", "unreliable"]]
    )
