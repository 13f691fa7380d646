"""Tests for nkest.reports.figures: reading worded casualty figures."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from nkest.reports.figures import (
    QUALIFIER_PHRASES,
    QUALIFIER_SUFFIXES,
    TRAILING_WORDS,
    VAGUE_INTERVALS,
    Figure,
    FigureError,
    parse_figure,
)
from nkest.reports.schema import QUALIFIERS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reading-figures.md"


def approx(value: int) -> Figure:
    return Figure(value, None, "approx")


def exact(value: int) -> Figure:
    return Figure(value, None, "exact")


def span(low: int, high: int) -> Figure:
    return Figure(low, high, "range")


READ = [
    # approx
    ("about 600", approx(600)),
    ("around 2,000", approx(2000)),
    ("some 3,000", approx(3000)),
    ("roughly 2,700", approx(2700)),
    ("approximately 11,000", approx(11000)),
    ("an estimated 1,100", approx(1100)),
    ("~600", approx(600)),
    ("~ 600", approx(600)),
    ("≈600", approx(600)),
    ("600 or so", approx(600)),
    # exact, with scales
    ("4,100", exact(4100)),
    ("4100", exact(4100)),
    ("0", exact(0)),
    ("27-hundred", exact(2700)),
    ("27 hundred", exact(2700)),
    ("15-thousand", exact(15000)),
    ("15 thousand", exact(15000)),
    ("2.7 thousand", exact(2700)),
    ("1.5 million", exact(1_500_000)),
    ("6k", exact(6000)),
    ("6K", exact(6000)),
    ("2.7k", exact(2700)),
    ("a thousand", exact(1000)),
    ("one hundred", exact(100)),
    # at_least
    ("at least 100", Figure(100, None, "at_least")),
    ("no fewer than 300", Figure(300, None, "at_least")),
    ("no less than 300", Figure(300, None, "at_least")),
    ("a minimum of 300", Figure(300, None, "at_least")),
    ("600 or more", Figure(600, None, "at_least")),
    ("600+", Figure(600, None, "at_least")),
    ("600-plus", Figure(600, None, "at_least")),
    ("at least 0", Figure(0, None, "at_least")),
    # more_than
    ("more than 6,000", Figure(6000, None, "more_than")),
    ("over 5,000", Figure(5000, None, "more_than")),
    ("exceeded 3,000", Figure(3000, None, "more_than")),
    ("exceeding 3,000", Figure(3000, None, "more_than")),
    ("in excess of 3,000", Figure(3000, None, "more_than")),
    ("upwards of 3,000", Figure(3000, None, "more_than")),
    ("more than a dozen", Figure(12, None, "more_than")),
    ("more than a thousand", Figure(1000, None, "more_than")),
    # approaching
    ("approaching 1,000", Figure(1000, None, "approaching")),
    ("nearly 8,000", Figure(8000, None, "approaching")),
    ("almost 8,000", Figure(8000, None, "approaching")),
    ("close to 8,000", Figure(8000, None, "approaching")),
    ("just under 1,000", Figure(1000, None, "approaching")),
    ("nearly a thousand", Figure(1000, None, "approaching")),
    # at_most
    ("up to 25,000", Figure(25000, None, "at_most")),
    ("as many as 8,000", Figure(8000, None, "at_most")),
    ("at most 500", Figure(500, None, "at_most")),
    ("no more than 500", Figure(500, None, "at_most")),
    ("up to a dozen", Figure(12, None, "at_most")),
    # fewer_than
    ("fewer than 50", Figure(50, None, "fewer_than")),
    ("less than 50", Figure(50, None, "fewer_than")),
    ("under 50", Figure(50, None, "fewer_than")),
    # ranges
    ("10,000-12,000", span(10000, 12000)),
    ("10,000–12,000", span(10000, 12000)),
    ("10,000 – 12,000", span(10000, 12000)),
    ("10,000—12,000", span(10000, 12000)),
    ("10,000 to 12,000", span(10000, 12000)),
    ("between 11,000 and 12,000", span(11000, 12000)),
    ("from 11,000 to 12,000", span(11000, 12000)),
    ("11 to 12,000", span(11000, 12000)),
    ("25-30,000", span(25000, 30000)),
    ("11-12 thousand", span(11000, 12000)),
    ("between 11 and 12 thousand", span(11000, 12000)),
    ("2.5-3k", span(2500, 3000)),
    ("1.5-2 million", span(1_500_000, 2_000_000)),
    ("500-12,000", span(500, 12000)),
    ("1-1,000", span(1, 1000)),
    ("10-20", span(10, 20)),
    ("0-5", span(0, 5)),
    ("some 10,000-12,000", span(10000, 12000)),
    ("an estimated 10,000 to 12,000 soldiers", span(10000, 12000)),
    # vague words
    ("a dozen", span(*VAGUE_INTERVALS["a dozen"])),
    ("about a dozen", span(*VAGUE_INTERVALS["a dozen"])),
    ("dozens", span(*VAGUE_INTERVALS["dozens"])),
    ("several dozen", span(*VAGUE_INTERVALS["several dozen"])),
    ("hundreds of soldiers", span(*VAGUE_INTERVALS["hundreds"])),
    ("Thousands of North Korean troops", span(*VAGUE_INTERVALS["thousands"])),
    ("tens of thousands", span(*VAGUE_INTERVALS["tens of thousands"])),
    # case, whitespace, trailing nouns and punctuation
    ("  About 600  ", approx(600)),
    ("ABOUT 600 KILLED", approx(600)),
    ("about\u00a0600", approx(600)),
    ("about 600 killed", approx(600)),
    ("4,100 soldiers", exact(4100)),
    ("more than 6,000 casualties", Figure(6000, None, "more_than")),
    ("600 killed or wounded", exact(600)),
    ("600 killed in action", exact(600)),
    ("about 600 North Korean soldiers killed.", approx(600)),
    ("at least 100,", Figure(100, None, "at_least")),
]


@pytest.mark.parametrize(("text", "expected"), READ, ids=[text for text, _ in READ])
def test_reads(text: str, expected: Figure) -> None:
    assert parse_figure(text) == expected


# Every phrasing listed in section 4 of the Foundation issue, word for word.
ISSUE_PHRASES = [
    ("about 600", approx(600)),
    ("around 2,000", approx(2000)),
    ("some 3,000", approx(3000)),
    ("roughly 2,700", approx(2700)),
    ("4,100", exact(4100)),
    ("at least 100", Figure(100, None, "at_least")),
    ("no fewer than 300", Figure(300, None, "at_least")),
    ("more than 6,000", Figure(6000, None, "more_than")),
    ("over 5,000", Figure(5000, None, "more_than")),
    ("exceeded 3,000", Figure(3000, None, "more_than")),
    ("approaching 1,000", Figure(1000, None, "approaching")),
    ("nearly 8,000", Figure(8000, None, "approaching")),
    ("up to 25,000", Figure(25000, None, "at_most")),
    ("as many as 8,000", Figure(8000, None, "at_most")),
    ("fewer than 50", Figure(50, None, "fewer_than")),
    ("10,000-12,000", span(10000, 12000)),
    ("10,000 to 12,000", span(10000, 12000)),
    ("between 11,000 and 12,000", span(11000, 12000)),
    ("11 to 12,000", span(11000, 12000)),
    ("27-hundred", exact(2700)),
    ("15-thousand", exact(15000)),
    # vague words: the intervals documented in docs/reading-figures.md
    ("dozens", span(24, 99)),
    ("several dozen", span(36, 99)),
    ("several hundred", span(300, 999)),
]


@pytest.mark.parametrize(("text", "expected"), ISSUE_PHRASES, ids=[t for t, _ in ISSUE_PHRASES])
def test_reads_every_phrase_of_the_issue(text: str, expected: Figure) -> None:
    assert parse_figure(text) == expected
    if expected.qualifier == "range" and not text[0].isdigit() and "between" not in text:
        assert VAGUE_INTERVALS[text] == (expected.value, expected.value_high)


REFUSED = [
    ("", "empty"),
    ("   ", "empty"),
    ("a battalion", "no number"),
    ("killed", "no number"),
    ("-600", "negative"),
    ("−600", "negative"),
    ("about -600", "negative"),
    ("600 killed and 4,100 wounded", "more than one number"),
    ("600 or 700", "more than one number"),
    ("600 700", "spaces are not read as thousands separators"),
    ("3.5", "whole number"),
    ("3.0", "whole number"),
    ("1.5555 thousand", "whole number"),
    ("1,000.5", "whole number"),
    ("1.000", "thousands separator or a decimal point"),
    ("1.000.000", "thousands separator or a decimal point"),
    ("1.500 thousand", "thousands separator or a decimal point"),
    ("10 000", "spaces are not read as thousands separators"),
    ("1,00", "not grouped by thousands"),
    ("10,00", "not grouped by thousands"),
    ("1,0000", "not grouped by thousands"),
    ("1000,000", "not grouped by thousands"),
    ("1,5 million", "not grouped by thousands"),
    ("0600", "leading zero"),
    ("at least", "'at least' is not followed by a number"),
    ("about", "'about' is not followed by a number"),
    ("more than", "'more than' is not followed by a number"),
    ("maybe 600", "'maybe' before the number"),
    ("perhaps 600", "'perhaps' before the number"),
    ("a further 600", "'a further' before the number"),
    ("killed 600", "'killed' before the number"),
    ("at least maybe 600", "'maybe' before the number"),
    ("600 maybe", "'maybe' in 'maybe' after the number"),
    ("600 in", "'in' in 'in' after the number"),
    ("600 killed and", "must join two known words"),
    ("1.5m", "whole number"),
    ("600 killed, 4,100 wounded", "unexpected character ','"),
    ("600?", "unexpected character '\\?'"),
    ("６00", "unexpected character"),
    ("600²", "unexpected character"),
    ("12,000-11,000", "equal or reversed"),
    ("10-10", "equal or reversed"),
    ("11 thousand-12", "equal or reversed"),
    ("600 to", "second number must follow 'to'"),
    ("600-", "second number must follow '-'"),
    ("between 600", "'between' needs two numbers joined by 'and'"),
    ("between 600 to 700", "'between' needs two numbers joined by 'and'"),
    ("from 600 and 700", "'from' needs two numbers joined by 'to'"),
    ("at least 10,000-12,000", "range cannot take the qualifier 'at least'"),
    ("up to between 1 and 2", "range cannot take the qualifier 'up to'"),
    ("about 600 or so", "two qualifiers"),
    ("more than 600 or more", "two qualifiers"),
    ("more than hundreds", "'hundreds' cannot take the qualifier 'more than'"),
    ("about dozens", "'dozens' cannot take the qualifier 'about'"),
    ("dozens of", "'of' must be followed"),
    ("fewer than 0", "no count is fewer than 0"),
    ("approaching 0", "no count is approaching 0"),
    ("600 killed; 4,100 wounded", "unexpected character ';'"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED, ids=[text for text, _ in REFUSED])
def test_refuses(text: str, reason: str) -> None:
    pattern = rf"^cannot read {re.escape(repr(text))} as a figure: .*{reason}.*; expected a number"
    with pytest.raises(FigureError, match=pattern):
        parse_figure(text)


def test_error_lists_the_vague_words() -> None:
    with pytest.raises(FigureError) as info:
        parse_figure("a battalion")
    message = str(info.value)
    assert "'about 600', 'at least 100', '10,000-12,000'" in message
    for phrase in VAGUE_INTERVALS:
        assert repr(phrase) in message


def test_figure_error_is_a_value_error() -> None:
    assert issubclass(FigureError, ValueError)


def test_not_a_string() -> None:
    with pytest.raises(TypeError, match="str"):
        parse_figure(600)  # type: ignore[arg-type]


# --- the vague-word table -------------------------------------------------


@pytest.mark.parametrize(("phrase", "bounds"), list(VAGUE_INTERVALS.items()))
def test_vague_intervals(phrase: str, bounds: tuple[int, int]) -> None:
    low, high = bounds
    assert isinstance(low, int)
    assert isinstance(high, int)
    assert 0 <= low < high
    assert parse_figure(phrase) == span(low, high)
    assert parse_figure(f"  {phrase.upper()} of soldiers killed ") == span(low, high)


def test_vague_intervals_nest_by_wording() -> None:
    for unit in ("dozen", "hundred", "thousand"):
        plural = VAGUE_INTERVALS[f"{unit}s"]
        few = VAGUE_INTERVALS[f"a few {unit}"]
        several = VAGUE_INTERVALS[f"several {unit}"]
        assert few[0] == plural[0]
        assert plural[0] <= several[0]
        assert several[1] == plural[1]
        assert few[1] < plural[1]


def test_vague_interval_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        VAGUE_INTERVALS["scores"] = (40, 99)  # type: ignore[index]


def test_phrase_tables_use_the_report_vocabulary() -> None:
    assert set(QUALIFIER_PHRASES.values()) <= set(QUALIFIERS)
    assert set(QUALIFIER_SUFFIXES.values()) <= set(QUALIFIERS)
    # every non-range qualifier except exact can be worded before the number
    assert set(QUALIFIER_PHRASES.values()) == set(QUALIFIERS) - {"exact", "range"}


# --- the Figure record ----------------------------------------------------


def test_figure_defaults_and_frozen() -> None:
    figure = Figure(600)
    assert figure == Figure(600, None, "exact")
    with pytest.raises(dataclasses.FrozenInstanceError):
        figure.value = 700  # type: ignore[misc]


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((-1, None, "exact"), ValueError, "negative"),
        ((1, None, "roughly"), ValueError, "qualifier must be one of"),
        ((1, 2, "exact"), ValueError, "ranges only"),
        ((1, None, "range"), ValueError, "needs value_high"),
        ((2, 2, "range"), ValueError, "value < value_high"),
        ((3, 2, "range"), ValueError, "value < value_high"),
        ((0, None, "fewer_than"), ValueError, "fewer than 0"),
        ((1.0, None, "exact"), TypeError, "value must be an int"),
        ((True, None, "exact"), TypeError, "value must be an int"),
        ((1, "2", "range"), TypeError, "value_high must be an int"),
    ],
)
def test_figure_refuses_contradictions(
    args: tuple[object, object, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Figure(*args)  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------

counts = st.integers(min_value=0)
nouns = st.sampled_from(["", " killed", " soldiers", " casualties", " troops killed or wounded"])


def written(n: int, grouped: bool) -> str:
    return f"{n:,}" if grouped else str(n)


@given(
    n=counts,
    phrase=st.sampled_from(sorted(QUALIFIER_PHRASES)),
    grouped=st.booleans(),
    noun=nouns,
)
def test_qualifier_phrases_read_back(n: int, phrase: str, grouped: bool, noun: str) -> None:
    text = f"{phrase} {written(n, grouped)}{noun}"
    qualifier = QUALIFIER_PHRASES[phrase]
    if n == 0 and qualifier in ("fewer_than", "approaching"):
        with pytest.raises(FigureError, match=re.escape(repr(text))):
            parse_figure(text)
    else:
        assert parse_figure(text) == Figure(n, None, qualifier)


@given(
    n=counts,
    suffix=st.sampled_from(sorted(QUALIFIER_SUFFIXES)),
    grouped=st.booleans(),
    noun=nouns,
)
def test_qualifier_suffixes_read_back(n: int, suffix: str, grouped: bool, noun: str) -> None:
    text = f"{written(n, grouped)} {suffix}{noun}"
    assert parse_figure(text) == Figure(n, None, QUALIFIER_SUFFIXES[suffix])


@given(n=counts, grouped=st.booleans(), noun=nouns)
def test_bare_numbers_read_back_exact(n: int, grouped: bool, noun: str) -> None:
    assert parse_figure(f"{written(n, grouped)}{noun}") == exact(n)


@given(
    low=st.integers(min_value=0, max_value=10**12),
    width=st.integers(min_value=1, max_value=10**12),
    joiner=st.sampled_from(["-", "–", " - ", " to "]),
    noun=nouns,
)
def test_grouped_ranges_read_back(low: int, width: int, joiner: str, noun: str) -> None:
    high = low + width
    # a bare low bound below the leading part of a high bound in thousands shares its magnitude
    assume(low >= 1000 or high % 1000 != 0)
    assert parse_figure(f"{low:,}{joiner}{high:,}{noun}") == span(low, high)
    assert parse_figure(f"between {low:,} and {high:,}{noun}") == span(low, high)


@given(
    low=st.integers(min_value=1, max_value=999),
    high=st.integers(min_value=2, max_value=999),
    scale=st.sampled_from([("k", 1000), (" thousand", 1000), (",000", 1000), (" million", 10**6)]),
)
def test_shared_magnitude(low: int, high: int, scale: tuple[str, int]) -> None:
    assume(low < high)
    word, factor = scale
    assert parse_figure(f"{low}-{high}{word}") == span(low * factor, high * factor)


def check_outcome(text: str) -> None:
    try:
        figure = parse_figure(text)
    except FigureError as error:
        message = str(error)
    else:
        message = None
    if message is not None:
        assert message.startswith(f"cannot read {text!r} as a figure: ")
        return
    assert isinstance(figure, Figure)
    assert isinstance(figure.value, int)
    assert figure.value >= 0
    assert figure.qualifier in QUALIFIERS
    if figure.qualifier == "range":
        assert isinstance(figure.value_high, int)
        assert figure.value < figure.value_high
    else:
        assert figure.value_high is None


@given(st.text())
def test_any_text_reads_or_raises_figure_error(text: str) -> None:
    check_outcome(text)


fragments = st.sampled_from(
    [
        *QUALIFIER_PHRASES,
        *QUALIFIER_SUFFIXES,
        *VAGUE_INTERVALS,
        *sorted(TRAILING_WORDS),
        "0",
        "7",
        "12",
        "600",
        "4,100",
        "1,00",
        "1.000",
        "2.5",
        "30,000",
        "k",
        "hundred",
        "thousand",
        "million",
        "a",
        "one",
        "dozen",
        "-",
        "–",
        "−",
        "to",
        "and",
        "between",
        "from",
        "of",
        "+",
        "~",
        ".",
        ",",
    ]
)


@given(st.lists(fragments, max_size=7), st.sampled_from([" ", ""]))
def test_phrase_soup_reads_or_raises_figure_error(parts: list[str], glue: str) -> None:
    check_outcome(glue.join(parts))


# --- the documentation ----------------------------------------------------


def test_docs_list_every_vague_interval() -> None:
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    for phrase, (low, high) in VAGUE_INTERVALS.items():
        rows = [line for line in lines if line.startswith(f"| `{phrase}`")]
        assert len(rows) == 1, phrase
        cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
        assert cells[1:3] == [f"{low:,}", f"{high:,}"], phrase


def test_docs_list_every_qualifier_phrase() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for phrase in (*QUALIFIER_PHRASES, *QUALIFIER_SUFFIXES):
        assert f"`{phrase}`" in text, phrase


@given(
    value=st.integers(min_value=1, max_value=10**9),
    qualifier=st.sampled_from(
        ["exact", "approx", "at_least", "more_than", "at_most", "fewer_than", "approaching"]
    ),
)
def test_str_of_a_figure_reads_back_as_the_same_figure(value, qualifier):
    figure = Figure(value, None, qualifier)
    assert parse_figure(str(figure)) == figure


def test_str_of_a_range_reads_back():
    figure = Figure(10_000, 12_000, "range")
    assert str(figure) == "10,000–12,000"
    assert parse_figure(str(figure)) == figure
