"""Turn a CSV file or a DataFrame into rows of text cells, before any checking.

Reading is kept apart from validation so that both kinds of input reach the
same checks with the same cells: every cell is text, blank is ``""``, and every
row knows where it came from (a file line or a DataFrame row).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import difflib
import io
import math
import numbers
import os
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from nkest.errors import Problem, ReportError
from nkest.reports.schema import COLUMNS, REQUIRED_COLUMNS

__all__ = ["RawRow", "RawTable", "read_table"]

_DELIMITER_HINTS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


@dataclass(frozen=True)
class RawRow:
    """One row as given: its cells as text and where it came from."""

    where: str
    """``"line 12"`` or ``"row 3"``."""
    cells: dict[str, str]
    refused: dict[str, str] = field(default_factory=dict)
    """Cells that cannot be text at all (a list in a DataFrame cell), by column: what was
    expected instead. Validation reports these, and nothing else, for those columns."""


@dataclass(frozen=True)
class RawTable:
    """A table of text cells with its column names, in the order given."""

    columns: tuple[str, ...]
    rows: tuple[RawRow, ...]
    origin: str


def read_table(data: str | os.PathLike[str] | pd.DataFrame) -> RawTable:
    """Read a CSV path, an Excel workbook (``.xlsx``) or a DataFrame into text cells.

    Raises
    ------
    ReportError
        If the input is not a readable table: empty, binary, undecodable,
        with a wrong delimiter, duplicate or unrelated columns, or rows with
        the wrong number of fields.
    """
    if isinstance(data, pd.DataFrame):
        return _read_frame(data)
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if path.suffix.lower() in SPREADSHEET_SUFFIXES:
            return _read_spreadsheet(path)
        return _read_csv_file(path)
    raise TypeError(
        "load_reports expects a path to a CSV file or a pandas DataFrame, "
        f"got {type(data).__name__}"
    )


SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm")
"""Files read as a spreadsheet (its first sheet) rather than as CSV."""


def _read_spreadsheet(path: Path) -> RawTable:
    """Read the first sheet of an Excel workbook: row 1 the header, each later row a report.

    Cells are read as a CSV file would hold them (``_cell_text``): a date cell
    becomes its ISO date, a whole number its digits. Locations are the
    sheet's row numbers, as the spreadsheet shows them.
    """
    import zipfile

    from openpyxl import load_workbook

    origin = str(path)
    if not path.is_file():
        raise ReportError([Problem("file", None, None, "an existing spreadsheet file")], origin)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        expected = f"an Excel workbook (.xlsx), but it cannot be read ({error})"
        raise ReportError([Problem("file", None, None, expected)], origin) from None
    try:
        sheet = workbook.worksheets[0]
        lines = [
            (number, ["" if v is None else _cell_text(v) for v in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()
    lines = [(n, cells) for n, cells in lines if any(cell.strip() for cell in cells)]
    if not lines:
        expected = "a table of reports, but the sheet is empty"
        raise ReportError([Problem("file", None, None, expected)], origin)
    (header_row, header), *body = lines
    while header and not header[-1].strip():  # formatted but empty columns on the right
        header.pop()
    columns, problems = _check_header(header, f"row {header_row}")
    # as for a CSV file: go on to the cells, so that every problem is listed at once,
    # unless the header has none of the columns that make it a table of reports
    if problems and not set(REQUIRED_COLUMNS) & set(columns):
        raise ReportError(problems, origin)
    rows = []
    for number, cells in body:
        extra = [cell for cell in cells[len(columns) :] if cell.strip()]
        if extra:
            problems.append(
                Problem(f"row {number}", None, extra[0], f"{len(columns)} cells as in the header")
            )
            continue
        cells = cells[: len(columns)] + [""] * (len(columns) - len(cells))
        rows.append(RawRow(f"row {number}", dict(zip(columns, cells, strict=True))))
    return _table(columns, rows, problems, origin, "sheet")


def _read_csv_file(path: Path) -> RawTable:
    origin = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReportError([Problem("file", None, None, "an existing file")], origin) from None
    except IsADirectoryError:
        raise ReportError(
            [Problem("file", None, None, "a CSV file, not a directory")], origin
        ) from None
    except OSError as error:  # permission denied, a file name too long, ...
        reason = error.strerror or type(error).__name__
        raise ReportError(
            [Problem("file", None, None, f"a readable CSV file, but it cannot be read ({reason})")],
            origin,
        ) from None
    except ValueError as error:  # a path with a NUL character in it
        raise ReportError(
            [Problem("file", None, None, f"a valid file path ({error})")], origin
        ) from None
    return _read_csv_bytes(raw, origin)


def _looks_like_utf16(raw: bytes) -> bool:
    """Whether the file's start reads as UTF-16 text (with or without a byte-order mark).

    Text, not zeros: the first 200 bytes decode without error to characters
    none of which is NUL, almost all printable, with a comma or a line break
    among them (UTF-32, or a file of zeros, decodes to NULs).
    """
    head = raw[:200]
    head = head[: len(head) - len(head) % 2]
    for encoding in ("utf-16-le", "utf-16-be"):
        text = head.decode(encoding, errors="replace")
        if text.startswith("\ufeff"):
            text = text[1:]
        if not text or "\x00" in text or "\ufffd" in text[:-1]:
            continue
        printable = sum(c.isprintable() or c in "\r\n\t" for c in text)
        if printable >= 0.95 * len(text) and ("," in text or "\n" in text):
            return True
    return False


def _read_csv_bytes(raw: bytes, origin: str) -> RawTable:
    if not raw.strip():
        raise ReportError(
            [Problem("file", None, None, "a table of reports, but the file is empty")], origin
        )
    if b"\x00" in raw[:200] and _looks_like_utf16(raw):
        raise ReportError(
            [
                Problem(
                    "file",
                    None,
                    None,
                    "UTF-8 text, but the file is UTF-16 text (as some spreadsheets save "
                    "'Unicode text'): save it as CSV, UTF-8",
                )
            ],
            origin,
        )
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        raise ReportError(
            [
                Problem(
                    "file",
                    None,
                    None,
                    f"a text (CSV) file, but byte {offset} is a NUL byte: this looks like "
                    "binary data (a spreadsheet? export it as CSV, UTF-8)",
                )
            ],
            origin,
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ReportError(
            [
                Problem(
                    f"line {line}",
                    None,
                    repr(raw[error.start : error.end])[2:-1],
                    f"UTF-8 text, but byte {error.start} cannot be decoded "
                    "(save the file as CSV, UTF-8)",
                )
            ],
            origin,
        ) from None
    if not text.strip():
        raise ReportError(
            [Problem("file", None, None, "a table of reports, but the file is empty")], origin
        )
    return _parse_csv_text(text, origin)


def _parse_csv_text(text: str, origin: str) -> RawTable:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[Problem] = []
    try:
        header = next(reader)
    except csv.Error as error:
        problem = Problem("line 1", None, None, f"a CSV header ({error})")
        raise ReportError([problem], origin) from None
    width = len(header)
    while header and not header[-1].strip():  # empty columns on the right (spreadsheets)
        header.pop()
    columns, header_problems = _check_header(header, "line 1")
    problems += header_problems
    if header_problems and not set(REQUIRED_COLUMNS) & set(columns):
        raise ReportError(problems, origin)

    rows: list[RawRow] = []
    last_line = reader.line_num
    while True:
        start_line = last_line + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(Problem(f"line {start_line}", None, None, f"valid CSV ({error})"))
            break
        last_line = reader.line_num
        if not record or all(not cell.strip() for cell in record):
            continue
        where = f"line {start_line}"
        if len(columns) < len(record) <= width and not any(
            cell.strip() for cell in record[len(columns) :]
        ):
            record = record[: len(columns)]  # blank cells under the unnamed columns
        if len(columns) < len(record) <= width:
            value = next(cell for cell in record[len(columns) :] if cell.strip())
            problems.append(
                Problem(where, None, value, f"{len(columns)} cells as in the named columns")
            )
            continue
        if len(record) != len(columns):
            problems.append(
                Problem(
                    where,
                    None,
                    None,
                    f"{len(columns)} fields as in the header, found {len(record)} "
                    "(an unquoted comma inside a field? quote fields that contain commas)",
                )
            )
            continue
        rows.append(RawRow(where, dict(zip(columns, record, strict=True))))
    return _table(columns, rows, problems, origin, "file")


def _table(
    columns: list[str], rows: list[RawRow], problems: list[Problem], origin: str, kind: str
) -> RawTable:
    """Return the rows read from a file as a table, or raise every problem found in it.

    ``kind`` names what was read ("file", "sheet") in the message for a header alone.
    """
    if problems:
        raise ReportError(problems, origin)
    if not rows:
        expected = f"at least one report, but the {kind} has only a header"
        raise ReportError([Problem("file", None, None, expected)], origin)
    return RawTable(tuple(columns), tuple(rows), origin)


def _check_header(header: list[str], where: str) -> tuple[list[str], list[Problem]]:
    # A stray byte order mark (a second one, or one left by concatenating files) is no part
    # of a name.
    columns = [str(name).replace("\ufeff", "").strip().lower() for name in header]
    problems: list[Problem] = []
    seen: set[str] = set()
    for number, name in enumerate(columns, start=1):
        if not name:
            problems.append(Problem(where, None, None, f"a name for column {number}"))
            continue
        if name in seen:
            problems.append(Problem(where, name, None, "each column name once, but it repeats"))
        seen.add(name)
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    misspelt = {
        name: known
        for name in columns
        if name not in COLUMNS and (known := _close_column(name)) and known not in seen
    }
    for name, known in misspelt.items():
        if known in missing:
            continue  # said with the missing column below
        problems.append(
            Problem(
                where,
                name,
                None,
                f"a column of the report format: did you mean {known!r}? Left as it is, "
                f"the column would be ignored and every row would read {known!r} as blank",
            )
        )
    if not missing:
        return columns, problems
    if len(columns) == 1:
        for delimiter, described in _DELIMITER_HINTS.items():
            split = {part.strip().lower() for part in columns[0].split(delimiter)}
            if set(REQUIRED_COLUMNS) <= split:
                problems.append(
                    Problem(
                        where,
                        None,
                        None,
                        f"comma-separated columns, but the header is separated by {described}; "
                        "save the file with commas as the delimiter",
                    )
                )
                return columns, problems
    if not set(REQUIRED_COLUMNS) & seen:
        shown = ", ".join(repr(name) for name in columns[:8])
        more = ", ..." if len(columns) > 8 else ""
        problems.append(
            Problem(
                where,
                None,
                None,
                "a table of reports with the columns "
                f"{', '.join(REQUIRED_COLUMNS)}; found none of them (columns: {shown}{more})",
            )
        )
        return columns, problems
    for name in missing:
        lookalike = [column for column, known in misspelt.items() if known == name]
        hint = f" (did you mean the column {lookalike[0]!r}?)" if lookalike else ""
        problems.append(
            Problem(where, name, None, f"this required column, but it is missing{hint}")
        )
    return columns, problems


def _close_column(name: str) -> str | None:
    """Return the format's column that ``name`` looks like a misspelling of, if any."""
    spelled = re.sub(r"[\s\-.]+", "_", name)
    if spelled in COLUMNS:
        return spelled
    close = difflib.get_close_matches(spelled, COLUMNS, n=1, cutoff=0.85)
    return close[0] if close else None


def _read_frame(frame: pd.DataFrame) -> RawTable:
    origin = "DataFrame"
    header = [str(name) for name in frame.columns]
    columns, problems = _check_header(header, "header")
    if problems:
        raise ReportError(problems, origin)
    if len(frame) == 0:
        problem = Problem("DataFrame", None, None, "at least one report, got 0 rows")
        raise ReportError([problem], origin)
    rows = []
    records = zip(frame.index, frame.itertuples(index=False), strict=True)
    for position, (label, values) in enumerate(records):
        cells, refused = {}, {}
        for name, value in zip(columns, values, strict=True):
            if isinstance(value, _NOT_A_CELL):
                kind = type(value).__name__
                refused[name] = f"a single text, number or date, not a {kind} object"
                cells[name] = repr(value)
            else:
                cells[name] = _cell_text(value)
        rows.append(RawRow(_frame_location(label, position), cells, refused))
    return RawTable(tuple(columns), tuple(rows), origin)


_NOT_A_CELL = (list, tuple, dict, set, frozenset, bytes, bytearray, np.ndarray, pd.Series)
"""Objects a DataFrame cell may hold that no CSV cell could: refused, not printed as text."""


def _frame_location(label: Hashable, position: int) -> str:
    if isinstance(label, numbers.Integral) and label == position:
        return f"row {position}"
    return f"row {position} (index {label!r})"


def _cell_text(value: object) -> str:
    """Render one DataFrame cell as the text a CSV file would hold."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, decimal.Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return str(int(value))  # Decimal("600.00") is 600, as the float 600.0 is
        return "" if value.is_nan() else str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return ""
        if number.is_integer():
            return str(int(number))
        return repr(number)
    if isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        if stamp == stamp.normalize() and stamp.tzinfo is None:
            return stamp.date().isoformat()
        return stamp.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
