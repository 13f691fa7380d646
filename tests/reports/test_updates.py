"""Reports that come in later: spreadsheets, and new rows added to a table."""

from __future__ import annotations

import datetime as dt
import warnings

import pandas as pd
import pytest
from openpyxl import Workbook

import nkest


def write_xlsx(path, rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


HEADER = ["report_id", "published", "source", "source_group", "quantity", "value", "qualifier"]


def test_a_spreadsheet_reads_as_its_csv_would(tmp_path, minimal_frame):
    path = write_xlsx(
        tmp_path / "reports.xlsx",
        [
            ["published", "source", "quantity", "value"],
            [dt.date(2024, 12, 19), "Agency A", "killed", 100],
            [dt.datetime(2025, 1, 13), "Agency B", "casualties", "3,000"],
            [None, None, None, None],  # a blank row, as in a CSV file, is not a report
            ["2025-04-30", "Agency A", "killed", 600.0],
        ],
    )
    from_sheet = nkest.load_reports(path)
    from_frame = nkest.load_reports(minimal_frame)
    pd.testing.assert_frame_equal(
        from_sheet.to_frame().drop(columns="report_id"),
        from_frame.to_frame().drop(columns="report_id"),
    )
    assert list(from_sheet.to_frame()["report_id"]) == ["row-2", "row-3", "row-5"]


def test_a_spreadsheet_with_mistakes_is_refused_with_every_problem_and_its_row(tmp_path):
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            ["published", "source", "quantity", "value", "qualifier"],
            [dt.date(2025, 1, 1), "A", "killed", "six hundred", "approx"],
            [dt.date(2025, 1, 2), "A", "killed", 5, "roughly"],
        ],
    )
    with pytest.raises(nkest.ReportError) as caught:
        nkest.load_reports(path)
    text = str(caught.value)
    assert "2 problems in" in text
    assert "row 2, column 'value': got 'six hundred'" in text
    assert "row 3, column 'qualifier': got 'roughly'" in text
    # a cell beyond the header is a problem of the table's shape, as in a CSV file
    stray = write_xlsx(
        tmp_path / "stray.xlsx",
        [["published", "source", "quantity", "value"], ["2025-01-03", "A", "killed", 5, "x"]],
    )
    with pytest.raises(nkest.ReportError, match=r"row 2: got 'x'; expected 4 cells"):
        nkest.load_reports(stray)
    # a problem of the header and one of a row's shape are listed together, as in a CSV file
    both = [["published", "source", "quantiy", "value"], ["2025-01-04", "A", "killed", "5", "x"]]
    with pytest.raises(nkest.ReportError) as caught:
        nkest.load_reports(write_xlsx(tmp_path / "both.xlsx", both))
    text = str(caught.value)
    assert "row 1, column 'quantity'" in text
    assert "row 2: got 'x'" in text
    with open(tmp_path / "both.csv", "w", encoding="utf-8") as out:
        out.write("\n".join(",".join(row) for row in both) + "\n")
    with pytest.raises(nkest.ReportError) as as_csv:
        nkest.load_reports(tmp_path / "both.csv")
    assert len(as_csv.value.problems) == len(caught.value.problems)
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(nkest.ReportError, match="an Excel workbook"):
        nkest.load_reports(tmp_path / "broken.xlsx")


def _base():
    return nkest.load_reports(
        pd.DataFrame(
            {
                "report_id": ["a-1", "a-2"],
                "published": ["2025-01-01", "2025-02-01"],
                "source": ["Agency A", "Agency B"],
                "source_group": ["Government", "Media"],
                "quantity": ["killed", "killed"],
                "value": ["100", "150"],
            }
        ),
        metadata={"subject": "soldiers"},
    )


def test_new_rows_are_added_after_the_others_and_checked_the_same_way(tmp_path):
    base = _base()
    path = write_xlsx(
        tmp_path / "new.xlsx",
        [
            HEADER,
            ["a-3", dt.date(2025, 3, 1), "Agency A", None, "killed", 300, "at_least"],
            [None, dt.date(2025, 3, 2), "Agency C", None, "wounded", 900, "approx"],
        ],
    )
    updated = base.add(path)
    frame = updated.to_frame()
    assert len(updated) == len(base) + 2
    assert list(frame["report_id"]) == ["a-1", "a-2", "a-3", "row-3"]
    pd.testing.assert_frame_equal(frame.iloc[:2], base.to_frame())  # nothing changed or lost
    # a new row without a group joins its source's group; a new source stays ungrouped
    assert list(frame["source_group"].iloc[2:]) == ["Government", "ungrouped"]
    assert updated.metadata == base.metadata
    assert updated.fingerprint() != base.fingerprint()
    # the same from a DataFrame and from Reports
    same = base.add(nkest.load_reports(path))
    assert len(same) == 4


def test_added_rows_may_not_take_a_report_id_already_given(tmp_path):
    base = _base()
    path = write_xlsx(
        tmp_path / "clash.xlsx",
        [HEADER, ["a-2", dt.date(2025, 3, 1), "Agency A", None, "killed", 300, "approx"]],
    )
    with pytest.raises(nkest.ReportError) as caught:
        base.add(path)
    assert "row 2 (report_id a-2), column 'report_id'" in str(caught.value)
    assert "a report_id not already among the reports" in str(caught.value)
    # an id the new file did not give is made free instead
    again = base.add(
        pd.DataFrame(
            {"published": ["2025-03-01"], "source": ["X"], "quantity": ["killed"], "value": ["5"]}
        )
    )
    taken = again.add(
        pd.DataFrame(
            {"published": ["2025-03-02"], "source": ["X"], "quantity": ["killed"], "value": ["6"]}
        )
    )
    assert list(taken.to_frame()["report_id"].iloc[2:]) == ["row-0", "row-0-new"]
    with pytest.raises(nkest.ReportError, match="value"):
        base.add(
            pd.DataFrame(
                {
                    "published": ["2025-03-01"],
                    "source": ["X"],
                    "quantity": ["killed"],
                    "value": ["many"],
                }
            )
        )


def test_reports_kept_is_what_the_table_keeps_and_used_is_deprecated():
    base = _base().exclude(["a-1"], "a test")
    assert list(base.kept["report_id"]) == ["a-2"]
    assert "1 excluded by the table, 1 kept for the fit" in repr(base)
    assert list(base.summary()["kept"]) == [1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DeprecationWarning, match=r"Reports\.kept"):
            _ = base.used


def test_added_rows_may_not_put_a_source_in_a_second_group():
    base = _base()
    other = pd.DataFrame(
        {
            "published": ["2025-03-01", "2025-03-02"],
            "source": ["Agency A", "Agency A"],
            "source_group": ["Media", "Media"],
            "quantity": ["killed", "killed"],
            "value": ["300", "310"],
            "exclude": ["", "a duplicate of row 0"],
        }
    )
    with pytest.raises(nkest.ReportError) as caught:
        base.add(other)
    message = str(caught.value)
    # as load_reports checks one table: the row, the column, the value, the group expected
    assert "1 problem" in message
    assert "row 0 (report_id row-0), column 'source_group': got 'Media'" in message
    assert "'Government', the group of source 'Agency A'" in message
    # the same rows with the source's own group, or none, are added
    assert len(base.add(other.assign(source_group=["Government", ""]))) == 4


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\x1b[31msoldiers", "without control characters"),
        ("soldiers\u202e", "reorder the text"),
        (None, "a text that is not blank"),
        ("  ", "a text that is not blank"),
    ],
)
@pytest.mark.parametrize("key", ["subject", "title", "name"])
def test_metadata_written_into_sentences_is_plain_text(key, value, expected):
    base = _base()
    with pytest.raises(nkest.ReportError, match=expected):
        base.with_metadata({key: value})
    with pytest.raises(nkest.ReportError, match=expected):
        nkest.load_reports(base.to_frame(), metadata={key: value})
    assert base.with_metadata({key: "Arland's soldiers"}).metadata[key] == "Arland's soldiers"
