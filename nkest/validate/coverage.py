"""Coverage on simulated conflicts, in several regimes, against simple baselines.

For each regime (few or many reports, weak or strong source bias, mostly
bounds, sparse early data), simulate conflicts with ``simulate_conflict``
(a generator that is not the model), fit each, and record whether the 50% and
90% intervals of the totals at the end cover the truth, and how far the
posterior median is from it compared with two baselines an analyst might use
instead: the latest report, and the mean of each source's latest figure.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from nkest.validate.parallel import FitTask, run_fits
from nkest.validate.quiet import diagnostics_recorded
from nkest.validate.simulate import simulate_conflict

__all__ = ["REGIMES", "baselines", "coverage_table", "run_coverage"]

REGIMES: dict[str, dict[str, Any]] = {
    "few reports": {"n_reports": 20},
    "many reports": {"n_reports": 150},
    "weak source bias": {"group_bias_sd": 0.1, "source_bias_sd": 0.05},
    "strong source bias": {"group_bias_sd": 0.7, "source_bias_sd": 0.3},
    "mostly bounds": {"bound_share": 0.7},
    "sparse early data": {"early_share": 0.05},
    "belligerent group": {
        "n_groups": 4,
        "sources_per_group": 3,
        "n_reports": 110,
        "belligerent": (5.0, 20.0),
    },
    "biases differ by quantity": {"family_bias_sd": 0.4},
    "losses bounded by deployment": {"deployment": True},
}
"""Settings of ``simulate_conflict`` for each regime (others at their defaults)."""

QUANTITIES = ("killed", "wounded")


def baselines(reports: pd.DataFrame, quantity: str) -> dict[str, float]:
    """Two naive estimates of a total: the latest report, and the mean of sources' latest.

    Only cumulative reports of ``quantity`` count, not floors, caps or
    excluded rows; a range counts at its midpoint, any other figure at its
    value, whatever its qualifier.
    """
    blank = pd.Series("", index=reports.index)
    figures = reports.get("constraint", blank).fillna("").eq("") & reports.get(
        "exclude", blank
    ).fillna("").eq("")
    rows = reports[figures & (reports["quantity"] == quantity) & (reports["scope"] == "cumulative")]
    if rows.empty:
        return {"latest report": np.nan, "mean of sources' latest": np.nan}
    value = pd.to_numeric(rows["value"], errors="coerce").astype(float)
    high = pd.to_numeric(rows["value_high"], errors="coerce").astype(float)
    figure = value.where(high.isna(), (value + high) / 2)
    rows = rows.assign(figure=figure).sort_values("as_of", kind="stable")
    latest_per_source = rows.groupby("source")["figure"].last()
    return {
        "latest report": float(rows["figure"].iloc[-1]),
        "mean of sources' latest": float(latest_per_source.mean()),
    }


@diagnostics_recorded()
def _extract(
    estimate,
    *,
    truth: Mapping[str, float],
    regime: str,
    seed: int,
    biased: Mapping[str, float] | None = None,
) -> list[dict]:
    rows = []
    reports = estimate.reports.to_frame()
    diagnostics = estimate.diagnostics()
    # the share of the biased group's sources whose 90% factor interval covers the truth
    factor_covered = np.nan
    if biased:
        table = estimate.source_bias(prob=0.9).set_index("source")
        factor_covered = float(
            np.mean(
                [
                    table.loc[s, "factor_lower"] <= f <= table.loc[s, "factor_upper"]
                    for s, f in biased.items()
                ]
            )
        )
    for prob in (0.5, 0.9):
        table = estimate.summary(quantities=QUANTITIES, prob=prob).set_index("quantity")
        for quantity in QUANTITIES:
            row = table.loc[quantity]
            rows.append(
                {
                    "regime": regime,
                    "seed": seed,
                    "quantity": quantity,
                    "prob": prob,
                    "truth": truth[quantity],
                    "median": row["median"],
                    "lower": row["lower"],
                    "upper": row["upper"],
                    "covered": bool(row["lower"] <= truth[quantity] <= row["upper"]),
                    **{f"baseline: {k}": v for k, v in baselines(reports, quantity).items()},
                    "passed": diagnostics["passed"],
                    "biased group's factor covered": factor_covered,
                }
            )
    return rows


def run_coverage(
    datasets: int = 50,
    *,
    regimes: Mapping[str, Mapping[str, Any]] | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    first_seed: int = 1000,
    executor: Executor | None = None,
    max_workers: int | None = None,
) -> pd.DataFrame:
    """Fit ``datasets`` simulated conflicts in each regime; return one row per fit and interval.

    Returns
    -------
    pandas.DataFrame
        ``regime, seed, quantity, prob, truth, median, lower, upper, covered``,
        the two baselines and whether the fit passed its diagnostics.
    """
    regimes = dict(regimes or REGIMES)
    tasks = []
    for regime, settings in regimes.items():
        for seed in range(first_seed, first_seed + datasets):
            sim = simulate_conflict(seed, **settings)
            end = sim.daily.index[-1].date().isoformat()
            truth = {q: sim.truth_at(end, q) for q in QUANTITIES}
            biased = sim.bias[sim.groups.reindex(sim.bias.index) == "Belligerent"].to_dict()
            tasks.append(
                FitTask(
                    sim.reports,
                    {
                        "end": end,
                        "draws": draws,
                        "tune": tune,
                        "chains": chains,
                        "random_seed": seed,
                        "cores": 1,
                    },
                    _extract,
                    {"truth": truth, "regime": regime, "seed": seed, "biased": biased},
                )
            )
    results = run_fits(tasks, executor=executor, max_workers=max_workers)
    return pd.DataFrame([row for rows in results for row in rows])


def _wilson(successes: int, n: int, prob: float = 0.95) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + prob / 2)
    centre = (successes + z**2 / 2) / (n + z**2)
    half = z * np.sqrt(successes * (n - successes) / n + z**2 / 4) / (n + z**2)
    return centre - half, centre + half


def coverage_table(results: pd.DataFrame) -> pd.DataFrame:
    """Summarise ``run_coverage`` by regime and quantity.

    Coverage of the 50% and 90% intervals (with a 95% Wilson interval for the
    90% one), the median absolute error in percent of the truth of the
    posterior median and of each baseline, and how far (%) the median's error
    falls below the better baseline's (negative: above it), and the share of
    data sets whose median lies above the truth (near 0.5 when unbiased).

    Raises
    ------
    ValueError
        If a (regime, seed, quantity, prob) row appears more than once: a
        conflict counted twice narrows the coverage's interval without evidence.
    """
    keys = ["regime", "seed", "quantity", "prob"]
    repeated = results[results.duplicated(keys, keep=False)]
    if not repeated.empty:
        pairs = sorted(set(zip(repeated["regime"], repeated["seed"], strict=True)))
        shown = ", ".join(f"{regime} seed {seed}" for regime, seed in pairs[:5])
        more = f" and {len(pairs) - 5} more" if len(pairs) > 5 else ""
        raise ValueError(
            f"coverage results repeat {len(pairs)} (regime, seed) fits: {shown}{more}; "
            "each simulated conflict must be counted once"
        )
    rows = []
    for (regime, quantity), group in results.groupby(["regime", "quantity"], sort=False):
        ninety = group[group["prob"] == 0.9]
        fifty = group[group["prob"] == 0.5]
        low, high = _wilson(int(ninety["covered"].sum()), len(ninety))

        def error(column: str, frame: pd.DataFrame = ninety) -> float:
            return float(100 * np.nanmedian(np.abs(frame[column] / frame["truth"] - 1)))

        nkest_error = error("median")
        latest = error("baseline: latest report")
        mean_latest = error("baseline: mean of sources' latest")
        better = np.nanmin([latest, mean_latest])
        rows.append(
            {
                "regime": regime,
                "quantity": quantity,
                "data sets": len(ninety),
                "50% coverage": fifty["covered"].mean(),
                "90% coverage": ninety["covered"].mean(),
                "90% coverage (95% CI)": f"{low:.2f}–{high:.2f}",
                "error: nkest median (%)": nkest_error,
                "error: latest report (%)": latest,
                "error: mean of sources' latest (%)": mean_latest,
                "error below the better baseline (%)": (
                    100 * (1 - nkest_error / better) if better > 0 else np.nan
                ),
                "median above the truth": (ninety["median"] > ninety["truth"]).mean(),
                "fits passing diagnostics": ninety["passed"].mean(),
                "biased group's factor coverage (90%)": ninety.get(
                    "biased group's factor covered", pd.Series(dtype=float)
                ).mean(),
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    """Print the coverage study as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    results = run_coverage(args.datasets, max_workers=args.workers)
    print(coverage_table(results).to_markdown(index=False, floatfmt=".2f"))


if __name__ == "__main__":  # pragma: no cover
    main()
