"""The observation model: its formulas, their numerical stability, and model == NumPy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import nkest
from nkest.fit.per_report import report_centres
from nkest.fit.prior import sample_prior
from nkest.model.build import ar1_filter, build_model
from nkest.model.design import log_bounds, make_design
from nkest.model.likelihood import pointwise_logp
from nkest.model.options import make_options


def arrays_for(lower, upper, kinds, outlier_share=0.0, outlier_scale=1.0):
    kinds = np.array(kinds)
    lower = np.where(kinds == "upper", 0.0, lower)
    upper = np.where(kinds == "lower", np.inf, upper)
    share = np.full(len(kinds), outlier_share)
    return {
        "log_lower": log_bounds(lower, upper=False),
        "log_upper": log_bounds(upper, upper=True),
        "log_main_share": np.log1p(-share),
        "log_outlier_share": np.log(share) if outlier_share > 0 else np.full(len(kinds), -1000.0),
        "outlier_scale": np.full(len(kinds), outlier_scale),
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


def test_claim_logp_mixes_ordinary_and_garbled_noise():
    lower, upper = np.array([550.0, 99.5]), np.array([650.0, 1.0])
    arrays = arrays_for(lower, upper, ["interval", "lower"], outlier_share=0.05, outlier_scale=1.5)
    centre, scale = np.log([700.0, 80.0]), np.array([0.2, 0.3])
    got = pointwise_logp(centre, scale, arrays)
    main = stats.logistic(loc=centre, scale=scale).cdf
    wide = stats.logistic(loc=centre, scale=1.5).cdf
    expected = np.log(
        [
            0.95 * (main(np.log(650))[0] - main(np.log(550))[0])
            + 0.05 * (wide(np.log(650))[0] - wide(np.log(550))[0]),
            0.95 * (1 - main(np.log(99.5))[1]) + 0.05 * (1 - wide(np.log(99.5))[1]),
        ]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_a_figure_far_from_the_latent_is_explained_as_garbled():
    """A far-off figure pulls with the garbled part's bounded force, not its source's."""
    figures = np.log([3000.0, 30000.0, 300000.0])

    def slope(outlier_share):
        arrays = arrays_for(np.ones(3), np.ones(3), ["interval"] * 3, outlier_share=outlier_share)
        arrays["log_lower"], arrays["log_upper"] = figures - 1e-3, figures + 1e-3
        step, at = 1e-4, np.full(3, np.log(1000.0))
        up = pointwise_logp(at + step, np.full(3, 0.1), arrays)
        down = pointwise_logp(at - step, np.full(3, 0.1), arrays)
        return (up - down) / (2 * step)

    ordinary, mixed = slope(0.0), slope(0.05)
    np.testing.assert_allclose(ordinary, 1 / 0.1, rtol=1e-3)  # the logistic's own tail
    assert (mixed > 0).all()
    assert (mixed <= 1 / 1.0 + 1e-6).all()  # at most 1 / outlier_scale
    assert (mixed < 0.1 * ordinary).all()


def test_draws_of_the_noise_follow_the_mixture():
    from nkest.model.likelihood import draw_log_noise

    arrays = arrays_for(np.zeros(1), np.ones(1), ["interval"], outlier_share=0.2, outlier_scale=2.0)
    draws = draw_log_noise(
        np.full(20000, 0.1), {k: v[0] for k, v in arrays.items()}, np.random.default_rng(0)
    )

    def cdf(x):
        return 0.8 * stats.logistic(scale=0.1).cdf(x) + 0.2 * stats.logistic(scale=2.0).cdf(x)

    assert stats.kstest(draws, cdf).pvalue > 0.01


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
    names = ["reports", "total", "pair_bias_factor", "noise"]
    outputs = model.replace_rvs_by_values([model[n] for n in names])
    potential, *values = model.compile_fn(outputs, inputs=model.value_vars)(point)
    names = names[1:]
    posterior = {n: v[None, None] for n, v in zip(names, values, strict=True)}
    import xarray as xr

    dataset = xr.Dataset(
        {
            "total": (("chain", "draw", "quantity", "date"), posterior["total"]),
            "pair_bias_factor": (("chain", "draw", "bias_pair"), posterior["pair_bias_factor"]),
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
    assert model.named_vars_to_dims["pair_bias_factor"] == ("bias_pair",)
    total = sample_prior(reports, draws=200, random_seed=1)["total"]
    assert (total.diff("date") >= 0).all()
    assert (total.sel(quantity="killed") <= total.sel(quantity="casualties")).all()
