"""From reports to the model's arrays: claims, exclusions, the grid and identification."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

import nkest
from nkest.model.design import make_design
from nkest.model.grid import make_grid, parse_freq
from nkest.model.options import make_options
from nkest.reports.qualifiers import rounding_half_width

BASE = {"published": "2025-01-10", "source": "A", "source_group": "G", "quantity": "killed"}


def design_of(rows, **options):
    frame = pd.DataFrame([{**BASE, "report_id": f"r{i}", **row} for i, row in enumerate(rows)])
    reports = nkest.load_reports(frame, metadata={"origin": "2024-12-01"})
    return make_design(reports, make_options(**options))


@pytest.mark.parametrize(
    ("row", "kind", "lower", "upper"),
    [
        ({"value": "600", "qualifier": "approx"}, "interval", 550, 650),
        ({"value": "4,700", "qualifier": "approx"}, "interval", 4650, 4750),
        ({"value": "2000", "qualifier": "approx"}, "interval", 1500, 2500),
        ({"value": "10000", "qualifier": "approx"}, "interval", 7500, 12500),  # capped at 25%
        ({"value": "4100", "qualifier": "exact"}, "interval", 4099.5, 4100.5),
        ({"value": "100", "qualifier": "at_least"}, "lower", 99.5, np.inf),
        ({"value": "6000", "qualifier": "more_than"}, "lower", 6000.5, np.inf),
        ({"value": "25000", "qualifier": "at_most"}, "upper", 0, 25000.5),
        ({"value": "50", "qualifier": "fewer_than"}, "upper", 0, 49.5),
        ({"value": "1000", "qualifier": "approaching"}, "interval", 799.5, 999.5),
        (
            {"value": "10000", "value_high": "12000", "qualifier": "range"},
            "interval",
            9999.5,
            12000.5,
        ),
        ({"value": "0", "qualifier": "exact"}, "upper", 0, 0.5),
    ],
)
def test_each_qualifier_becomes_its_interval(row, kind, lower, upper):
    design = design_of([{"value": "300", "qualifier": "approx"}, row])
    claim = design.rows.iloc[1]
    assert claim["kind"] == kind
    assert claim["lower"] == pytest.approx(lower)
    assert claim["upper"] == pytest.approx(upper)


@pytest.mark.parametrize(
    ("value", "half"),
    [
        (600, 50),
        (4700, 50),
        (4100, 50),
        (2000, 500),
        (100, 25),
        (47, 0.5),
        (0, 0.5),
        (1500, 250),  # rounded to the nearest 500
        (350, 25),  # to the nearest 50
        (25000, 2500),
        (5, 0.5),  # a single digit 5 is not a half unit
        (45, 2.5),  # to the nearest 5
    ],
)
def test_rounding_half_width_reads_the_trailing_zeros(value, half):
    assert rounding_half_width(value, 0.25) == half


def test_incident_is_a_lower_bound_on_the_increase_over_its_window():
    design = design_of(
        [
            {"value": "300", "qualifier": "approx"},
            {
                "value": "50",
                "qualifier": "exact",
                "scope": "incident",
                "period_start": "2024-12-15",
                "period_end": "2024-12-17",
                "as_of": "2024-12-17",
            },
        ]
    )
    incident = design.rows.iloc[1]
    assert (incident["kind"], incident["lower"], incident["upper"]) == ("lower", 49.5, np.inf)
    assert design.arrays["windowed"][1] == 1.0
    # A lower bound on a window bounds every window around it: it reads the whole grid
    # steps its window touches, from the grid date at or before the end of the day before
    # it starts to the grid date at or after its end (not its share of a step).
    start = design.grid.position([pd.Timestamp("2024-12-14")])[0]
    end = design.grid.position([pd.Timestamp("2024-12-17")])[0]
    read_start = design.arrays["start_left"][1] + design.arrays["start_weight"][1]
    read_end = design.arrays["end_left"][1] + design.arrays["end_weight"][1]
    assert read_start == np.floor(start) < start
    assert read_end == np.ceil(end) > end


def test_a_two_sided_window_shorter_than_a_step_warns_and_is_read_as_its_share():
    rows = [
        {"value": "300", "qualifier": "approx"},
        {
            "value": "50",
            "qualifier": "exact",
            "scope": "period",
            "period_start": "2024-12-15",
            "period_end": "2024-12-17",
            "as_of": "2024-12-17",
        },
    ]
    with pytest.warns(UserWarning, match=r"r1 count a window shorter than the grid step"):
        design = design_of(rows)
    start = design.grid.position([pd.Timestamp("2024-12-14")])[0]
    assert design.arrays["start_left"][1] + design.arrays["start_weight"][1] == pytest.approx(start)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        design_of(rows, freq="D")


def test_captured_with_only_lower_bounds_is_excluded_with_its_reason():
    design = design_of(
        [
            {"value": "300", "qualifier": "approx"},
            {"value": "3", "qualifier": "at_least", "quantity": "captured"},
        ]
    )
    assert "captured" not in design.quantities
    assert "only lower bounds of captured" in design.excluded.loc[0, "reason"]
    bounded = design_of(
        [
            {"value": "300", "qualifier": "approx"},
            {"value": "3", "qualifier": "at_least", "quantity": "captured"},
            {"value": "2", "qualifier": "exact", "quantity": "captured", "as_of": "2025-01-05"},
        ]
    )
    assert "captured" in bounded.quantities
    assert bounded.excluded.empty


def test_the_default_end_is_the_last_date_a_used_report_reads():
    design = design_of(
        [
            {"value": "300", "qualifier": "approx", "as_of": "2025-01-03"},
            {"value": "12000", "quantity": "deployed", "published": "2025-02-20"},
        ]
    )
    assert design.grid.end == dt.date(2025, 1, 3)
    assert "neither the total sent" in design.excluded.loc[0, "reason"]


def test_a_floor_has_no_bias_and_troops_sent_are_observed_with_their_sources_bias():
    design = design_of(
        [
            {"value": "300", "qualifier": "approx"},
            {"value": "101", "qualifier": "at_least", "constraint": "floor", "source": "KCNA"},
            {
                "value": "12000",
                "qualifier": "approx",
                "quantity": "deployed",
                "constraint": "cap",
                "source": "MoD",
            },
        ]
    )
    floor, sent = design.rows.iloc[1], design.rows.iloc[2]
    assert (floor["role"], floor["kind"]) == ("floor", "lower")
    # "12,000 sent" reads the latent troops sent as an "about" figure, not an upper bound
    assert (sent["role"], sent["kind"], sent["target"]) == ("observation", "interval", "deployed")
    assert sent["lower"] > 0
    assert np.isfinite(sent["upper"])
    assert {"deployed", "all_losses"} <= set(design.internal)
    assert design.sources == ("A", "MoD")  # a floor-only source gets no bias parameter
    assert list(design.arrays["source_index"]) == [0, 2, 1]  # the floor: the unbiased slot
    assert design.pairs == (("A", "deaths"), ("MoD", "troops sent"))
    assert design.family_deviations == (False, False)  # one family each: no part of their own
    assert design.sent_knots >= 2


def test_troops_sent_in_a_period_read_the_rise_of_troops_sent_over_the_window():
    design = design_of(
        [
            {
                "value": "300",
                "qualifier": "approx",
                "as_of": "2025-03-01",
                "published": "2025-03-02",
            },
            {
                "value": "10000",
                "quantity": "deployed",
                "constraint": "cap",
                "as_of": "2025-01-01",
                "source": "MoD",
            },
            {
                "value": "3000",
                "qualifier": "more_than",
                "quantity": "deployed",
                "scope": "period",
                "period_start": "2025-02-01",
                "period_end": "2025-02-28",
                "as_of": "2025-02-28",
                "published": "2025-03-01",
                "source": "MoD",
            },
        ]
    )
    assert design.excluded.empty
    batch = design.rows.iloc[2]
    assert (batch["role"], batch["kind"], batch["target"]) == ("observation", "lower", "deployed")
    assert design.arrays["windowed"][2] == 1.0  # the rise between two dates, not a total
    # knots at the window's two ends, so the rise is a parameter of its own
    assert design.sent_knots >= 4
    # the prior centre of the rises comes from the total, not from the batch
    knots = design.sent_knots
    assert np.exp(design.arrays["log_sent_centre"][0]) == pytest.approx(10000 / (knots - 1))


def test_a_source_reporting_two_families_has_a_bias_part_for_each():
    design = design_of(
        [
            {"value": "300", "qualifier": "approx"},
            {"value": "900", "qualifier": "approx", "quantity": "wounded"},
            {"value": "2000", "qualifier": "approx", "quantity": "casualties", "source": "B"},
        ]
    )
    assert design.pairs == (
        ("A", "deaths"),
        ("A", "wounded and casualties"),
        ("B", "wounded and casualties"),
    )
    assert design.family_deviations == (True, True, False)
    assert list(design.arrays["pair_index"]) == [0, 1, 2]
    assert design.coords["family_pair"] == ["A · deaths", "A · wounded and casualties"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"value": "12000", "quantity": "deployed"}, "neither the total sent"),
        (
            {
                "value": "20",
                "qualifier": "at_most",
                "scope": "incident",
                "period_start": "2024-12-20",
                "period_end": "2024-12-20",
                "as_of": "2024-12-20",
            },
            "upper bound on one incident",
        ),
        (
            {
                "value": "20",
                "qualifier": "exact",
                "scope": "incident",
                "constraint": "cap",
                "period_start": "2024-12-20",
                "period_end": "2024-12-20",
                "as_of": "2024-12-20",
            },
            "cap on one incident",
        ),
        ({"value": "0", "qualifier": "at_least"}, "no information"),
        (
            {"value": "30", "as_of": "2024-11-15", "published": "2024-11-20"},
            "on or before the origin",
        ),
    ],
)
def test_model_exclusions_are_listed_with_their_reason(row, reason):
    design = design_of([{"value": "300", "qualifier": "approx"}, row])
    assert list(design.rows["report_id"]) == ["r0"]
    (excluded,) = design.excluded.itertuples()
    assert excluded.report_id == "r1"
    assert excluded.excluded_by == "model"
    assert reason in excluded.reason


def test_reports_after_the_end_are_excluded_and_the_grid_ends_on_end():
    design = design_of(
        [{"value": "300", "as_of": "2024-12-20"}, {"value": "600", "as_of": "2025-01-09"}],
        end="2025-01-01",
    )
    assert design.grid.end == dt.date(2025, 1, 1)
    assert "after the end of the estimate (2025-01-01)" in design.excluded.loc[0, "reason"]


def test_table_exclusions_keep_their_own_reason():
    design = design_of([{"value": "300"}, {"value": "900", "exclude": "a relay of r0"}])
    assert design.excluded.loc[0, "reason"] == "a relay of r0"
    assert design.excluded.loc[0, "excluded_by"] == "reports"


def test_same_shape_reports_share_a_structure_and_others_do_not():
    first = design_of([{"value": "300"}, {"value": "600", "as_of": "2025-01-05"}])
    second = design_of([{"value": "350"}, {"value": "650", "as_of": "2025-01-04"}])
    other = design_of([{"value": "350"}, {"value": "650", "source": "B"}])
    assert first.structure == second.structure
    assert first.structure != other.structure


def test_identification_must_name_sources_and_groups_that_report():
    rows = [{"value": "300"}, {"value": "400", "source": "B", "source_group": "H"}]
    with pytest.raises(
        ValueError,
        match=r"reference source\(s\) 'NIS' have no used observations; "
        r"sources with observations: A, B",
    ):
        design_of(rows, identification={"reference": ["NIS"]})
    with pytest.raises(ValueError, match=r"no such group with used observations; groups: G, H"):
        design_of(rows, identification={"group_priors": {"Ukraine": (1.5, 0.2)}})


def test_a_source_in_two_groups_is_refused_naming_the_source_and_lines():
    with pytest.raises(nkest.ReportError) as refused:
        design_of([{"value": "300"}, {"value": "400", "source_group": "H"}])
    (problem,) = refused.value.problems
    assert problem.column == "source_group"
    assert problem.value == "H"
    assert "row 1" in problem.location
    assert "the group of source 'A' at row 0" in problem.expected


def test_nothing_usable_is_an_error():
    with pytest.raises(ValueError, match="no usable reports"):
        design_of([{"value": "300", "exclude": "doubtful"}])


def test_span_weights_cover_the_reported_span_only():
    design = design_of(
        [{"value": "300", "as_of": "2024-12-20"}, {"value": "600", "as_of": "2025-01-09"}],
        end="2025-03-01",
    )
    weights = np.exp(design.arrays["log_span_weight"][0])
    assert weights.sum() == pytest.approx(1.0)
    dates = design.grid.dates[1:]
    assert weights[dates > pd.Timestamp("2025-01-20")].sum() == 0
    assert weights[dates < pd.Timestamp("2024-12-10")].sum() == 0


@pytest.mark.parametrize(("freq", "days"), [("W", 7), ("D", 1), ("2W", 14), ("3d", 3)])
def test_parse_freq(freq, days):
    assert parse_freq(freq) == days


@pytest.mark.parametrize("freq", ["M", "0D", "week", ""])
def test_parse_freq_refuses_what_it_cannot_read(freq):
    with pytest.raises(ValueError, match="freq must be"):
        parse_freq(freq)


def test_grid_interpolates_between_grid_dates_and_refuses_dates_outside():
    grid = make_grid(dt.date(2025, 1, 10), dt.date(2025, 3, 1), 7, dt.date(2025, 1, 1))
    assert grid.end == dt.date(2025, 3, 1)
    assert grid.start <= dt.date(2025, 1, 1) < grid.start + dt.timedelta(days=7)
    left, weight = grid.interpolation([pd.Timestamp(grid.start) + pd.Timedelta(days=10)])
    assert (left[0], weight[0]) == (1, pytest.approx(3 / 7))
    with pytest.raises(ValueError, match="outside the estimate's grid"):
        grid.position([pd.Timestamp("2025-03-02")])
    with pytest.raises(ValueError, match="origin 2025-01-10 must be before"):
        make_grid(dt.date(2025, 1, 10), dt.date(2025, 3, 1), 7, dt.date(2025, 1, 10))


def test_a_window_is_read_to_period_end_whatever_as_of_says():
    design = design_of(
        [
            {"value": "300"},
            {
                "value": "80",
                "qualifier": "exact",
                "scope": "period",
                "period_start": "2024-12-10",
                "period_end": "2024-12-20",
                "as_of": "2024-12-15",
                "published": "2025-01-05",
            },
        ]
    )
    end = design.grid.position([pd.Timestamp("2024-12-20")])[0]
    assert design.arrays["end_left"][1] + design.arrays["end_weight"][1] == pytest.approx(end)


def test_early_reports_of_troops_sent_do_not_set_the_initial_losses():
    """With the origin unknown, the initial killed centre comes from loss figures only."""
    rows = [
        {"value": "12000", "quantity": "deployed", "constraint": "cap", "as_of": "2025-01-01"},
        {"value": "11000", "quantity": "deployed", "constraint": "cap", "as_of": "2025-01-02"},
        {"value": "13000", "quantity": "deployed", "constraint": "cap", "as_of": "2025-01-03"},
        {"value": "300", "qualifier": "approx", "as_of": "2025-01-10"},
    ]
    frame = pd.DataFrame([{**BASE, "report_id": f"r{i}", **row} for i, row in enumerate(rows)])
    design = make_design(nkest.load_reports(frame), make_options(origin="unknown"))
    assert float(design.arrays["log_initial_centre"]) == pytest.approx(np.log(300))


def test_a_blank_as_of_on_a_window_does_not_extend_the_estimate():
    # as_of left blank is the publication date, two years after the window it describes
    rows = [
        {"value": "300", "as_of": "2025-01-03"},
        {
            "value": "80",
            "scope": "period",
            "period_start": "2024-12-10",
            "period_end": "2024-12-20",
            "published": "2026-12-01",
        },
    ]
    design = design_of(rows)
    assert design.grid.end == dt.date(2025, 1, 3)
    assert len(design.rows) == 2
    # an end before the publication date keeps the window, whose dates are inside it
    assert design_of(rows, end="2025-01-05").excluded.empty


@pytest.mark.parametrize("scope", ["period", "incident"])
def test_reports_of_windows_alone_make_a_design(scope):
    rows = [
        {
            "value": value,
            "scope": scope,
            "period_start": start,
            "period_end": end,
            "published": "2025-03-05",
        }
        for value, start, end in (
            ("300", "2025-01-01", "2025-01-31"),
            ("200", "2025-02-01", "2025-02-28"),
        )
    ]
    design = design_of(rows)
    assert len(design.rows) == 2
    assert design.grid.end == dt.date(2025, 2, 28)
    # the rate's prior is centred on the windows' daily figure, not on nothing
    centre = design.arrays["log_rate_centre"][0]
    assert np.log(200 / 28) - 0.5 < centre < np.log(300 / 31) + 0.5


@pytest.mark.parametrize("name", ["lower", "upper", "kind", "reason", "target", "family"])
def test_an_extra_column_named_as_a_design_column_changes_nothing(name):
    rows = [{"value": "300", "qualifier": "approx"}, {"value": "450", "as_of": "2025-01-08"}]
    plain = design_of(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the extra column is kept, with a warning
        extra = design_of([{**row, name: "x"} for row in rows])
    pd.testing.assert_frame_equal(extra.rows, plain.rows)
    for key, array in plain.arrays.items():
        np.testing.assert_array_equal(extra.arrays[key], array)


def test_totals_are_zero_up_to_an_origin_inside_the_first_step():
    # a four-week grid ending on 2025-03-28 starts 24 days before the origin
    grid = make_grid(dt.date(2025, 1, 10), dt.date(2025, 3, 28), 28, dt.date(2024, 12, 30))
    assert (grid.start, grid.dates[1].date()) == (dt.date(2024, 12, 6), dt.date(2025, 1, 3))
    dates = ["2024-12-10", "2024-12-30", "2024-12-31", "2025-01-01", "2025-01-17"]
    left, weight = grid.interpolation(dates)
    np.testing.assert_array_equal(left, [0, 0, 0, 0, 1])
    # nothing before the origin; the first step's losses accrue from it to the next grid date
    np.testing.assert_allclose(weight, [0.0, 0.0, 0.25, 0.5, 0.5])
    # without an origin, the grid reads the first step as any other
    plain = make_grid(dt.date(2025, 1, 10), dt.date(2025, 3, 28), 28, None)
    assert plain.origin is None
    days = (dt.date(2025, 1, 14) - plain.start).days
    np.testing.assert_allclose(plain.interpolation(["2025-01-14"])[1], [days % 28 / 28])
