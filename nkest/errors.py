"""The exceptions nkest raises on purpose.

Every error a user can cause by what they pass in is one of these, so scripts
can catch them without catching programming errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ConvergenceError",
    "DatasetVersionWarning",
    "DesignError",
    "IncompatibleFileError",
    "OptionError",
    "Problem",
    "ReportError",
    "ReportWarning",
    "UnknownOptionError",
    "UnreliableEstimateWarning",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a table of reports.

    Attributes
    ----------
    location : str
        Where: ``"line 12"`` for a file, ``"row 3"`` for a DataFrame, each with
        the report_id when there is one, or ``"file"`` for the whole table.
    column : str or None
        The column the problem is in, if any.
    value : str or None
        The offending value as it was given, if any.
    expected : str
        What was expected instead.
    """

    location: str
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = self.location if self.column is None else f"{self.location}, column {self.column!r}"
        if self.value is None:
            return f"{where}: {self.expected}"
        shown = repr(self.value)
        if len(self.value) > _LONGEST_SHOWN:
            shown = f"{self.value[:_LONGEST_SHOWN]!r}... ({len(self.value)} characters)"
        return f"{where}: got {shown}; expected {self.expected}"


_LONGEST_SHOWN = 40


class ReportError(ValueError):
    """A table of reports that nkest refuses, with every problem found in it.

    Parameters
    ----------
    problems : iterable of Problem
        Everything wrong with the table; all of it is reported at once.
    origin : str, optional
        What was read (a file name), for the message.

    Attributes
    ----------
    problems : tuple of Problem
    """

    def __init__(self, problems: Iterable[Problem], origin: str | None = None) -> None:
        self.problems = tuple(problems)
        self.origin = origin
        count = len(self.problems)
        what = f" in {origin}" if origin else ""
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{count} {noun}{what}:\n{lines}")


class OptionError(ValueError):
    """An argument or option nkest refuses: the message says what was expected.

    A ``ValueError``, so that code written against earlier versions keeps working.
    """


class UnknownOptionError(OptionError, TypeError):
    """An option or prior that nkest does not know; the message lists the valid names."""


class DesignError(ValueError):
    """Reports that leave the model nothing to estimate, or an assumption they cannot meet.

    For example: every report excluded, no report before the end of the
    estimate, or a reference source with no used observation.
    """


class ConvergenceError(RuntimeError):
    """A fit whose sampler diagnostics fail, used where that must stop the caller."""


class UnreliableEstimateWarning(UserWarning):
    """Summaries of a fit whose sampler diagnostics fail: its intervals are not reliable."""


class IncompatibleFileError(ValueError):
    """A saved file that this version of nkest cannot read."""


class ReportWarning(UserWarning):
    """Something in a table of reports that loads, but may not mean what was meant.

    Columns nkest does not use, and source or group names that differ only in
    case, spacing, invisible characters or Unicode normalisation.
    """


class DatasetVersionWarning(UserWarning):
    """A saved fit made from an older version of a bundled dataset than the one installed."""
