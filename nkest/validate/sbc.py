"""Simulation-based calibration: checking that the fitted posterior means what it says.

Draw parameters from the model's prior, simulate reports from the model's own
observation process, fit them, and find where each true value ranks among the
posterior draws. If the model and the sampler are right, every rank is
uniform (Talts et al. 2018); ``rank_uniformity`` tests that, and
``plot_rank_ecdf`` shows the ECDF difference with simultaneous bands
(Säilynoja et al. 2022).

The simulated figures are exact counts: rounding a source's figure to the
nearest whole number partitions the line, so the model's interval likelihood
is the exact probability of what was simulated. (Rounded figures as the
model reads them, with the half-width cap, do not partition the line: SBC
would then test the simulator, not the model.) The prior centres read from
the reports' magnitude are frozen from a template, so every simulation shares
one prior.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pymc as pm
from scipy import stats

from nkest.fit.compiling import reproducible_compilation
from nkest.fit.sampling import sample_design
from nkest.model.build import build_model
from nkest.model.design import Design, log_bounds, make_design
from nkest.model.likelihood import NUMPY_OPS, draw_log_noise, report_latent
from nkest.model.options import FitOptions, make_options
from nkest.reports import load_reports
from nkest.validate.parallel import default_executor
from nkest.validate.simulate import simulate_conflict

__all__ = ["SBCResult", "plot_rank_ecdf", "rank_uniformity", "run_sbc", "sbc_template"]

HYPERPARAMETERS = (
    "killed_log_rate_mean",
    "killed_rate_sd",
    "timescale",
    "log_ratio_level",
    "ratio_drift",
    "group_bias_sd",
    "family_bias_sd",
    "source_bias_sd",
    "noise_level",
    "noise_spread",
)
"""Scalar parameters whose ranks are tested."""


@dataclass(frozen=True)
class SBCResult:
    """Ranks of the true values among the posterior draws, one row per simulation."""

    ranks: pd.DataFrame
    """One column per tracked quantity; values 0..``draws``."""
    draws: int
    """Number of posterior draws each rank is out of."""
    diagnostics: pd.DataFrame
    """Per simulation: divergences and max R-hat of its fit."""

    def uniformity(self, bins: int = 10) -> pd.DataFrame:
        """Test every tracked quantity's ranks for uniformity (see ``rank_uniformity``)."""
        return rank_uniformity(self.ranks, self.draws, bins=bins)


def sbc_template(seed: int = 0, *, days: int = 210, n_reports: int = 36) -> Design:
    """Return the design every simulation shares: sources, grid, dates and windows.

    The reports come from ``simulate_conflict``; only their dates, sources,
    quantities and scopes are kept; figures are replaced by each simulation.
    """
    sim = simulate_conflict(
        seed, days=days, n_reports=n_reports, bound_share=0.0, garbled_share=0.0, constraints=False
    )
    frame = sim.reports.to_frame()
    frame["qualifier"] = "exact"
    frame["value_high"] = pd.NA
    reports = load_reports(frame, metadata=sim.reports.metadata)
    end = sim.daily.index[-1].date().isoformat()
    return make_design(reports, make_options(end=end))


def _simulate_claims(
    design: Design,
    latent: np.ndarray,
    log_bias: np.ndarray,
    noise: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Exact figures drawn from the model's observation process, as design arrays.

    ``log_bias`` is by (source, family) pair, ``noise`` by source, each with a
    last entry for floors and caps.
    """
    pair, src = design.arrays["pair_index"], design.arrays["source_index"]
    log_figure = np.log(latent) + log_bias[pair] + draw_log_noise(noise[src], design.arrays, rng)
    value = np.round(np.exp(np.minimum(log_figure, 40.0)))
    return {
        "log_lower": log_bounds(value - 0.5, upper=False),
        "log_upper": log_bounds(value + 0.5, upper=True),
    }


def _fit_and_rank(
    design: Design,
    options: FitOptions,
    truth: dict[str, float],
    dates: list[int],
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    thin_to: int,
) -> dict[str, object]:
    tree, _ = sample_design(
        design,
        options,
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=seed,
        progressbar=False,
        cores=options.cores,
    )
    posterior = tree["posterior"].to_dataset()
    stacked = posterior.stack(sample=("chain", "draw"))
    keep = np.linspace(0, stacked.sizes["sample"] - 1, thin_to).round().astype(int)
    ranks: dict[str, object] = {}
    for name in HYPERPARAMETERS:
        if name in posterior:
            ranks[name] = int((stacked[name].to_numpy()[keep] < truth[name]).sum())
    total = stacked["total"].to_numpy()
    for q, quantity in enumerate(design.internal[:2]):
        for d in dates:
            key = f"{quantity}@{d}"
            ranks[key] = int((total[q, d, keep] < truth[key]).sum())
    diverging = int(tree["sample_stats"]["diverging"].sum())
    return {"ranks": ranks, "divergences": diverging}


def run_sbc(
    simulations: int = 200,
    *,
    template: Design | None = None,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    thin_to: int = 100,
    seed: int = 0,
    executor: Executor | None = None,
    max_workers: int | None = None,
) -> SBCResult:
    """Run simulation-based calibration.

    Parameters
    ----------
    simulations : int
        Number of prior draws, each simulated and fitted.
    template : Design, optional
        The shared design; default ``sbc_template``.
    draws : int
        Posterior draws per chain of each fit.
    tune : int
        Tuning steps per chain of each fit.
    chains : int
        Chains of each fit.
    thin_to : int
        Posterior draws kept (evenly spaced) for each rank.
    executor : concurrent.futures.Executor, optional
        Where the fits run; default local processes.

    Returns
    -------
    SBCResult
    """
    design = template or sbc_template()
    options = make_options(end=design.grid.end.isoformat(), cores=1)
    model = build_model(design, options)
    names = [n for n in HYPERPARAMETERS if n in model.named_vars]
    with warnings.catch_warnings(), reproducible_compilation():
        warnings.filterwarnings("ignore", message="The effect of Potentials", category=UserWarning)
        prior = pm.sample_prior_predictive(
            draws=simulations,
            model=model,
            random_seed=seed,
            var_names=[*names, "total", "pair_bias_factor", "noise"],
        )["prior"]
    rng = np.random.default_rng(seed)
    size = design.grid.size
    dates = [size // 3, (2 * size) // 3, size - 1]
    jobs = []
    for i in range(simulations):
        point = prior.isel(chain=0, draw=i)
        total = point["total"].to_numpy()
        latent = report_latent(total, design.arrays, size, NUMPY_OPS)
        log_bias = np.concatenate([np.log(point["pair_bias_factor"].to_numpy()), [0.0]])
        noise = np.concatenate([point["noise"].to_numpy(), [options.constraint_scale]])
        arrays = {**design.arrays, **_simulate_claims(design, latent, log_bias, noise, rng)}
        truth = {n: float(point[n]) for n in names}
        for q, quantity in enumerate(design.internal[:2]):
            for d in dates:
                truth[f"{quantity}@{d}"] = float(total[q, d])
        jobs.append(
            (
                replace(design, arrays=arrays),
                options,
                truth,
                dates,
                draws,
                tune,
                chains,
                seed + i,
                thin_to,
            )
        )
    owned = executor is None and (max_workers or 2) > 1
    pool = executor or (default_executor(max_workers) if owned else None)
    try:
        if pool is None:
            results = [_fit_and_rank(*job) for job in jobs]
        else:
            results = [future.result() for future in [pool.submit(_fit_and_rank, *j) for j in jobs]]
    finally:
        if owned:
            pool.shutdown()
    ranks = pd.DataFrame([r["ranks"] for r in results])
    diagnostics = pd.DataFrame({"divergences": [r["divergences"] for r in results]})
    return SBCResult(ranks=ranks, draws=thin_to, diagnostics=diagnostics)


def rank_uniformity(ranks: pd.DataFrame, draws: int, *, bins: int = 10) -> pd.DataFrame:
    """Chi-square test of uniform ranks, per column.

    Ranks take the ``draws + 1`` values 0..``draws``; they are grouped into
    ``bins`` bins of as equal a number of values as possible, and each bin's
    expected count is its share of the values (101 values in 10 bins: one bin
    holds 11 of them).

    Returns
    -------
    pandas.DataFrame
        ``quantity, simulations, chi2, p_value``.
    """
    values_per_bin = np.diff(np.linspace(0, draws + 1, bins + 1).round().astype(int))
    edges = np.concatenate([[0], np.cumsum(values_per_bin)]) - 0.5
    share = values_per_bin / values_per_bin.sum()
    rows = []
    for name in ranks.columns:
        values = ranks[name].dropna().to_numpy()
        counts, _ = np.histogram(values, bins=edges)
        chi2, p = stats.chisquare(counts, share * counts.sum())
        rows.append({"quantity": name, "simulations": len(values), "chi2": chi2, "p_value": p})
    return pd.DataFrame(rows)


def plot_rank_ecdf(result: SBCResult, *, columns: Sequence[str] | None = None, prob: float = 0.99):
    """Plot ECDF - uniform CDF of the ranks with simultaneous ``prob`` bands.

    The bands come from simulating uniform ranks (as many as there are
    simulations) and taking the quantile of the largest deviation.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    columns = list(columns or result.ranks.columns)
    n = len(result.ranks)
    grid = np.linspace(0, 1, 101)
    rng = np.random.default_rng(0)
    uniform = rng.integers(0, result.draws + 1, size=(2000, n)) / (result.draws + 1)
    deviations = np.abs((uniform[:, :, None] <= grid).mean(axis=1) - grid).max(axis=1)
    band = np.quantile(deviations, prob)
    cols = 4
    rows = -(-len(columns) // cols)
    figure = Figure(figsize=(3.2 * cols, 2.4 * rows), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.ravel(), columns, strict=False):
        values = result.ranks[name].dropna().to_numpy() / (result.draws + 1)
        ecdf = (values[:, None] <= grid).mean(axis=0)
        ax.fill_between(grid, -band, band, color="0.88", label=f"{prob:.0%} band")
        ax.plot(grid, ecdf - grid, color="C0")
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlim(0, 1)
    for ax in axes.ravel()[len(columns) :]:
        ax.set_visible(False)
    figure.suptitle(f"SBC: ECDF of ranks minus uniform ({n} simulations)")
    return figure
