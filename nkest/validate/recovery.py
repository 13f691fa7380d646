"""Parameter recovery: fit simulated conflicts with known truth and compare.

Run ``python -m nkest.validate.recovery --datasets 20`` to regenerate the
numbers in ``docs/validation.md``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nkest.results.fitting import fit
from nkest.validate.quiet import diagnostics_recorded
from nkest.validate.simulate import simulate_conflict

__all__ = ["RecoveryResult", "run_recovery"]


@dataclass(frozen=True)
class RecoveryResult:
    """Per-dataset totals and per-source biases against the truth."""

    totals: pd.DataFrame
    """One row per data set and quantity: truth, median, lower, upper, covered, diagnostics."""
    biases: pd.DataFrame
    """One row per data set and source: true factor, median, lower, upper, covered."""
    prob: float

    def coverage(self) -> pd.Series:
        """Share of data sets whose interval covers the truth, by quantity."""
        return self.totals.groupby("quantity", sort=False)["covered"].mean()

    def bias_coverage(self) -> float:
        """Share of (data set, source) whose bias interval covers the true factor."""
        return float(self.biases["covered"].mean())

    def bias_correlation(self) -> float:
        """Correlation of log true and log posterior-median bias factors."""
        return float(np.corrcoef(np.log(self.biases["truth"]), np.log(self.biases["median"]))[0, 1])

    def table(self) -> pd.DataFrame:
        """Return a one-line-per-quantity summary for the docs."""
        rows = []
        for quantity, group in self.totals.groupby("quantity", sort=False):
            rows.append(
                {
                    "quantity": quantity,
                    "data sets": len(group),
                    f"{self.prob:.0%} coverage": group["covered"].mean(),
                    "median abs. error (%)": 100
                    * np.median(np.abs(group["median"] / group["truth"] - 1)),
                    "median interval width (% of truth)": 100
                    * np.median((group["upper"] - group["lower"]) / group["truth"]),
                }
            )
        return pd.DataFrame(rows)


@diagnostics_recorded()
def run_recovery(
    datasets: int = 20,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    prob: float = 0.9,
    first_seed: int = 0,
    **simulation: object,
) -> RecoveryResult:
    """Simulate ``datasets`` conflicts, fit each with the defaults, compare with the truth.

    All data sets share one model structure (same sources and grid), so the
    model compiles once.
    """
    totals, biases = [], []
    for seed in range(first_seed, first_seed + datasets):
        sim = simulate_conflict(seed, **simulation)
        end = sim.daily.index[-1].date().isoformat()
        estimate = fit(
            sim.reports,
            end=end,
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=seed,
            progressbar=False,
        )
        diagnostics = estimate.diagnostics()
        for row in estimate.summary(prob=prob).itertuples():
            truth = sim.truth_at(end, row.quantity)
            totals.append(
                {
                    "seed": seed,
                    "quantity": row.quantity,
                    "truth": truth,
                    "median": row.median,
                    "lower": row.lower,
                    "upper": row.upper,
                    "covered": bool(row.lower <= truth <= row.upper),
                    "passed": diagnostics["passed"],
                    "divergences": diagnostics["divergences"],
                    "max_rhat": diagnostics["max_rhat"],
                }
            )
        for row in estimate.source_bias(prob=prob).itertuples():
            truth = float(sim.bias[row.source])
            biases.append(
                {
                    "seed": seed,
                    "source": row.source,
                    "truth": truth,
                    "median": row.factor_median,
                    "lower": row.factor_lower,
                    "upper": row.factor_upper,
                    "covered": bool(row.factor_lower <= truth <= row.factor_upper),
                }
            )
    return RecoveryResult(pd.DataFrame(totals), pd.DataFrame(biases), prob)


def main(argv: list[str] | None = None) -> None:
    """Print the recovery study as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=20)
    args = parser.parse_args(argv)
    result = run_recovery(args.datasets)
    print(result.table().to_markdown(index=False, floatfmt=".2f"))
    print()
    print(
        f"Bias factors: {result.bias_coverage():.0%} of 90% intervals cover the truth; "
        f"correlation of log medians with log truth {result.bias_correlation():.2f}."
    )
    print(
        f"Fits passing diagnostics: {result.totals.groupby('seed')['passed'].first().mean():.0%}."
    )


if __name__ == "__main__":  # pragma: no cover
    main()
