"""The PyMC model: latent totals over time, per-source biases, every report in the likelihood.

The mathematics, with every prior and why, is in ``docs/model.md``. The
model's structure (grid length, quantities, sources) is fixed when it is
built; everything that comes from the reports' values enters as ``pm.Data``,
so one compiled model serves many fits of same-shaped data.
"""

from __future__ import annotations

import math

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from nkest.model.design import ALL_LOSSES, DEPLOYED, Design
from nkest.model.likelihood import claim_logp, report_latent, tensor_ops
from nkest.model.options import FitOptions

__all__ = ["DIMS", "build_model", "model_data"]

DIMS = ("date", "interval", "quantity", "source", "source_group")
"""The model's dims. None of them collides with the dims ArviZ uses itself."""

_RATIO_DRIFT_DAYS = 30.0
NOISE_FLOOR = 0.02
"""Smallest logistic noise scale of a source: no source reports the truth to within 2%."""

SENT_BOUND_SCALE = 0.1
"""Softness of "losses cannot exceed the troops sent", on the log scale, at every date.

Softer than a floor or a cap (2%): the troops sent are themselves an estimate,
and at 2% the bound's wall, enforced at every grid date, made the sampler
diverge on the DPRK data (1 divergence in 8,000 draws for each of three seeds;
none at 10%). Losses 10% above the troops sent cost about one unit of log density.
"""


_REPORT_INDEX = ("quantity_index", "end_left", "start_left", "source_index", "pair_index")
_REPORT_VALUE = (
    "end_weight",
    "start_weight",
    "windowed",
    "log_lower",
    "log_upper",
    "log_main_share",
    "log_outlier_share",
    "outlier_scale",
)


def model_data(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pack a design's arrays into the model's three ``pm.Data`` containers.

    nutpie reads every data container of a compiled model through code that
    is typed per container when the model compiles: three containers instead
    of a dozen take seconds off every compilation (docs/performance.md).

    Returns
    -------
    dict of str to numpy.ndarray
        ``report_index`` (5, reports) and ``report_value`` (8, reports): a row
        per per-report array; ``process_value`` (processes, 2 + steps): each
        rate process's prior centre, the initial total's centre, and its
        log-weights over the steps.
    """
    processes = len(arrays["log_rate_centre"])
    packed = {
        "report_index": np.stack([arrays[n] for n in _REPORT_INDEX]).astype(np.int64),
        "report_value": np.stack([arrays[n] for n in _REPORT_VALUE]).astype(np.float64),
        "process_value": np.column_stack(
            [
                arrays["log_rate_centre"],
                np.full(processes, float(arrays["log_initial_centre"])),
                arrays["log_span_weight"],
            ]
        ).astype(np.float64),
    }
    if "sent_weight" in arrays:
        packed["sent_value"] = np.column_stack(
            [arrays["log_sent_centre"], arrays["sent_weight"].T]
        ).astype(np.float64)
    return packed


def _unpacked(data: dict) -> dict:
    """Return the symbolic design arrays, by their names in ``Design.arrays``."""
    arrays = {name: data["report_index"][i] for i, name in enumerate(_REPORT_INDEX)}
    arrays |= {name: data["report_value"][i] for i, name in enumerate(_REPORT_VALUE)}
    process = data["process_value"]
    arrays |= {
        "log_rate_centre": process[:, 0],
        "log_initial_centre": process[0, 1],
        "log_span_weight": process[:, 2:],
    }
    if "sent_value" in data:
        arrays |= {
            "log_sent_centre": data["sent_value"][:, 0],
            "sent_weight": data["sent_value"][:, 1:].T,
        }
    return arrays


def build_model(design: Design, options: FitOptions, *, levels_as_seen: bool = True) -> pm.Model:
    """Build the PyMC model of a design.

    Parameters
    ----------
    design : Design
        The reports as arrays, with the grid and the sources.
    options : FitOptions
        Identification, priors and observation settings.
    levels_as_seen : bool, default True
        Draw the levels as the reports see them where the identification
        leaves the sources' common bias to the prior (``_level``). False
        builds the same model with the levels as free variables, whose
        values every posterior holds (for log priors of fits saved before).

    Returns
    -------
    pymc.Model
        With deterministics ``total`` (quantity, date), ``bias_factor`` and
        ``noise`` (source), ``group_bias`` and ``timescale``, and the likelihood
        as the potential ``reports``.
    """
    grid = design.grid
    priors = options.priors
    with pm.Model(coords=design.coords) as model:
        packed = {name: pm.Data(name, value) for name, value in model_data(design.arrays).items()}
        data = _unpacked(packed)
        log_bias = _log_bias(design, options)
        noise = _noise(priors)
        anchor = (
            _reports_mean_bias(log_bias, data["pair_index"], len(design.pairs))
            if levels_as_seen and options.identification.prior_sets_common_bias
            else None
        )
        median_days, timescale_sd = priors.timescale_days
        floor = timescale_floor(grid.step, grid.size)
        timescale_above_floor = pm.LogNormal(
            "timescale_above_floor", mu=math.log(median_days), sigma=timescale_sd
        )
        timescale = pm.Deterministic("timescale", floor + timescale_above_floor)
        processes = [q for q in design.quantities if q not in ("wounded", "casualties", DEPLOYED)]
        steps = {
            name: _rate_process(name, i, grid.step, grid.size, data, timescale, priors, anchor)
            for i, name in enumerate(processes)
        }
        log_ratio, log_ratio_level = _wounded_ratio(grid.step, priors)
        steps["wounded"] = steps["killed"] * pt.exp(log_ratio)
        initial = dict.fromkeys(steps, pt.zeros(()))
        if not design.has_origin:
            log_initial = _level(
                "log_initial_killed", data["log_initial_centre"], priors.initial_level_sd, anchor
            )
            initial["killed"] = pt.exp(log_initial)
            initial["wounded"] = initial["killed"] * pt.exp(log_ratio_level)
        totals = {
            name: pt.concatenate([initial[name][None], initial[name] + pt.cumsum(step)])
            for name, step in steps.items()
        }
        totals["casualties"] = totals["killed"] + totals["wounded"]
        if DEPLOYED in design.internal:
            totals[DEPLOYED] = _troops_sent(data, priors, anchor)
        if ALL_LOSSES in design.internal:
            totals[ALL_LOSSES] = sum(
                totals[name] for name in ("casualties", "captured", "missing") if name in totals
            )
            room = pt.log1p(totals[DEPLOYED]) - pt.log1p(totals[ALL_LOSSES])
            pm.Potential("losses_within_troops_sent", -pt.softplus(-room / SENT_BOUND_SCALE).sum())
        stacked = pm.Deterministic(
            "total", pt.stack([totals[name] for name in design.internal]), dims=("quantity", "date")
        )

        log_bias_all = pt.concatenate([log_bias, pt.zeros(1)])
        scale_all = pt.concatenate([noise, pt.as_tensor([options.constraint_scale])])
        latent = report_latent(stacked, data, grid.size, tensor_ops())
        log_centre = pt.log(latent) + log_bias_all[data["pair_index"]]
        scale = scale_all[data["source_index"]]
        pm.Potential("reports", claim_logp(log_centre, scale, data, tensor_ops()).sum())
    return model


def _rate_process(
    name: str, index: int, step: int, size: int, data: dict, timescale, priors, anchor=None
):
    """Return one quantity's increase per grid step (killed, captured or missing).

    The log daily rate is a stationary AR(1): bursts and lulls that last about
    ``timescale`` days. Its deviations are normalised so that the *arithmetic*
    mean of the daily rate over the span the quantity's reports cover is
    ``exp(log_rate_mean)``: the increase over that span, which the reports pin
    down whatever the size of the bursts. (A level for the average *log* rate
    trades off with the rate's variability, and one over the whole grid with
    the months no report speaks of; both mix slowly.)
    """
    steps = size - 1
    log_rate_mean = _level(
        f"{name}_log_rate_mean", data["log_rate_centre"][index], priors.rate_level_sd, anchor
    )
    variability_median, variability_sd = priors.rate_variability
    rate_sd = pm.LogNormal(f"{name}_rate_sd", mu=math.log(variability_median), sigma=variability_sd)
    rate_z = pm.Normal(f"{name}_rate_z", 0.0, 1.0, dims="interval")
    phi = pt.exp(-step / timescale)
    innovation_scale = pt.concatenate([pt.ones(1), pt.sqrt(1.0 - phi**2) * pt.ones(steps - 1)])
    deviation = ar1_filter(rate_sd * innovation_scale * rate_z, phi, steps)
    normaliser = pt.logsumexp(deviation + data["log_span_weight"][index])
    return pt.exp(log_rate_mean + deviation - normaliser) * step


def _troops_sent(data: dict, priors, anchor=None):
    """Return the troops sent at each grid date: the rises between its knots, accumulated.

    With ``anchor``, the log rises are drawn as the reports see them (see ``_level``).
    """
    if anchor is None:
        rise = pm.LogNormal(
            "sent_rise", mu=data["log_sent_centre"], sigma=priors.sent_rise_sd, dims="sent_knot"
        )
    else:
        seen = pm.Normal(
            "sent_log_rise_seen",
            mu=data["log_sent_centre"] + anchor,
            sigma=priors.sent_rise_sd,
            dims="sent_knot",
        )
        rise = pm.Deterministic("sent_rise", pt.exp(seen - anchor), dims="sent_knot")
    return pt.dot(data["sent_weight"], rise)


def _level(name: str, centre, sd: float, anchor):
    """Return a log level, drawn as the reports see it when ``anchor`` is given.

    The reports see a level only through the sources' biases: raising every
    level and lowering every bias by as much leaves them unchanged, and only
    the priors tell the two apart. Drawn directly, the level and the biases'
    common part lie on that long ridge, which a diagonal mass matrix cannot
    follow. Drawn as ``seen`` = level + ``anchor`` (the sources' mean
    log-bias), the level the reports pin down is one coordinate and the
    ridge runs along the biases alone. The prior is unchanged: ``seen`` given
    the biases is normal around ``centre + anchor`` with the same spread, and
    the shift has a unit Jacobian.
    """
    if anchor is None:
        return pm.Normal(name, mu=centre, sigma=sd)
    seen = pm.Normal(f"{name}_seen", mu=centre + anchor, sigma=sd)
    return pm.Deterministic(name, seen - anchor)


def _reports_mean_bias(log_bias, pair_index, pairs: int):
    """Return the mean log-bias of the (source, family) pairs, weighted by their reports.

    Constraint rows (index ``pairs``) do not count. From the data containers,
    so that one compiled model still serves new reports of the same shape.
    """
    # Of fixed shape, unlike bincount's, so that JAX can compile it too.
    counts = pt.inc_subtensor(pt.zeros(pairs + 1)[pair_index], 1.0)[:pairs]
    return (counts * log_bias).sum() / pt.maximum(counts.sum(), 1)


def _wounded_ratio(step: int, priors):
    """Return the log wounded:killed ratio per step and its average.

    The ratio is a random walk around its average over the grid.
    """
    ratio_median, ratio_sd = priors.wounded_ratio
    log_ratio_level = pm.Normal("log_ratio_level", mu=math.log(ratio_median), sigma=ratio_sd)
    ratio_drift = pm.HalfNormal("ratio_drift", sigma=priors.ratio_drift)
    ratio_z = pm.Normal("ratio_z", 0.0, 1.0, dims="interval")
    walk = pt.cumsum(ratio_z) * math.sqrt(step / _RATIO_DRIFT_DAYS)
    return log_ratio_level + ratio_drift * (walk - walk.mean()), log_ratio_level


def ar1_filter(innovations, phi, length: int):
    """Return ``x`` with ``x[0] = e[0]`` and ``x[t] = phi * x[t-1] + e[t]``.

    In closed form, ``x[t] = phi**t * cumsum(phi**-j * e[j])[t]``: one cumsum
    instead of a loop, which compiles and differentiates quickly. ``phi**-j``
    grows with ``j``; the timescale's floor (``timescale_floor``) keeps it
    below e**500, far inside float64's range, and the sum's rounding error
    stays relative to its largest (most recent) terms.
    """
    j = pt.arange(length, dtype="float64")
    log_phi = pt.log(phi)
    return pt.exp(j * log_phi) * pt.cumsum(pt.exp(-j * log_phi) * innovations)


_MAX_DECAY_EXPONENT = 500.0


def timescale_floor(step: int, size: int) -> float:
    """Return the shortest AR(1) timescale (days) the closed-form filter handles on a grid."""
    return step * (size - 1) / _MAX_DECAY_EXPONENT


def _log_bias(design: Design, options: FitOptions):
    """Each (source, family) pair's log-bias: group, then source, then family of figures.

    A source's bias is its group's plus its own; a source that reports more
    than one family of figures (deaths; wounded and casualties; captured and
    missing; troops sent) has a part of its own for each, pooled towards the
    source's bias. The identification assumption anchors the level.
    """
    ident = options.identification
    group_of_source = np.array(
        [design.groups.index(g) for g in design.source_groups], dtype=np.int64
    )
    source_sd = pm.HalfNormal("source_bias_sd", sigma=options.priors.source_bias_sd)
    source_z = pm.Normal("source_bias_z", 0.0, 1.0, dims="source")
    group_bias = ident.group_bias(design.groups, options.priors)
    source_bias = group_bias[group_of_source] + source_sd * source_z
    pair_source = np.array([design.sources.index(s) for s, _ in design.pairs], dtype=np.int64)
    pair_bias = source_bias[pair_source]
    own = np.flatnonzero(design.family_deviations)
    if len(own):
        family_sd = pm.HalfNormal("family_bias_sd", sigma=options.priors.family_bias_sd)
        family_z = pm.Normal("family_bias_z", 0.0, 1.0, dims="family_pair")
        pair_bias = pt.inc_subtensor(pair_bias[own], family_sd * family_z)
    pair_sources = [source for source, _ in design.pairs]
    pair_bias = ident.source_log_bias(pair_bias, pair_sources)
    pm.Deterministic(
        "bias_factor", pt.exp(ident.source_log_bias(source_bias, design.sources)), dims="source"
    )
    pm.Deterministic("pair_bias_factor", pt.exp(pair_bias), dims="bias_pair")
    return pair_bias


def _noise(priors):
    """Each source's logistic noise scale, partially pooled on the log scale."""
    median, sd = priors.noise
    level = pm.LogNormal("noise_level", mu=math.log(median), sigma=sd)
    spread = pm.HalfNormal("noise_spread", sigma=priors.noise_spread)
    z = pm.Normal("noise_z", 0.0, 1.0, dims="source")
    return pm.Deterministic("noise", NOISE_FLOOR + level * pt.exp(spread * z), dims="source")
