"""The observation model: its formulas, their numerical stability, and model == NumPy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import nkest
from nkest.fit.estimate import report_centres
from nkest.fit.prior import sample_prior
from nkest.model.build import ar1_filter, build_model
from nkest.model.design import log_bounds, make_design
from nkest.model.likelihood import pointwise_logp
from nkest.model.options import make_options


def arrays_for(lower, upper, kinds):
    kinds = np.array(kinds)
    lower = np.where(kinds == "upper", 0.0, lower)
    upper = np.where(kinds == "lower", np.inf, upper)
    return {
        "log_lower": log_bounds(lower, upper=False),
        "log_upper": log_bounds(upper, upper=True),
    }


def test_claim_logp_matches_the_logistic_cdf():
    lower = np.array([550.0, 99.5, 1.0, 3999.5])
    upper = np.array([650.0, 1.0, 25000.5, 4000.5])
    arrays = arrays_for(lower, upper, ["interval", "lower", "upper", "interval"])
    centre, scale = np.log([700.0, 80.0, 30000.0, 3900.0]), np.array([0.2, 0.3, 0.1, 0.05])
    got = pointwise_logp(centre, scale, arrays)
    cdf = stats.logistic(loc=centre, scale=scale).cdf
    expected = np.log(
        [
            cdf(np.log(650))[0] - cdf(np.log(550))[0],
            1 - cdf(np.log(99.5))[1],
            cdf(np.log(25000.5))[2],
            cdf(np.log(4000.5))[3] - cdf(np.log(3999.5))[3],
        ]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_claim_logp_is_finite_far_in_the_tails():
    arrays = arrays_for(
        np.array([100.0, 100.0, 1.0]), np.array([101.0, 1.0, 100.0]), ["interval", "lower", "upper"]
    )
    for centre in (np.log(1e-6), np.log(1e9)):
        values = pointwise_logp(np.full(3, centre), np.full(3, 0.02), arrays)
        assert np.isfinite(values).all()
        assert (values <= 0).all()


def test_ar1_filter_is_the_recursion():
    import pytensor.tensor as pt

    rng = np.random.default_rng(0)
    innovations, phi = rng.normal(size=200), 0.93
    expected = np.empty_like(innovations)
    expected[0] = innovations[0]
    for t in range(1, 200):
        expected[t] = phi * expected[t - 1] + innovations[t]
    got = ar1_filter(pt.as_tensor(innovations), pt.as_tensor(phi), 200).eval()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_model_potential_equals_numpy_log_likelihood():
    """The post-hoc per-report log-likelihood is the sampled model's, draw for draw."""
    frame = pd.DataFrame(
        {
            "published": ["2025-01-10", "2025-02-10", "2025-03-01", "2025-03-01", "2025-03-02"],
            "source": ["A", "B", "A", "C", "K"],
            "source_group": ["G", "H", "G", "H", "K"],
            "quantity": ["killed", "casualties", "wounded", "killed", "killed"],
            "value": ["300", "6000", "2000", "50", "101"],
            "qualifier": ["approx", "more_than", "range", "exact", "at_least"],
            "value_high": ["", "", "2500", "", ""],
            "scope": ["cumulative", "cumulative", "cumulative", "incident", "cumulative"],
            "period_start": ["", "", "", "2025-02-26", ""],
            "period_end": ["", "", "", "2025-03-01", ""],
            "constraint": ["", "", "", "", "floor"],
        }
    )
    reports = nkest.load_reports(frame, metadata={"origin": "2024-12-01"})
    options = make_options()
    design = make_design(reports, options)
    model = build_model(design, options)
    point = model.initial_point(random_seed=3)
    rng = np.random.default_rng(3)
    point = {name: value + rng.normal(0, 0.3, np.shape(value)) for name, value in point.items()}
    names = ["reports", "total", "bias_factor", "noise"]
    outputs = model.replace_rvs_by_values([model[n] for n in names])
    potential, *values = model.compile_fn(outputs, inputs=model.value_vars)(point)
    names = names[1:]
    posterior = {n: v[None, None] for n, v in zip(names, values, strict=True)}
    import xarray as xr

    dataset = xr.Dataset(
        {
            "total": (("chain", "draw", "quantity", "date"), posterior["total"]),
            "bias_factor": (("chain", "draw", "source"), posterior["bias_factor"]),
            "noise": (("chain", "draw", "source"), posterior["noise"]),
        }
    )
    centre, scale = report_centres(dataset, design, options.constraint_scale)
    assert pointwise_logp(centre, scale, design.arrays).sum() == pytest.approx(float(potential))


def test_open_bounds_reduce_the_interval_formula_exactly():
    """With a bound at OPEN_BOUND, F(b) - F(a) is exactly 1 - F(a) or F(b)."""
    centre, scale = np.log([500.0, 500.0]), np.array([0.02, 0.3])
    lower_only = arrays_for(np.array([400.0, 400.0]), np.array([np.inf, np.inf]), ["lower"] * 2)
    upper_only = arrays_for(np.array([0.0, 0.0]), np.array([600.0, 600.0]), ["upper"] * 2)
    a = (np.log(400.0) - centre) / scale
    b = (np.log(600.0) - centre) / scale
    np.testing.assert_allclose(pointwise_logp(centre, scale, lower_only), -np.logaddexp(0, a))
    np.testing.assert_allclose(pointwise_logp(centre, scale, upper_only), -np.logaddexp(0, -b))


def test_prior_model_has_named_dims_that_arviz_does_not_use():
    reports = nkest.load_dataset("dprk")
    options = make_options()
    model = build_model(make_design(reports, options), options)
    reserved = {"group", "sample", "summary", "ci_bound", "chain", "draw"}
    assert not reserved & set(model.coords)
    assert model.named_vars_to_dims["total"] == ("quantity", "date")
    assert model.named_vars_to_dims["bias_factor"] == ("source",)
    total = sample_prior(reports, draws=200, random_seed=1)["total"]
    assert (total.diff("date") >= 0).all()
    assert (total.sel(quantity="killed") <= total.sel(quantity="casualties")).all()
