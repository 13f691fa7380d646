"""Measure how much of an interval's width is the groups' common bias.

The measurement behind docs/model.md's "The groups' common bias is uncertain":
one simulated conflict of a coverage regime, fitted under an identification,
with the sd of the log killed total at the last date, the sd of the groups'
average log-bias and their correlation, as one JSON line.

    python -m validation.width "weak source bias" 1000 most_groups
    python -m validation.width "weak source bias" 1000 groups

Add ``--centred`` to simulate the groups' biases centred to average exactly
no bias (the coverage study's previous simulator).
"""

from __future__ import annotations

import json
import sys

import numpy as np

import nkest
from nkest.validate.coverage import REGIMES
from nkest.validate.simulate import simulate_conflict


def measure(regime: str, seed: int, identification: str, centred: bool = False) -> dict:
    """Fit one simulated conflict and split the killed total's spread."""
    sim = simulate_conflict(seed, centre_groups=centred, **REGIMES[regime])
    end = sim.daily.index[-1].date().isoformat()
    estimate = nkest.fit(
        sim.reports,
        end=end,
        draws=1000,
        tune=1000,
        chains=4,
        random_seed=seed,
        identification=identification,
        progressbar=False,
    )
    posterior = estimate.posterior["posterior"].dataset
    log_killed = np.log(posterior["total"].sel(quantity="killed").isel(date=-1).values.ravel())
    groups = posterior["group_bias"]
    common = groups.values.reshape(-1, groups.shape[-1]).mean(axis=1)
    return {
        "regime": regime,
        "seed": seed,
        "identification": identification,
        "centred": centred,
        "groups": [str(g) for g in groups["source_group"].values],
        "sd_log_killed": round(float(log_killed.std()), 3),
        "width_90_log_killed": round(float(np.subtract(*np.quantile(log_killed, [0.95, 0.05]))), 3),
        "sd_groups_average_bias": round(float(common.std()), 3),
        "correlation": round(float(np.corrcoef(common, log_killed)[0, 1]), 2)
        if common.std() > 0
        else None,
        "diagnostics_passed": bool(estimate.diagnostics()["passed"]),
    }


if __name__ == "__main__":
    regime, seed, identification = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    print(json.dumps(measure(regime, seed, identification, "--centred" in sys.argv[4:])))
