"""The report as people read and paste it: the page at a phone's width, words, citations."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from types import SimpleNamespace

import pandas as pd
import pytest
from PIL import Image

from nkest.results.cite import Citation, short_note
from nkest.results.page import label_table_cells, link_text, narrow_figures, shorten_link_texts
from nkest.results.report import (
    conflicts_in_words,
    grid_words,
    past_last_report_note,
    summary_view,
)


def test_a_link_whose_text_is_its_address_shows_its_host():
    html = (
        '<p><a href="https://www.example.org/long/path?q=1&amp;r=2" rel="noopener noreferrer">'
        "https://www.example.org/long/path?q=1&amp;r=2</a> and "
        '<a href="https://example.org/x" rel="noopener noreferrer">named link</a></p>'
    )
    short = shorten_link_texts(html)
    assert ">example.org/…</a>" in short
    assert 'title="https://www.example.org/long/path?q=1&amp;r=2"' in short
    assert ">named link</a>" in short  # a link with its own words keeps them
    assert link_text("https://example.org") == "example.org"
    assert link_text("http://world.kbs.co.kr/news_view.htm?lang=e") == "world.kbs.co.kr/…"


def test_wide_tables_become_cards_with_each_cell_labelled_by_its_column():
    header = "".join(f"<th>{name}</th>" for name in ["a", 'b "q"', "c&amp;d", "e", "f"])
    wide = f"<table>\n<thead>\n<tr>{header}</tr>\n</thead>\n<tbody>\n<tr>" + (
        "<td>1</td>" * 5 + "</tr>\n</tbody>\n</table>"
    )
    narrow = "<table><thead><tr><th>x</th><th>y</th></tr></thead><tbody><tr><td>1</td>"
    narrow += '<td style="text-align: right;">2</td></tr></tbody></table>'
    out = label_table_cells(wide + narrow)
    assert out.count('<table class="cards">') == 1
    assert '<td data-label="b &quot;q&quot;">' in out
    assert '<td data-label="c&amp;d">' in out
    assert '<td data-label="y" style="text-align: right;">2</td>' in out


def test_a_figure_is_offered_in_its_narrow_version_only_where_one_was_drawn(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "totals_narrow.png").write_bytes(b"png")
    html = '<img alt="A" src="figures/totals.png"><img alt="B" src="figures/source_bias.png">'
    out = narrow_figures(html, tmp_path)
    assert out.count("<picture>") == 1
    assert '<source media="(max-width: 40rem)" srcset="figures/totals_narrow.png">' in out
    assert '<img alt="B" src="figures/source_bias.png">' in out


def test_report_figures_record_their_smallest_text(report_dir):
    for name in ("totals", "source_bias", "report_checks", "losses_per_month"):
        for suffix in ("", "_narrow"):
            with Image.open(report_dir / "figures" / f"{name}{suffix}.png") as image:
                smallest = float(image.text["nkest:smallest-text-px"])
                width = image.size[0]
            # 9-point text at 150 dpi; the narrow figures are drawn for a phone
            assert smallest == pytest.approx(9 * 150 / 72)
            assert (width < 900) == (suffix == "_narrow")


def test_the_summary_reads_one_row_per_date_and_marks_dates_past_the_last_report(small_estimate):
    summary = small_estimate.summary(dates=["2024-03-01", small_estimate.grid.end.isoformat()])
    summary.loc[summary["quantity"] == "wounded", "past_last_report"] = [False, True]
    view = summary_view(summary)
    names = {"deployed": "troops sent"}
    assert list(view.columns) == [
        "date",
        *(names.get(q, q) for q in dict.fromkeys(summary["quantity"])),
    ]
    assert len(view) == 2
    assert not view["wounded"].iloc[0].endswith("†")
    assert view["wounded"].iloc[1].endswith(" †")
    assert "–" in view["killed"].iloc[0]


def test_the_note_on_the_dagger_names_each_last_report(dprk_estimate):
    note = past_last_report_note(dprk_estimate)
    assert note.startswith("† Past the quantity's last report (")
    assert "wounded 30 April 2025" in note


def test_conflicts_are_said_in_plain_words_first(small_estimate):
    conflicts = pd.DataFrame(
        {"source": ["S1"], "reports": [3], "min_tail_p": [0.004], "conflict_p": [0.012]}
    )
    words = conflicts_in_words(small_estimate, conflicts.iloc[:0])
    assert words.startswith("No source stands out")
    source = small_estimate.used.loc[small_estimate.used["role"] == "observation", "source"].iloc[0]
    conflicts["source"] = source
    words = conflicts_in_words(small_estimate, conflicts)
    assert words.startswith("1 of 1 sources stands out")
    assert f"**{source}**" in words
    assert "about 1 time in 100 (counting all 3 of its figures)" in words
    assert "Bonferroni" not in words
    assert "PSIS" not in words


def test_the_short_citation_fits_an_article(dprk_estimate):
    citation = dprk_estimate.cite("killed")
    assert citation.short.startswith(citation.sentence + " (nkest estimate from ")
    metadata = dprk_estimate.reports.metadata
    assert citation.short.endswith(f"; dataset {metadata['name']} {metadata['version']})")
    assert "R-hat" not in citation.short  # the methods note keeps the diagnostics
    used = pd.DataFrame({"report_id": ["a", "b"], "as_of": ["2025-01-01", "2025-03-02"]})
    reports = pd.DataFrame({"report_id": ["a", "b", "c"], "published": [None, None, "2026-01-01"]})
    assert (
        short_note(used, reports, {}) == "nkest estimate from 2 public reports up to 2 March 2025"
    )
    assert Citation("S.", "Source: x.").short == "S."


def test_the_report_says_where_the_grid_starts_and_why(dprk_estimate):
    words = grid_words(dprk_estimate)
    assert "weekly steps from" in words
    assert (
        f"origin, {dprk_estimate.reports.metadata['origin']} (from the reports' metadata)" in words
    )
    for origin, said in (("unknown", "no origin"), ("2024-08-01", "2024-08-01 (from the option")):
        options = replace(dprk_estimate.options, origin=origin)
        other = SimpleNamespace(
            grid=dprk_estimate.grid, reports=dprk_estimate.reports, options=options
        )
        assert said in grid_words(other)


def test_the_report_reads_at_a_desktops_and_a_phones_width(report_dir, tmp_path):
    from browser import CHROMIUM
    from browser.report_layout import check_report

    if CHROMIUM is None:
        if os.environ.get("NKEST_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed: CI installs it with `make browser`")
        pytest.skip("chromium is not installed (`make browser` installs it)")
    results = check_report(report_dir / "report.html", tmp_path)
    for result in results:
        assert result.problems == [], (result.name, result.problems)
        assert len(result.figures) == 4
        assert result.screenshot.stat().st_size > 50_000


def test_a_small_count_is_cited_beside_what_the_reports_say(dprk_estimate):
    from nkest.results.cite import SMALL_COUNT, latest_report

    last = dprk_estimate.cite("captured").sentence
    assert dprk_estimate.summary(quantities=["captured"])["median"].iloc[0] < SMALL_COUNT
    assert re.search(r"; last reported \d+ \w+ \d{4}, as 2\)\.$", last)
    early = dprk_estimate.cite("captured", "2025-02-01").sentence
    assert early.endswith("; the latest report says 2).")
    assert latest_report(dprk_estimate.used, "captured", pd.Timestamp("2024-12-01")) == ""
    # large counts are not tallies: no figure of a report in their sentence
    assert "report says" not in dprk_estimate.cite("killed").sentence


def test_a_table_without_a_header_is_left_as_it_is():
    html = "<table><tbody><tr><td>1</td></tr></tbody></table>"
    assert label_table_cells(html) == html


def test_loo_checks_are_computed_once_and_handed_out_as_copies(small_estimate):
    first = small_estimate.loo_checks()
    first["loo_tail_p"] = -1.0
    again = small_estimate.loo_checks()
    assert (again["loo_tail_p"] >= 0).all()  # the caller's edit did not reach the cache
    assert small_estimate._loo_checks.keys() == {0}
