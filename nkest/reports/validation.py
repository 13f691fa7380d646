"""Check rows of text cells against the report format and type them.

Every rule of the format is here, each as a small check that records a
``nkest.errors.Problem`` instead of stopping, so that a user sees every
problem in a file at once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import unicodedata

import pandas as pd

from nkest.errors import Problem, ReportError
from nkest.reports.figures import FigureError, parse_figure
from nkest.reports.qualifiers import QUALIFIER_TABLE
from nkest.reports.reading import RawRow, RawTable
from nkest.reports.schema import (
    COLUMNS,
    CONSTRAINTS,
    DATE_CONFIDENCES,
    DEFAULTS,
    QUALIFIERS,
    QUANTITIES,
    SCOPES,
)

__all__ = ["validate_table"]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN_INTEGER = re.compile(r"[0-9]+")
_GROUPED_INTEGER = re.compile(r"[1-9][0-9]{0,2}(,[0-9]{3})+")
"""``6,000``. Not ``0,600``: a leading zero before a comma reads as a decimal comma too."""
_ONE_ZERO_DECIMAL = re.compile(r"([0-9]+)\.0")
"""``2000.0``: how pandas writes a whole number in a float column (blanks make a column
float). Only a single zero decimal: ``6.000`` could be a European thousands separator."""
_NUMBER_EXPECTED = "a non-negative whole number such as 6000 or 6,000"
MAX_COUNT = 10**10
"""Largest count accepted: more than everyone alive is a typing error, not a report."""

EARLIEST_DATE = dt.date(1700, 1, 1)
"""Earliest date accepted: the time grid needs dates that pandas can hold (from 1677)."""

NAME_COLUMNS = ("report_id", "source", "source_group", "quantity", "qualifier", "scope")
"""Columns that name things: no control character, line break or tab in them."""

_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that reorder the text around them: a name holding one can display as
another name."""

FLOOR_QUALIFIERS = tuple(name for name, row in QUALIFIER_TABLE.items() if row.may_be_floor)
CAP_QUALIFIERS = tuple(name for name, row in QUALIFIER_TABLE.items() if row.may_be_cap)


def validate_table(table: RawTable, *, today: dt.date | None = None) -> pd.DataFrame:
    """Check every row and return the typed table of reports.

    Parameters
    ----------
    table : RawTable
        Rows of text cells, as read.
    today : datetime.date, optional
        Dates after this are refused as future dates. Defaults to today.

    Returns
    -------
    pandas.DataFrame
        One row per input row, in input order, with the columns of
        ``nkest.reports.schema.COLUMNS`` first, extra columns after.

    Raises
    ------
    ReportError
        Listing every problem in the table.
    """
    today = today or dt.date.today()
    problems: list[Problem] = []
    records = []
    for row in table.rows:
        checker = _RowChecker(row, today)
        records.append(checker.check())
        problems += checker.problems
    extras = [name for name in table.columns if name not in COLUMNS]
    records = [
        {**record, **{name: row.cells[name] for name in extras}}
        for record, row in zip(records, table.rows, strict=True)
    ]
    problems += _check_unique_ids(records, table.rows)
    problems += _check_one_group_per_source(records, table.rows)
    order = {row.where: i for i, row in enumerate(table.rows)}
    problems.sort(key=lambda p: order.get(p.location.split(" (report_id")[0], -1))
    if problems:
        raise ReportError(problems, table.origin)
    frame = pd.DataFrame.from_records(records, columns=[*COLUMNS, *extras])
    for name in ("published", "as_of", "period_start", "period_end"):
        frame[name] = pd.to_datetime(frame[name])
    for name in ("value", "value_high"):
        frame[name] = pd.array(frame[name], dtype="Int64")
    return frame


def unsafe_character(text: str, *, name: bool) -> str | None:
    """Return the first character that could change how ``text`` shows, if any.

    Control characters; in a name (shown on one line) also tabs, line breaks and
    characters that reorder the text around them.
    """
    allowed = "" if name else "\t\n\r"
    for char in text:
        if (unicodedata.category(char) == "Cc" and char not in allowed) or (
            name and char in _BIDI_CONTROLS
        ):
            return char
    return None


_FLAGS = frozenset({"true", "false", "yes", "no", "y", "n", "0", "1", "x"})
"""``exclude`` cells that read as a yes/no flag (a spreadsheet's TRUE, a DataFrame's
False), not as a reason: refused, since "False" would otherwise exclude a report."""


class _RowChecker:
    """Check and type one row, collecting problems rather than raising."""

    def __init__(self, row: RawRow, today: dt.date) -> None:
        self.row = row
        self.today = today
        self.problems: list[Problem] = []
        report_id = row.cells.get("report_id", "").strip()
        self.where = f"{row.where} (report_id {report_id})" if report_id else row.where

    def cell(self, name: str) -> str:
        return self.row.cells.get(name, "").strip()

    def exclusion(self) -> str:
        """Return the reason a row is excluded, refusing a flag that gives none."""
        reason = self.cell("exclude")
        if reason.lower() in _FLAGS:
            self.problem(
                "exclude",
                reason,
                "a reason in words for leaving the report out, or blank to use it "
                "(a flag says neither which way it means nor why)",
            )
        return reason

    def problem(self, column: str | None, value: str | None, expected: str) -> None:
        if column in self.row.refused:
            return  # the cell is refused as a whole; one problem for it is enough
        self.problems.append(Problem(self.where, column, value, expected))

    def check(self) -> dict[str, object]:
        for name, expected in self.row.refused.items():
            self.problems.append(Problem(self.where, name, self.row.cells[name], expected))
        for name, text in self.row.cells.items():
            self.check_characters(name, text)
        excluded = self.exclusion()
        record: dict[str, object] = {
            "report_id": self.cell("report_id") or None,
            "source": self.text_required("source"),
            "source_group": self.cell("source_group") or DEFAULTS["source_group"],
            "quantity": self.choice("quantity", QUANTITIES, default=None),
            "qualifier": self.choice("qualifier", QUALIFIERS, default=DEFAULTS["qualifier"]),
            "scope": self.choice("scope", SCOPES, default=DEFAULTS["scope"]),
            "constraint": self.choice("constraint", CONSTRAINTS, default="") or "",
            "exclude": excluded,
            "date_confidence": self.choice("date_confidence", DATE_CONFIDENCES, default="") or "",
        }
        for name in ("relayed_by", "citation", "note"):
            record[name] = self.cell(name)
        published = self.date("published", required=True)
        horizon_ok = bool(excluded)  # an excluded forecast may name a future horizon
        as_of = self.date("as_of", required=False, future_ok=horizon_ok) or published
        start = self.date("period_start", required=False, future_ok=horizon_ok)
        end = self.date("period_end", required=False, future_ok=horizon_ok)
        value = self.count("value", required=not excluded)
        value_high = self.count("value_high", required=False)
        record.update(
            published=published,
            as_of=as_of,
            period_start=start,
            period_end=end,
            value=value,
            value_high=value_high,
        )
        self.check_dates(record, excluded=bool(excluded))
        self.check_range(record)
        self.check_constraint(record)
        return record

    def check_characters(self, name: str, text: str) -> None:
        """Refuse text that is not valid Unicode, or holds control characters."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            bad = text[error.start]
            self.problem(
                name,
                text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace"),
                f"valid Unicode text (it holds a lone surrogate, U+{ord(bad):04X}, which no "
                "file can store)",
            )
            return
        char = unsafe_character(text, name=name in NAME_COLUMNS)
        if char is not None:
            kind = (
                "a character that reorders the text around it"
                if char in _BIDI_CONTROLS
                else "a control character"
            )
            where = " in a name" if name in NAME_COLUMNS else ""
            self.problem(
                name,
                text,
                f"printable text (it holds {kind}, U+{ord(char):04X}{where}; "
                "it could change how the text shows in a terminal or a report)",
            )

    def text_required(self, name: str) -> str:
        text = self.cell(name)
        if not text:
            self.problem(name, self.row.cells.get(name, ""), "a non-blank name")
        return text

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
        text = self.cell(name)
        if not text:
            if default is None:
                self.problem(name, "", f"one of: {', '.join(allowed)}")
            return default
        if text not in allowed:
            self.problem(
                name, text, f"one of: {', '.join(allowed)}{_choice_hint(name, text, allowed)}"
            )
            return None
        return text

    def date(self, name: str, *, required: bool, future_ok: bool = False) -> dt.date | None:
        text = self.cell(name)
        if not text:
            if required:
                self.problem(name, "", "an ISO date (YYYY-MM-DD)")
            return None
        if not _ISO_DATE.fullmatch(text):
            self.problem(name, text, "an ISO date (YYYY-MM-DD)")
            return None
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            self.problem(name, text, "a real calendar date (YYYY-MM-DD)")
            return None
        if day < EARLIEST_DATE:
            self.problem(name, text, f"a date on or after {EARLIEST_DATE.isoformat()}")
            return None
        if day > self.today and not future_ok:
            self.problem(name, text, f"a date not in the future (today is {self.today})")
            return None
        return day

    def count(self, name: str, *, required: bool) -> int | None:
        raw = self.row.cells.get(name, "")
        text = raw.strip()
        if not text:
            if required:
                self.problem(name, raw, f"{_NUMBER_EXPECTED} (blank only in an excluded row)")
            return None
        one_zero = _ONE_ZERO_DECIMAL.fullmatch(text)
        if one_zero:
            text = one_zero.group(1)
        if _PLAIN_INTEGER.fullmatch(text) or _GROUPED_INTEGER.fullmatch(text):
            digits = text.replace(",", "")
            if len(digits.lstrip("0")) > len(str(MAX_COUNT)) or int(digits) > MAX_COUNT:
                self.problem(name, raw, f"a count of at most {MAX_COUNT:,}")
                return None
            return int(digits)
        self.problem(name, raw, _describe_bad_number(text))
        return None

    def check_dates(self, record: dict[str, object], *, excluded: bool) -> None:
        published, as_of = record["published"], record["as_of"]
        start, end = record["period_start"], record["period_end"]
        if (
            not excluded
            and isinstance(published, dt.date)
            and isinstance(as_of, dt.date)
            and as_of > published
        ):
            self.problem(
                "as_of",
                as_of.isoformat(),
                f"a date on or before published ({published.isoformat()}); "
                "a figure cannot describe a later date (a forecast? exclude it with a reason)",
            )
        scope = record["scope"]
        if scope in ("period", "incident"):
            for name, day in (("period_start", start), ("period_end", end)):
                if day is None and not self.cell(name):
                    self.problem(
                        name,
                        "",
                        f"a date: {_article(scope)} {scope} row counts "
                        "within period_start..period_end",
                    )
            if isinstance(start, dt.date) and isinstance(end, dt.date) and start > end:
                self.problem(
                    "period_end", end.isoformat(), f"a date on or after period_start ({start})"
                )
            if (
                not excluded
                and isinstance(end, dt.date)
                and isinstance(published, dt.date)
                and end > published
            ):
                self.problem(
                    "period_end",
                    end.isoformat(),
                    f"a date on or before published ({published.isoformat()})",
                )
        elif scope == "cumulative":
            for name, day in (("period_start", start), ("period_end", end)):
                if day is not None:
                    self.problem(
                        name,
                        day.isoformat(),
                        "a blank: a cumulative row has no window (use scope period or incident)",
                    )

    def check_range(self, record: dict[str, object]) -> None:
        qualifier, value, high = record["qualifier"], record["value"], record["value_high"]
        if qualifier in ("fewer_than", "approaching") and value == 0:
            self.problem(
                "value",
                self.row.cells.get("value", ""),
                f"a number above 0 with qualifier {qualifier}: no count is below 0",
            )
        if qualifier == "range":
            if high is None and not self.cell("value_high") and value is not None:
                self.problem("value_high", "", "the upper end of the range (qualifier is range)")
            if isinstance(high, int) and isinstance(value, int) and high < value:
                self.problem(
                    "value_high",
                    self.row.cells.get("value_high", ""),
                    f"a number at least value ({value}) in a range",
                )
        elif qualifier is not None and self.cell("value_high"):
            self.problem(
                "value_high",
                self.cell("value_high"),
                f"a blank: value_high belongs to range rows only (qualifier is {qualifier})",
            )

    def check_constraint(self, record: dict[str, object]) -> None:
        constraint, qualifier = record["constraint"], record["qualifier"]
        if constraint == "floor":
            if record["quantity"] == "deployed":
                self.problem(
                    "constraint", "floor", "cap or blank on a deployed row (troops sent cap losses)"
                )
            if qualifier is not None and qualifier not in FLOOR_QUALIFIERS:
                self.problem(
                    "qualifier",
                    qualifier,
                    f"one of {', '.join(FLOOR_QUALIFIERS)} on a floor: "
                    f"a {qualifier} figure is no lower bound",
                )
        elif constraint == "cap" and qualifier is not None and qualifier not in CAP_QUALIFIERS:
            self.problem(
                "qualifier",
                qualifier,
                f"one of {', '.join(CAP_QUALIFIERS)} on a cap: "
                f"a {qualifier} figure is no upper bound",
            )


def _describe_bad_number(text: str) -> str:
    if not text.isascii():
        return f"{_NUMBER_EXPECTED}, in ASCII digits"
    if "." in text and "," not in text and re.fullmatch(r"[0-9]{1,3}(\.[0-9]{3})+", text):
        return f"{_NUMBER_EXPECTED}; a dot is not a thousands separator (write 6000 or 6,000)"
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return _NUMBER_EXPECTED + _worded_hint(text)
    if math.isinf(number):
        return f"{_NUMBER_EXPECTED}, not an infinite value"
    if math.isnan(number):
        return _NUMBER_EXPECTED
    if number < 0:
        return f"{_NUMBER_EXPECTED}, not a negative number"
    if not number.is_integer():
        return f"{_NUMBER_EXPECTED}, not a fraction (a count of people is whole)"
    if "." in text:
        return f"{_NUMBER_EXPECTED}, written without a decimal point"
    if "," in text and text.startswith("0"):
        return f"{_NUMBER_EXPECTED}; a comma after a leading 0 could be a decimal comma"
    if "," in text:
        return f"{_NUMBER_EXPECTED} (thousands separated by commas in groups of three)"
    return f"{_NUMBER_EXPECTED}, written in plain digits"


def _check_unique_ids(records: list[dict[str, object]], rows: tuple[RawRow, ...]) -> list[Problem]:
    problems = []
    first_seen: dict[str, str] = {}
    for record, row in zip(records, rows, strict=True):
        report_id = record["report_id"]
        if report_id is None:
            continue
        if report_id in first_seen:
            problems.append(
                Problem(
                    f"{row.where} (report_id {report_id})",
                    "report_id",
                    str(report_id),
                    f"a unique report_id, but {first_seen[report_id]} has it too",
                )
            )
        else:
            first_seen[str(report_id)] = row.where
    taken = set(first_seen)
    for record, row in zip(records, rows, strict=True):
        if record["report_id"] is None:
            base = row.where.split(" (")[0].replace(" ", "-")
            candidate, suffix = base, 1
            while candidate in taken:
                suffix += 1
                candidate = f"{base}-{suffix}"
            record["report_id"] = candidate
            taken.add(candidate)
    return problems


def _choice_hint(column: str, text: str, allowed: tuple[str, ...]) -> str:
    """Suggest the word meant: lower case, a qualifier's wording, or a close spelling."""
    if text.lower() in allowed:
        return f" (write it in lower case: {text.lower()!r})"
    if column == "qualifier":
        from nkest.reports.figures import QUALIFIER_PHRASES

        meant = QUALIFIER_PHRASES.get(" ".join(text.lower().replace("_", " ").split()))
        if meant in allowed:
            return f" (did you mean {meant!r}? {text!r} is how a source words it)"
    close = difflib.get_close_matches(text.lower().replace(" ", "_"), allowed, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_one_group_per_source(
    records: list[dict[str, object]], rows: tuple[RawRow, ...]
) -> list[Problem]:
    """Refuse a used row that puts a source in a second group (a source has one group)."""
    problems = []
    first: dict[str, tuple[str, str]] = {}
    for record, row in zip(records, rows, strict=True):
        source, group = record["source"], record["source_group"]
        if not source or record["exclude"]:
            continue
        if source not in first:
            first[str(source)] = (str(group), row.where)
            continue
        known, where = first[str(source)]
        if group != known:
            problems.append(
                Problem(
                    f"{row.where} (report_id {record['report_id']})",
                    "source_group",
                    str(group),
                    f"{known!r}, the group of source {source!r} at {where}: a source belongs to "
                    "one group (give its other rows the same group, or name the sources apart)",
                )
            )
    return problems


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _worded_hint(text: str) -> str:
    """Suggest the value and qualifier when a cell holds a worded figure ("about 600")."""
    try:
        figure = parse_figure(text)
    except (FigureError, TypeError):
        return ""
    high = f", value_high {figure.value_high}" if figure.value_high is not None else ""
    return f" (a worded figure: write value {figure.value}{high}, qualifier {figure.qualifier})"
