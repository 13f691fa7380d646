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
    DatasetVersionWarning,
    DesignError,
    IncompatibleFileError,
    OptionError,
    Problem,
    ReportError,
    ReportWarning,
    UnknownOptionError,
    UnreliableEstimateWarning,
)
from nkest.reports import Figure, FigureError, Reports, load_reports, parse_figure
from nkest.results.compare import Comparison, compare
from nkest.results.estimate import Estimate
from nkest.results.fitting import fit, load
from nkest.version import __version__

__all__ = [
    "Comparison",
    "ConvergenceError",
    "DatasetVersionWarning",
    "DesignError",
    "Estimate",
    "Figure",
    "FigureError",
    "IncompatibleFileError",
    "OptionError",
    "Problem",
    "ReportError",
    "ReportWarning",
    "Reports",
    "UnknownOptionError",
    "UnreliableEstimateWarning",
    "__version__",
    "compare",
    "fit",
    "list_datasets",
    "load",
    "load_dataset",
    "load_reports",
    "parse_figure",
]
