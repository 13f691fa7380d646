"""Do zero-avoiding priors on the spreads make the sampler's trees shallower?

The experiment behind docs/performance.md's "Nor are the heavy-tailed spreads
what sets the depth": the five half-normal spreads (source, family and group
bias spreads, the noise spread, the ratio's drift) are swapped for log-normal
or gamma priors of about the same scale, and the DPRK data and the realistic
workload are fitted with the defaults (no refits). It prints one JSON line per
fit: steps per draw, sampling seconds, diagnostics and the killed citation.

    python benchmarks/experiments/spread_priors.py base 0 1 2
    python benchmarks/experiments/spread_priors.py lognormal 0 1 2

The first argument is the variant (base, lognormal, gamma); the others are
data sets: 0 for the DPRK data, k > 0 for the realistic workload's seed k.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import pymc as pm

import nkest
import nkest.model.build as build
import nkest.model.identification as identification

sys.path.insert(0, str(Path(__file__).parents[1]))
from workload import realistic_conflict  # the benchmarks folder, added above

SPREADS = {"source_bias_sd", "family_bias_sd", "noise_spread", "group_bias_sd", "ratio_drift"}


class _Priors:
    """PyMC, with the spreads' half-normal priors swapped for the variant's."""

    def __init__(self, variant: str) -> None:
        self.variant = variant

    def __getattr__(self, name: str):
        return getattr(pm, name)

    def HalfNormal(self, name: str, sigma: float, **kwargs):
        if name in SPREADS and self.variant == "lognormal":
            # median 0.6 sigma, 97.5th percentile about 2 sigma: no mass near zero
            return pm.LogNormal(name, mu=math.log(0.6 * sigma), sigma=0.6, **kwargs)
        if name in SPREADS and self.variant == "gamma":
            # mean 0.8 sigma, the half-normal's mean; density zero at zero
            return pm.Gamma(name, alpha=2.0, beta=2.5 / sigma, **kwargs)
        return pm.HalfNormal(name, sigma=sigma, **kwargs)


def _report(estimate, seconds: float, variant: str, data: str) -> None:
    diagnostics = estimate.diagnostics()
    print(
        json.dumps(
            {
                "variant": variant,
                "data": data,
                "seconds": round(seconds, 1),
                "sampling": round(estimate.sampling.seconds.get("sample", float("nan")), 1),
                "steps_per_draw": float(estimate.posterior["sample_stats"]["n_steps"].mean()),
                "divergences": diagnostics["divergences"],
                "max_rhat": diagnostics["max_rhat"],
                "min_ess_bulk": diagnostics["min_ess_bulk"],
                "passed": diagnostics["passed"],
                "killed": estimate.cite("killed", allow_failed_diagnostics=True).sentence,
            }
        ),
        flush=True,
    )


def main(variant: str, data_sets: list[int]) -> None:
    """Fit each data set under the variant's spread priors and print what the sampler did."""
    build.pm = identification.pm = _Priors(variant)
    for data_set in data_sets:
        if data_set == 0:
            reports, end, label = nkest.load_dataset("dprk"), None, "dprk"
        else:
            simulated = realistic_conflict(data_set)
            reports = simulated.reports
            end = simulated.daily.index[-1].date().isoformat()
            label = f"realistic-{data_set}"
        start = time.perf_counter()
        estimate = nkest.fit(
            reports, end=end, random_seed=max(data_set, 1), progressbar=False, time_budget=0
        )
        _report(estimate, time.perf_counter() - start, variant, label)


if __name__ == "__main__":
    main(sys.argv[1], [int(arg) for arg in sys.argv[2:]])
