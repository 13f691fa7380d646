"""The report format: column names, vocabularies and defaults.

This module is the single place where the contract of the report format is
written down. Scripts and data files outside nkest rely on these names, so
they change only with a new major version.
"""

from __future__ import annotations

from typing import Final

from nkest.reports.qualifiers import QUALIFIER_TABLE

REQUIRED_COLUMNS: Final = ("published", "source", "quantity", "value")
"""Columns every table of reports must have."""

OPTIONAL_COLUMNS: Final = (
    "report_id",
    "as_of",
    "source_group",
    "value_high",
    "qualifier",
    "scope",
    "period_start",
    "period_end",
    "relayed_by",
    "citation",
    "date_confidence",
    "note",
    "exclude",
    "constraint",
)
"""Columns nkest understands when present. Any other column is kept as is."""

COLUMNS: Final = (
    "report_id",
    "published",
    "as_of",
    "source",
    "source_group",
    "quantity",
    "value",
    "value_high",
    "qualifier",
    "scope",
    "period_start",
    "period_end",
    "constraint",
    "exclude",
    "relayed_by",
    "citation",
    "date_confidence",
    "note",
)
"""Canonical column order of a loaded table (extra columns follow)."""

DATE_COLUMNS: Final = ("published", "as_of", "period_start", "period_end")
TEXT_COLUMNS: Final = (
    "report_id",
    "source",
    "source_group",
    "relayed_by",
    "citation",
    "note",
    "exclude",
)

QUANTITIES: Final = ("killed", "wounded", "casualties", "captured", "missing", "deployed")
"""What a report counts. ``casualties`` means killed + wounded."""

QUALIFIERS: Final = tuple(QUALIFIER_TABLE)
"""How a source worded its figure (each with its meaning in ``nkest.reports.qualifiers``)."""

SCOPES: Final = ("cumulative", "period", "incident")
"""What span of time a figure covers."""

CONSTRAINTS: Final = ("floor", "cap")
"""Hard facts a user can mark instead of a biased observation.

``floor``: the true quantity is at least ``value`` (acknowledged named dead).
``cap``: the true quantity is at most ``value``; on a ``deployed`` row it caps
all casualties (killed, wounded, captured and missing together).
"""

DATE_CONFIDENCES: Final = ("high", "medium", "low")

DEFAULTS: Final = {
    "qualifier": "approx",
    "scope": "cumulative",
    "source_group": "ungrouped",
}
"""Values of optional columns when a cell or the whole column is blank.

``as_of`` defaults to ``published`` and ``report_id`` to ``row-<line>``; see
``nkest.load_reports``.
"""
