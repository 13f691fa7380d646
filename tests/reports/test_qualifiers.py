"""Every qualifier is handled everywhere, from its one row in ``QUALIFIER_TABLE``."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import nkest
from nkest.model.design import make_design
from nkest.model.options import make_options
from nkest.reports.qualifiers import QUALIFIER_TABLE, claim_bounds
from nkest.reports.schema import QUALIFIERS
from nkest.results.plots._style import BOUND_SHAPES, POINT_QUALIFIERS


@pytest.mark.parametrize("name", list(QUALIFIER_TABLE))
def test_each_qualifier_is_parsed_loaded_claimed_and_drawn(name):
    row = QUALIFIER_TABLE[name]
    high = 700 if name == "range" else None
    figure = nkest.Figure(600, high, name)
    assert nkest.parse_figure(str(figure)) == figure  # written, then read back
    for phrase in row.phrases:
        assert nkest.parse_figure(f"{phrase} 600").qualifier == name
    frame = pd.DataFrame(
        {
            "published": ["2025-01-02", "2025-02-02"],
            "source": ["A", "B"],
            "quantity": ["killed", "killed"],
            "value": ["600", "900"],
            "value_high": ["" if high is None else str(high), ""],
            "qualifier": [name, "approx"],
        }
    )
    design = make_design(nkest.load_reports(frame), make_options())
    claim = design.rows.iloc[0]
    assert claim["kind"] in ("lower", "upper", "interval")
    assert claim["lower"] < claim["upper"]
    expected = claim_bounds(
        name, 600, high or math.nan, approx_max_relative=0.25, approaching_band=0.2
    )
    assert (claim["lower"], claim["upper"]) == (max(expected[0], 0.0), expected[1])
    glyph = "point" if name in POINT_QUALIFIERS else BOUND_SHAPES.get(name, "range")
    assert glyph == row.glyph  # the charts draw it as its row says


def test_the_format_lists_exactly_the_qualifiers_of_the_table():
    assert tuple(QUALIFIER_TABLE) == QUALIFIERS


def test_a_qualifier_without_a_row_is_never_read_with_a_guessed_meaning():
    with pytest.raises(KeyError, match="no row in QUALIFIER_TABLE"):
        claim_bounds("roughly", 600, math.nan, approx_max_relative=0.25, approaching_band=0.2)


def test_strict_bounds_exclude_the_figure_itself():
    more = claim_bounds("more_than", 600, math.nan, approx_max_relative=0.25, approaching_band=0.2)
    fewer = claim_bounds(
        "fewer_than", 600, math.nan, approx_max_relative=0.25, approaching_band=0.2
    )
    assert more == (600.5, math.inf)
    assert fewer == (0.0, 599.5)
