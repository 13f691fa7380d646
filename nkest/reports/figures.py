"""Read a casualty figure as a source worded it.

Reports word their figures: "about 600 killed", "at least 100", "more than
6,000 casualties", "10,000-12,000", "hundreds". ``parse_figure`` turns one
such phrase into a ``Figure``: a count, an upper count for ranges, and a
qualifier from the report format's vocabulary
(``nkest.reports.schema.QUALIFIERS``), ready for the ``value``,
``value_high`` and ``qualifier`` columns of a table of reports.

What is read
------------
A phrase is an optional qualifier, one figure and optional trailing words::

    [qualifier] figure [or more | or so | plus | +] [noun ...]

Case and surrounding whitespace do not matter, and a final ``.``, ``,``, ``;``
or ``:`` is dropped.

* The qualifiers are the phrases of ``QUALIFIER_PHRASES`` ("about", "at
  least", "more than", "nearly", "up to", "fewer than", ...) and, after the
  number, of ``QUALIFIER_SUFFIXES`` ("or more", "or so", "plus", "+").
  No qualifier means ``exact``.
* A number is written in digits, with commas as thousands separators
  ("4,100") or none ("4100"), optionally scaled by ``k``, ``hundred``,
  ``thousand`` or ``million`` ("6k", "27-hundred", "15 thousand", "1.5
  million"). A decimal point is read only before a scale and the scaled
  count must be whole. "a hundred", "a thousand", "a million" (also with
  "one") count as numbers, so "nearly a thousand" is read.
* A range is two numbers joined by a hyphen or dash, by "to", or written
  "between N and M" / "from N to M". A low bound written as a bare number
  smaller than the leading part of the high bound shares the high bound's
  magnitude: "11 to 12,000" is 11,000 to 12,000, "25-30,000" is 25,000 to
  30,000 and "11-12 thousand" is 11,000 to 12,000; "500-12,000" stays 500 to
  12,000. The low bound must be below the high bound. An approximating
  qualifier ("about", "some", "an estimated", ...) may precede a range and
  adds nothing to it; other qualifiers may not.
* A vague word of ``VAGUE_INTERVALS`` ("dozens", "several hundred",
  "thousands", ...) is read as the range documented there, optionally
  followed by "of" and a noun ("hundreds of soldiers").
* Trailing words are taken from ``TRAILING_WORDS`` ("killed", "wounded",
  "soldiers", "casualties", "troops", "north", "korean", ...), joined by
  "and" or "or" if needed ("killed or wounded", "killed in action").

Vague words
-----------
``VAGUE_INTERVALS`` maps each vague word to an inclusive interval of
counts. The intervals follow three rules, so that each can be argued from the
wording rather than tuned:

* A plural unit ("dozens", "hundreds", "thousands", "tens of thousands",
  "hundreds of thousands") means at least two of that unit, and stops just
  below the point where a writer would switch to the next unit: at 100 one
  writes "a hundred" or "over a hundred", not "dozens"; at 1,000 "a
  thousand"; at 10,000 "tens of thousands". So "dozens" is 24-99 and
  "thousands" is 2,000-9,999.
* "a few" units is two to five of them: a small count above one, which a
  writer would call "several" or use the plural for beyond five. So "a few
  hundred" is 200-500.
* "several" units is at least three (more than "a couple") and, like the
  plural, stops below the next unit. So "several thousand" is 3,000-9,999.

"a dozen" alone (or after "about", "some", ...) is an approximate twelve and
reads as 10-14, twelve give or take the two that a rounded figure leaves
open; journalists say "ten" or "fifteen" when they mean those. After a bound
("more than a dozen", "nearly a dozen") it is exactly 12, the number bounded.

What is refused
---------------
Text that cannot be read is an error (``FigureError``), never a guess:
empty text, text without a number, negative numbers, two numbers that do not
form a range ("600 killed and 4,100 wounded"), fractional counts ("3.5"),
dots or spaces as thousands separators ("1.000", "10 000": a dot may be a
decimal point and a space may separate two figures), malformed grouping
("1,00"), leading zeros ("0600"), a qualifier without a number ("at least"),
and any word the reader does not know, before or after the number ("maybe
600", "600 or 700", "a further 600"), since such a word may change what the
figure means.

Examples
--------
>>> parse_figure("about 600 killed")
Figure(value=600, value_high=None, qualifier='approx')
>>> parse_figure("25-30,000")
Figure(value=25000, value_high=30000, qualifier='range')
>>> parse_figure("several hundred")
Figure(value=300, value_high=999, qualifier='range')
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Final, NamedTuple, NoReturn

from nkest.reports.qualifiers import QUALIFIER_TABLE
from nkest.reports.schema import QUALIFIERS

__all__ = [
    "QUALIFIER_PHRASES",
    "QUALIFIER_SUFFIXES",
    "TRAILING_WORDS",
    "VAGUE_INTERVALS",
    "Figure",
    "FigureError",
    "parse_figure",
]

VAGUE_INTERVALS: Final[Mapping[str, tuple[int, int]]] = MappingProxyType(
    {
        "a dozen": (10, 14),
        "a few dozen": (24, 60),
        "several dozen": (36, 99),
        "dozens": (24, 99),
        "a few hundred": (200, 500),
        "several hundred": (300, 999),
        "hundreds": (200, 999),
        "a few thousand": (2_000, 5_000),
        "several thousand": (3_000, 9_999),
        "thousands": (2_000, 9_999),
        "tens of thousands": (20_000, 99_999),
        "hundreds of thousands": (200_000, 999_999),
    }
)
"""Vague words and the inclusive interval ``(low, high)`` each is read as.

A plural unit is two units up to just below the next unit; "a few" is two to
five units; "several" is three units up to just below the next unit; "a
dozen" is 10-14. See the module documentation for the reasoning.
"""

QUALIFIER_PHRASES: Final[Mapping[str, str]] = MappingProxyType(
    {phrase: row.name for row in QUALIFIER_TABLE.values() for phrase in row.phrases}
)
"""Qualifier phrases read before a number, each with its qualifier (``QUALIFIER_TABLE``).

"~" (and "≈") is read like "about". "between" and "from" introduce ranges and
are not listed here.
"""

QUALIFIER_SUFFIXES: Final[Mapping[str, str]] = MappingProxyType(
    {suffix: row.name for row in QUALIFIER_TABLE.values() for suffix in row.suffixes}
)
"""Qualifier phrases read right after a number ("600 or more", "600-plus", "600+").

"600+" and "600-plus" are read as the weaker bound ``at_least``. A figure takes
a qualifier before it or after it, not both.
"""

TRAILING_WORDS: Final[frozenset[str]] = frozenset(
    {
        # what was counted
        "killed",
        "dead",
        "deaths",
        "died",
        "wounded",
        "injured",
        "casualties",
        "casualty",
        "fatalities",
        "losses",
        "captured",
        "missing",
        "prisoners",
        "pows",
        "kia",
        "wia",
        "mia",
        "in action",
        # who was counted
        "soldiers",
        "troops",
        "men",
        "fighters",
        "servicemen",
        "personnel",
        "people",
        "civilians",
        "combatants",
        "north",
        "korean",
        "koreans",
        "dprk",
        "russian",
        "russians",
        "ukrainian",
        "ukrainians",
        "enemy",
        # joining them
        "and",
        "or",
    }
)
"""Words that may follow a figure without changing it ("killed", "soldiers", ...).

An entry may be two words ("in action", for "killed in action"). "and" and "or"
join two such words ("killed or wounded") and cannot start or end the trailing
words. Any other word after a number is refused.
"""


class FigureError(ValueError):
    """A worded figure that cannot be read.

    The message quotes the text, says what is wrong with it and what was
    expected instead.

    Examples
    --------
    >>> try:
    ...     parse_figure("a battalion")
    ... except FigureError as error:
    ...     print(str(error).split(";")[0])
    cannot read 'a battalion' as a figure: there is no number in it
    """


@dataclass(frozen=True, slots=True)
class Figure:
    """A casualty figure as a source worded it.

    Parameters
    ----------
    value : int
        The figure, a count of at least 0; the low end of a range.
    value_high : int or None, default None
        The high end of a range, above ``value``; ``None`` unless
        ``qualifier`` is ``"range"``.
    qualifier : str, default "exact"
        How the figure was worded, one of
        ``nkest.reports.schema.QUALIFIERS``: ``exact`` (a point),
        ``approx`` (a rounded figure), ``at_least`` and ``more_than`` (lower
        bounds, the second strict), ``at_most`` and ``fewer_than`` (upper
        bounds, the second strict), ``approaching`` (just under ``value``) or
        ``range`` (``value`` to ``value_high``, both included).

    Raises
    ------
    TypeError
        If ``value`` or ``value_high`` is not an int.
    ValueError
        If the fields contradict each other: a negative count, an unknown
        qualifier, ``value_high`` on a non-range or missing on a range, a
        range whose bounds are equal or reversed, or a strict upper bound
        (``fewer_than``, ``approaching``) at 0.

    Examples
    --------
    >>> Figure(600, None, "approx")
    Figure(value=600, value_high=None, qualifier='approx')
    >>> Figure(10_000, 12_000, "range").value_high
    12000
    >>> Figure(12_000, 10_000, "range")
    Traceback (most recent call last):
    ...
    ValueError: a range needs value < value_high, got 12000 and 10000
    """

    value: int
    value_high: int | None = None
    qualifier: str = "exact"

    def __post_init__(self) -> None:
        for name in ("value", "value_high"):
            field = getattr(self, name)
            if name == "value_high" and field is None:
                continue
            if not isinstance(field, int) or isinstance(field, bool):
                raise TypeError(f"{name} must be an int, got {field!r}")
        if self.qualifier not in QUALIFIERS:
            raise FigureError(f"qualifier must be one of {QUALIFIERS}, got {self.qualifier!r}")
        if self.value < 0:
            raise FigureError(f"a count cannot be negative, got {self.value}")
        if self.qualifier == "range":
            if self.value_high is None:
                raise FigureError("a range needs value_high")
            if self.value >= self.value_high:
                raise FigureError(
                    f"a range needs value < value_high, got {self.value} and {self.value_high}"
                )
        elif self.value_high is not None:
            raise FigureError(
                f"value_high belongs to ranges only, got it with qualifier {self.qualifier!r}"
            )
        if self.qualifier in ("fewer_than", "approaching") and self.value == 0:
            raise FigureError(f"no count is {self.qualifier.replace('_', ' ')} 0")

    def __str__(self) -> str:
        """Word the figure as a source would: ``about 600``, ``more than 6,000``."""
        if self.qualifier == "range":
            return f"{self.value:,}–{self.value_high:,}"
        prefix = QUALIFIER_TABLE[self.qualifier].written
        return f"{prefix} {self.value:,}" if prefix else f"{self.value:,}"


# --- reading --------------------------------------------------------------

_EXPECTED: Final = (
    "expected a number with an optional qualifier such as 'about 600', 'at least 100', "
    "'10,000-12,000' or a vague word from: " + ", ".join(repr(word) for word in VAGUE_INTERVALS)
)

_TRANSLATE: Final = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u2007": " ",  # figure space
        "\u2009": " ",  # thin space
        "\u202f": " ",  # narrow no-break space
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2212": "-",  # minus sign
        "\u2248": "~",  # almost equal to
    }
)

_TOKEN_RE: Final = re.compile(
    r"(?P<num>[0-9](?:[0-9,.]*[0-9])?)|(?P<word>[a-z]+)|(?P<dash>-)|(?P<tilde>~)|(?P<plus>\+)"
    r"|(?P<space>\s+)"
)
_GROUPED_RE: Final = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+")
_MAX_NUMERAL: Final = 1000  # characters; far beyond any count, and below int()'s limit

_SCALES: Final = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}
_BOUNDS: Final = frozenset({"at_least", "more_than", "at_most", "fewer_than", "approaching"})


class _Token(NamedTuple):
    kind: str
    text: str
    start: int
    end: int


class _Numeral(NamedTuple):
    """A number as written, before it is turned into a count."""

    value: Fraction  # after scaling
    raw: str  # the text of the number, for messages
    bare: bool  # digits only, maybe with a decimal point: no commas, no scale
    decimal: bool  # has a decimal point and no scale
    magnitude: int  # the power of 1,000 (or the scale) the number was written in
    head: Fraction  # value / magnitude


def _phrase_table(table: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    return {tuple(phrase.split()): phrase for phrase in table}


_PREFIXES: Final = _phrase_table(QUALIFIER_PHRASES)
_SUFFIXES: Final = {**_phrase_table(QUALIFIER_SUFFIXES), ("-", "plus"): "plus"}
_VAGUE: Final = _phrase_table(dict.fromkeys(VAGUE_INTERVALS, ""))


class _Reader:
    """Read one phrase; every method that fails raises FigureError."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cleaned, self.tokens = self._tokenize(text)
        self.pos = 0

    # -- helpers -----------------------------------------------------------

    def fail(self, reason: str) -> NoReturn:
        raise FigureError(f"cannot read {self.text!r} as a figure: {reason}; {_EXPECTED}")

    def _tokenize(self, text: str) -> tuple[str, list[_Token]]:
        """Normalise the text and split it into tokens, without the spaces."""
        cleaned = text.translate(_TRANSLATE).strip().rstrip(".,;:").strip()
        if not cleaned:
            self.fail("the text is empty")
        for char in cleaned:
            if not char.isascii():
                self.fail(f"it contains the unexpected character {char!r}")
        cleaned = cleaned.lower()
        tokens: list[_Token] = []
        pos = 0
        while pos < len(cleaned):
            match = _TOKEN_RE.match(cleaned, pos)
            if match is None:
                self.fail(f"it contains the unexpected character {cleaned[pos]!r}")
            kind = match.lastgroup or ""
            if kind != "space":
                tokens.append(_Token(kind, match.group(), match.start(), match.end()))
            pos = match.end()
        return cleaned, tokens

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def is_word(self, offset: int, *words: str) -> bool:
        token = self.peek(offset)
        return token is not None and token.kind == "word" and token.text in words

    def is_dash(self, offset: int) -> bool:
        token = self.peek(offset)
        return token is not None and token.kind == "dash"

    def match(self, table: Mapping[tuple[str, ...], str]) -> str | None:
        """Consume the longest phrase of ``table`` at the current position."""
        best: tuple[str, ...] | None = None
        for key in table:
            if (best is None or len(key) > len(best)) and tuple(
                token.text for token in self.tokens[self.pos : self.pos + len(key)]
            ) == key:
                best = key
        if best is None:
            return None
        self.pos += len(best)
        return table[best]

    # -- numbers -----------------------------------------------------------

    def numeral(self, *, dozen: bool = False) -> _Numeral | None:
        """Consume a number if one starts here."""
        token = self.peek()
        if token is None:
            return None
        if token.kind == "word":
            if token.text in ("a", "one") and self.is_word(1, *_SCALES):
                scale = _SCALES[self.tokens[self.pos + 1].text]
                raw = f"{token.text} {self.tokens[self.pos + 1].text}"
                self.pos += 2
                return _Numeral(Fraction(scale), raw, False, False, 1, Fraction(scale))
            if dozen and token.text == "a" and self.is_word(1, "dozen"):
                self.pos += 2
                return _Numeral(Fraction(12), "a dozen", False, False, 1, Fraction(12))
            return None
        if token.kind != "num":
            return None
        raw = token.text
        mantissa, decimal = self.read_digits(raw)
        self.pos += 1
        scale = None
        if self.is_word(0, "k"):
            scale = 1_000
            self.pos += 1
        elif self.is_word(0, *_SCALES):
            scale = _SCALES[self.tokens[self.pos].text]
            self.pos += 1
        elif self.is_dash(0) and self.is_word(1, *_SCALES):
            scale = _SCALES[self.tokens[self.pos + 1].text]
            self.pos += 2
        if scale is not None:
            written = self.cleaned[token.start : self.tokens[self.pos - 1].end]
            return _Numeral(mantissa * scale, written, False, False, scale, mantissa)
        if decimal:
            return _Numeral(mantissa, raw, True, True, 1, mantissa)
        if "," in raw:  # the trailing ",000" groups
            tail = "".join(raw.split(",")[1:])
            groups = (len(tail) - len(tail.rstrip("0"))) // 3
        else:  # the trailing zeros, by threes, keeping a leading digit
            groups = min(len(raw) - len(raw.rstrip("0")), len(raw) - 1) // 3
        magnitude = 1_000**groups
        return _Numeral(mantissa, raw, "," not in raw, False, magnitude, mantissa / magnitude)

    def read_digits(self, raw: str) -> tuple[Fraction, bool]:
        """Read the digits of a number token: its value and whether it had a decimal point."""
        if len(raw) > _MAX_NUMERAL:
            self.fail(f"the number is {len(raw)} characters long")
        if "." in raw:
            if "," in raw:
                self.fail(f"{raw!r} mixes ',' and '.'; a count of people is a whole number")
            whole, _, fraction = raw.partition(".")
            if "." in fraction or len(fraction) == 3:
                self.fail(
                    f"in {raw!r} the dot could be a thousands separator or a decimal point; "
                    "write thousands with commas (1,000) or none (1000)"
                )
            if len(whole) > 1 and whole.startswith("0"):
                self.fail(f"{raw!r} has a leading zero")
            return Fraction(int(whole + fraction), 10 ** len(fraction)), True
        if "," in raw:
            if not _GROUPED_RE.fullmatch(raw):
                self.fail(
                    f"{raw!r} is not grouped by thousands: write 1,000 or 10,000, "
                    "with three digits after each comma"
                )
            return Fraction(int(raw.replace(",", ""))), False
        if len(raw) > 1 and raw.startswith("0"):
            self.fail(f"{raw!r} has a leading zero")
        return Fraction(int(raw)), False

    def count(self, numeral: _Numeral, value: Fraction | None = None) -> int:
        """Return the whole count a numeral stands for (``value`` if it was rescaled)."""
        if value is None:
            if numeral.decimal:
                self.fail(
                    f"{numeral.raw!r} has a decimal part, and a count of people is a whole number"
                )
            value = numeral.value
        if value.denominator != 1:
            self.fail(f"{numeral.raw!r} is not a whole number, and a count of people is")
        return int(value)

    def bounds(self, low: _Numeral, high: _Numeral) -> tuple[int, int]:
        """Return the bounds of a range, a bare low one sharing the high one's magnitude."""
        if low.bare and high.magnitude > 1 and low.value < high.head:
            low_value = self.count(low, low.value * high.magnitude)
        else:
            low_value = self.count(low)
        high_value = self.count(high)
        if low_value >= high_value:
            self.fail(
                f"the range {low_value:,} to {high_value:,} has its bounds equal or reversed; "
                "a range goes from a lower to a higher number"
            )
        return low_value, high_value

    # -- the phrase --------------------------------------------------------

    def read(self) -> Figure:
        if not self.tokens:
            self.fail("the text is empty")
        prefix = self.match(_PREFIXES)
        qualifier = QUALIFIER_PHRASES[prefix] if prefix is not None else None
        figure = self.vague(prefix, qualifier)
        vague = figure is not None
        if figure is None:
            figure = self.number(prefix, qualifier)
        self.trailing(vague=vague)
        return figure

    def vague(self, prefix: str | None, qualifier: str | None) -> Figure | None:
        start = self.pos
        phrase = self.match(_VAGUE)
        if phrase is None:
            return None
        if phrase == "a dozen" and qualifier in _BOUNDS:
            self.pos = start  # "more than a dozen": twelve is the number bounded
            return None
        if qualifier is not None and not (phrase == "a dozen" and qualifier == "approx"):
            self.fail(f"the vague word {phrase!r} cannot take the qualifier {prefix!r}")
        low, high = VAGUE_INTERVALS[phrase]
        return Figure(low, high, "range")

    def number(self, prefix: str | None, qualifier: str | None) -> Figure:
        between = self.is_word(0, "between", "from")
        opener = self.tokens[self.pos].text if between else None
        if between:
            if qualifier not in (None, "approx"):
                self.fail(f"a range cannot take the qualifier {prefix!r}")
            self.pos += 1
        low = self.numeral(dozen=qualifier in _BOUNDS)
        if low is None:
            self.no_number(prefix)
        token = self.peek()
        if between:
            joins = ("and", "-") if opener == "between" else ("to", "-")
            if token is None or token.text not in joins:
                self.fail(f"{opener!r} needs two numbers joined by {joins[0]!r}")
            self.pos += 1
            return self.range_to(low, token.text)
        if token is not None and (
            token.text == "to" or (token.kind == "dash" and not self.is_word(1, "plus"))
        ):
            if qualifier not in (None, "approx"):
                self.fail(f"a range cannot take the qualifier {prefix!r}")
            self.pos += 1
            return self.range_to(low, token.text)
        suffix = self.match(_SUFFIXES)
        if suffix is not None:
            if qualifier is not None:
                self.fail(f"the figure has two qualifiers, {prefix!r} and {suffix!r}")
            qualifier = QUALIFIER_SUFFIXES[suffix]
        value = self.count(low)
        try:
            return Figure(value, None, qualifier or "exact")
        except ValueError as error:
            self.fail(str(error))

    def range_to(self, low: _Numeral, joiner: str) -> Figure:
        high = self.numeral()
        if high is None:
            self.fail(f"a second number must follow {joiner!r}")
        low_value, high_value = self.bounds(low, high)
        return Figure(low_value, high_value, "range")

    def no_number(self, prefix: str | None) -> NoReturn:
        """Explain why no number starts at the current position."""
        token = self.peek()
        rest = self.tokens[self.pos :]
        if self.is_dash(0) and (after := self.peek(1)) is not None and after.kind == "num":
            self.fail("a count cannot be negative")
        if any(t.kind == "num" for t in rest):
            first = next(i for i, t in enumerate(rest) if t.kind == "num")
            words = self.cleaned[rest[0].start : rest[first].start].strip()
            self.fail(
                f"the words {words!r} before the number are not a known qualifier "
                "and may change its meaning"
            )
        if prefix is not None and token is None:
            self.fail(f"the qualifier {prefix!r} is not followed by a number")
        self.fail("there is no number in it")

    def trailing(self, *, vague: bool) -> None:
        """Check that only known nouns follow the figure."""
        rest = self.tokens[self.pos :]
        if not rest:
            return
        numbers = [t for t in rest if t.kind == "num"]
        if numbers:
            before = self.tokens[self.pos - 1]
            after = rest[0]
            if (
                after.kind == "num"
                and before.kind == "num"
                and re.fullmatch("[0-9]{3}", after.text)
            ):
                self.fail("spaces are not read as thousands separators; write 10,000 or 10000")
            self.fail(
                "it has more than one number and they do not form a range; "
                "give one figure at a time"
            )
        if vague and rest[0].text == "of":
            rest = rest[1:]
            if not rest:
                self.fail("'of' must be followed by what was counted")
        words = self.cleaned[rest[0].start : rest[-1].end]
        read: list[str] = []
        index = 0
        while index < len(rest):
            for size in (2, 1):
                phrase = " ".join(t.text for t in rest[index : index + size])
                if size <= len(rest) - index and phrase in TRAILING_WORDS:
                    read.append(phrase)
                    index += size
                    break
            else:
                self.fail(
                    f"{rest[index].text!r} in {words!r} after the number is not a known word "
                    "and may change its meaning"
                )
        joiners = ("and", "or")
        if (
            read[0] in joiners
            or read[-1] in joiners
            or any(a in joiners and b in joiners for a, b in itertools.pairwise(read))
        ):
            self.fail(f"'and' or 'or' in {words!r} after the number must join two known words")


def parse_figure(text: str) -> Figure:
    """Read a casualty figure as a source worded it.

    Parameters
    ----------
    text : str
        One worded figure: an optional qualifier, a number or range or vague
        word, and optional trailing words such as "killed" or "soldiers".
        Case and surrounding whitespace are ignored. See the module
        documentation for everything that is read.

    Returns
    -------
    Figure
        The figure, with ``value_high`` set only for ranges and vague words.

    Raises
    ------
    FigureError
        If the text cannot be read as exactly one figure. The message quotes
        the text and says what was expected. Nothing is guessed: unknown
        words, dots as thousands separators, fractional counts and two
        numbers that do not form a range are all refused.
    TypeError
        If ``text`` is not a string.

    Examples
    --------
    >>> parse_figure("about 600 killed")
    Figure(value=600, value_high=None, qualifier='approx')
    >>> parse_figure("4,100")
    Figure(value=4100, value_high=None, qualifier='exact')
    >>> parse_figure("More than 6,000 casualties")
    Figure(value=6000, value_high=None, qualifier='more_than')
    >>> parse_figure("27-hundred")
    Figure(value=2700, value_high=None, qualifier='exact')
    >>> parse_figure("between 11,000 and 12,000")
    Figure(value=11000, value_high=12000, qualifier='range')
    >>> parse_figure("11 to 12,000")
    Figure(value=11000, value_high=12000, qualifier='range')
    >>> parse_figure("dozens of soldiers")
    Figure(value=24, value_high=99, qualifier='range')
    >>> parse_figure("more than a dozen")
    Figure(value=12, value_high=None, qualifier='more_than')
    >>> try:
    ...     parse_figure("maybe 600")
    ... except FigureError as error:
    ...     print(str(error).split(";")[0])
    cannot read 'maybe 600' as a figure: the words 'maybe' before the number are not a known \
qualifier and may change its meaning
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_figure reads a str, got {type(text).__name__}")
    return _Reader(text).read()
