"""nkest: Bayesian estimation of war casualties from conflicting public reports.

The pipeline reads left to right: reports -> model -> fit -> results.

>>> import nkest
>>> reports = nkest.load_dataset("dprk")            # doctest: +SKIP
>>> estimate = nkest.fit(reports)                   # doctest: +SKIP
>>> estimate.summary()                              # doctest: +SKIP
"""

from nkest.datasets import list_datasets, load_dataset
from nkest.errors import (
    ConvergenceError,
    IncompatibleFileError,
    Problem,
    ReportError,
    ReportWarning,
)
from nkest.reports import Figure, FigureError, Reports, load_reports, parse_figure
from nkest.results.estimate import Estimate, fit, load
from nkest.version import __version__

__all__ = [
    "ConvergenceError",
    "Estimate",
    "Figure",
    "FigureError",
    "IncompatibleFileError",
    "Problem",
    "ReportError",
    "ReportWarning",
    "Reports",
    "__version__",
    "fit",
    "list_datasets",
    "load",
    "load_dataset",
    "load_reports",
    "parse_figure",
]
