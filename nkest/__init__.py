"""nkest: Bayesian estimation of war casualties from conflicting public reports.

The pipeline reads left to right: reports -> model -> fit -> results.

>>> import nkest
>>> reports = nkest.load_dataset("dprk")            # doctest: +SKIP
>>> estimate = nkest.fit(reports)                   # doctest: +SKIP
>>> estimate.summary()                              # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from nkest.datasets import list_datasets, load_dataset
from nkest.errors import (
    ConvergenceError,
    IncompatibleFileError,
    Problem,
    ReportError,
    ReportWarning,
)
from nkest.fit import Estimate, fit
from nkest.reports import Figure, FigureError, Reports, load_reports, parse_figure
from nkest.results.io import load_estimate as load

try:
    __version__ = version("nkest")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

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
