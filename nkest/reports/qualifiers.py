"""The qualifiers: how a source worded a figure, and everything that follows from the wording.

One row per qualifier holds all that nkest knows of it: the words that
introduce it, how it is written back, the interval of counts it claims, whether
it may serve as a floor or a cap, and how the charts draw it. The parser, the
validation of a table, the model's design and the plots all read this table,
so a new qualifier is one new row here (and its words in the documentation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

__all__ = [
    "QUALIFIER_TABLE",
    "Qualifier",
    "claim_bounds",
    "rounding_half_width",
]

Glyph = Literal["point", "range", "lower", "upper"]


def rounding_half_width(value: int, max_relative: float) -> float:
    """Half-width of the interval a rounded figure stands for.

    The unit is read from the trailing zeros (600 -> 100, 4,700 -> 100,
    2,000 -> 1,000), so "about 600" stands for 550..650. A last non-zero digit
    of 5 is rounding to a half unit (1,500 -> 500, 350 -> 50, 25,000 ->
    5,000): people round to the nearest 500 as often as to the nearest 100.
    Round numbers with few significant digits ("about 10,000") would give
    very wide intervals; the half-width is capped at ``max_relative`` of the
    value.
    """
    if value <= 0:
        return 0.5
    text = str(int(value))
    digits = text.rstrip("0")
    unit = 10 ** (len(text) - len(digits))
    if digits[-1] == "5" and len(digits) > 1:
        unit *= 5
    return max(0.5, min(unit / 2, max_relative * value))


# A claim's bounds from (value, value_high, approx_max_relative, approaching_band): the
# counts it admits, with half a unit at each end (a count is a whole number).
Bounds = Callable[[float, float, float, float], tuple[float, float]]


@dataclass(frozen=True)
class Qualifier:
    """Everything that follows from one way of wording a figure.

    Attributes
    ----------
    name : str
        The word in the ``qualifier`` column.
    meaning : str
        What it says about the count, in words.
    written : str
        How ``nkest.Figure`` writes it before the number ("about"); empty for
        a plain number; a range is written "v–w".
    phrases : tuple of str
        Words that introduce it before a number ("more than", "over").
    suffixes : tuple of str
        Words that give it after a number ("or more", "+").
    bounds : callable
        ``bounds(value, value_high, approx_max_relative, approaching_band)``:
        the interval of counts the figure claims (open ends are infinite).
    may_be_floor, may_be_cap : bool
        Whether a figure so worded bounds the truth from below (a floor) or
        above (a cap).
    glyph : {"point", "range", "lower", "upper"}
        How a chart draws it: a point with its rounding, a bar, or an arrow.
    """

    name: str
    meaning: str
    written: str
    phrases: tuple[str, ...]
    suffixes: tuple[str, ...]
    bounds: Bounds
    may_be_floor: bool
    may_be_cap: bool
    glyph: Glyph


def _rounded(value: float, high: float, max_relative: float, band: float) -> tuple[float, float]:
    half = rounding_half_width(int(value), max_relative)
    return value - half, value + half


_ROWS = (
    Qualifier(
        name="exact",
        meaning="the count itself",
        written="",
        phrases=(),
        suffixes=(),
        bounds=lambda v, h, m, b: (v - 0.5, v + 0.5),
        may_be_floor=True,
        may_be_cap=True,
        glyph="point",
    ),
    Qualifier(
        name="approx",
        meaning="a rounded figure near the count",
        written="about",
        phrases=(
            "about",
            "around",
            "some",
            "roughly",
            "approximately",
            "an estimated",
            "estimated",
            "circa",
            "~",
        ),
        suffixes=("or so",),
        bounds=_rounded,
        may_be_floor=True,
        may_be_cap=True,
        glyph="point",
    ),
    Qualifier(
        name="at_least",
        meaning="the count is the figure or more",
        written="at least",
        phrases=(
            "at least",
            "no fewer than",
            "no less than",
            "not fewer than",
            "not less than",
            "a minimum of",
        ),
        suffixes=("or more", "plus", "+"),
        bounds=lambda v, h, m, b: (v - 0.5, math.inf),
        may_be_floor=True,
        may_be_cap=False,
        glyph="lower",
    ),
    Qualifier(
        name="more_than",
        meaning="the count is above the figure",
        written="more than",
        phrases=(
            "more than",
            "over",
            "just over",
            "well over",
            "above",
            "exceeded",
            "exceeding",
            "exceeds",
            "in excess of",
            "upwards of",
        ),
        suffixes=(),
        bounds=lambda v, h, m, b: (v + 0.5, math.inf),
        may_be_floor=True,
        may_be_cap=False,
        glyph="lower",
    ),
    Qualifier(
        name="at_most",
        meaning="the count is the figure or less",
        written="up to",
        phrases=("up to", "as many as", "at most", "no more than", "not more than", "a maximum of"),
        suffixes=("or fewer", "or less"),
        bounds=lambda v, h, m, b: (0.0, v + 0.5),
        may_be_floor=False,
        may_be_cap=True,
        glyph="upper",
    ),
    Qualifier(
        name="fewer_than",
        meaning="the count is below the figure",
        written="fewer than",
        phrases=("fewer than", "less than", "under", "well under", "below"),
        suffixes=(),
        bounds=lambda v, h, m, b: (0.0, v - 0.5),
        may_be_floor=False,
        may_be_cap=True,
        glyph="upper",
    ),
    Qualifier(
        name="approaching",
        meaning="just below the figure",
        written="approaching",
        phrases=(
            "approaching",
            "nearly",
            "almost",
            "close to",
            "just under",
            "just shy of",
            "nearing",
        ),
        suffixes=(),
        bounds=lambda v, h, m, b: (v * (1 - b) - 0.5, v - 0.5),
        may_be_floor=False,
        may_be_cap=True,
        glyph="range",
    ),
    Qualifier(
        name="range",
        meaning="between the figure and value_high, both included",
        written="",
        phrases=(),
        suffixes=(),
        bounds=lambda v, h, m, b: (v - 0.5, h + 0.5),
        may_be_floor=True,
        may_be_cap=True,
        glyph="range",
    ),
)

QUALIFIER_TABLE: Final[Mapping[str, Qualifier]] = MappingProxyType({q.name: q for q in _ROWS})
"""Every qualifier by its name, in the order of the documentation."""


def claim_bounds(
    qualifier: str,
    value: float,
    value_high: float,
    *,
    approx_max_relative: float,
    approaching_band: float,
) -> tuple[float, float]:
    """Return the interval of counts a figure claims, by its qualifier.

    Raises
    ------
    KeyError
        For a qualifier that is not in ``QUALIFIER_TABLE``: a figure is never
        read with a guessed meaning.
    """
    try:
        row = QUALIFIER_TABLE[qualifier]
    except KeyError:
        raise KeyError(
            f"qualifier {qualifier!r} has no row in QUALIFIER_TABLE: no meaning to read"
        ) from None
    return row.bounds(value, value_high, approx_max_relative, approaching_band)
