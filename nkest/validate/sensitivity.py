"""How the headline estimates move under other assumptions.

``compare_fits`` fits the same reports under named variants of the
options (other identification assumptions, other priors, without a source
group) and tabulates the headline totals side by side.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from nkest.model.design import default_end
from nkest.reports import Reports
from nkest.results.estimate import Estimate
from nkest.results.fitting import fit
from nkest.results.summaries import DEFAULT_PROB, diagnostics_in_words
from nkest.validate.quiet import diagnostics_recorded

__all__ = [
    "SCALED_PRIORS",
    "compare_fits",
    "prior_sensitivity",
    "without_groups",
]

SCALED_PRIORS = (
    "killed_log_rate_mean",
    "killed_rate_sd",
    "timescale_above_floor",
    "log_ratio_level",
    "ratio_drift",
    "group_bias_sd",
    "source_bias_sd",
    "noise_level",
    "noise_spread",
)
"""The priors power-scaled by ``prior_sensitivity``: the interpretable hyperpriors,
not the unit-normal offsets of the non-centred parameterisation."""


@diagnostics_recorded()
def compare_fits(
    reports: Reports,
    variants: Mapping[str, Mapping[str, Any]],
    *,
    dates: Sequence[str] | None = None,
    quantities: Sequence[str] = ("killed", "wounded", "casualties"),
    prob: float = DEFAULT_PROB,
    transform: Mapping[str, Callable[[Reports], Reports]] | None = None,
    **fit_kwargs: Any,
) -> pd.DataFrame:
    """Fit ``reports`` under each variant and tabulate the totals side by side.

    Parameters
    ----------
    reports : Reports
    variants : mapping of name to options
        Keyword options of ``nkest.fit`` for each variant.
    dates : sequence of str, optional
        Dates of the totals; default the end of the estimate.
    transform : mapping of name to callable, optional
        For a variant, a function applied to the reports first (e.g. leaving
        a source group out).
    **fit_kwargs
        Passed to every ``nkest.fit`` (draws, random_seed, ...); ``end``
        defaults to the end of the estimate of all the reports.

    Returns
    -------
    pandas.DataFrame
        Columns ``variant, date, quantity, median, lower, upper, identification,
        passed, diagnostics`` (``diagnostics``: ``summaries.diagnostics_in_words``).
    """
    # Leaving reports out can move the default end: every variant speaks of the same end.
    fit_kwargs.setdefault("end", default_end(reports).isoformat())
    rows = []
    for name, options in variants.items():
        data = (transform or {}).get(name, lambda r: r)(reports)
        estimate: Estimate = fit(data, progressbar=False, **{**fit_kwargs, **options})
        diagnostics = estimate.diagnostics()
        table = estimate.summary(
            dates=list(dates) if dates else None, quantities=quantities, prob=prob
        )
        for row in table.itertuples():
            rows.append(
                {
                    "variant": name,
                    "date": row.date,
                    "quantity": row.quantity,
                    "median": row.median,
                    "lower": row.lower,
                    "upper": row.upper,
                    "identification": estimate.identification,
                    "passed": diagnostics["passed"],
                    "diagnostics": diagnostics_in_words(diagnostics),
                }
            )
    return pd.DataFrame(rows)


def without_groups(*groups: str) -> Callable[[Reports], Reports]:
    """Return a transform for ``compare_fits`` that leaves out whole source groups."""

    def transform(reports: Reports) -> Reports:
        frame = reports.to_frame()
        ids = frame.loc[frame["source_group"].isin(groups), "report_id"]
        return reports.exclude(ids, f"left out: source group(s) {', '.join(groups)}")

    return transform


def prior_sensitivity(
    estimate: Estimate,
    *,
    dates: Sequence[str] | None = None,
    var_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Power-scaling sensitivity of the posterior to the prior and the likelihood.

    Uses ``arviz.psense_summary`` (Kallioinen et al. 2023): the prior (only
    ``SCALED_PRIORS``) and the likelihood are each raised to a power
    near one, and the change of each posterior quantity is measured. A
    quantity sensitive to the prior but not the likelihood is decided by the
    prior ("prior-data conflict" when both are high).

    Parameters
    ----------
    estimate : Estimate
    dates : sequence of str, optional
        Dates of the totals checked (``total@<date>``); default the end of
        the estimate.
    var_names : sequence of str, optional
        Posterior variables to check; default the hyperparameters, the bias
        factors and the totals at ``dates``.

    Returns
    -------
    pandas.DataFrame
        ``variable, prior, likelihood, diagnosis``.
    """
    import arviz as az
    import pymc as pm
    import xarray as xr

    # The levels as free variables: every posterior holds their values, also a fit saved
    # before the levels were drawn as the reports see them.
    model = estimate.build_model(levels_as_seen=False)
    names = [n for n in SCALED_PRIORS if n in model.named_vars]
    log_prior = pm.stats.compute_log_prior(
        estimate.posterior,
        model=model,
        var_names=names,
        extend_inferencedata=False,
        progressbar=False,
    )
    posterior = estimate.posterior["posterior"].to_dataset()
    checked = posterior[
        [n for n in SCALED_PRIORS if n in posterior and n != "timescale_above_floor"]
    ]
    checked = checked.assign(timescale=posterior["timescale"], bias_factor=posterior["bias_factor"])
    totals = estimate.totals(list(dates) if dates is not None else None)
    for date in totals["date"].values:
        checked[f"total@{pd.Timestamp(date):%Y-%m-%d}"] = totals.sel(date=date).drop_vars("date")
    if var_names is not None:
        checked = checked[list(var_names)]
    tree = xr.DataTree.from_dict(
        {
            "posterior": checked,
            "log_prior": xr.Dataset({"prior": sum(log_prior[n] for n in names)}),
            "log_likelihood": estimate.posterior["log_likelihood"].to_dataset(),
        }
    )
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        # psense prints its own advice; the table's diagnosis column says the same.
        warnings.simplefilter("ignore")
        summary = az.psense_summary(tree, round_to=4)
    return summary.reset_index().rename(columns={"index": "variable"})


def identification_markdown(table: pd.DataFrame) -> str:
    """Format a ``compare_fits`` table as one row per variant, one column per total.

    A last column gives each fit's sampler diagnostics ("passed", or
    "FAILED: " and what failed), so that a failed fit is never read as a result.
    """
    table = table.assign(
        cell=[
            f"{m:,.0f} ({lo:,.0f}–{hi:,.0f})"
            for m, lo, hi in zip(table["median"], table["lower"], table["upper"], strict=True)
        ]
    )
    wide = table.pivot_table(
        index="variant", columns=["quantity", "date"], values="cell", aggfunc="first", sort=False
    )
    wide.columns = [f"{q} by {d.day} {d:%b %Y}" for q, d in wide.columns]
    if "diagnostics" in table:
        wide["diagnostics"] = table.groupby("variant", sort=False)["diagnostics"].first()
    return wide.to_markdown()
