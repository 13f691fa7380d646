"""The baseline of the sampling-efficiency benchmark: the same model, written plainly.

What a competent PyMC user would write first for nkest's model, without care
for parameterisation: centred hierarchical biases and noise, ``pm.AR`` for
the log rates (a scan), a Gaussian random walk for the wounded ratio, the
interval likelihood (with the garbled-figure mixture) as
``log(CDF(b) - CDF(a))`` through PyMC's logistic CDF, and ``pm.sample`` with
its defaults. It reads the same claims as nkest (from
nkest's design), so both fit the same data with the same priors' scales.
"""

from __future__ import annotations

import math

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from nkest.model.design import Design
from nkest.model.options import FitOptions


def naive_model(design: Design, options: FitOptions) -> pm.Model:
    """Build the plainly written model of a design."""
    grid = design.grid
    priors = options.priors
    steps = grid.size - 1
    arrays = design.arrays
    processes = [q for q in design.quantities if q not in ("wounded", "casualties", "deployed")]
    coords = {
        "interval": grid.dates[1:],
        "source": list(design.sources),
        "source_group": list(design.groups),
    }
    with pm.Model(coords=coords) as model:
        timescale = pm.LogNormal(
            "timescale", mu=math.log(priors.timescale_days[0]), sigma=priors.timescale_days[1]
        )
        phi = pt.exp(-grid.step / timescale)
        increments = {}
        for i, name in enumerate(processes):
            mean = pm.Normal(f"{name}_mean", arrays["log_rate_centre"][i], priors.rate_level_sd)
            sd = pm.LogNormal(
                f"{name}_sd", math.log(priors.rate_variability[0]), priors.rate_variability[1]
            )
            deviation = pm.AR(
                f"{name}_deviation",
                rho=[phi],
                sigma=sd * pt.sqrt(1 - phi**2),
                init_dist=pm.Normal.dist(0, sd),
                steps=steps - 1,
                dims="interval",
            )
            increments[name] = pt.exp(mean + deviation) * grid.step
        level = pm.Normal(
            "log_ratio_level", math.log(priors.wounded_ratio[0]), priors.wounded_ratio[1]
        )
        drift = pm.HalfNormal("ratio_drift", priors.ratio_drift)
        walk = pm.GaussianRandomWalk(
            "ratio_walk",
            sigma=drift * math.sqrt(grid.step / 30),
            init_dist=pm.Normal.dist(0, 1e-3),
            steps=steps - 1,
            dims="interval",
        )
        increments["wounded"] = increments["killed"] * pt.exp(level + walk)
        totals = {n: pt.concatenate([pt.zeros(1), pt.cumsum(v)]) for n, v in increments.items()}
        totals["casualties"] = totals["killed"] + totals["wounded"]
        if "deployed" in design.internal:  # the troops sent, as the model has them
            rise = pm.LogNormal("sent_rise", arrays["log_sent_centre"], priors.sent_rise_sd)
            totals["deployed"] = pt.dot(arrays["sent_weight"], rise)
        if "all_losses" in design.internal:
            totals["all_losses"] = sum(
                totals[n] for n in ("casualties", "captured", "missing") if n in totals
            )
        total = pm.Deterministic("total", pt.stack([totals[n] for n in design.internal]))
        group_sd = pm.HalfNormal("group_bias_sd", priors.group_bias_sd)
        group_bias = pm.ZeroSumNormal("group_bias", sigma=group_sd, dims="source_group")
        source_sd = pm.HalfNormal("source_bias_sd", priors.source_bias_sd)
        groups = np.array([design.groups.index(g) for g in design.source_groups])
        bias = pm.Normal("bias", group_bias[groups], source_sd, dims="source")
        noise_level = pm.LogNormal("noise_level", math.log(priors.noise[0]), priors.noise[1])
        noise_spread = pm.HalfNormal("noise_spread", priors.noise_spread)
        log_noise = pm.Normal("log_noise", pt.log(noise_level), noise_spread, dims="source")
        noise = 0.02 + pt.exp(log_noise)
        flat = total.reshape((-1,))
        q, size = arrays["quantity_index"], grid.size

        def at(left, weight):
            index = q * size + left
            return (1 - weight) * flat[index] + weight * flat[index + 1]

        latent = at(arrays["end_left"], arrays["end_weight"]) - arrays["windowed"] * at(
            arrays["start_left"], arrays["start_weight"]
        )
        src = arrays["source_index"]
        bias_all = pt.concatenate([bias, pt.zeros(1)])
        noise_all = pt.concatenate([noise, pt.as_tensor([options.constraint_scale])])
        mu = pt.log(latent) + bias_all[src]
        dist = pm.Logistic.dist(mu, noise_all[src])
        garbled = pm.Logistic.dist(mu, arrays["outlier_scale"])
        upper = pt.exp(pm.logcdf(dist, arrays["log_upper"]))
        lower = pt.exp(pm.logcdf(dist, arrays["log_lower"]))
        garbled_upper = pt.exp(pm.logcdf(garbled, arrays["log_upper"]))
        garbled_lower = pt.exp(pm.logcdf(garbled, arrays["log_lower"]))
        share = np.exp(arrays["log_outlier_share"])
        probability = (1 - share) * (upper - lower) + share * (garbled_upper - garbled_lower)
        pm.Potential("reports", pt.log(probability).sum())
    return model
