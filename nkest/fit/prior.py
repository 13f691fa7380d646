"""Prior predictive draws: what the model believes before it sees the reports' values."""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import pandas as pd
import pymc as pm
import xarray as xr

from nkest.fit.compiling import reproducible_compilation
from nkest.model.build import build_model
from nkest.model.design import make_design
from nkest.model.options import make_options
from nkest.reports import Reports, load_reports

__all__ = ["sample_prior"]


def sample_prior(
    reports: Reports | pd.DataFrame | str | os.PathLike[str],
    *,
    draws: int = 500,
    end: str | None = None,
    freq: str = "W",
    random_seed: int | None = None,
    **options: Any,
) -> xr.Dataset:
    """Draw latent totals and bias factors from the prior of the model of ``reports``.

    The reports fix the grid, the sources and the scale the priors are
    centred on (the median magnitude of the figures), not the draws.

    Returns
    -------
    xarray.Dataset
        ``total`` (chain, draw, quantity, date), ``bias_factor`` and the
        parameters, one chain of ``draws`` draws.
    """
    reports = load_reports(reports)
    fit_options = make_options(end=end, freq=freq, **options)
    design = make_design(reports, fit_options)
    model = build_model(design, fit_options)
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)  # not "Sampling: [...]" for every call
    try:
        with warnings.catch_warnings(), reproducible_compilation():
            # The reports enter as a Potential, which the prior predictive ignores: that
            # is the point of a prior check, not a problem.
            warnings.filterwarnings(
                "ignore", message="The effect of Potentials", category=UserWarning
            )
            tree = pm.sample_prior_predictive(draws=draws, model=model, random_seed=random_seed)
    finally:
        logger.setLevel(level)
    prior = tree["prior"].to_dataset()
    return prior.assign_coords(date=design.grid.dates, quantity=list(design.internal))
