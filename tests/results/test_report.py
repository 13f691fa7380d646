"""The written report, the table exports and the command line that writes them."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import nkest
from nkest.cli import main
from nkest.results.cite import UNRELIABLE, reported_quantities, round_figure
from nkest.results.report import headline_sentences, report_figures
from nkest.results.summaries import inner_prob
from nkest.results.tables import format_table, write_table

NASTY = [
    "Pipes | in the text | https://example.org/a_b?x=1&y=2 (seen 2025-01-02)",
    "Tilde ~ caret ^ backslash \\ ampersand & percent % dollar $ hash # under_score {braces}",
    "<script>alert(1)</script> *stars* `ticks` https://example.org/plain_path.",
    "two\nlines",
]
"""Free text a citation, a note or a reason may hold."""


@pytest.fixture(scope="module")
def killed_only(simulated):
    """The simulated conflict with only its killed reports used, and citations to escape.

    Its wounded and casualties are excluded by the table (with a reason), so
    the report has an excluded section, and no report speaks of the wounded.
    """
    frame = simulated.reports.to_text_frame()
    others = frame["quantity"] != "killed"
    frame.loc[others, "exclude"] = "test: only killed reports are used | kept for the record"
    frame["citation"] = [NASTY[i % len(NASTY)] for i in range(len(frame))]
    reports = nkest.load_reports(frame, metadata=dict(simulated.reports.metadata))
    end = simulated.daily.index[-1].date().isoformat()
    return nkest.fit(
        reports, end=end, draws=300, tune=300, chains=2, random_seed=11, progressbar=False
    )


@pytest.fixture(scope="module")
def killed_only_dir(killed_only, tmp_path_factory):
    directory = tmp_path_factory.mktemp("killed-only")
    killed_only.report(directory)
    return directory


def section(text: str, heading: str) -> str:
    """The text of a Markdown section, up to the next heading of its level."""
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1 :]
    end = rest.find("\n## ")
    return rest if end < 0 else rest[:end]


def cells(line: str) -> list[str]:
    """The cells of a Markdown table row, split on unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def markdown_tables(text: str) -> list[list[list[str]]]:
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(cells(line))
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def test_report_writes_markdown_html_figures_and_tables(report_dir, small_estimate):
    text = (report_dir / "report.md").read_text()
    for heading in (
        "## Headline",
        "## Totals over time",
        "## Source biases",
        "## Reports the model finds surprising",
        "## Sources the others contradict",
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
    assert "<table" in html
    assert "figures/totals.png" in text
    # the figures are inside the page, each with its version for a phone
    assert html.count('src="data:image/png;base64,') == 4
    assert html.count('<source media="(max-width: 40rem)" srcset="data:image/png;base64,') == 4
    for name in ("totals", "source_bias", "report_checks", "losses_per_month"):
        for suffix in ("", "_narrow"):
            assert (report_dir / "figures" / f"{name}{suffix}.png").stat().st_size > 20_000
    for name in (
        "summary",
        "series",
        "losses_per_month",
        "source_bias",
        "report_checks",
        "reports_used",
        "reports_excluded",
    ):
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
    pd.testing.assert_frame_equal(back, summary, check_dtype=False, rtol=1e-14)
    records = json.loads(format_table(summary, "json"))
    assert records[0]["quantity"] == "killed"
    assert [r["median"] for r in records] == summary["median"].tolist()
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
    assert f"{round_figure(12345.6):,}" in text  # two significant figures, as cite
    assert "1.23" in text
    assert "12345.6" not in text


SMALL = pd.DataFrame(
    {
        "report_id": ["one-captured", "two-captured", "large"],
        "claim_lower": [0.5, 1.5, 5999.5],
        "claim_upper": [np.inf, 2.5, np.inf],
        "predicted_median": [0.42, 2.1, 6123.4],
        "predicted_lower": [0.053, 0.94, 2345.6],
        "tail_p": [0.00012, 0.5, 0.0421],
        "p_claim": [0.3, 0.9999, 0.0004],
    }
)
"""Claims of 1 and 2 captured, a tiny tail probability: what rounding used to misstate."""


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_display_tables_keep_small_figures_and_tiny_probabilities(fmt):
    rows = markdown_tables(format_table(SMALL, "markdown")) if fmt == "markdown" else None
    text = format_table(SMALL, fmt)
    if fmt == "markdown":
        header, _, *body = rows[0]
        got = [dict(zip(header, row, strict=True)) for row in body]
    else:
        lines = [line for line in text.splitlines() if line.endswith("\\\\")]
        header = [c.strip().replace("\\_", "_") for c in lines[0][:-2].split("&")]
        got = [
            dict(zip(header, [c.strip() for c in line[:-2].split("&")], strict=True))
            for line in lines[1:]
        ]
    infinity = "∞" if fmt == "markdown" else r"$\infty$"
    below = "<0.001" if fmt == "markdown" else r"\textless{}0.001"
    assert (got[0]["claim_lower"], got[0]["claim_upper"]) == ("0.5", infinity)
    assert (got[1]["claim_lower"], got[1]["claim_upper"]) == ("1.5", "2.5")
    assert (got[0]["predicted_median"], got[0]["predicted_lower"]) == ("0.42", "0.053")
    assert got[0]["tail_p"] == below
    assert got[2]["p_claim"] == below
    assert got[2]["claim_lower"] == "6,000"
    assert got[2]["predicted_median"] == f"{round_figure(6123.4):,}"
    assert got[2]["tail_p"] == "0.042"


def test_write_table_replaces_a_file_only_when_asked(tmp_path):
    from nkest.files import OutputExistsError

    mine = tmp_path / "thesis.tex"
    mine.write_text("years of work")
    with pytest.raises(OutputExistsError, match="pass overwrite=True"):
        write_table(SMALL, mine)
    assert mine.read_text() == "years of work"
    write_table(SMALL, mine, overwrite=True)
    assert "\\begin{tabular}" in mine.read_text()


def test_data_tables_keep_full_precision_and_write_infinity_as_inf(tmp_path):
    write_table(SMALL, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv")
    pd.testing.assert_frame_equal(back, SMALL, rtol=0)
    assert "inf" in (tmp_path / "t.csv").read_text().splitlines()[1].split(",")
    records = json.loads(format_table(SMALL, "json"))
    assert records[0]["claim_upper"] == "inf"
    assert records[1]["claim_upper"] == 2.5
    assert records[0]["tail_p"] == 0.00012
    assert [r["predicted_lower"] for r in records] == SMALL["predicted_lower"].tolist()
    with_missing = SMALL.assign(claim_upper=[np.nan, 2.5, -np.inf])
    records = json.loads(format_table(with_missing, "json"))
    assert records[0]["claim_upper"] is None
    assert records[2]["claim_upper"] == "-inf"


def test_markdown_escapes_free_text_and_links_urls():
    frame = pd.DataFrame({"report_id": [f"r{i}" for i in range(len(NASTY))], "citation": NASTY})
    text = format_table(frame, "markdown")
    rows = markdown_tables(text)[0]
    assert all(len(row) == 2 for row in rows)  # no pipe in a cell splits it
    assert "Pipes \\| in the text \\|" in text
    assert "<https://example.org/a_b?x=1&y=2>" in text
    assert "<https://example.org/plain_path>." in text  # the full stop is not in the link
    assert "<script>" not in text
    assert "two lines" in text
    import markdown

    html = markdown.markdown(text, extensions=["tables"])
    assert '<a href="https://example.org/a_b?x=1&amp;y=2">' in html
    assert "<script>" not in html
    assert "Pipes | in the text |" in html
    assert "*stars*" in html  # not emphasis


def test_latex_escapes_every_special_character():
    frame = pd.DataFrame({"citation": [NASTY[1], NASTY[0]]})
    text = format_table(frame, "latex")
    body = text.split("\\midrule")[1].split("\\bottomrule")[0]
    assert (
        r"Tilde \textasciitilde{} caret \textasciicircum{} backslash \textbackslash{} "
        r"ampersand \& percent \% dollar \$ hash \# under\_score \{braces\}"
    ) in body
    # a URL with LaTeX's special characters is escaped as text, not put in \url
    assert r"https://example.org/a\_b?x=1\&y=2" in body
    assert r"Pipes \textbar{} in the text" in body
    plain = format_table(
        pd.DataFrame({"citation": ["see https://example.org/a_b/c.html."]}), "latex"
    )
    assert r"see \url{https://example.org/a_b/c.html}." in plain
    # nothing is left that LaTeX would read as a command or a special character
    stripped = re.sub(
        r"\\(textasciitilde|textasciicircum|textbackslash|textbar|url)\{\}?", "", body
    )
    stripped = re.sub(r"\\[&%$#_{}]", "", stripped)
    assert not set("~^%$#_{}") & set(stripped.replace(r"\\", ""))


def test_latex_cells_cannot_start_an_optional_argument():
    # after \\ a row starting "[" would be read as a length, and one starting "*" as \\*
    frame = pd.DataFrame({"source": ["[link](https://x.example)", "*starred*"], "n": [1, 2]})
    rows = format_table(frame, "latex").split("\\midrule")[1].split("\\\\")
    assert [row.strip()[:3] for row in rows[:2]] == ["{[}", "{*}"]


def test_report_figures_draw_50_and_90_percent_bands(small_estimate):
    figures = report_figures(small_estimate)
    assert set(figures) == {"totals", "source_bias", "report_checks", "losses_per_month"}
    for name in ("totals", "source_bias"):
        labels = [t.get_text() for legend in figures[name].legends for t in legend.get_texts()]
        assert "50% credible interval" in labels, name
        assert "90% credible interval" in labels, name
        assert not any(label.startswith("45%") for label in labels)
    assert inner_prob(0.9) == 0.5
    assert inner_prob(0.5) == 0.25
    narrow = report_figures(small_estimate, prob=0.4)["totals"]
    labels = [t.get_text() for legend in narrow.legends for t in legend.get_texts()]
    assert "20% credible interval" in labels
    assert "40% credible interval" in labels


def test_cite_of_a_failed_fit_says_so_in_the_sentence(small_estimate, report_dir):
    assert not small_estimate.diagnostics()["passed"]
    text = small_estimate.cite("killed", allow_failed_diagnostics=True)
    sentence, _, note = text.partition(" Source: ")
    assert f"; {UNRELIABLE}" in sentence  # inside the parenthesis, before any other caveat
    assert sentence.endswith(").")
    assert "WARNING" in note
    headline = section((report_dir / "report.md").read_text(), "## Headline")
    bullets = [line for line in headline.splitlines() if line.startswith("- ")]
    assert len(bullets) == 3
    assert all(UNRELIABLE in line for line in bullets)


def test_reported_quantities():
    def used(*rows):
        return pd.DataFrame(rows, columns=["quantity", "role"])

    assert reported_quantities(used(("killed", "observation"))) == {"killed"}
    assert reported_quantities(used(("killed", "observation"), ("casualties", "observation"))) == {
        "killed",
        "wounded",
        "casualties",
    }
    assert reported_quantities(used(("killed", "observation"), ("wounded", "observation"))) == {
        "killed",
        "wounded",
        "casualties",
    }
    assert reported_quantities(used(("casualties", "observation"))) == {"casualties"}
    # floors and caps bound the totals but say nothing of their level
    assert reported_quantities(used(("killed", "floor"), ("deployed", "cap"))) == set()


def test_headline_marks_quantities_no_report_speaks_of(killed_only, killed_only_dir):
    assert set(killed_only.used["quantity"]) == {"killed"}
    sentences = headline_sentences(killed_only)
    assert len(sentences) == 3
    sentences = dict(zip(("killed", "wounded", "casualties"), sentences, strict=True))
    assert "no report of" not in sentences["killed"][0]
    for quantity in ("wounded", "casualties"):
        sentence = sentences[quantity][0]
        assert f"no report of {quantity}: from the assumed wounded:killed ratio)." in sentence
    headline = section((killed_only_dir / "report.md").read_text(), "## Headline")
    assert "no report of wounded: from the assumed wounded:killed ratio" in headline
    assert "no report of casualties" in headline
    assert headline.count("no report of killed") == 0


def test_report_lists_excluded_reports_and_citations(killed_only, killed_only_dir):
    text = (killed_only_dir / "report.md").read_text()
    excluded = section(text, "## Reports excluded")
    (table,) = markdown_tables(excluded)
    header, _, *rows = table
    assert f"{len(rows)} reports are kept for provenance" in excluded
    assert f"The {len(rows)} reports excluded, with their reasons" in excluded
    # the report names its columns in words; the table files keep the names code reads
    assert header[:3] == ["report id", "source", "quantity"]
    kept = markdown_tables((killed_only_dir / "tables" / "reports_excluded.md").read_text())
    assert kept[0][0][:3] == ["report_id", "source", "quantity"]
    assert all(len(row) == len(header) for row in rows)
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_id) == set(killed_only.excluded["report_id"])
    assert len(by_id) == int((killed_only.reports.to_frame()["quantity"] != "killed").sum())
    for row in by_id.values():
        assert row["reason"] == "test: only killed reports are used \\| kept for the record"
        assert row["excluded by"] == "reports"
    used = markdown_tables(section(text, "## Reports used"))[0]
    assert all(len(row) == len(used[0]) for row in used)
    citations = {row[used[0].index("report id")]: row[-1] for row in used[2:]}
    assert set(citations) == set(killed_only.used["report_id"])
    assert any("<https://example.org/a_b?x=1&y=2>" in c for c in citations.values())
    html = (killed_only_dir / "report.html").read_text()
    # a long address is one long word: the page shows its host, the link keeps it whole
    assert (
        '<a href="https://example.org/a_b?x=1&amp;y=2" rel="noopener noreferrer" '
        'title="https://example.org/a_b?x=1&amp;y=2">example.org/…</a>'
    ) in html
    assert "<script>" not in html
    assert "kept for the record" in html
    latex = (killed_only_dir / "tables" / "reports_used.tex").read_text()
    assert r"\textasciitilde{}" in latex
    assert r"\textbackslash{}" in latex
    assert r"\url{https://example.org/plain_path}" in latex


def test_report_tables_show_claims_as_worded_and_rounded_estimates(small_estimate, report_dir):
    checks = markdown_tables((report_dir / "tables" / "report_checks.md").read_text())[0]
    header, _, *rows = checks
    claim = {row[0]: row[header.index("claim")] for row in rows}
    from nkest.results.report import worded

    for row in small_estimate.used.itertuples():
        assert claim[row.report_id] == worded(row._asdict())
    # the data tables keep every digit
    data = pd.read_csv(report_dir / "tables" / "report_checks.csv")
    computed = small_estimate.report_checks()
    assert np.allclose(data["predicted_median"], computed["predicted_median"], rtol=1e-12)
    # the summary in the report shows the rounded figures of the headline
    summary = markdown_tables(
        section((report_dir / "report.md").read_text(), "## Totals over time")
    )
    header, _, *rows = summary[0]
    assert header[0] == "date"
    last = small_estimate.summary()
    assert rows[-1][0] == last["date"].iloc[0].date().isoformat()
    for row in last.itertuples():
        shown = rows[-1][header.index({"deployed": "troops sent"}.get(row.quantity, row.quantity))]
        low, high = round_figure(row.lower), round_figure(row.upper)
        assert shown.removesuffix(" †") == f"{round_figure(row.median):,} ({low:,}–{high:,})"
        assert shown.endswith(" †") == row.past_last_report
    for name in ("source_conflicts",):
        for suffix in (".md", ".csv", ".json", ".tex"):
            assert (report_dir / "tables" / f"{name}{suffix}").exists()
    assert "## Sources the others contradict" in (report_dir / "report.md").read_text()


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
    headlines = [line for line in captured.out.splitlines() if line.startswith("An estimated")]
    assert len(headlines) == 3
    assert all(UNRELIABLE in line for line in headlines)
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


def test_early_totals_note_names_the_first_upper_bound_of_each_total():
    from types import SimpleNamespace

    from nkest.results.report import early_totals_note, first_upper_bounds

    inf = float("inf")
    rows = [
        # (quantity, scope, role, as_of, upper)
        ("killed", "cumulative", "observation", "2024-10-03", inf),  # a lower bound
        ("killed", "incident", "observation", "2024-11-20", inf),
        ("killed", "period", "observation", "2024-11-30", 500.0),  # bounds an increase only
        ("killed", "cumulative", "floor", "2024-11-01", 300.0),
        ("casualties", "cumulative", "observation", "2024-12-23", 1150.0),
        ("killed", "cumulative", "observation", "2025-01-13", 350.0),
        ("wounded", "cumulative", "observation", "2024-12-19", 999.5),
    ]
    used = pd.DataFrame(rows, columns=["quantity", "scope", "role", "as_of", "upper"])
    used["as_of"] = pd.to_datetime(used["as_of"])
    estimate = SimpleNamespace(used=used, quantities=("killed", "wounded", "casualties"))
    bounds = first_upper_bounds(estimate)
    assert bounds == {
        "killed": pd.Timestamp("2024-12-23"),  # casualties bound killed too
        "wounded": pd.Timestamp("2024-12-19"),
        "casualties": pd.Timestamp("2024-12-23"),
    }
    note = early_totals_note(estimate, [pd.Timestamp("2024-09-30"), pd.Timestamp("2025-03-31")])
    assert "killed: 23 December 2024" in note
    assert "wounded: 19 December 2024" in note
    assert early_totals_note(estimate, [pd.Timestamp("2025-03-31")]) == ""


def test_the_report_shows_its_tables_with_the_files_formatting():
    from nkest.results.report import _reader_table

    frame = pd.DataFrame({"tail_p": [1.2e-5, 0.5], "factor_median": [0.7749, 1.6]})
    shown = _reader_table(frame)
    assert shown.splitlines()[0].split("|")[1:3] == ["   tail p ", "   factor median "]
    # the columns' own rules, as in the table files: not the renamed columns' defaults
    assert shown.split("\n", 2)[2] == format_table(frame).split("\n", 2)[2]
    assert "<0.001" in shown
