"""Predictive checks on real data: leave-one-out and leave-future-out.

- ``loo_checks``: for every report, its PSIS leave-one-out predictive
  tail probability (how surprising the report is given all the others), its
  LOO-PIT (for two-sided claims) and its Pareto k (whether the LOO estimate
  can be trusted).
- ``source_conflicts``: the same per source, combined over its reports.
- ``leave_future_out``: fit on the reports published before a date, and
  check how often later reports fall in their predictive intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from nkest.errors import DesignError
from nkest.fit.per_report import PARETO_K_RELIABLE, centres_from_arrays, source_conflicts
from nkest.model.build import NOISE_FLOOR
from nkest.model.design import ALL_LOSSES, default_end, make_design
from nkest.model.identification import Identification
from nkest.model.likelihood import draw_log_noise, tail_probability
from nkest.reports import Reports
from nkest.results.estimate import Estimate
from nkest.results.summaries import DEFAULT_PROB
from nkest.validate.parallel import FitTask, run_fits

__all__ = [
    "PARETO_K_RELIABLE",
    "leave_future_out",
    "loo_checks",
    "rate_interval",
    "source_conflicts",
]


def loo_checks(estimate: Estimate, random_seed: int = 0) -> pd.DataFrame:
    """Leave-one-out predictive check of every used report: ``Estimate.loo_checks``."""
    return estimate.loo_checks(random_seed)


def rate_interval(successes: int, trials: int, prob: float = 0.95) -> tuple[float, float]:
    """Return the Wilson interval of a rate."""
    if trials == 0:
        return (np.nan, np.nan)
    z = stats.norm.ppf(0.5 + prob / 2)
    centre = (successes + z**2 / 2) / (trials + z**2)
    half = z * np.sqrt(successes * (trials - successes) / trials + z**2 / 4) / (trials + z**2)
    return (float(centre - half), float(centre + half))


def _biases_for(
    posterior,
    sources: Sequence[str],
    groups: Sequence[str],
    identification: Identification,
    random_seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Bias factors and noise of ``sources`` per draw, drawing new sources from the hierarchy.

    A source the fit knows keeps its posterior draws. A new source gets the
    model's prediction for one more source: its group's bias plus a
    within-group deviation (a new group: the identification's own draw of a
    group the fit has not seen), and noise from the pooled noise distribution.
    """
    rng = np.random.default_rng(random_seed + 1)
    known = list(posterior["source"].values)
    fitted_groups = list(posterior["source_group"].values)
    shape = (posterior.sizes["chain"], posterior.sizes["draw"])
    source_sd = posterior["source_bias_sd"].to_numpy()
    bias = np.empty((*shape, len(sources)))
    noise = np.empty((*shape, len(sources)))
    for i, (source, group) in enumerate(zip(sources, groups, strict=True)):
        if source in known:
            bias[..., i] = posterior["bias_factor"].sel(source=source).to_numpy()
            noise[..., i] = posterior["noise"].sel(source=source).to_numpy()
            continue
        if group in fitted_groups:
            centre = posterior["group_bias"].sel(source_group=group).to_numpy()
        else:
            centre = identification.new_group_bias(posterior, rng, shape)
        bias[..., i] = np.exp(centre + source_sd * rng.standard_normal(shape))
        spread = posterior["noise_spread"].to_numpy() * rng.standard_normal(shape)
        noise[..., i] = NOISE_FLOOR + posterior["noise_level"].to_numpy() * np.exp(spread)
    return bias, noise


def _pair_biases_for(
    posterior, design, source_bias: np.ndarray, options, random_seed: int
) -> np.ndarray:
    """Bias factors of ``design.pairs`` per draw (each source on each family of figures).

    A pair the fit knows keeps its posterior draws; a new pair is its source's
    bias, times a draw of its own family part when the design gives it one (a
    source seen reporting a second family), from the fitted spread of family
    parts or, if the fit had none, from its prior.
    """
    rng = np.random.default_rng(random_seed + 2)
    shape = source_bias.shape[:-1]
    known = list(posterior["bias_pair"].values)
    if "family_bias_sd" in posterior:
        family_sd = posterior["family_bias_sd"].to_numpy()
    else:
        family_sd = np.abs(rng.normal(0.0, options.priors.family_bias_sd, shape))
    pairs = np.empty((*shape, len(design.pairs)))
    for i, ((source, family), own) in enumerate(
        zip(design.pairs, design.family_deviations, strict=True)
    ):
        label = f"{source} · {family}"
        if label in known:
            pairs[..., i] = posterior["pair_bias_factor"].sel(bias_pair=label).to_numpy()
            continue
        factor = source_bias[..., design.sources.index(source)]
        if own:
            factor = factor * np.exp(family_sd * rng.standard_normal(shape))
        pairs[..., i] = factor
    return pairs


def _totals_for(total: Any, quantities: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Return an early fit's totals for another design's quantities, and those it lacks.

    ``all_losses`` is rebuilt from the early fit's totals when it has none (the
    cap that brought it in was published later); a quantity first reported
    later is NaN.
    """
    total = total.transpose("chain", "draw", "quantity", "date")
    known = list(total["quantity"].to_numpy())
    columns, missing = [], []
    for quantity in quantities:
        if quantity in known:
            columns.append(total.sel(quantity=quantity).to_numpy())
        elif quantity == ALL_LOSSES:
            parts = [q for q in ("casualties", "captured", "missing") if q in known]
            columns.append(total.sel(quantity=parts).sum("quantity").to_numpy())
        else:
            columns.append(np.full(total.isel(quantity=0).shape, np.nan))
            missing.append(quantity)
    return np.stack(columns, axis=2), missing


def _future_checks(
    estimate: Estimate, *, full: Reports, cutoff: str, prob: float, random_seed: int
) -> list[dict[str, Any]]:
    """Predict the reports published on or after ``cutoff`` from a fit on the earlier ones."""
    design = make_design(full, estimate.options)
    if design.grid != estimate.grid:
        raise DesignError("leave-future-out needs the same grid for the early fit and all reports")
    published = full.to_frame().set_index("report_id")["published"]
    later = design.rows["report_id"].map(published) >= pd.Timestamp(cutoff)
    new = ~design.rows["source"].isin(estimate.sources) & (design.rows["role"] == "observation")
    posterior = estimate.posterior["posterior"].to_dataset()
    bias, noise = _biases_for(
        posterior,
        design.sources,
        design.source_groups,
        estimate.options.identification,
        random_seed,
    )
    total, missing = _totals_for(posterior["total"], design.internal)
    pair_bias = _pair_biases_for(posterior, design, bias, estimate.options, random_seed)
    centre, scale = centres_from_arrays(
        total,
        pair_bias,
        noise,
        design,
        estimate.options.constraint_scale,
    )
    rng = np.random.default_rng(random_seed)
    figures = np.exp(centre + draw_log_noise(scale, design.arrays, rng))
    figures = figures.reshape(-1, figures.shape[-1])
    rows = design.rows
    tail = tail_probability(
        figures,
        None,
        rows["lower"].to_numpy(float),
        rows["upper"].to_numpy(float),
        rows["kind"].to_numpy(),
    )
    # Later reports of a quantity the early fit has no total of (its first report came
    # later) cannot be predicted; they are left out of the check.
    predictable = ~design.rows["target"].isin(missing).to_numpy()
    out = []
    for i in np.flatnonzero(later.to_numpy() & predictable):
        row = rows.iloc[i]
        out.append(
            {
                "cutoff": cutoff,
                "report_id": row["report_id"],
                "source": row["source"],
                "quantity": row["quantity"],
                "role": row["role"],
                "new_source": bool(new.iloc[i]),
                "tail_p": float(tail[i]),
                "inside": bool(tail[i] >= 1 - prob),
            }
        )
    return out


def leave_future_out(
    reports: Reports,
    cutoffs: Sequence[str],
    *,
    prob: float = DEFAULT_PROB,
    executor: Executor | None = None,
    max_workers: int | None = 1,
    **fit_kwargs: Any,
) -> pd.DataFrame:
    """Fit on the reports published before each cutoff; check the later ones.

    For every cutoff, the reports published on or after it are excluded and
    the model is fitted (on the same grid as all the reports). Each later
    report of a source the early fit knows is then checked against its
    predictive distribution: it is *inside* when its claim lies within the
    central ``prob`` predictive interval (a bound: when it is not beyond it).
    A well-calibrated model puts about ``prob`` of the later reports inside.

    Returns
    -------
    pandas.DataFrame
        One row per (cutoff, later report): ``cutoff, report_id, source,
        quantity, role, new_source`` (a source the early fit never saw,
        predicted as a new member of its group), ``tail_p, inside``.
    """
    end = fit_kwargs.pop("end", None) or default_end(reports)
    end = pd.Timestamp(end).date().isoformat()
    tasks = []
    frame = reports.to_frame()
    for cutoff in cutoffs:
        later = frame.loc[frame["published"] >= pd.Timestamp(cutoff), "report_id"]
        early = reports.exclude(later, f"published on or after {cutoff} (leave-future-out)")
        tasks.append(
            FitTask(
                early,
                {**fit_kwargs, "end": end},
                _future_checks,
                {"full": reports, "cutoff": str(cutoff), "prob": prob, "random_seed": 0},
            )
        )
    results = run_fits(tasks, executor=executor, max_workers=max_workers)
    return pd.DataFrame([row for rows in results for row in rows])


def future_rate(checks: pd.DataFrame, prob: float = DEFAULT_PROB) -> dict[str, float]:
    """Share of later observations inside their predictive interval, with a 95% interval."""
    scored = checks[checks["role"] == "observation"]
    inside = int(scored["inside"].astype(bool).sum())
    low, high = rate_interval(inside, len(scored))
    return {
        "reports": len(scored),
        "inside": inside,
        "rate": inside / max(len(scored), 1),
        "rate_lower": low,
        "rate_upper": high,
        "nominal": prob,
    }
