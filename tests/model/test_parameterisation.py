"""The levels drawn as the reports see them: the same posterior, on other coordinates."""

from __future__ import annotations

import numpy as np
import pytest

import nkest
from nkest.model.build import build_model
from nkest.model.design import make_design
from nkest.model.options import make_options
from nkest.validate import simulate_conflict

LEVELS = ("killed_log_rate_mean", "captured_log_rate_mean", "log_initial_killed")


def _reports(which: str):
    if which == "dprk":
        return nkest.load_dataset("dprk"), {}
    sim = simulate_conflict(3, deployment=True, n_groups=3)
    return sim.reports, {"end": sim.daily.index[-1].date().isoformat()}


def _plain_point(anchored, plain, point: dict) -> dict:
    """The plain model's coordinates of a point of the anchored model."""
    levels = [
        name for name in (*LEVELS, "sent_rise") if name in {d.name for d in anchored.deterministics}
    ]
    values = anchored.compile_fn(
        anchored.replace_rvs_by_values([anchored[name] for name in levels]),
        inputs=anchored.value_vars,
        on_unused_input="ignore",
    )(point)
    shared = {name: value for name, value in point.items() if not name.endswith("_seen")}
    shared.pop("sent_log_rise_seen", None)
    for name, value in zip(levels, values, strict=True):
        if name == "sent_rise":
            shared["sent_rise_log__"] = np.log(value)
        else:
            shared[name] = value
    assert set(shared) == {v.name for v in plain.value_vars}
    return shared


@pytest.mark.parametrize(
    ("which", "identification", "origin"),
    [
        ("dprk", "most_groups", None),
        ("simulated", "groups", None),
        ("simulated", "most_groups", "unknown"),
    ],
)
def test_the_levels_as_seen_leave_the_density_unchanged(which, identification, origin):
    reports, end = _reports(which)
    options = make_options(identification=identification, origin=origin, **end)
    design = make_design(reports, options)
    anchored = build_model(design, options)
    seen = {v.name for v in anchored.free_RVs if v.name.endswith("_seen")}
    expected = {"killed_log_rate_mean_seen", "sent_log_rise_seen"}
    if "captured" in design.quantities:
        expected.add("captured_log_rate_mean_seen")
    if origin == "unknown":
        expected.add("log_initial_killed_seen")
    assert seen == expected
    plain = build_model(design, options, levels_as_seen=False)
    assert not [v for v in plain.free_RVs if v.name.endswith("_seen")]

    logp_anchored, logp_plain = anchored.compile_logp(), plain.compile_logp()
    rng = np.random.default_rng(5)
    start = anchored.initial_point(random_seed=5)
    differences = []
    for _ in range(5):
        point = {k: v + rng.normal(0, 0.5, np.shape(v)) for k, v in start.items()}
        moved = _plain_point(anchored, plain, point)
        # Off the anchor's zero: the levels differ between the two coordinate systems.
        assert not np.isclose(moved["killed_log_rate_mean"], point["killed_log_rate_mean_seen"])
        differences.append(logp_anchored(point) - logp_plain(moved))
    np.testing.assert_allclose(differences, 0.0, atol=1e-8)


def test_a_pinned_level_is_drawn_as_it_is():
    reports = nkest.load_dataset("dprk")
    options = make_options(identification={"reference": ["NIS"]})
    model = build_model(make_design(reports, options), options)
    names = {v.name for v in model.free_RVs}
    assert "killed_log_rate_mean" in names
    assert not [name for name in names if name.endswith("_seen")]


def test_the_anchor_follows_new_data_in_the_compiled_model():
    import pymc as pm

    from nkest.model.build import _REPORT_INDEX

    reports = nkest.load_dataset("dprk")
    options = make_options()
    model = build_model(make_design(reports, options), options)
    level = model.compile_fn(
        model.replace_rvs_by_values([model["killed_log_rate_mean"]])[0],
        inputs=model.value_vars,
        on_unused_input="ignore",
    )
    point = model.initial_point(random_seed=1)
    rng = np.random.default_rng(1)
    point = {k: v + rng.normal(0, 0.5, np.shape(v)) for k, v in point.items()}
    before = level(point)
    index = model["report_index"].get_value().copy()
    pairs = index[_REPORT_INDEX.index("pair_index")]
    # Every report from the first pair: the anchor becomes that pair's log-bias.
    pairs[pairs < pairs.max()] = 0
    with model:
        pm.set_data({"report_index": index})
    after = level(point)
    assert not np.isclose(before, after)
    bias = model.compile_fn(
        model.replace_rvs_by_values([model["pair_bias_factor"]])[0],
        inputs=model.value_vars,
        on_unused_input="ignore",
    )(point)
    seen = point["killed_log_rate_mean_seen"]
    np.testing.assert_allclose(after, seen - np.log(bias[0]))
