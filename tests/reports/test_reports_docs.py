"""The examples in docs/report-format.md are what nkest does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nkest import ReportError, load_reports

DOC = Path(__file__).resolve().parents[2] / "docs" / "report-format.md"


def _text_blocks(after: str) -> list[str]:
    """The ```text blocks of the page that follow the line ``after``."""
    text = DOC.read_text(encoding="utf-8").split(after, 1)[1]
    return re.findall(r"```text\n(.*?)```", text, flags=re.S)


def test_minimal_example_loads_as_described(write_csv):
    good = _text_blocks("## A minimal example")[0]
    reports = load_reports(
        write_csv(good), metadata={"subject": "Borovian soldiers", "origin": "2025-01-15"}
    )
    page = DOC.read_text(encoding="utf-8")
    assert len(reports) == 5
    shown = re.search(r"^reports  # (<Reports: .*>)$", page, flags=re.M)
    assert shown is not None
    assert repr(reports) == shown.group(1)


def test_refused_example_gives_the_documented_message(write_csv):
    bad, output = _text_blocks("For example, this file:")[:2]
    with pytest.raises(ReportError) as error:
        load_reports(write_csv(bad, name="bad.csv"))
    message = str(error.value).replace(str(write_csv(bad, name="bad.csv")), "bad.csv")
    assert f"nkest.errors.ReportError: {message}\n" == output


def test_excluded_rows_example_loads(write_csv):
    block = _text_blocks("## Keeping a row out of the estimate")[0]
    reports = load_reports(write_csv(block))
    assert len(reports) == len(reports.excluded) == 2
