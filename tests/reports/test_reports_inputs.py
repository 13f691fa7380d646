"""Odd inputs to ``nkest.load_reports``: each loads unchanged or is refused with a located message.

The rules themselves are tested in ``test_reports.py``; this file pins inputs that
once escaped as another exception type or changed silently, and the adversarial
checklist of the Foundation issue in one place.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from nkest import Problem, ReportError, load_reports

GOOD_ROW = {"published": "2024-12-19", "source": "Agency A", "quantity": "killed", "value": "100"}
HEADER = "published,source,quantity,value"
TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


def refusal(data) -> tuple[Problem, ...]:
    with pytest.raises(ReportError) as error:
        load_reports(data)
    assert error.value.problems
    return error.value.problems


# ---------------------------------------------------------------------------
# Paths that cannot be read are a ReportError, not an OSError or ValueError
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("reports\x00.csv", "a valid file path (embedded null byte)"),
        ("x" * 5000 + ".csv", "a readable CSV file, but it cannot be read (File name too long)"),
    ],
    ids=["nul-in-path", "name-too-long"],
)
def test_refuses_unreadable_path(path, expected):
    (problem,) = refusal(path)
    assert problem == Problem("file", None, None, expected)


def test_refuses_path_through_a_file(write_csv):
    inside = write_csv([GOOD_ROW]) / "reports.csv"
    (problem,) = refusal(inside)
    assert problem.location == "file"
    assert problem.expected.startswith("a readable CSV file, but it cannot be read (")


# ---------------------------------------------------------------------------
# DataFrame cells that no CSV cell could hold
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        (["Agency A"], "list"),
        (("Agency", "A"), "tuple"),
        ({"name": "Agency A"}, "dict"),
        ({"Agency A"}, "set"),
        (b"Agency A", "bytes"),
        (np.array([1, 2]), "ndarray"),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, str) else value,
)
@pytest.mark.parametrize("column", ["source", "value", "note", "analyst"])
def test_refuses_container_cells_in_frame(cell, kind, column):
    rows = [{**GOOD_ROW, "report_id": "r1"}, GOOD_ROW]
    frame = pd.DataFrame([{**row, "note": "", "analyst": ""} for row in rows]).astype(object)
    frame.at[0, column] = cell
    problems = refusal(frame)
    # one problem for the cell, not also "not a number" or "blank" for the same column
    assert problems == (
        Problem(
            "row 0 (report_id r1)",
            column,
            repr(cell),
            f"a single text, number or date, not a {kind} object",
        ),
    )


def test_container_cells_are_reported_with_the_other_problems():
    frame = pd.DataFrame([GOOD_ROW, GOOD_ROW]).astype(object)
    frame.at[0, "source"] = ["A"]
    frame.at[1, "value"] = "-5"
    problems = refusal(frame)
    assert [(p.location, p.column) for p in problems] == [("row 0", "source"), ("row 1", "value")]


@pytest.mark.parametrize(
    ("cell", "number"),
    [(Decimal("600"), 600), (Decimal("600.00"), 600), (Decimal("6E+3"), 6000)],
    ids=str,
)
def test_reads_whole_decimals_as_numbers(cell, number):
    frame = pd.DataFrame([GOOD_ROW]).astype(object)
    frame.at[0, "value"] = cell
    assert load_reports(frame).to_frame()["value"].tolist() == [number]


@pytest.mark.parametrize(
    ("cell", "shown", "expected"),
    [
        (Decimal("2.5"), "2.5", "not a fraction"),
        (Decimal("-5"), "-5", "not a negative number"),
        (Decimal("Infinity"), "Infinity", "not an infinite value"),
        (Decimal("NaN"), "", "(blank only in an excluded row)"),
    ],
    ids=str,
)
def test_refuses_bad_decimals(cell, shown, expected):
    frame = pd.DataFrame([GOOD_ROW]).astype(object)
    frame.at[0, "value"] = cell
    (problem,) = refusal(frame)
    assert (problem.location, problem.column, problem.value) == ("row 0", "value", shown)
    assert expected in problem.expected


def test_refuses_frame_with_exactly_repeated_column_names():
    frame = pd.DataFrame(
        [["2024-12-19", "A", "killed", "1", "2"]],
        columns=["published", "source", "quantity", "value", "value"],
    )
    (problem,) = refusal(frame)
    assert problem == Problem("header", "value", None, "each column name once, but it repeats")


# ---------------------------------------------------------------------------
# The adversarial checklist, each outcome in one line
# ---------------------------------------------------------------------------

LINE2 = "line 2"


@pytest.mark.parametrize(
    ("content", "location", "column", "value", "expected"),
    [
        ("published;source;quantity;value\n2024-12-19;A;killed;100\n", "line 1", None, None,
         "separated by semicolons"),
        (f"{HEADER}\n2024-12-19,A,killed,100\n".encode("utf-16"), "file", None, None,
         "the file is UTF-16 text"),
        (f"{HEADER}\n2024-12-19,A,killed,1e3\n", LINE2, "value", "1e3", "plain digits"),
        (f"{HEADER}\n2024-12-19,A,killed,\"6,00\"\n", LINE2, "value", "6,00", "groups of three"),
        (f"{HEADER}\n2024-12-19,A,killed,nan\n", LINE2, "value", "nan", "whole number"),
        (f"{HEADER}\n2024-12-19,A,killed,inf\n", LINE2, "value", "inf", "not an infinite"),
        (f"{HEADER}\n2025-02-30,A,killed,100\n", LINE2, "published", "2025-02-30",
         "a real calendar date"),
        (f"{HEADER}\n{TOMORROW},A,killed,100\n", LINE2, "published", TOMORROW,
         "not in the future"),
    ],
    ids=["semicolons", "utf-16", "1e3", "6,00", "nan", "inf", "2025-02-30", "future"],
)  # fmt: skip
def test_checklist_refusals(content, location, column, value, expected, write_csv):
    (problem,) = refusal(write_csv(content))
    assert (problem.location, problem.column, problem.value) == (location, column, value)
    assert expected in problem.expected


def test_checklist_accepted_files(write_csv):
    bom = b"\xef\xbb\xbf" + f'{HEADER}\n2024-12-19,A,killed," 6,000 "\n'.encode()
    assert load_reports(write_csv(bom)).to_frame()["value"].tolist() == [6000]


def test_checklist_frames_with_native_dtypes():
    frame = pd.DataFrame(
        {
            "published": pd.to_datetime(["2024-12-19", "2025-01-13"]),
            "as_of": [pd.Timestamp("2024-12-18"), dt.datetime(2025, 1, 12)],
            "source": ["A", "B"],
            "quantity": ["killed", "wounded"],
            "value": [100, 2700],
            "value_high": [np.nan, np.nan],
        },
        index=pd.Index(["first", "second"]),
    )
    loaded = load_reports(frame).to_frame()
    assert loaded["value"].tolist() == [100, 2700]
    assert loaded["as_of"].tolist() == [pd.Timestamp("2024-12-18"), pd.Timestamp("2025-01-12")]
    assert loaded["report_id"].tolist() == ["row-0", "row-1"]
    frame["value"] = [100.0, 2700.5]
    (problem,) = refusal(frame)
    assert (problem.location, problem.column, problem.value) == (
        "row 1 (index 'second')",
        "value",
        "2700.5",
    )


def test_checklist_empty_frame_with_the_right_columns():
    (problem,) = refusal(pd.DataFrame(columns=list(GOOD_ROW)))
    assert problem == Problem("DataFrame", None, None, "at least one report, got 0 rows")


def test_message_quotes_each_problem_on_its_own_line():
    frame = pd.DataFrame([GOOD_ROW, {**GOOD_ROW, "value": "-1"}, {**GOOD_ROW, "source": ""}])
    with pytest.raises(ReportError) as error:
        load_reports(frame)
    lines = str(error.value).splitlines()
    assert lines[0] == "2 problems in DataFrame:"
    assert re.match(r"  - row 1, column 'value': got '-1'; expected ", lines[1])
    assert re.match(r"  - row 2, column 'source': got ''; expected a non-blank name", lines[2])


def test_a_second_byte_order_mark_is_no_part_of_the_first_column_name(write_csv):
    content = b"\xef\xbb\xbf\xef\xbb\xbf" + f"{HEADER}\n2024-12-19,A,killed,100\n".encode()
    assert load_reports(write_csv(content)).to_frame()["published"].tolist() == [
        pd.Timestamp("2024-12-19")
    ]


def test_empty_columns_on_the_right_of_a_csv_are_no_columns(write_csv):
    # a spreadsheet's export: empty header cells and empty cells on the right
    plain = load_reports(write_csv(f"{HEADER}\n2024-12-19,A,killed,100\n")).to_frame()
    for tail in (",", ",,"):
        frame = load_reports(write_csv(f"{HEADER}{tail}\n2024-12-19,A,killed,100{tail}\n"))
        pd.testing.assert_frame_equal(frame.to_frame(), plain)
    # a value under no name is refused, not dropped
    (problem,) = refusal(write_csv(f"{HEADER},\n2024-12-19,A,killed,100,7\n"))
    assert (problem.location, problem.value) == (LINE2, "7")
    assert "4 cells as in the named columns" in problem.expected
    # a column with no name among named ones is refused at the header
    (problem,) = refusal(write_csv("published,,source,quantity,value\n2024-12-19,x,A,killed,1\n"))
    assert (problem.location, problem.expected) == ("line 1", "a name for column 2")


@pytest.mark.parametrize("flag", [False, True, "TRUE", "no", "1", "x"])
def test_a_yes_no_flag_is_no_reason_to_exclude(flag):
    frame = pd.DataFrame(
        {
            "published": ["2024-12-19", "2024-12-20"],
            "source": ["A", "B"],
            "quantity": ["killed", "killed"],
            "value": [100, 120],
            "exclude": [flag, "a relay of row 0"],
        }
    )
    (problem,) = refusal(frame)
    assert (problem.location, problem.column, problem.value) == ("row 0", "exclude", str(flag))
    assert "a reason in words" in problem.expected
