"""Fitting: sample the model of a set of reports and return an ``Estimate``."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from nkest.fit.estimate import Estimate
from nkest.fit.sampling import (
    DEFAULT_CHAINS,
    DEFAULT_DRAWS,
    DEFAULT_TUNE,
    SamplingInfo,
    clear_cache,
    sample_design,
)
from nkest.model.design import make_design
from nkest.model.options import make_options
from nkest.reports import Reports, load_reports

__all__ = ["Estimate", "SamplingInfo", "clear_cache", "fit"]


def fit(
    reports: Reports | pd.DataFrame | str | os.PathLike[str],
    *,
    end: str | None = None,
    freq: str = "W",
    draws: int = DEFAULT_DRAWS,
    tune: int = DEFAULT_TUNE,
    chains: int = DEFAULT_CHAINS,
    random_seed: int | None = None,
    progressbar: bool = True,
    **options: Any,
) -> Estimate:
    """Estimate deaths and wounded over time from reported figures.

    Every usable report is a noisy observation of a latent total, seen through
    its source's multiplicative bias; see ``docs/model.md`` for the model.

    Parameters
    ----------
    reports : Reports, DataFrame or path
        The reports (anything ``nkest.load_reports`` reads).
    end : str, optional
        Last date of the estimate (ISO date); default: the last date a usable
        report speaks of (its ``as_of``, or the end of its window).
    freq : str
        Time grid: ``"W"`` weekly (default), ``"D"`` daily, ``"2W"``, ...
    draws : int
        Posterior draws per chain (default 2,000).
    tune : int
        Tuning steps per chain, discarded (default 1,000).
    chains : int
        Independent chains (default 4); R-hat needs at least two.
    random_seed : int, optional
        Seed for reproducible draws; the seed used is recorded in
        ``Estimate.sampling`` either way.
    progressbar : bool
        Show the sampler's progress bar.
    **options
        ``identification`` ("groups", ``{"reference": [...]}`` or
        ``{"group_priors": {...}}``), ``priors`` (overrides of
        ``nkest.model.options.Priors``), ``origin``, ``sampler``
        ("auto", "nutpie", "pymc"), ``target_accept``, ``cores``,
        ``approx_max_relative``, ``approaching_band``, ``outlier_share``,
        ``outlier_scale``, ``constraint_scale`` (see
        ``nkest.model.options.FitOptions``). Unknown names are refused.

    Returns
    -------
    Estimate

    Raises
    ------
    ReportError
        If the reports do not load.
    TypeError
        For an unknown option.
    ValueError
        For a bad option value, or reports that leave nothing to estimate.
    """
    reports = load_reports(reports)
    fit_options = make_options(end=end, freq=freq, **options)
    design = make_design(reports, fit_options)
    tree, sampling = sample_design(
        design,
        fit_options,
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=random_seed,
        progressbar=progressbar,
        cores=fit_options.cores,
    )
    return Estimate(
        posterior=tree, reports=reports, design=design, options=fit_options, sampling=sampling
    )
