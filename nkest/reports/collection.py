"""The loaded, validated table of reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import pandas as pd

from nkest.errors import OptionError, Problem, ReportError, ReportWarning
from nkest.reports.reading import RawRow, RawTable, read_table
from nkest.reports.schema import COLUMNS, DEFAULTS, QUANTITIES
from nkest.reports.validation import unsafe_character, validate_table

__all__ = ["Reports", "load_reports"]


def load_reports(
    data: str | os.PathLike[str] | pd.DataFrame | Reports,
    *,
    metadata: Mapping[str, Any] | None = None,
) -> Reports:
    """Load and check a table of reported figures.

    Parameters
    ----------
    data : path, DataFrame or Reports
        A CSV file (UTF-8, comma-separated, one header row), an Excel
        workbook (``.xlsx``: its first sheet, the header in its first row) or
        a DataFrame in the report format (see ``docs/report-format.md``). A ``Reports``
        is returned as it is (with ``metadata`` merged in, if given).
    metadata : mapping, optional
        Facts about the table as a whole. Keys nkest uses: ``subject`` (who
        the figures count, for sentences: "North Korean soldiers"), ``origin``
        (ISO date at which every total was zero, e.g. the start of a
        deployment; without it the initial level is estimated), ``name``,
        ``title``, ``description``, ``citation`` and ``version``. Keys of your
        own are kept as they are; a near miss of a key nkest reads ("orgin")
        gives a ``ReportWarning``, since nkest would otherwise go on without it.

    Returns
    -------
    Reports
        Exactly the rows given, in order, typed and with defaults filled in.

    Raises
    ------
    ReportError
        Listing every problem in the table at once, each with its line (or
        row) and report_id, column, bad value and what was expected; also for
        a path that cannot be read.
    TypeError
        If ``data`` is neither a path, a DataFrame nor a ``Reports`` (a
        programming error, not a problem with the reports).

    Examples
    --------
    >>> import pandas as pd
    >>> import nkest
    >>> reports = nkest.load_reports(pd.DataFrame({
    ...     "published": ["2024-12-19", "2025-04-30"],
    ...     "source": ["NIS", "NIS"],
    ...     "quantity": ["killed", "killed"],
    ...     "value": ["100", "600"],
    ...     "qualifier": ["at_least", "approx"],
    ... }))
    >>> len(reports)
    2
    """
    if isinstance(data, Reports):
        return data if metadata is None else data.with_metadata(metadata)
    table = read_table(data)
    frame = validate_table(table)
    _warn_about_unused_columns(table)
    _warn_about_near_duplicates(frame, table)
    return Reports(frame, metadata=_check_metadata(metadata or {}))


def _warn_about_unused_columns(table: RawTable) -> None:
    unused = [name for name in table.columns if name not in COLUMNS]
    if unused:
        warnings.warn(
            f"{table.origin}: columns nkest does not use, kept as they are: {', '.join(unused)}",
            ReportWarning,
            stacklevel=3,
        )


def name_key(name: str) -> str:
    """Return what a name is once case, spacing, invisible characters and normalisation go.

    "NIS", "nis ", "N\u200bIS" and the composed and decomposed "Café" share a key.
    """
    text = unicodedata.normalize("NFKC", name)
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return " ".join(text.casefold().split())


def _warn_about_near_duplicates(frame: pd.DataFrame, table: RawTable) -> None:
    for column in ("source", "source_group"):
        first: dict[str, dict[str, str]] = {}
        for name, row in zip(frame[column], table.rows, strict=True):
            first.setdefault(name_key(name), {}).setdefault(name, row.where)
        for spellings in first.values():
            if len(spellings) > 1:
                listed = "; ".join(f"{name!r} ({where})" for name, where in spellings.items())
                warnings.warn(
                    f"{table.origin}: {column} names that differ only in case, spacing, "
                    f"invisible characters or Unicode form are different {column}s to nkest: "
                    f"{listed}. Spell them the same if they are one.",
                    ReportWarning,
                    stacklevel=3,
                )


METADATA_KEYS = ("name", "title", "subject", "origin", "version", "reports_up_to")
"""The metadata keys nkest reads. Others are kept as they are, for the user's own records."""


def _check_metadata(
    metadata: Mapping[str, Any], beside: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Check ``metadata`` (to be merged over ``beside``); return it with ``origin`` normalised."""
    checked = dict(metadata)
    present = {**(beside or {}), **checked}
    # A key of one's own is kept, but a near miss of a key nkest reads ("orgin") would
    # leave the fit without what it was meant to say: a warning says so. Not an error,
    # because such a key may be the user's own, and fits saved with it must still load.
    for key in checked:
        known = _key_meant(key)
        if known is not None and known not in present:
            warnings.warn(
                f"metadata key {key!r} is not one nkest reads: did you mean {known!r}? "
                "Left as it is, nkest ignores it",
                ReportWarning,
                stacklevel=3,
            )
    problems = [
        Problem("metadata", key, _shown(checked[key]), expected)
        for key in _TEXT_KEYS
        if key in checked and (expected := _text_problem(checked[key]))
    ]
    if problems:
        raise ReportError(problems)
    origin = checked.get("origin")
    if origin is not None:
        try:
            if isinstance(origin, dt.date):  # date, datetime and pandas.Timestamp
                origin = origin.strftime("%Y-%m-%d")
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", str(origin)):
                raise ValueError
            checked["origin"] = dt.date.fromisoformat(str(origin)).isoformat()
        except ValueError:
            raise ReportError(
                [Problem("metadata", "origin", str(origin), "an ISO date (YYYY-MM-DD)")]
            ) from None
    return checked


_TEXT_KEYS = ("name", "title", "subject")
"""Metadata that nkest writes into sentences, pages and terminals."""


def _shown(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


def _text_problem(value: object) -> str | None:
    """Return what a text of the metadata should be, if ``value`` is not that."""
    if not isinstance(value, str) or not value.strip():
        return "a text that is not blank"
    if unsafe_character(value, name=True) is not None:
        return "text without control characters or characters that reorder the text"
    return None


def _key_meant(key: object) -> str | None:
    """Return the metadata key nkest reads that ``key`` looks like a misspelling of, if any.

    Within two edits of it, and not the key with something added ("names",
    "title_ru"), which is a key of one's own.
    """
    if not isinstance(key, str) or key in METADATA_KEYS:
        return None
    lowered = key.lower()
    for known in METADATA_KEYS:
        if lowered == known:
            return known
        if known in lowered or len(known) < 5:
            continue
        if _edit_distance(lowered, known) <= 2:
            return known
    return None


def _edit_distance(first: str, second: str) -> int:
    """Return the Levenshtein distance between two short strings."""
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i]
        for j, b in enumerate(second, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


class Reports:
    """A validated table of reported figures, one row per figure.

    Create it with ``nkest.load_reports`` or ``nkest.load_dataset``.
    It holds exactly the rows it was given; ``len()`` counts them and
    ``to_frame`` gives them back as a DataFrame.

    Attributes
    ----------
    metadata : mapping
        Facts about the table as a whole (``subject``, ``origin``, ...).
    """

    def __init__(self, frame: pd.DataFrame, *, metadata: Mapping[str, Any] | None = None) -> None:
        self._frame = frame.reset_index(drop=True)
        self.metadata: Mapping[str, Any] = MappingProxyType(dict(metadata or {}))

    def __len__(self) -> int:
        return len(self._frame)

    def __reduce__(self) -> tuple:
        # The metadata is a read-only proxy, which does not pickle; rebuild it instead,
        # so that reports travel to worker processes and Dask workers.
        return (Reports, (self._frame,), {"metadata": dict(self.metadata)})

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.metadata = MappingProxyType(dict(state["metadata"]))

    def __repr__(self) -> str:
        n_kept = int((self._frame["exclude"] == "").sum())
        name = self.metadata.get("name")
        label = f" {name!r}" if name else ""
        kept = Reports(self._frame[self._frame["exclude"] == ""]) if n_kept else self
        sources = self._frame["source"].nunique()
        return (
            f"<Reports{label}: {len(self)} reports ({len(self) - n_kept} excluded by the table, "
            f"{n_kept} kept for the fit) from {sources} source{'' if sources == 1 else 's'}, "
            f"kept reports as of {kept.first_date:%Y-%m-%d} to {kept.last_date:%Y-%m-%d}>"
        )

    def _repr_html_(self) -> str:
        return f"<p>{self!r}</p>" + self.summary().to_html()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reports):
            return NotImplemented
        return self.fingerprint() == other.fingerprint() and dict(self.metadata) == dict(
            other.metadata
        )

    __hash__ = None  # type: ignore[assignment]

    def to_frame(self) -> pd.DataFrame:
        """Return the reports as a new DataFrame (format columns first, then extras)."""
        return self._frame.copy()

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the reports as a CSV file that ``load_reports`` reads back unchanged."""
        # CRLF line ends make pandas quote any cell holding a bare carriage return.
        self.to_text_frame().to_csv(path, index=False, lineterminator="\r\n")

    def to_text_frame(self) -> pd.DataFrame:
        """Return the reports as text cells, as a CSV file holds them (blank is an empty string)."""
        frame = self._frame.copy()
        for name in ("published", "as_of", "period_start", "period_end"):
            frame[name] = frame[name].dt.strftime("%Y-%m-%d").fillna("")
        return frame.astype(object).where(frame.notna(), "")

    def fingerprint(self) -> str:
        """Return a short hash of every cell, to cite which reports a result used.

        Two tables with the same rows in the same order have the same
        fingerprint; any change to any cell changes it.
        """
        text = self.to_text_frame().to_csv(index=False, lineterminator="\n")
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    @property
    def kept(self) -> pd.DataFrame:
        """The rows the table itself keeps (``exclude`` blank).

        Not yet the reports a fit uses: the model may still leave some out
        (a forecast, a figure with no date in range), each with its reason;
        ``Estimate.used`` are the reports in the fit.
        """
        return self._frame[self._frame["exclude"] == ""].copy()

    @property
    def used(self) -> pd.DataFrame:
        """Deprecated: ``kept``. "Used" means the reports in a fit (``Estimate.used``)."""
        warnings.warn(
            "Reports.used is now Reports.kept (the rows the table keeps); the reports a fit "
            "uses are Estimate.used",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.kept

    @property
    def excluded(self) -> pd.DataFrame:
        """The rows kept for provenance only, with their ``exclude`` reason."""
        return self._frame[self._frame["exclude"] != ""].copy()

    @property
    def first_date(self) -> pd.Timestamp:
        """The earliest date any report refers to (``as_of`` or ``period_start``)."""
        starts = self._frame["period_start"].dropna()
        earliest = self._frame["as_of"].min()
        return min(earliest, starts.min()) if len(starts) else earliest

    @property
    def last_date(self) -> pd.Timestamp:
        """The latest ``as_of`` of the reports."""
        return self._frame["as_of"].max()

    @property
    def sources(self) -> pd.DataFrame:
        """One row per source: its group, and how many of its reports the table keeps, excludes."""
        frame = self._frame.assign(kept=self._frame["exclude"] == "")
        table = frame.groupby(["source", "source_group"], sort=True).agg(
            reports=("report_id", "size"), kept=("kept", "sum")
        )
        table["excluded"] = table["reports"] - table["kept"]
        return table.reset_index()

    def summary(self) -> pd.DataFrame:
        """Count the reports by quantity: how many, kept by the table, sources, dates, values."""
        frame = self._frame
        kept = frame["exclude"] == ""
        table = frame.groupby("quantity", sort=False).agg(
            reports=("report_id", "size"),
            sources=("source", "nunique"),
            first_as_of=("as_of", "min"),
            last_as_of=("as_of", "max"),
            smallest=("value", "min"),
            largest=("value", "max"),
        )
        table.insert(1, "kept", kept.groupby(frame["quantity"], sort=False).sum())
        table = table.reindex([name for name in QUANTITIES if name in table.index])
        for name in ("first_as_of", "last_as_of"):
            table[name] = table[name].dt.strftime("%Y-%m-%d")
        return table

    def with_metadata(self, metadata: Mapping[str, Any]) -> Reports:
        """Return a copy with ``metadata`` merged over the current metadata."""
        checked = _check_metadata(metadata, beside=self.metadata)
        return Reports(self._frame, metadata={**self.metadata, **checked})

    def add(self, new: str | os.PathLike[str] | pd.DataFrame | Reports) -> Reports:
        """Return these reports with new rows after them, checked as ``load_reports`` checks.

        The new rows are validated on their own first, so that every problem
        names their own line or row; then against these reports: a
        ``report_id`` the new rows give that is already here is an error. A
        new row without a ``report_id`` gets one from its line ("line-3"),
        with "-new" (then "-new-2", ...) added when that is taken. Nothing is
        dropped: the result has ``len(self) + len(new)`` rows, these first.
        A new row without a ``source_group`` takes its source's group here.

        Parameters
        ----------
        new : path, DataFrame or Reports
            The new rows: a CSV file, an Excel workbook (``.xlsx``), a
            DataFrame or ``Reports``.

        Returns
        -------
        Reports
            A new table with the metadata of this one; ``fingerprint()``
            changes with the rows.

        Raises
        ------
        ReportError
            Listing every problem in the new rows, or every ``report_id``
            they share with these reports.
        """
        if isinstance(new, Reports):
            added = new.to_frame()
            given_ids = set(added["report_id"])
            where = {rid: f"report_id {rid}" for rid in added["report_id"]}
            origin = "the new reports"
        else:
            table = read_table(new)
            added = validate_table(table)
            _warn_about_unused_columns(table)
            given_ids = {
                str(i)
                for i, row in zip(added["report_id"], table.rows, strict=True)
                if row.cells.get("report_id", "").strip()
            }
            where = {
                rid: row.where for rid, row in zip(added["report_id"], table.rows, strict=True)
            }
            origin = table.origin
        # A new row that names no group joins its source's group here, if it has one.
        known = self._frame.drop_duplicates("source").set_index("source")["source_group"]
        blank = (added["source_group"] == DEFAULTS["source_group"]) & added["source"].isin(
            known.index
        )
        added.loc[blank, "source_group"] = added.loc[blank, "source"].map(known)
        taken = set(self._frame["report_id"])
        problems = [
            Problem(
                f"{where[rid]} (report_id {rid})",
                "report_id",
                rid,
                "a report_id not already among the reports it is added to",
            )
            for rid in added["report_id"]
            if rid in taken and rid in given_ids
        ]
        problems += _groups_against(self._frame, added, where)
        if problems:
            raise ReportError(problems, origin)
        renamed = []
        for rid in added["report_id"]:
            candidate, suffix = (rid if rid not in taken else f"{rid}-new"), 1
            while candidate in taken:
                suffix += 1
                candidate = f"{rid}-new-{suffix}"
            taken.add(candidate)
            renamed.append(candidate)
        added = added.assign(report_id=renamed)
        columns = list(dict.fromkeys([*self._frame.columns, *added.columns]))
        frame = pd.concat(
            [self._frame.reindex(columns=columns), added.reindex(columns=columns)],
            ignore_index=True,
        )
        for name in columns:  # an extra column only one side has is blank text on the other
            if name not in COLUMNS and frame[name].dtype == object:
                frame[name] = frame[name].fillna("")
        rows = tuple(RawRow(f"report_id {rid}", {}) for rid in frame["report_id"])
        _warn_about_near_duplicates(frame, RawTable(tuple(columns), rows, "the combined reports"))
        return Reports(frame, metadata=self.metadata)

    def exclude(self, report_ids: Iterable[str], reason: str) -> Reports:
        """Return a copy in which the given reports are excluded with ``reason``.

        Reports already excluded keep their own reason. Unknown ids are an error.
        """
        ids = list(report_ids)
        if not reason.strip():
            raise OptionError("give a reason for excluding reports")
        unknown = sorted(set(ids) - set(self._frame["report_id"]))
        if unknown:
            raise KeyError(f"no reports with report_id {', '.join(unknown)}")
        frame = self._frame.copy()
        mask = frame["report_id"].isin(ids) & (frame["exclude"] == "")
        frame.loc[mask, "exclude"] = reason
        return Reports(frame, metadata=self.metadata)


def _groups_against(frame: pd.DataFrame, added: pd.DataFrame, where: dict) -> list[Problem]:
    """Problems of new rows whose source is in another group among the reports already here.

    As ``load_reports`` checks a table: excluded rows do not count.
    """
    used = frame[frame["exclude"] == ""].drop_duplicates("source")
    group_of = dict(zip(used["source"], used["source_group"], strict=True))
    return [
        Problem(
            f"{where[rid]} (report_id {rid})",
            "source_group",
            str(group),
            f"{group_of[source]!r}, the group of source {source!r} among the reports it is "
            "added to: a source belongs to one group",
        )
        for rid, source, group, excluded in zip(
            added["report_id"],
            added["source"],
            added["source_group"],
            added["exclude"],
            strict=True,
        )
        if not excluded and source in group_of and group != group_of[source]
    ]
