"""The written report, the table exports and the command line that writes them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import nkest
from nkest.cli import main
from nkest.results.tables import format_table, write_table


@pytest.fixture(scope="module")
def report_dir(small_estimate, tmp_path_factory):
    directory = tmp_path_factory.mktemp("report")
    small_estimate.report(directory)
    return directory


def test_report_writes_markdown_html_figures_and_tables(report_dir, small_estimate):
    text = (report_dir / "report.md").read_text()
    for heading in (
        "## Headline",
        "## Totals over time",
        "## Source biases",
        "## Reports the model finds surprising",
        "## Source conflicts",
        "## Reports used",
        "## Reports excluded",
        "## Assumptions and diagnostics",
    ):
        assert heading in text
    assert small_estimate.identification in text
    assert small_estimate.reports.fingerprint() in text
    for report_id in small_estimate.used["report_id"]:
        assert report_id in text
    html = (report_dir / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<table>" in html
    assert 'src="figures/totals.png"' in html
    for name in ("totals", "source_bias", "report_checks"):
        assert (report_dir / "figures" / f"{name}.png").stat().st_size > 20_000
    for name in ("summary", "source_bias", "report_checks", "reports_used", "reports_excluded"):
        for suffix in (".md", ".csv", ".json", ".tex"):
            assert (report_dir / "tables" / f"{name}{suffix}").exists()


def test_report_of_an_unconverged_fit_warns(small_estimate, tmp_path):
    assert not small_estimate.diagnostics()["passed"]  # 2 chains x 300 draws: below 200 ESS
    small_estimate.report(tmp_path)
    assert (
        "**Warning: this fit fails its sampler diagnostics" in (tmp_path / "report.md").read_text()
    )


def test_table_exports_read_back(small_estimate, tmp_path):
    summary = small_estimate.summary(dates="all")
    write_table(summary, tmp_path / "summary.csv")
    back = pd.read_csv(tmp_path / "summary.csv", parse_dates=["date"])
    assert len(back) == len(summary)
    assert (back["median"] - summary["median"]).abs().max() <= 0.5
    records = json.loads(format_table(summary, "json"))
    assert records[0]["quantity"] == "killed"
    markdown = format_table(small_estimate.source_bias(), "markdown")
    assert markdown.splitlines()[0].startswith("| source")
    latex = format_table(small_estimate.source_bias(), "latex")
    assert "\\begin{tabular}" in latex
    assert "source\\_group" in latex
    with pytest.raises(ValueError, match=r"write a table to one of \.md, \.csv, \.json, \.tex"):
        write_table(summary, tmp_path / "summary.xlsx")


def test_markdown_tables_have_readable_numbers():
    frame = pd.DataFrame({"quantity": ["killed"], "median": [12345.6], "factor_median": [1.2345]})
    text = format_table(frame, "markdown")
    assert "12,346" in text
    assert "1.23" in text
    assert "12345.6" not in text


def test_cli_fit_writes_everything_and_exits_1_when_diagnostics_fail(simulated, tmp_path, capsys):
    path = tmp_path / "reports.csv"
    simulated.reports.to_csv(path)
    end = simulated.daily.index[-1].date().isoformat()
    status = main(
        [
            "fit",
            str(path),
            "--end",
            end,
            "--out",
            str(tmp_path / "out"),
            "--draws",
            "60",
            "--tune",
            "60",
            "--chains",
            "2",
            "--seed",
            "1",
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert status == 1
    assert "fails its sampler diagnostics" in captured.err
    assert "An estimated" in captured.out
    for name in ("report.md", "report.html", "fit.nc", "figures/totals.png", "tables/summary.csv"):
        assert (tmp_path / "out" / name).exists()
    loaded = nkest.load(tmp_path / "out" / "fit.nc")
    assert loaded.reports.fingerprint() == nkest.load_reports(path).fingerprint()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "missing.csv", "--out", "x"], "no such file: missing.csv"),
        (
            ["report", "--dataset", "dprk", "--out", "x", "--identification", "reference:Nobody"],
            "reference source(s) 'Nobody' have no used observations",
        ),
        (["report", "--dataset", "dprk", "--out", "x", "--end", "someday"], "end must be a date"),
    ],
)
def test_cli_bad_input_exits_2_with_a_message(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_cli_bad_csv_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("published,source,quantity,value\n2024-12-19,NIS,killed,-5\n")
    assert main(["fit", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "line 2, column 'value': got '-5'" in capsys.readouterr().err
