"""Tests of the report format: what ``nkest.load_reports`` accepts, refuses and keeps.

Every refusal is checked for where it points: the file line (the header is
line 1) or DataFrame row, the report_id when the row has one, the column and
the offending value. Inputs that once raised something other than a
``ReportError`` are pinned in the section "Former crashes".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import nkest
from nkest import Problem, ReportError, Reports, ReportWarning, load_reports
from nkest.reports import (
    CONSTRAINTS,
    OPTIONAL_COLUMNS,
    QUALIFIERS,
    QUANTITIES,
    REQUIRED_COLUMNS,
    SCOPES,
)

TODAY = dt.date.today()
TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()
GOOD_ROW = {"published": "2024-12-19", "source": "Agency A", "quantity": "killed", "value": "100"}
HEADER = ",".join(REQUIRED_COLUMNS)
ALL_QUALIFIERS = ", ".join(QUALIFIERS)


def located(location: str, column: str | None, value: str | None) -> str:
    """Return a regex matching the start of the message line of one problem."""
    where = location if column is None else f"{location}, column {column!r}"
    return re.escape(where if value is None else f"{where}: got {value!r}; expected ")


def only_problem(error: pytest.ExceptionInfo[ReportError]) -> Problem:
    (problem,) = error.value.problems
    return problem


# ---------------------------------------------------------------------------
# Refused cells: one bad cell in an otherwise valid row
# ---------------------------------------------------------------------------

# (overrides of GOOD_ROW, column of the problem, value shown, part of "expected")
BAD_CELLS = {
    # vocabularies
    "quantity-unknown": (
        {"quantity": "dead"},
        "quantity",
        "dead",
        "one of: killed, wounded, casualties, captured, missing, deployed",
    ),
    "quantity-blank": ({"quantity": ""}, "quantity", "", "one of: killed"),
    "quantity-upper-case": (
        {"quantity": "Killed"},
        "quantity",
        "Killed",
        "(write it in lower case: 'killed')",
    ),
    "quantity-plural-typo": ({"quantity": "kills"}, "quantity", "kills", "one of: killed"),
    "qualifier-unknown": ({"qualifier": "about"}, "qualifier", "about", ALL_QUALIFIERS),
    "qualifier-upper-case": ({"qualifier": "APPROX"}, "qualifier", "APPROX", "'approx'"),
    "scope-unknown": ({"scope": "total"}, "scope", "total", "one of: cumulative, period, incident"),
    "constraint-unknown": ({"constraint": "max"}, "constraint", "max", "one of: floor, cap"),
    "date-confidence-unknown": (
        {"date_confidence": "certain"},
        "date_confidence",
        "certain",
        "one of: high, medium, low",
    ),
    # value
    "value-negative": ({"value": "-5"}, "value", "-5", "not a negative number"),
    "value-negative-grouped": ({"value": "-6,000"}, "value", "-6,000", "not a negative number"),
    "value-fraction": ({"value": "2.5"}, "value", "2.5", "not a fraction"),
    "value-text": ({"value": "many"}, "value", "many", "a non-negative whole number"),
    "value-worded": ({"value": "about 600"}, "value", "about 600", "such as 6000 or 6,000"),
    "value-infinite": ({"value": "inf"}, "value", "inf", "not an infinite value"),
    "value-overflowing-float": ({"value": "1e999"}, "value", "1e999", "not an infinite value"),
    "value-nan": ({"value": "nan"}, "value", "nan", "a non-negative whole number"),
    "value-exponent": ({"value": "1e3"}, "value", "1e3", "a non-negative whole number"),
    "value-plus-sign": ({"value": "+5"}, "value", "+5", "a non-negative whole number"),
    "value-blank": ({"value": ""}, "value", "", "(blank only in an excluded row)"),
    "value-spaces-only": ({"value": "   "}, "value", "   ", "(blank only in an excluded row)"),
    "value-bad-grouping": ({"value": "6,00"}, "value", "6,00", "in groups of three"),
    "value-leading-zero-group": ({"value": "0,600"}, "value", "0,600", "a decimal comma"),
    "value-space-grouping": ({"value": "6 000"}, "value", "6 000", "a non-negative whole number"),
    "value-shown-as-given": ({"value": " -5 "}, "value", " -5 ", "not a negative number"),
    "value-zero-fewer-than": (
        {"value": "0", "qualifier": "fewer_than"},
        "value",
        "0",
        "a number above 0 with qualifier fewer_than: no count is below 0",
    ),
    "value-zero-approaching": (
        {"value": "0", "qualifier": "approaching"},
        "value",
        "0",
        "a number above 0 with qualifier approaching",
    ),
    # dates
    "published-blank": ({"published": ""}, "published", "", "an ISO date (YYYY-MM-DD)"),
    "published-day-first": (
        {"published": "19/12/2024"},
        "published",
        "19/12/2024",
        "an ISO date (YYYY-MM-DD)",
    ),
    "published-with-time": (
        {"published": "2024-12-19T10:00"},
        "published",
        "2024-12-19T10:00",
        "an ISO date",
    ),
    "published-basic-iso": ({"published": "20241219"}, "published", "20241219", "an ISO date"),
    "published-impossible-day": (
        {"published": "2024-02-30"},
        "published",
        "2024-02-30",
        "a real calendar date",
    ),
    "published-impossible-month": (
        {"published": "2024-13-01"},
        "published",
        "2024-13-01",
        "a real calendar date",
    ),
    "published-year-zero": (
        {"published": "0000-01-01"},
        "published",
        "0000-01-01",
        "a real calendar date",
    ),
    "published-future": (
        {"published": TOMORROW},
        "published",
        TOMORROW,
        f"a date not in the future (today is {TODAY})",
    ),
    "as_of-impossible": ({"as_of": "2023-02-29"}, "as_of", "2023-02-29", "a real calendar date"),
    "as_of-future": ({"as_of": TOMORROW}, "as_of", TOMORROW, "a date not in the future"),
    "as_of-after-published": (
        {"as_of": "2024-12-20"},
        "as_of",
        "2024-12-20",
        "a date on or before published (2024-12-19)",
    ),
    # ranges
    "range-without-value_high": (
        {"qualifier": "range"},
        "value_high",
        "",
        "the upper end of the range (qualifier is range)",
    ),
    "range-value_high-below-value": (
        {"qualifier": "range", "value_high": "50"},
        "value_high",
        "50",
        "a number at least value (100) in a range",
    ),
    "range-value_high-not-a-number": (
        {"qualifier": "range", "value_high": "lots"},
        "value_high",
        "lots",
        "a non-negative whole number",
    ),
    "range-value_high-negative": (
        {"qualifier": "range", "value_high": "-200"},
        "value_high",
        "-200",
        "not a negative number",
    ),
    "value_high-on-approx": (
        {"qualifier": "approx", "value_high": "200"},
        "value_high",
        "200",
        "a blank: value_high belongs to range rows only (qualifier is approx)",
    ),
    "value_high-on-default-qualifier": (
        {"value_high": "200"},
        "value_high",
        "200",
        "value_high belongs to range rows only (qualifier is approx)",
    ),
    "value_high-on-at_least": (
        {"qualifier": "at_least", "value_high": "200"},
        "value_high",
        "200",
        "(qualifier is at_least)",
    ),
    # windows
    "period-without-start": (
        {"scope": "period", "period_end": "2024-12-01"},
        "period_start",
        "",
        "a date: a period row counts within period_start..period_end",
    ),
    "period-without-end": (
        {"scope": "period", "period_start": "2024-11-01"},
        "period_end",
        "",
        "a date: a period row counts within period_start..period_end",
    ),
    "incident-without-start": (
        {"scope": "incident", "period_end": "2024-12-01"},
        "period_start",
        "",
        "a date: an incident row counts within period_start..period_end",
    ),
    "incident-without-end": (
        {"scope": "incident", "period_start": "2024-12-01"},
        "period_end",
        "",
        "an incident row counts within",
    ),
    "period-start-impossible": (
        {"scope": "period", "period_start": "2024-11-31", "period_end": "2024-12-01"},
        "period_start",
        "2024-11-31",
        "a real calendar date",
    ),
    "period-end-not-iso": (
        {"scope": "period", "period_start": "2024-11-01", "period_end": "Dec 2024"},
        "period_end",
        "Dec 2024",
        "an ISO date (YYYY-MM-DD)",
    ),
    "period-reversed": (
        {"scope": "period", "period_start": "2024-12-01", "period_end": "2024-11-01"},
        "period_end",
        "2024-11-01",
        "a date on or after period_start (2024-12-01)",
    ),
    "period-end-after-published": (
        {"scope": "period", "period_start": "2024-12-01", "period_end": "2024-12-25"},
        "period_end",
        "2024-12-25",
        "a date on or before published (2024-12-19)",
    ),
    "cumulative-with-period_start": (
        {"period_start": "2024-11-01"},
        "period_start",
        "2024-11-01",
        "a blank: a cumulative row has no window (use scope period or incident)",
    ),
    "cumulative-with-period_end": (
        {"scope": "cumulative", "period_end": "2024-11-01"},
        "period_end",
        "2024-11-01",
        "a cumulative row has no window",
    ),
    # source
    "source-blank": ({"source": ""}, "source", "", "a non-blank name"),
    "source-spaces-only": ({"source": "   "}, "source", "   ", "a non-blank name"),
    # constraints
    "floor-on-deployed": (
        {"quantity": "deployed", "constraint": "floor"},
        "constraint",
        "floor",
        "cap or blank on a deployed row (troops sent cap losses)",
    ),
    **{
        f"floor-with-{qualifier}": (
            {"constraint": "floor", "qualifier": qualifier},
            "qualifier",
            qualifier,
            f"on a floor: a {qualifier} figure is no lower bound",
        )
        for qualifier in ("at_most", "fewer_than", "approaching")
    },
    **{
        f"cap-with-{qualifier}": (
            {"constraint": "cap", "qualifier": qualifier},
            "qualifier",
            qualifier,
            f"on a cap: a {qualifier} figure is no upper bound",
        )
        for qualifier in ("at_least", "more_than")
    },
    # excluded rows must still be well-formed
    "excluded-bad-value": (
        {"exclude": "duplicate", "value": "many"},
        "value",
        "many",
        "a non-negative whole number",
    ),
    "excluded-unknown-quantity": (
        {"exclude": "duplicate", "quantity": "dead"},
        "quantity",
        "dead",
        "one of: killed",
    ),
    "excluded-blank-source": ({"exclude": "duplicate", "source": ""}, "source", "", "non-blank"),
    "excluded-future-published": (
        {"exclude": "forecast", "published": TOMORROW},
        "published",
        TOMORROW,
        "a date not in the future",
    ),
    "excluded-cumulative-with-window": (
        {"exclude": "duplicate", "period_start": "2024-11-01"},
        "period_start",
        "2024-11-01",
        "a cumulative row has no window",
    ),
    "excluded-reversed-window": (
        {
            "exclude": "duplicate",
            "scope": "period",
            "period_start": "2024-12-01",
            "period_end": "2024-11-01",
        },
        "period_end",
        "2024-11-01",
        "a date on or after period_start",
    ),
    "excluded-range-without-value_high": (
        {"exclude": "duplicate", "qualifier": "range"},
        "value_high",
        "",
        "the upper end of the range",
    ),
}


@pytest.mark.parametrize("kind", ["csv", "frame"])
@pytest.mark.parametrize("with_id", [True, False], ids=["with-id", "without-id"])
@pytest.mark.parametrize(
    ("overrides", "column", "shown", "expected"),
    list(BAD_CELLS.values()),
    ids=list(BAD_CELLS),
)
def test_refuses_bad_cell(kind, with_id, overrides, column, shown, expected, write_csv):
    good, bad = dict(GOOD_ROW), {**GOOD_ROW, **overrides}
    if with_id:
        good, bad = {"report_id": "ok-1", **good}, {"report_id": "bad-1", **bad}
    if kind == "csv":
        data, where = write_csv([good, bad]), "line 3"
    else:
        data, where = pd.DataFrame([good, bad]), "row 1"
    if with_id:
        where += " (report_id bad-1)"
    with pytest.raises(ReportError, match=located(where, column, shown)) as error:
        load_reports(data)
    problem = only_problem(error)
    assert (problem.location, problem.column, problem.value) == (where, column, shown)
    assert expected in problem.expected
    assert expected in str(error.value)


def test_problem_message_names_the_file_and_counts(write_csv):
    path = write_csv([GOOD_ROW, {**GOOD_ROW, "value": "-5"}])
    with pytest.raises(ReportError) as error:
        load_reports(path)
    assert str(error.value) == (
        f"1 problem in {path}:\n"
        "  - line 3, column 'value': got '-5'; expected a non-negative whole number "
        "such as 6000 or 6,000, not a negative number"
    )
    assert isinstance(error.value, ValueError)
    assert error.value.origin == str(path)


def test_window_missing_on_both_ends_is_two_problems(write_csv):
    path = write_csv([{**GOOD_ROW, "scope": "incident", "period_start": "", "period_end": ""}])
    with pytest.raises(ReportError) as error:
        load_reports(path)
    assert [(p.location, p.column) for p in error.value.problems] == [
        ("line 2", "period_start"),
        ("line 2", "period_end"),
    ]


@pytest.mark.parametrize("kind", ["csv", "frame"])
def test_refuses_duplicate_report_id(kind, write_csv):
    rows = [
        {"report_id": "r1", **GOOD_ROW},
        {"report_id": "r2", **GOOD_ROW},
        {"report_id": " r1 ", **GOOD_ROW},
    ]
    data = write_csv(rows) if kind == "csv" else pd.DataFrame(rows)
    first, third = ("line 2", "line 4") if kind == "csv" else ("row 0", "row 2")
    with pytest.raises(
        ReportError, match=located(f"{third} (report_id r1)", "report_id", "r1")
    ) as error:
        load_reports(data)
    problem = only_problem(error)
    assert problem == Problem(
        f"{third} (report_id r1)", "report_id", "r1", f"a unique report_id, but {first} has it too"
    )


@pytest.mark.parametrize(
    ("cell", "shown", "expected"),
    [
        (-5, "-5", "not a negative number"),
        (2.5, "2.5", "not a fraction"),
        (float("inf"), "inf", "not an infinite value"),
        (float("-inf"), "-inf", "not an infinite value"),
        (float("nan"), "", "(blank only in an excluded row)"),
        (None, "", "(blank only in an excluded row)"),
        (pd.NA, "", "(blank only in an excluded row)"),
        (600.5, "600.5", "not a fraction"),
        (True, "True", "a non-negative whole number"),
        (Fraction(3, 2), "1.5", "not a fraction"),
    ],
    ids=repr,
)
def test_refuses_bad_native_value_in_frame(cell, shown, expected):
    frame = pd.DataFrame([GOOD_ROW, GOOD_ROW]).astype(object)
    frame.loc[1, "value"] = cell
    with pytest.raises(ReportError, match=located("row 1", "value", shown)) as error:
        load_reports(frame)
    assert expected in only_problem(error).expected


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        (pd.Timestamp(TOMORROW), TOMORROW),
        (pd.Timestamp("2024-12-19 10:30"), "2024-12-19T10:30:00"),
        (pd.Timestamp("2024-12-19", tz="UTC"), "2024-12-19T00:00:00+00:00"),
        (None, ""),
    ],
    ids=["future", "with-time", "with-timezone", "missing"],
)
def test_refuses_bad_native_date_in_frame(cell, shown):
    frame = pd.DataFrame([GOOD_ROW, GOOD_ROW]).astype(object)
    frame.loc[1, "published"] = cell
    with pytest.raises(ReportError, match=located("row 1", "published", shown)):
        load_reports(frame)


def test_frame_row_with_a_non_default_index_names_position_and_label():
    frame = pd.DataFrame(
        [GOOD_ROW, {**GOOD_ROW, "quantity": "dead"}, {**GOOD_ROW, "report_id": "x", "value": "-1"}],
        index=["a", "b", "c"],
    )
    with pytest.raises(ReportError) as error:
        load_reports(frame)
    assert [p.location for p in error.value.problems] == [
        "row 1 (index 'b')",
        "row 2 (index 'c') (report_id x)",
    ]


# ---------------------------------------------------------------------------
# Refused files and tables
# ---------------------------------------------------------------------------

EMPTY = "a table of reports, but the file is empty"
ONLY_HEADER = "at least one report, but the file has only a header"


@pytest.mark.parametrize(
    ("content", "location", "expected"),
    [
        pytest.param(b"", "file", EMPTY, id="zero-bytes"),
        pytest.param(b" \n\r\n\t\n", "file", EMPTY, id="whitespace-only"),
        pytest.param(f"{HEADER}\n", "file", ONLY_HEADER, id="header-only"),
        pytest.param(HEADER, "file", ONLY_HEADER, id="header-without-newline"),
        pytest.param(f"{HEADER}\n\n  \n\n", "file", ONLY_HEADER, id="header-and-blank-lines"),
        pytest.param(f"{HEADER}\n,,,\n , , ,\n", "file", ONLY_HEADER, id="header-and-empty-cells"),
        pytest.param(
            "published;source;quantity;value\n2024-12-19;A;killed;100\n",
            "line 1",
            "comma-separated columns, but the header is separated by semicolons; "
            "save the file with commas as the delimiter",
            id="semicolons",
        ),
        pytest.param(
            "published\tsource\tquantity\tvalue\n2024-12-19\tA\tkilled\t100\n",
            "line 1",
            "the header is separated by tabs",
            id="tabs",
        ),
        pytest.param(
            "Published | Source | Quantity | Value\n2024-12-19 | A | killed | 100\n",
            "line 1",
            "the header is separated by vertical bars",
            id="vertical-bars",
        ),
        pytest.param(
            "name,age\nbob,5\n",
            "line 1",
            "a table of reports with the columns published, source, quantity, value; "
            "found none of them (columns: 'name', 'age')",
            id="unrelated-columns",
        ),
        pytest.param(
            "a,b,c,d,e,f,g,h,i,j\n1,2,3,4,5,6,7,8,9,10\n",
            "line 1",
            "found none of them (columns: 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', ...)",
            id="many-unrelated-columns",
        ),
        pytest.param(
            "This is a note about casualties.\nIt is not a table.\n",
            "line 1",
            "found none of them (columns: 'this is a note about casualties.')",
            id="prose",
        ),
        pytest.param(
            '{"published": "2024-12-19", "value": 100}\n',
            "line 1",
            "found none of them",
            id="json",
        ),
        pytest.param(
            '"published"x,source,quantity,value\n2024-12-19,A,killed,100\n',
            "line 1",
            "a CSV header (',' expected after '\"')",
            id="malformed-header",
        ),
        pytest.param(
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
            "file",
            "a text (CSV) file, but byte 5 is a NUL byte: this looks like binary data "
            "(a spreadsheet? export it as CSV, UTF-8)",
            id="spreadsheet-bytes",
        ),
        pytest.param(
            f"{HEADER}\n2024-12-19,A,killed,100\n".encode("utf-16"),
            "file",
            "UTF-8 text, but the file is UTF-16 text",
            id="utf-16",
        ),
        pytest.param(
            f"{HEADER}\n2024-12-19,A,killed,100\n".encode("utf-16-be"),
            "file",
            "UTF-8 text, but the file is UTF-16 text",
            id="utf-16-without-byte-order-mark",
        ),
        pytest.param(
            f"{HEADER}\n2024-12-19,Минобороны России,killed,100\n".encode("utf-16"),
            "file",
            "UTF-8 text, but the file is UTF-16 text",
            id="utf-16-cyrillic",
        ),
        pytest.param(
            f"{HEADER}\n2024-12-19,A,killed,100\n".encode("utf-32"),
            "file",
            "is a NUL byte: this looks like binary data",
            id="utf-32-is-not-called-utf-16",
        ),
        pytest.param(
            b"\x00" * 500,
            "file",
            "byte 0 is a NUL byte: this looks like binary data",
            id="zeros",
        ),
    ],
)
def test_refuses_file_that_is_not_a_table_of_reports(content, location, expected, write_csv):
    match = re.escape(f"  - {location}: ") + ".*" + re.escape(expected)
    with pytest.raises(ReportError, match=match) as error:
        load_reports(write_csv(content))
    problem = only_problem(error)
    assert (problem.location, problem.column, problem.value) == (location, None, None)
    assert expected in problem.expected


def test_refuses_undecodable_text_at_its_line(write_csv):
    content = f"{HEADER}\n2024-12-19,A,killed,100\n2024-12-19,Caf\xe9,killed,100\n"
    path = write_csv(content.encode("latin-1"))
    offset = content.index("\xe9")
    with pytest.raises(ReportError, match=located("line 3", None, "\\xe9")) as error:
        load_reports(path)
    assert only_problem(error) == Problem(
        "line 3",
        None,
        "\\xe9",
        f"UTF-8 text, but byte {offset} cannot be decoded (save the file as CSV, UTF-8)",
    )


@pytest.mark.parametrize("missing", [[name] for name in REQUIRED_COLUMNS] + [["source", "value"]])
def test_refuses_missing_required_column(missing, write_csv):
    rows = [{k: v for k, v in GOOD_ROW.items() if k not in missing}]
    with pytest.raises(ReportError, match=re.escape(f"line 1, column {missing[0]!r}: this")) as e:
        load_reports(write_csv(rows))
    assert e.value.problems == tuple(
        Problem("line 1", name, None, "this required column, but it is missing") for name in missing
    )
    with pytest.raises(ReportError) as e:
        load_reports(pd.DataFrame(rows))
    assert [(p.location, p.column) for p in e.value.problems] == [("header", n) for n in missing]


def test_refuses_repeated_column_names_after_normalising(write_csv):
    content = f"{HEADER}, Value \n2024-12-19,A,killed,100,200\n"
    with pytest.raises(ReportError, match=re.escape("line 1, column 'value': each column")):
        load_reports(write_csv(content))
    frame = pd.DataFrame([{**GOOD_ROW, "VALUE": "200"}])
    with pytest.raises(ReportError, match=re.escape("header, column 'value': each column")):
        load_reports(frame)


@pytest.mark.parametrize(
    ("row", "found"),
    [("2024-12-19,A,killed,6,000", 5), ("2024-12-19,A,killed", 3), ("2024-12-19,A,killed,1,", 5)],
    ids=["unquoted-comma", "too-few", "trailing-comma"],
)
def test_refuses_row_with_wrong_number_of_fields(row, found, write_csv):
    content = f"{HEADER}\n2024-12-19,A,killed,100\n\n{row}\n"
    with pytest.raises(ReportError, match=re.escape("line 4: 4 fields as in the header")) as e:
        load_reports(write_csv(content))
    assert only_problem(e).expected.startswith(f"4 fields as in the header, found {found} (")


def test_refuses_malformed_quoting_at_its_line(write_csv):
    content = f'{HEADER}\n2024-12-19,A,killed,100\n2024-12-19,"A"x,killed,100\n'
    with pytest.raises(ReportError, match=re.escape("line 3: valid CSV (")):
        load_reports(write_csv(content))


def test_refuses_missing_file_and_directory(tmp_path):
    with pytest.raises(ReportError, match="file: an existing file"):
        load_reports(tmp_path / "nowhere.csv")
    with pytest.raises(ReportError, match="file: a CSV file, not a directory"):
        load_reports(tmp_path)


def test_refuses_frame_without_rows_or_with_unrelated_columns():
    with pytest.raises(ReportError, match="DataFrame: at least one report, got 0 rows"):
        load_reports(pd.DataFrame(columns=list(REQUIRED_COLUMNS)))
    with pytest.raises(ReportError, match="header: a table of reports with the columns"):
        load_reports(pd.DataFrame({"name": ["bob"], "age": [5]}))
    with pytest.raises(ReportError, match="header: a table of reports"):
        load_reports(pd.DataFrame())


def test_rejects_other_types_as_a_programming_error(minimal_frame):
    with pytest.raises(TypeError, match="a path to a CSV file or a pandas DataFrame, got list"):
        load_reports(minimal_frame.to_dict("records"))


@pytest.mark.parametrize("origin", ["soon", "2024-13-01", "01/09/2024"])
def test_refuses_metadata_origin_that_is_not_an_iso_date(origin, minimal_frame):
    with pytest.raises(ReportError, match=located("metadata", "origin", origin)):
        load_reports(minimal_frame, metadata={"origin": origin})


@pytest.mark.parametrize(
    ("key", "meant"), [("orgin", "origin"), ("Subjet", "subject"), ("titel", "title")]
)
def test_warns_of_a_misspelt_metadata_key_that_would_be_ignored(key, meant, minimal_frame):
    expected = rf"metadata key '{key}' is not one nkest reads: did you mean '{meant}'"
    with pytest.warns(ReportWarning, match=expected):
        reports = load_reports(minimal_frame, metadata={key: "2024-09-01"})
    assert reports.metadata[key] == "2024-09-01"  # kept, not dropped
    with pytest.warns(ReportWarning, match=expected):
        load_reports(minimal_frame).with_metadata({key: "2024-09-01"})


def test_keeps_metadata_keys_of_the_users_own_without_a_warning(minimal_frame):
    own = {
        "author": "Desk A",
        "names": "a list",
        "title_ru": "заголовок",
        "reports_up_to_date": "2025-01-01",
        "citations": "three",
        "origin": "2024-09-01",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReportWarning)
        assert dict(load_reports(minimal_frame, metadata=own).metadata) == own
        # a near miss beside the key it looks like is a key of one's own, not a typo
        both = {"origin": "2024-09-01", "orgin": "the ministry's wording"}
        assert dict(load_reports(minimal_frame, metadata=both).metadata) == both
        later = load_reports(minimal_frame, metadata={"origin": "2024-09-01"})
        assert later.with_metadata({"orgin": "x"}).metadata["orgin"] == "x"


# ---------------------------------------------------------------------------
# Every problem at once
# ---------------------------------------------------------------------------


def test_reports_every_bad_row_at_once_in_file_order(write_csv):
    content = (
        "report_id,published,source,quantity,value,note\n"  # line 1
        "a,2024-12-19,Agency A,killed,100,\n"  # line 2
        "b,2024-12-19,Agency A,dead,100,\n"  # line 3: quantity
        "\n"  # line 4: blank
        'c,2024-12-19,Agency A,killed,100,"two\nlines, and a comma"\n'  # lines 5-6
        "d,2024-12-32,Agency A,killed,100,\n"  # line 7: published
        ",2024-12-19,Agency A,killed,-3,\n"  # line 8: value, no report_id
    )
    with pytest.raises(ReportError, match=r"^3 problems in ") as error:
        load_reports(write_csv(content))
    assert [(p.location, p.column, p.value) for p in error.value.problems] == [
        ("line 3 (report_id b)", "quantity", "dead"),
        ("line 7 (report_id d)", "published", "2024-12-32"),
        ("line 8", "value", "-3"),
    ]


def test_reports_every_problem_of_one_row(write_csv):
    row = {
        "published": "2024-12-32",
        "source": "",
        "quantity": "dead",
        "value": "-1",
        "qualifier": "about",
        "scope": "total",
        "date_confidence": "sure",
    }
    with pytest.raises(ReportError, match=r"^7 problems") as error:
        load_reports(write_csv([row]))
    assert {p.column for p in error.value.problems} == set(row)
    assert {p.location for p in error.value.problems} == {"line 2"}


def test_reports_every_problem_of_a_frame():
    frame = pd.DataFrame(
        [
            {**GOOD_ROW, "report_id": "a", "qualifier": "range"},
            GOOD_ROW,
            {**GOOD_ROW, "report_id": "c", "as_of": "2025-01-01"},
        ]
    )
    with pytest.raises(ReportError) as error:
        load_reports(frame)
    assert [(p.location, p.column) for p in error.value.problems] == [
        ("row 0 (report_id a)", "value_high"),
        ("row 2 (report_id c)", "as_of"),
    ]


def test_duplicate_id_problem_is_in_file_order(write_csv):
    rows = [
        {"report_id": "r1", **GOOD_ROW},
        {"report_id": "r1", **GOOD_ROW},
        {"report_id": "r3", **GOOD_ROW, "value": "x"},
    ]
    with pytest.raises(ReportError) as error:
        load_reports(write_csv(rows))
    assert [p.location.split(" (")[0] for p in error.value.problems] == ["line 3", "line 4"]


def test_unterminated_quote_is_reported_where_the_record_starts(write_csv):
    content = (
        f"{HEADER}\n"
        "2024-12-19,A,killed,100\n"
        '2024-12-19,"A,killed,100\n'  # line 3: the quote never closes
        "2024-12-19,A,killed,100\n"
        "2024-12-19,A,killed,100\n"
    )
    with pytest.raises(ReportError, match=re.escape("line 3: valid CSV")):
        load_reports(write_csv(content))


# ---------------------------------------------------------------------------
# Accepted input
# ---------------------------------------------------------------------------


def test_loads_minimal_frame_with_defaults(minimal_frame):
    reports = load_reports(minimal_frame)
    assert isinstance(reports, Reports)
    assert len(reports) == 3
    frame = reports.to_frame()
    assert list(frame.columns[: len(nkest.reports.COLUMNS)]) == list(nkest.reports.COLUMNS)
    assert frame["value"].tolist() == [100, 3000, 600]
    assert str(frame["value"].dtype) == "Int64"
    assert frame["report_id"].tolist() == ["row-0", "row-1", "row-2"]
    assert (frame["qualifier"] == "approx").all()
    assert (frame["scope"] == "cumulative").all()
    assert (frame["as_of"] == frame["published"]).all()
    assert (frame["source_group"] == "ungrouped").all()
    for name in ("constraint", "exclude", "relayed_by", "citation", "date_confidence", "note"):
        assert (frame[name] == "").all(), name
    assert frame["value_high"].isna().all()
    assert frame["period_start"].isna().all()
    assert frame["period_end"].isna().all()
    for name in ("published", "as_of", "period_start", "period_end"):
        assert pd.api.types.is_datetime64_dtype(frame[name]), name


def test_blank_optional_cells_take_defaults(write_csv):
    row = {**GOOD_ROW, "report_id": " ", "as_of": "", "qualifier": " ", "scope": "", "note": ""}
    frame = load_reports(write_csv([row])).to_frame()
    assert frame.loc[0, ["report_id", "qualifier", "scope"]].tolist() == [
        "line-2",
        "approx",
        "cumulative",
    ]
    assert frame.loc[0, "as_of"] == pd.Timestamp("2024-12-19")


def test_generated_report_ids_are_unique_and_keep_given_ones(write_csv):
    rows = [
        {"report_id": "line-3", **GOOD_ROW},
        {"report_id": "", **GOOD_ROW},
        {"report_id": "", **GOOD_ROW},
        {"report_id": "line-3-2", **GOOD_ROW},
    ]
    ids = load_reports(write_csv(rows)).to_frame()["report_id"].tolist()
    assert ids[0] == "line-3"
    assert ids[3] == "line-3-2"
    assert ids[2] == "line-4"
    assert len(set(ids)) == 4


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        ("6,000", 6000),
        (" 6,000 ", 6000),
        ("1,234,567", 1234567),
        ("\t42\t", 42),
        ("0", 0),
        ("007", 7),
        ("600.0", 600),  # how pandas writes a whole number in a float column
    ],
)
def test_accepts_thousands_separators_and_spaces_in_numbers(cell, number, write_csv):
    row = {**GOOD_ROW, "value": cell, "qualifier": "range", "value_high": cell}
    frame = load_reports(write_csv([row])).to_frame()
    assert frame.loc[0, "value"] == number
    assert frame.loc[0, "value_high"] == number


def test_accepts_spaces_around_every_cell_and_column_name(write_csv):
    content = (
        " Report_ID , PUBLISHED,As_Of ,Source, Quantity ,Value,Qualifier,Scope,"
        "Period_Start,Period_End , Source_Group,Date_Confidence\n"
        "  r1 , 2024-12-19 , 2024-12-01 ,  Agency A  , killed , 100 , at_least , period ,"
        " 2024-11-01 , 2024-11-30 ,  Gov  , high \n"
    )
    frame = load_reports(write_csv(content)).to_frame()
    row = frame.loc[0]
    assert row["report_id"] == "r1"
    assert row["source"] == "Agency A"
    assert row["source_group"] == "Gov"
    assert (row["quantity"], row["qualifier"], row["scope"]) == ("killed", "at_least", "period")
    assert row["as_of"] == pd.Timestamp("2024-12-01")
    assert row["period_start"] == pd.Timestamp("2024-11-01")
    assert row["date_confidence"] == "high"


def test_accepts_utf8_bom_and_crlf(write_csv):
    content = f"{HEADER}\r\n2024-12-19,Agência Ä,killed,100\r\n\r\n2024-12-20,B,wounded,5\r\n"
    reports = load_reports(write_csv(b"\xef\xbb\xbf" + content.encode("utf-8")))
    assert len(reports) == 2
    assert reports.to_frame()["source"].tolist() == ["Agência Ä", "B"]
    bad = content.replace("wounded,5", "wounded,-5")
    with pytest.raises(ReportError, match=located("line 4", "value", "-5")):
        load_reports(write_csv(b"\xef\xbb\xbf" + bad.encode("utf-8")))


def test_accepts_old_mac_line_ends(write_csv):
    content = f"{HEADER}\r2024-12-19,A,killed,100\r2024-12-19,A,killed,x\r"
    with pytest.raises(ReportError, match=located("line 3", "value", "x")):
        load_reports(write_csv(content))


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_quoted_fields_with_commas_and_newlines_keep_line_numbers(newline, write_csv):
    lines = [
        f"{HEADER},note,citation",
        '2024-12-19,"Agency, A",killed,"6,000","first line',
        "second line",
        'third, with ""quotes"""," https://example.org/a?b=1,2 "',
        "",
        '2024-12-20,B,killed,-7,"one more',
        'line",',
    ]
    content = newline.join(lines) + newline
    with pytest.raises(ReportError, match=located("line 6", "value", "-7")):
        load_reports(write_csv(content))
    reports = load_reports(write_csv(content.replace("-7", "7")))
    frame = reports.to_frame()
    assert frame["source"].tolist() == ["Agency, A", "B"]
    assert frame["value"].tolist() == [6000, 7]
    assert frame.loc[0, "note"] == f'first line{newline}second line{newline}third, with "quotes"'
    assert frame.loc[0, "citation"] == "https://example.org/a?b=1,2"
    assert frame["report_id"].tolist() == ["line-2", "line-6"]


def test_blank_lines_are_skipped_but_counted(write_csv):
    content = f"{HEADER}\n\n2024-12-19,A,killed,100\n \n,,,\n\n2024-12-19,A,killed,many\n"
    with pytest.raises(ReportError, match=located("line 7", "value", "many")):
        load_reports(write_csv(content))
    reports = load_reports(write_csv(content.replace("many", "5")))
    assert len(reports) == 2
    assert reports.to_frame()["report_id"].tolist() == ["line-3", "line-7"]


def test_keeps_unknown_columns_with_their_values(write_csv):
    rows = [
        {**GOOD_ROW, "Analyst": "kim", "score": " 0.5 ", "empty": ""},
        {**GOOD_ROW, "Analyst": "", "score": "x", "empty": ""},
    ]
    with pytest.warns(ReportWarning, match="columns nkest does not use, kept as they are: analyst"):
        frame = load_reports(write_csv(rows)).to_frame()
    assert list(frame.columns[-3:]) == ["analyst", "score", "empty"]
    assert frame["analyst"].tolist() == ["kim", ""]
    assert frame["score"].tolist() == [" 0.5 ", "x"]
    assert frame["empty"].tolist() == ["", ""]


def test_keeps_unknown_frame_columns_as_text():
    frame = pd.DataFrame([GOOD_ROW, GOOD_ROW]).assign(weight=[1.5, np.nan], flag=[True, False])
    with pytest.warns(ReportWarning, match="kept as they are: weight, flag"):
        loaded = load_reports(frame).to_frame()
    assert loaded["weight"].tolist() == ["1.5", ""]
    assert loaded["flag"].tolist() == ["True", "False"]


@pytest.mark.parametrize("quantity", QUANTITIES)
@pytest.mark.parametrize("scope", SCOPES)
def test_accepts_every_quantity_and_scope(quantity, scope, write_csv):
    row = {**GOOD_ROW, "quantity": quantity, "scope": scope}
    if scope != "cumulative":
        row |= {"period_start": "2024-12-01", "period_end": "2024-12-19"}
    frame = load_reports(write_csv([row])).to_frame()
    assert (frame.loc[0, "quantity"], frame.loc[0, "scope"]) == (quantity, scope)


@pytest.mark.parametrize("qualifier", QUALIFIERS)
def test_accepts_every_qualifier(qualifier, write_csv):
    row = {**GOOD_ROW, "qualifier": qualifier}
    if qualifier == "range":
        row["value_high"] = "100"  # value_high == value is a range of one number
    frame = load_reports(write_csv([row])).to_frame()
    assert frame.loc[0, "qualifier"] == qualifier


@pytest.mark.parametrize(
    ("constraint", "qualifier", "quantity"),
    [("floor", q, "killed") for q in ("exact", "approx", "at_least", "more_than", "range")]
    + [
        ("cap", q, quantity)
        for q in ("exact", "approx", "at_most", "fewer_than", "approaching", "range")
        for quantity in ("killed", "deployed")
    ],
)
def test_accepts_constraints_with_bounding_qualifiers(constraint, qualifier, quantity, write_csv):
    row = {**GOOD_ROW, "quantity": quantity, "qualifier": qualifier, "constraint": constraint}
    if qualifier == "range":
        row["value_high"] = "200"
    frame = load_reports(write_csv([row])).to_frame()
    assert frame.loc[0, "constraint"] == constraint


@pytest.mark.parametrize("confidence", ["high", "medium", "low", ""])
def test_accepts_date_confidence(confidence, write_csv):
    frame = load_reports(write_csv([{**GOOD_ROW, "date_confidence": confidence}])).to_frame()
    assert frame.loc[0, "date_confidence"] == confidence


def test_excluded_rows_may_have_blank_value_and_a_later_horizon(write_csv):
    rows = [
        GOOD_ROW,
        {**GOOD_ROW, "value": "", "exclude": "duplicate of line 2"},
        {**GOOD_ROW, "as_of": "2025-12-31", "exclude": "forecast for end of 2025"},
        {
            **GOOD_ROW,
            "scope": "period",
            "period_start": "2024-12-01",
            "period_end": "2025-03-31",
            "exclude": "projection",
        },
    ]
    reports = load_reports(write_csv(rows))
    assert len(reports) == 4
    assert len(reports.kept) == 1
    assert reports.excluded["exclude"].tolist() == [
        "duplicate of line 2",
        "forecast for end of 2025",
        "projection",
    ]
    assert pd.isna(reports.to_frame().loc[1, "value"])


def test_accepts_boundary_dates(write_csv):
    rows = [
        {**GOOD_ROW, "published": TODAY.isoformat()},
        {**GOOD_ROW, "as_of": "2024-12-19"},
        {**GOOD_ROW, "scope": "incident", "period_start": "2024-12-19", "period_end": "2024-12-19"},
        {**GOOD_ROW, "published": "2024-02-29"},
    ]
    assert len(load_reports(write_csv(rows))) == 4


def test_accepts_frame_with_floats_nan_and_datetimes():
    frame = pd.DataFrame(
        {
            "published": pd.to_datetime(["2024-12-19", "2025-01-13", "2025-04-30"]),
            "as_of": [pd.Timestamp("2024-12-01"), pd.NaT, pd.NaT],
            "source": ["A", "B", "A"],
            "quantity": ["killed", "killed", "wounded"],
            "value": [600.0, np.nan, 1200.0],
            "value_high": [np.nan, np.nan, 1500.0],
            "qualifier": ["approx", None, "range"],
            "scope": ["cumulative", "cumulative", "period"],
            "period_start": [None, None, dt.date(2025, 1, 1)],
            "period_end": [None, None, dt.datetime(2025, 3, 31)],
            "exclude": ["", "no figure given", np.nan],
            "report_id": pd.array(["a", pd.NA, "c"], dtype="string"),
        }
    )
    loaded = load_reports(frame).to_frame()
    assert loaded["value"].tolist()[0::2] == [600, 1200]
    assert pd.isna(loaded.loc[1, "value"])
    assert loaded.loc[2, "value_high"] == 1500
    assert loaded["as_of"].tolist() == [
        pd.Timestamp("2024-12-01"),
        pd.Timestamp("2025-01-13"),
        pd.Timestamp("2025-04-30"),
    ]
    assert loaded.loc[2, "period_end"] == pd.Timestamp("2025-03-31")
    assert loaded["report_id"].tolist() == ["a", "row-1", "c"]
    assert loaded["qualifier"].tolist() == ["approx", "approx", "range"]


def test_accepts_frame_with_integer_and_object_columns():
    frame = pd.DataFrame(
        {
            "published": [dt.date(2024, 12, 19), "2024-12-20"],
            "source": ["A", "B"],
            "quantity": pd.Categorical(["killed", "wounded"]),
            "value": pd.array([np.int64(5), 7], dtype="Int64"),
        },
        index=[10, 11],
    )
    loaded = load_reports(frame).to_frame()
    assert loaded["value"].tolist() == [5, 7]
    assert loaded.index.tolist() == [0, 1]
    assert loaded["report_id"].tolist() == ["row-0", "row-1"]


def test_accepts_object_values_that_print_as_whole_numbers():
    frame = pd.DataFrame([GOOD_ROW] * 3).astype(object)
    frame["value"] = [Decimal("600"), np.int8(5), np.float32(7.0)]
    assert load_reports(frame).to_frame()["value"].tolist() == [600, 5, 7]


def test_accepts_the_bundled_dataset_file():
    with resources.as_file(resources.files("nkest.datasets") / "dprk_reports.csv") as path:
        reports = load_reports(path)
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    assert len(reports) == len(rows) - 1


# ---------------------------------------------------------------------------
# Round trips and the Reports object
# ---------------------------------------------------------------------------

ROUND_TRIP_ROWS = [
    {**GOOD_ROW, "report_id": "a", "note": "  kept, with a comma  ", "extra": " raw "},
    {
        **GOOD_ROW,
        "quantity": "casualties",
        "value": "10,000",
        "value_high": "12,000",
        "qualifier": "range",
        "scope": "period",
        "period_start": "2024-11-01",
        "period_end": "2024-11-30",
        "extra": "",
    },
    {**GOOD_ROW, "value": "", "exclude": "duplicate", "note": 'line\nbreak "quoted"'},
    {
        **GOOD_ROW,
        "quantity": "deployed",
        "value": "11000",
        "constraint": "cap",
        "as_of": "2024-11-01",
    },
]


@pytest.mark.filterwarnings("ignore::nkest.errors.ReportWarning")  # its extra column
@pytest.mark.parametrize("kind", ["csv", "frame"])
def test_round_trips_through_frame_and_csv(kind, write_csv, tmp_path):
    data = write_csv(ROUND_TRIP_ROWS) if kind == "csv" else pd.DataFrame(ROUND_TRIP_ROWS)
    reports = load_reports(data, metadata={"subject": "soldiers"})
    assert len(reports) == len(ROUND_TRIP_ROWS)

    again = load_reports(reports.to_frame(), metadata={"subject": "soldiers"})
    assert again == reports
    assert again.fingerprint() == reports.fingerprint()
    pd.testing.assert_frame_equal(again.to_frame(), reports.to_frame())

    reports.to_csv(tmp_path / "out.csv")
    from_csv = load_reports(tmp_path / "out.csv", metadata={"subject": "soldiers"})
    assert from_csv == reports
    pd.testing.assert_frame_equal(from_csv.to_frame(), reports.to_frame())


def test_fingerprint_changes_with_any_cell(minimal_frame):
    reports = load_reports(minimal_frame)
    changed = minimal_frame.copy()
    changed.loc[2, "value"] = "601"
    assert load_reports(changed).fingerprint() != reports.fingerprint()
    assert reports != load_reports(minimal_frame, metadata={"subject": "x"})


def test_to_frame_is_a_copy(minimal_frame):
    reports = load_reports(minimal_frame)
    frame = reports.to_frame()
    frame.loc[0, "source"] = "changed"
    assert reports.to_frame().loc[0, "source"] == "Agency A"


def test_to_csv_round_trips_a_carriage_return_in_a_note(tmp_path):
    reports = load_reports(pd.DataFrame([{**GOOD_ROW, "note": "old\rmac"}]))
    reports.to_csv(tmp_path / "out.csv")
    assert load_reports(tmp_path / "out.csv") == reports


def test_exclude_returns_a_copy_and_keeps_earlier_reasons(minimal_frame):
    frame = minimal_frame.assign(exclude=["", "", "superseded"])
    reports = load_reports(frame)
    changed = reports.exclude(["row-0", "row-2"], "relay of row-1")
    assert changed is not reports
    assert reports.to_frame()["exclude"].tolist() == ["", "", "superseded"]
    assert changed.to_frame()["exclude"].tolist() == ["relay of row-1", "", "superseded"]
    assert len(changed) == len(reports)
    assert len(changed.kept) == 1
    with pytest.raises(KeyError, match="no reports with report_id nope"):
        reports.exclude(["nope"], "why")
    with pytest.raises(ValueError, match="give a reason"):
        reports.exclude(["row-0"], "  ")


def test_metadata_is_kept_and_origin_normalised(minimal_frame):
    reports = load_reports(
        minimal_frame, metadata={"subject": "soldiers", "origin": dt.date(2024, 9, 1)}
    )
    assert dict(reports.metadata) == {"subject": "soldiers", "origin": "2024-09-01"}
    with pytest.raises(TypeError):
        reports.metadata["subject"] = "changed"  # type: ignore[index]
    assert load_reports(reports) is reports
    merged = load_reports(reports, metadata={"name": "demo"})
    assert dict(merged.metadata) == {"subject": "soldiers", "origin": "2024-09-01", "name": "demo"}
    assert merged.fingerprint() == reports.fingerprint()


# ---------------------------------------------------------------------------
# Former crashes: input that once raised something other than ReportError
# ---------------------------------------------------------------------------


def test_refuses_file_with_only_a_byte_order_mark(write_csv):
    with pytest.raises(ReportError, match="file: a table of reports, but the file is empty"):
        load_reports(write_csv(b"\xef\xbb\xbf"))


@pytest.mark.parametrize("column", ["value", "value_high"])
@pytest.mark.parametrize("digits", [20, 5000])
def test_refuses_value_too_large_for_a_count(column, digits, write_csv):
    huge = "9" * digits
    row = {**GOOD_ROW, column: huge}
    if column == "value_high":
        row["qualifier"] = "range"
    with pytest.raises(ReportError, match="expected a count of at most 10,000,000,000") as error:
        load_reports(write_csv([row]))
    problem = only_problem(error)
    assert (problem.location, problem.column, problem.value) == ("line 2", column, huge)
    assert len(str(error.value)) < 300  # a huge cell is shortened in the message


@pytest.mark.parametrize("cell", [1e30, 10**30, np.uint64(2**64 - 1)], ids=repr)
def test_refuses_huge_number_in_frame(cell):
    frame = pd.DataFrame([GOOD_ROW]).astype(object)
    frame.loc[0, "value"] = cell
    with pytest.raises(ReportError, match=re.escape("row 0, column 'value'")):
        load_reports(frame)


@pytest.mark.parametrize("cell", ["6.000", "10.000"])
def test_refuses_dot_thousands_separator(cell, write_csv):
    with pytest.raises(ReportError, match=located("line 2", "value", cell)):
        load_reports(write_csv([{**GOOD_ROW, "value": cell}]))


# ---------------------------------------------------------------------------
# Property-based: whatever the input, a Reports of the right length or a ReportError
# ---------------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, database=None)
VOCABULARY = [*QUANTITIES, *QUALIFIERS, *SCOPES, *CONSTRAINTS, "high", "medium", "low"]
EXTRA_COLUMNS = ["analyst", "Notes 2"]

# Text without NUL (a NUL makes the whole file "binary", tested on its own). Long enough
# to hold numbers beyond int64 and beyond the largest count (once a crash, pinned above).
short_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
iso_dates = st.dates(dt.date(2000, 1, 1), dt.date(2024, 12, 31)).map(dt.date.isoformat)
junk_cells = st.one_of(
    short_text,
    st.just(""),
    st.sampled_from([" ", "\t", "  "]),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.dates().map(dt.date.isoformat),
    st.sampled_from(VOCABULARY + [word.upper() for word in VOCABULARY]),
    st.sampled_from(["6,000", "1,2", "-0", "inf", "nan", "1e3", "2024-02-30", "12/19/2024"]),
)
valid_cells = {
    "published": iso_dates,
    "as_of": st.one_of(st.just(""), st.just("2000-01-01")),
    "source": st.sampled_from(["Agency A", " Ministry B ", "NGO C"]),
    "quantity": st.sampled_from(QUANTITIES),
    "value": st.integers(0, 10**7).flatmap(
        lambda n: st.sampled_from([str(n), f"{n:,}", f" {n} ", f"{n}.0"])
    ),
    "qualifier": st.sampled_from(["", *(q for q in QUALIFIERS if q != "range")]),
    "scope": st.sampled_from(["", "cumulative"]),
    "date_confidence": st.sampled_from(["", "high", "medium", "low"]),
    "exclude": st.sampled_from(["", "", "duplicate"]),
    **dict.fromkeys(["report_id", "value_high", "period_start", "period_end"], st.just("")),
    "constraint": st.sampled_from(["", "cap"]),
}


def cell_for(column: str) -> st.SearchStrategy[str]:
    """Mostly a valid cell for ``column``, sometimes junk."""
    valid = valid_cells.get(column, st.one_of(st.just(""), short_text))
    return st.sampled_from([True] * 9 + [False]).flatmap(lambda ok: valid if ok else junk_cells)


@st.composite
def report_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header (sometimes missing a required column) and rows, some of them blank."""
    required = list(REQUIRED_COLUMNS)
    if draw(st.integers(0, 9)) == 0:
        required.remove(draw(st.sampled_from(required)))
    optional = draw(st.lists(st.sampled_from([*OPTIONAL_COLUMNS, *EXTRA_COLUMNS]), unique=True))
    header = draw(st.permutations(required + optional))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 9)) == 0:
            rows.append([draw(st.sampled_from(["", " "])) for _ in header])
        else:
            rows.append([draw(cell_for(column)) for column in header])
    return list(header), rows


def load_or_refuse(data: Path | pd.DataFrame) -> Reports | None:
    """Load ``data``; on a ReportError check that it lists problems and return None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReportWarning)  # loads, with a caveat
            reports = load_reports(data)
    except ReportError as error:
        refusal = error
    else:
        event("loaded")
        return reports
    assert refusal.problems
    assert all(isinstance(problem, Problem) for problem in refusal.problems)
    event("refused")
    return None


def expected_count(cell: object) -> int | None:
    """The count a cell that loaded must hold, or None if the cell is blank or exotic."""
    if isinstance(cell, str):
        text = cell.strip().removesuffix(".0").replace(",", "")
        return int(text) if text.isdigit() and text.isascii() else None
    if isinstance(cell, bool | np.bool_) or cell is None or cell is pd.NA:
        return None
    if isinstance(cell, int | np.integer):
        return int(cell)
    if isinstance(cell, float | np.floating) and np.isfinite(cell) and float(cell).is_integer():
        return int(cell)
    return None


def assert_cells_kept(reports: Reports, given: list[dict[object, object]]) -> None:
    """Check that the loaded numbers, sources and words are the cells given, unchanged."""
    frame = reports.to_frame()
    for index, row in enumerate(given):
        cells = {str(name).strip().lower(): cell for name, cell in row.items()}
        loaded = frame.iloc[index]
        for name in ("value", "value_high"):
            number = expected_count(cells.get(name))
            if number is not None:
                assert loaded[name] == number, (index, name, cells[name], loaded[name])
        for name in ("source", "quantity"):
            if isinstance(cells.get(name), str):
                assert loaded[name] == cells[name].strip(), (index, name, cells[name])
        for name in ("qualifier", "scope"):
            if isinstance(cells.get(name), str) and cells[name].strip():
                assert loaded[name] == cells[name].strip(), (index, name, cells[name])
        if isinstance(cells.get("published"), str):
            day = pd.Timestamp(cells["published"].strip())
            assert loaded["published"] == day, (index, cells["published"])


def assert_round_trips(reports: Reports, directory: Path) -> None:
    assert load_reports(reports.to_frame()) == reports
    cells = reports.to_frame().astype(object).to_numpy().ravel()
    if not any(
        isinstance(cell, str) and "\r" in cell for cell in cells
    ):  # see test_to_csv_round_trips_a_carriage_return
        reports.to_csv(directory / "round-trip.csv")
        assert load_reports(directory / "round-trip.csv") == reports


@pytest.mark.filterwarnings("ignore::nkest.errors.ReportWarning")
@FUZZ
@given(
    table=report_tables(),
    newline=st.sampled_from(["\n", "\r\n"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig"]),
)
def test_fuzz_csv_cells_give_reports_or_report_error(
    table, newline, quoting, encoding, tmp_path_factory
):
    header, rows = table
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline, quoting=quoting).writerows([header, *rows])
    directory = tmp_path_factory.getbasetemp() / "fuzz-csv"
    directory.mkdir(exist_ok=True)
    path = directory / "reports.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    reports = load_or_refuse(path)
    if reports is None:
        return
    kept = [row for row in rows if any(cell.strip() for cell in row)]
    assert len(reports) == len(kept)
    assert_cells_kept(reports, [dict(zip(header, row, strict=True)) for row in kept])
    assert_round_trips(reports, directory)


VALID_FILE = (
    b"report_id,published,source,quantity,value,value_high,qualifier,scope,"
    b"period_start,period_end,note\n"
    b'a,2024-12-19,Agency A,killed,"6,000",,more_than,,,,"quoted, note"\n'
    b"b,2024-12-20,Agency B,wounded,100,200,range,period,2024-12-01,2024-12-15,\n"
)


@pytest.mark.filterwarnings("ignore::nkest.errors.ReportWarning")
@FUZZ
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        st.binary(max_size=200).map(lambda tail: VALID_FILE[:140] + tail),
        st.builds(
            lambda at, junk: VALID_FILE[:at] + junk + VALID_FILE[at:],
            st.integers(0, len(VALID_FILE)),
            st.binary(max_size=6),
        ),
    )
)
def test_fuzz_bytes_give_reports_or_report_error(raw, tmp_path_factory):
    directory = tmp_path_factory.getbasetemp() / "fuzz-bytes"
    directory.mkdir(exist_ok=True)
    (directory / "reports.csv").write_bytes(raw)
    reports = load_or_refuse(directory / "reports.csv")
    if reports is None:
        return
    assert 1 <= len(reports) == len(reports.to_frame())
    # every non-blank record after the header is a report: none dropped by validation
    records = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), strict=True))
    assert len(reports) == sum(any(cell.strip() for cell in record) for record in records[1:])
    assert_round_trips(reports, directory)


odd_objects = st.sampled_from(
    [
        1 + 2j,
        b"600",
        (1, 2),
        ["600"],
        {"value": 600},
        np.array([600]),
        Decimal("600"),
        Decimal("NaN"),
        Fraction(3, 2),
        np.int8(5),
        np.float32(2.5),
        np.float32("nan"),
        np.datetime64("2024-01-01"),
        pd.Period("2024-01-01", "D"),
        pd.Timedelta(1, "D"),
        pd.Timestamp("2024-01-01", tz="UTC"),
        dt.time(12),
        dt.datetime(2024, 1, 1, 0, 0),
        True,
    ]
)
object_cells = st.one_of(
    junk_cells,
    st.none(),
    st.just(np.nan),
    st.just(pd.NaT),
    st.integers(-(10**12), 10**12),
    st.floats(min_value=-1e15, max_value=1e15) | st.sampled_from([np.inf, -np.inf, np.nan]),
    st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)),
    st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)).map(pd.Timestamp),
    odd_objects,
)


@st.composite
def frame_columns(draw: st.DrawFn, column: str, rows: int) -> pd.Series:
    """One column of ``rows`` values, in one of several dtypes."""
    kind = draw(
        st.sampled_from(["valid"] * 12 + ["object", "int", "float", "Int64", "datetime", "bool"])
    )
    if kind == "valid":
        return pd.Series(draw(st.lists(cell_for(column), min_size=rows, max_size=rows)), dtype=str)
    if kind == "object":
        values = draw(st.lists(object_cells, min_size=rows, max_size=rows))
        return pd.Series(values, dtype=object)
    if kind == "int":
        values = draw(st.lists(st.integers(-(10**12), 10**12), min_size=rows, max_size=rows))
        return pd.Series(values, dtype="int64")
    if kind == "float":
        floats = st.floats(min_value=-1e15, max_value=1e15) | st.just(np.nan)
        return pd.Series(draw(st.lists(floats, min_size=rows, max_size=rows)), dtype="float64")
    if kind == "Int64":
        ints = st.none() | st.integers(0, 10**9)
        return pd.Series(draw(st.lists(ints, min_size=rows, max_size=rows)), dtype="Int64")
    if kind == "datetime":
        days = st.none() | st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2030, 12, 31))
        values = draw(st.lists(days, min_size=rows, max_size=rows))
        return pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")
    return pd.Series(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype=bool)


@st.composite
def report_frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 5))
    required = list(REQUIRED_COLUMNS)
    if draw(st.integers(0, 9)) == 0:
        required.remove(draw(st.sampled_from(required)))
    optional = draw(st.lists(st.sampled_from([*OPTIONAL_COLUMNS, *EXTRA_COLUMNS]), unique=True))
    names = draw(st.permutations(required + optional))
    columns = {name: draw(frame_columns(name, rows)) for name in names}
    index = draw(
        st.sampled_from(
            [
                pd.RangeIndex(rows),
                pd.Index([f"r{i}" for i in range(rows)]),
                pd.RangeIndex(rows)[::-1],
            ]
        )
    )
    frame = pd.DataFrame(columns, index=pd.RangeIndex(rows))
    return frame.set_axis(index, axis=0)


@pytest.mark.filterwarnings("ignore::nkest.errors.ReportWarning")
@FUZZ
@given(frame=report_frames())
def test_fuzz_frames_give_reports_or_report_error(frame, tmp_path_factory):
    before = frame.copy()
    reports = load_or_refuse(frame)
    if reports is not None:
        assert len(reports) == len(frame)
        assert_cells_kept(reports, frame.to_dict("records"))
        directory = tmp_path_factory.getbasetemp() / "fuzz-frames"
        directory.mkdir(exist_ok=True)
        assert_round_trips(reports, directory)
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not modified


def test_excluded_forecast_may_name_a_future_horizon(write_csv):
    row = {**GOOD_ROW, "exclude": "forecast, not a count", "as_of": TOMORROW}
    reports = load_reports(write_csv([row]))
    assert reports.to_frame().loc[0, "as_of"] == pd.Timestamp(TOMORROW)


@pytest.mark.parametrize("cell", ["600.00", "6,000.0", "6.000", "1e3", "+5", "٣٠٠", "６,０００"])
def test_refuses_numbers_not_in_plain_digits(cell, write_csv):
    with pytest.raises(ReportError, match=located("line 2", "value", cell)):
        load_reports(write_csv([{**GOOD_ROW, "value": cell}]))
