"""The two ways to an ``Estimate``: fit the model of some reports, or load a saved fit."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd
import xarray as xr

from nkest.datasets import dataset_metadata, list_datasets
from nkest.errors import DatasetVersionWarning, OptionError
from nkest.fit.sampling import (
    DEFAULT_CHAINS,
    DEFAULT_DRAWS,
    DEFAULT_TUNE,
    SamplingInfo,
    sample_design,
)
from nkest.model.design import make_design
from nkest.model.options import FitOptions, make_options
from nkest.reports import Reports, load_reports
from nkest.results import io, summaries
from nkest.results.estimate import Estimate
from nkest.results.refit import (
    DEFAULT_TIME_BUDGET,
    MAX_ATTEMPTS,
    Attempt,
    next_attempt,
    projected_seconds,
)

__all__ = ["fit", "load"]

logger = logging.getLogger("nkest")


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
    time_budget: float | None = None,
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
    time_budget : float, optional
        Seconds the fit may take, refits included. When a fit misses its
        diagnostics, nkest refits as an expert would (a higher target
        acceptance after divergences; more draws after a high R-hat or a low
        ESS; longer tuning either way; at most two refits), provided the
        refit is projected to end within the budget. Every attempt is
        recorded in ``Estimate.sampling.attempts`` and said in the
        diagnostics, the citation and the report. Default: 600 seconds when
        ``draws``, ``tune`` and ``target_accept`` are the defaults, and no
        refit otherwise (settings you chose are kept); 0 never refits.
    **options
        ``identification`` ("most_groups", the default; "groups";
        ``{"reference": [...]}`` or
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
    budget = _time_budget(time_budget, draws, tune, fit_options)
    design = make_design(reports, fit_options)
    start = time.perf_counter()
    attempt = Attempt(draws, tune, fit_options.target_accept, random_seed)  # type: ignore[arg-type]
    attempts: list[dict[str, Any]] = []
    while True:
        fit_options = dataclasses.replace(fit_options, target_accept=attempt.target_accept)
        begun = time.perf_counter()
        tree, sampling = sample_design(
            design,
            fit_options,
            draws=attempt.draws,
            tune=attempt.tune,
            chains=chains,
            random_seed=attempt.random_seed,
            progressbar=progressbar,
            cores=fit_options.cores,
        )
        attempt = dataclasses.replace(attempt, random_seed=sampling.random_seed)
        diagnostics = summaries.sampler_diagnostics(
            tree["posterior"].to_dataset(), tree["sample_stats"].to_dataset()
        )
        attempts.append(
            {
                **attempt.to_dict(),
                "seconds": round(time.perf_counter() - begun, 3),
                "passed": not diagnostics["failures"],
                "failures": diagnostics["failures"],
            }
        )
        if diagnostics["passed"] or len(attempts) >= MAX_ATTEMPTS or chains < 2:
            break
        planned = next_attempt(attempt, diagnostics, len(attempts))
        spent = time.perf_counter() - start
        projected = projected_seconds(sampling.seconds.get("sample", spent), attempt, planned)
        if spent + projected > budget:
            if budget > 0:
                attempts[-1]["no_refit"] = (
                    f"a refit would take about {projected:.0f} s more, beyond the time budget "
                    f"of {budget:.0f} s"
                )
            break
        logger.warning(
            "the fit failed its diagnostics (%s); refitting with %s draws, %s tuning steps "
            "and target acceptance %s (about %.0f s)",
            "; ".join(diagnostics["failures"]),
            f"{planned.draws:,}",
            f"{planned.tune:,}",
            planned.target_accept,
            projected,
        )
        attempt = planned
    sampling = dataclasses.replace(sampling, attempts=attempts, time_budget=budget)
    return Estimate(
        posterior=tree,
        reports=reports,
        design=design,
        options=fit_options,
        sampling=sampling,
        sampler_diagnostics=diagnostics,
    )


def _time_budget(time_budget: float | None, draws: int, tune: int, options: FitOptions) -> float:
    """Return the seconds a fit may take with its refits (0: never refit)."""
    if time_budget is None:
        defaults = (
            draws == DEFAULT_DRAWS
            and tune == DEFAULT_TUNE
            and options.target_accept == FitOptions.target_accept
        )
        return DEFAULT_TIME_BUDGET if defaults else 0.0
    if isinstance(time_budget, bool) or not isinstance(time_budget, int | float):
        raise OptionError(f"time_budget must be a number of seconds, got {time_budget!r}")
    if not time_budget >= 0:
        raise OptionError(f"time_budget must be 0 or more seconds, got {time_budget!r}")
    return float(time_budget)


def load(path: str | os.PathLike[str]) -> Estimate:
    """Read an estimate written by ``Estimate.save``.

    Raises
    ------
    IncompatibleFileError
        If the path is not an nkest fit file (netCDF or zarr, with the
        attributes ``Estimate.save`` writes), has another file format, was
        written by a newer major version of nkest, is damaged (its arrays
        differ from the checksums written with them), lacks something a fit
        needs (its options, its reports, their columns), records options or
        sampler settings this nkest does not know, or its reports or shapes
        do not match what it says. The message names the nkest version that
        wrote the file.
    FileNotFoundError
        If there is no such file.
    """
    saved = io.read_fit(path)
    try:
        options = make_options(**json.loads(saved.attrs["options"]))
        design = make_design(saved.reports, options)
        sampling = SamplingInfo(**json.loads(saved.attrs["sampling"]))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise saved.incompatible(error) from error
    posterior = saved.tree["posterior"].to_dataset()
    if posterior.sizes.get("date") != design.grid.size or list(posterior["source"].values) != list(
        design.sources
    ):
        raise saved.incompatible(
            "the posterior does not match the model of its reports (grid or sources differ)"
        )
    groups = xr.DataTree.from_dict(
        {"posterior": posterior, "sample_stats": saved.tree["sample_stats"].to_dataset()}
    )
    estimate = Estimate(
        posterior=groups, reports=saved.reports, design=design, options=options, sampling=sampling
    )
    estimate.posterior.attrs.update(saved.attrs)
    _warn_if_the_dataset_changed(saved.reports.metadata, saved.path)
    return estimate


def _warn_if_the_dataset_changed(metadata: Mapping[str, Any], path: Any) -> None:
    """Say so when a fit was made from an older version of a bundled dataset."""
    name = metadata.get("name")
    if name not in list_datasets():
        return
    current = dataset_metadata(name).get("version")
    saved = metadata.get("version")
    if current and saved != current:
        made_from = f"version {saved}" if saved else "a version from before 2026.12"
        warnings.warn(
            f"{path} was fitted to the {name} dataset {made_from}; the bundled dataset is now "
            f"version {current} (data/CHANGELOG.md says what changed): refit to cite it",
            DatasetVersionWarning,
            stacklevel=3,
        )
