"""Safe outputs: hostile text stays text, nothing is lost, damaged files are refused.

Each test here holds nkest to a promise of docs/safety.md.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import cbook

import nkest
from nkest import IncompatibleFileError, ReportError, ReportWarning
from nkest.cli import main
from nkest.files import MANIFEST, OutputExistsError
from nkest.validate import simulate_conflict

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<svg onload=alert(3)>",
    "[click](javascript:alert(4))",
    "![pixel](http://evil.example/x.png)",
    "$^$",
    "US$5 to $6",
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "+1-1",
    "-2+3",
    "<https://evil.example/autolink>",
    "<a href='javascript:alert(5)'>x</a>",
    "<iframe src=https://evil.example></iframe>",
    "<style>body{background:url(https://evil.example/x)}</style>",
    "&lt;script&gt;alert(6)&lt;/script&gt;",
]
QUICK = {"draws": 100, "tune": 100, "chains": 2, "random_seed": 1, "progressbar": False}


def _hostile_frame() -> tuple[pd.DataFrame, str]:
    sim = simulate_conflict(3, days=150, n_reports=30)
    frame = sim.reports.to_frame()
    rename = {
        name: f"{name} {HOSTILE[i % len(HOSTILE)]}"
        for i, name in enumerate(sorted(frame["source"].unique()))
    }
    frame["source"] = frame["source"].map(rename)
    frame["source_group"] = frame["source_group"] + " " + HOSTILE[2]
    n = len(frame)
    frame["citation"] = [HOSTILE[i % len(HOSTILE)] + " https://ok.example/a" for i in range(n)]
    frame["note"] = [HOSTILE[(i + 3) % len(HOSTILE)] for i in range(n)]
    frame["relayed_by"] = [HOSTILE[(i + 5) % len(HOSTILE)] for i in range(n)]
    frame.loc[frame.index[:3], "exclude"] = [HOSTILE[0], HOSTILE[3], HOSTILE[7]]
    frame["report_id"] = [f"r{i} {HOSTILE[i % len(HOSTILE)]}" for i in range(n)]
    return frame, sim.daily.index[-1].date().isoformat()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A fit whose every name, citation, note, reason, subject, title and option is hostile."""
    frame, end = _hostile_frame()
    reports = nkest.load_reports(
        frame,
        metadata={
            "subject": f"soldiers {HOSTILE[0]} {HOSTILE[5]}",
            "title": HOSTILE[1] + HOSTILE[6],
        },
    )
    reference = next(s for s in reports.to_frame()["source"] if s.startswith("S3 "))
    estimate = nkest.fit(reports, end=end, identification={"reference": [reference]}, **QUICK)
    directory = tmp_path_factory.mktemp("hostile") / "report"
    estimate.report(directory)
    return estimate, directory


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def _elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def test_hostile_text_makes_no_markup_in_the_html_report(hostile):
    _, directory = hostile
    html = (directory / "report.html").read_text(encoding="utf-8")
    elements = _elements(html)
    tags = {tag for tag, _ in elements}
    assert not tags & {"script", "iframe", "object", "embed", "svg", "form", "base", "link"}
    assert [tag for tag, _ in elements].count("style") == 1  # the page's own, in its head
    for tag, attrs in elements:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name == "href":
                assert value.startswith(("http://", "https://", "#")), value
            if name in ("src", "srcset"):  # the figures, and their versions for a phone
                assert value.startswith("data:image/png;base64,"), value[:60]
    assert sum(tag == "img" for tag, _ in elements) == 4
    assert sum(tag == "source" for tag, _ in elements) == 4
    assert "alert(4)" in html  # the text is there, as text
    assert 'href="javascript' not in html


def test_hostile_text_makes_no_link_image_or_html_in_the_markdown_report(hostile):
    _, directory = hostile
    text = (directory / "report.md").read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks show text as it is
    for tag in ("<script", "<img", "<svg", "<iframe", "<style", "<a "):
        assert tag not in text
    assert not re.search(r"(?<!\\)\]\(javascript:", text)  # "\](" is text, "](" a link
    assert not re.search(r"(?<!\\)!(?<!\\)\[pixel", text)
    assert r"\[click\](javascript:alert(4))" in text  # escaped, shown as written
    assert "**S3 \\[click\\](javascript:alert(4)) unbiased**" in text  # the identification


def test_csv_tables_cannot_run_a_formula_and_json_keeps_the_raw_text(hostile):
    _, directory = hostile
    files = sorted((directory / "tables").glob("*.csv"))
    assert len(files) == 8
    cells = 0
    for path in files:
        with path.open(newline="", encoding="utf-8") as file:
            for row in csv.reader(file):
                for cell in row:
                    cells += 1
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (path.name, cell)
    assert cells > 100
    used = (directory / "tables" / "reports_used.json").read_text(encoding="utf-8")
    assert "=cmd|' /C calc'!A0" in used  # the data format keeps the value as it is


def test_every_figure_is_drawn_and_a_dollar_is_never_mathtext(hostile):
    estimate, directory = hostile
    for name in ("totals", "source_bias", "report_checks"):
        assert (directory / "figures" / f"{name}.png").stat().st_size > 10_000
    from matplotlib.text import Text

    from nkest.results.report import report_figures

    dollars = 0
    for figure in report_figures(estimate).values():
        figure.canvas.draw()
        for text in figure.findobj(Text):
            shown = text.get_text()
            dollars += "$" in shown
            assert not (text.get_parse_math() and cbook.is_math_text(shown)), shown
    assert dollars >= 3  # the "$^$" and "US$5 to $6" sources, the subject


def test_the_report_opens_in_a_browser_with_no_request_console_message_or_script(hostile):
    from browser import CHROMIUM, visit

    if CHROMIUM is None:
        if os.environ.get("NKEST_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed: CI installs it with `make browser`")
        pytest.skip("chromium is not installed (`make browser` installs it)")
    _, directory = hostile
    page = visit(directory / "report.html")
    assert page.scripts == 0
    assert page.console == []
    assert page.errors == []
    loaded = [url.split(":", 1)[0] for url in page.requests]
    assert set(loaded) <= {"file", "data"}, page.requests
    assert page.title.startswith(HOSTILE[1])  # the title is text


def test_the_command_line_takes_hostile_reports_and_options(tmp_path, capsys):
    frame, end = _hostile_frame()
    path = tmp_path / "reports.csv"
    frame.to_csv(path, index=False)
    reference = next(s for s in frame["source"] if s.startswith("S3 "))
    argv = ["fit", str(path), "--out", str(tmp_path / "out"), "--end", end, "--quiet"]
    argv += ["--draws", "100", "--tune", "100", "--chains", "2", "--seed", "1"]
    argv += ["--identification", f"reference:{reference}", "--subject", HOSTILE[0]]
    assert main(argv) in (0, 1)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert not {tag for tag, _ in _elements(html)} & {"script", "svg", "iframe"}
    capsys.readouterr()


def test_control_characters_are_refused_and_never_printed(write_csv, capsys):
    path = write_csv(
        [
            {"published": "2025-01-02", "source": "\x1b[31mRED\x1b[0m", "quantity": "killed"}
            | {"value": "10"},
            {"published": "2025-01-03", "source": "B", "quantity": "killed", "value": "12"}
            | {"note": "bell\x07"},
        ]
    )
    assert main(["check", str(path)]) == 2
    out = capsys.readouterr()
    assert "\x1b" not in out.err + out.out
    assert "\x07" not in out.err + out.out
    assert "line 2, column 'source'" in out.err
    assert "control character, U+001B" in out.err
    assert "line 3, column 'note'" in out.err


# -- nothing lost -----------------------------------------------------------------------


def test_save_never_replaces_what_nkest_did_not_write(small_estimate, tmp_path):
    folder = tmp_path / "mine.zarr"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    for overwrite in (False, True):
        with pytest.raises(OutputExistsError, match="not an output nkest wrote"):
            small_estimate.save(folder, overwrite=overwrite)
    assert (folder / "thesis.tex").read_text() == "years of work"
    other = tmp_path / "data.nc"
    other.write_bytes(b"\x89HDF\r\n\x1a\nsomeone else's file")
    with pytest.raises(OutputExistsError):
        small_estimate.save(other, overwrite=True)
    assert other.read_bytes().endswith(b"someone else's file")


def test_save_replaces_an_earlier_fit_only_when_asked(small_estimate, tmp_path):
    for name in ("fit.nc", "fit.zarr"):
        path = small_estimate.save(tmp_path / name)
        with pytest.raises(OutputExistsError, match="overwrite=True"):
            small_estimate.save(path)
        small_estimate.save(path, overwrite=True)
        assert nkest.load(path).summary().equals(small_estimate.summary())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.nc", "fit.zarr"]  # no leftovers


def test_a_zarr_store_that_gained_a_file_is_no_longer_replaced(small_estimate, tmp_path):
    path = small_estimate.save(tmp_path / "fit.zarr")
    (path / "my-notes.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="not an output nkest wrote"):
        small_estimate.save(path, overwrite=True)
    assert (path / "my-notes.txt").exists()


def test_report_refuses_a_foreign_folder_and_replaces_its_own_only_when_asked(
    small_estimate, tmp_path
):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "report.md").write_text("my own report")
    with pytest.raises(OutputExistsError):
        small_estimate.report(foreign, overwrite=True)
    assert (foreign / "report.md").read_text() == "my own report"

    ours = tmp_path / "ours"
    small_estimate.report(ours)
    assert (ours / MANIFEST).exists()
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        small_estimate.report(ours)
    small_estimate.report(ours, overwrite=True, prob=0.8)
    assert "80%" in (ours / "report.md").read_text()


def test_a_report_that_fails_midway_leaves_the_previous_one_whole(
    small_estimate, tmp_path, monkeypatch
):
    from nkest.results import report as report_module

    directory = tmp_path / "report"
    small_estimate.report(directory)
    before = {p.relative_to(directory): p.read_bytes() for p in directory.rglob("*") if p.is_file()}

    def failing(estimate, staging, *, prob, previous=None):
        (staging / "report.md").write_text("half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_module, "write_report_files", failing)
    with pytest.raises(OSError, match="No space left"):
        small_estimate.report(directory, overwrite=True)
    after = {p.relative_to(directory): p.read_bytes() for p in directory.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary folder left


# -- damaged files ------------------------------------------------------------------------


def test_flipped_bytes_in_a_saved_fit_are_refused(small_estimate, tmp_path):
    path = small_estimate.save(tmp_path / "fit.nc")
    data = bytearray(path.read_bytes())
    import h5py

    with h5py.File(path, "r") as opened:
        offset = opened["posterior/total"].id.get_offset()
    assert offset is not None
    for i in range(64):
        data[offset + 1000 + i] ^= 0xFF
    damaged = tmp_path / "damaged.nc"
    damaged.write_bytes(bytes(data))
    with pytest.raises(IncompatibleFileError, match=r"corrupt: the values of posterior/total"):
        nkest.load(damaged)


def test_a_lost_zarr_chunk_or_a_truncated_file_is_refused(small_estimate, tmp_path):
    store = small_estimate.save(tmp_path / "fit.zarr")
    chunks = sorted(
        p
        for p in (store / "posterior" / "total").rglob("*")
        if p.is_file() and p.name != "zarr.json"
    )
    chunks[0].unlink()
    with pytest.raises(IncompatibleFileError, match="corrupt"):
        nkest.load(store)
    path = small_estimate.save(tmp_path / "fit.nc")
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IncompatibleFileError):
        nkest.load(truncated)


def test_a_zarr_store_with_a_codec_that_could_run_code_is_refused(small_estimate, tmp_path):
    import json

    store = small_estimate.save(tmp_path / "fit.zarr")
    metadata = store / "posterior" / "total" / "zarr.json"
    description = json.loads(metadata.read_text())
    description["codecs"].append({"name": "numcodecs.pickle", "configuration": {}})
    metadata.write_text(json.dumps(description))
    with pytest.raises(IncompatibleFileError, match=r"codec\(s\) numcodecs\.pickle"):
        nkest.load(store)


# -- misread columns and values -------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "meant"),
    [("qualifer", "qualifier"), ("exlude", "exclude"), ("constraints", "constraint")],
)
def test_a_misspelt_optional_column_is_refused_with_did_you_mean(column, meant, write_csv):
    rows = [{"published": "2025-01-02", "source": "A", "quantity": "killed", "value": "100"}]
    with pytest.raises(ReportError) as refused:
        nkest.load_reports(write_csv([rows[0] | {column: ""}]))
    message = str(refused.value)
    assert f"column '{column}'" in message
    assert f"did you mean '{meant}'?" in message


def test_a_misspelt_required_column_says_which_one_it_looks_like(write_csv):
    row = {"published": "2025-01-02", "sorce": "A", "quantity": "killed", "value": "100"}
    with pytest.raises(ReportError) as refused:
        nkest.load_reports(write_csv([row]))
    assert "this required column, but it is missing (did you mean the column 'sorce'?)" in str(
        refused.value
    )


def test_unknown_columns_load_with_a_warning(write_csv):
    row = {"published": "2025-01-02", "source": "A", "quantity": "killed", "value": "100"}
    with pytest.warns(ReportWarning, match="kept as they are: region, unit"):
        reports = nkest.load_reports(write_csv([row | {"region": "north", "unit": "5th"}]))
    assert reports.to_frame()["region"].tolist() == ["north"]


def test_a_worded_qualifier_gets_the_word_meant(write_csv):
    row = {"published": "2025-01-02", "source": "A", "quantity": "killed", "value": "100"}
    with pytest.raises(ReportError, match="did you mean 'more_than'"):
        nkest.load_reports(write_csv([row | {"qualifier": "over"}]))
    with pytest.raises(ReportError, match="did you mean 'at_least'"):
        nkest.load_reports(write_csv([row | {"qualifier": "atleast"}]))


def test_an_ancient_date_and_a_lone_surrogate_are_located_problems():
    frame = pd.DataFrame(
        {
            "published": ["0001-01-01", "2025-01-02"],
            "source": ["A", "B\ud800"],
            "quantity": ["killed", "killed"],
            "value": ["10", "20"],
        },
        dtype=object,  # an Arrow string column cannot even hold a lone surrogate
    )
    with pytest.raises(ReportError) as refused:
        nkest.load_reports(frame)
    problems = {(p.location, p.column) for p in refused.value.problems}
    assert problems == {("row 0", "published"), ("row 1", "source")}
    assert "lone surrogate" in str(refused.value)


@pytest.mark.parametrize(("factor", "sd"), [(float("inf"), 0.2), (1.5, float("nan"))])
def test_group_priors_must_be_finite_before_anything_compiles(small_estimate, factor, sd):
    group = small_estimate.reports.to_frame()["source_group"].iloc[0]
    with pytest.raises(ValueError, match="pair of finite numbers"):
        nkest.fit(small_estimate.reports, identification={"group_priors": {group: (factor, sd)}})


@pytest.mark.parametrize(
    ("first", "twin"),
    [("NIS", "nis"), ("Kyiv Post", "Kyiv  Post"), ("NIS", "N\u200bIS"), ("NIS", "N\u2060IS")],
    ids=["case", "spacing", "zero-width space", "word joiner"],
)
def test_look_alike_source_names_are_warned_about_naming_both(first, twin):
    frame = pd.DataFrame(
        {
            "published": ["2025-01-02", "2025-02-02"],
            "source": [first, twin],
            "quantity": ["killed", "killed"],
            "value": ["10", "20"],
        }
    )
    with pytest.warns(ReportWarning) as caught:
        nkest.load_reports(frame)
    message = str(caught[0].message)
    assert f"{first!r} (row 0)" in message
    assert f"{twin!r} (row 1)" in message


def test_composed_and_decomposed_names_are_warned_about():
    composed, decomposed = "Caf\u00e9", "Cafe\u0301"
    frame = pd.DataFrame(
        {
            "published": ["2025-01-02", "2025-02-02"],
            "source": [composed, decomposed],
            "quantity": ["killed", "killed"],
            "value": ["10", "20"],
        }
    )
    with pytest.warns(ReportWarning, match="Unicode form"):
        nkest.load_reports(frame)


def test_wounded_ratio_summarises_each_step(small_estimate):
    table = small_estimate.wounded_ratio()
    assert list(table.columns[:1]) == ["date"]
    assert len(table) == small_estimate.grid.size - 1
    finite = table[["median", "lower", "upper"]].to_numpy()
    assert np.isfinite(finite).all()
    assert (table["lower"] <= table["median"]).all()
    assert (table["median"] <= table["upper"]).all()
    assert 1 < table["median"].median() < 20  # wounded per killed, within the prior's reach


# -- Ctrl-C ------------------------------------------------------------------------------------


def test_ctrl_c_stops_a_fit_within_two_seconds_and_leaves_no_output(tmp_path):
    sim = simulate_conflict(3, days=150, n_reports=30)
    reports = tmp_path / "reports.csv"
    sim.reports.to_csv(reports)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "nkest.cli", "fit", str(reports), "--out", str(out)]
    command += ["--draws", "1000000", "--chains", "2", "--seed", "1"]
    with subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    ) as process:
        for line in process.stderr:
            if line.startswith("nkest: sampling"):
                break
        else:
            pytest.fail(f"the fit never started sampling (exit {process.wait()})")
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        try:
            status = process.wait(timeout=30)
        finally:
            process.kill()
        elapsed = time.monotonic() - sent
        process.stderr.read()
    assert status == 130
    assert elapsed < 2.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports.csv"]


def test_no_warning_escapes_a_clean_load_of_the_bundled_datasets():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in nkest.list_datasets():
            assert len(nkest.load_dataset(name)) > 0


def test_safety_page_names_tests_that_exist():
    page = (Path(__file__).parents[1] / "docs" / "safety.md").read_text(encoding="utf-8")
    here = Path(__file__).parent
    for name in set(re.findall(r"`(test_[a-z0-9_]+)`", page)):
        assert any(name in path.read_text() for path in here.rglob("test_*.py")), name
