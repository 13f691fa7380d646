"""Reports: the report format, loading with validation, and reading worded figures."""

from nkest.reports.collection import Reports, load_reports
from nkest.reports.figures import Figure, FigureError, parse_figure
from nkest.reports.schema import (
    COLUMNS,
    CONSTRAINTS,
    OPTIONAL_COLUMNS,
    QUALIFIERS,
    QUANTITIES,
    REQUIRED_COLUMNS,
    SCOPES,
)

__all__ = [
    "COLUMNS",
    "CONSTRAINTS",
    "OPTIONAL_COLUMNS",
    "QUALIFIERS",
    "QUANTITIES",
    "REQUIRED_COLUMNS",
    "SCOPES",
    "Figure",
    "FigureError",
    "Reports",
    "load_reports",
    "parse_figure",
]
