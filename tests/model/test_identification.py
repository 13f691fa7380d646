"""Identification assumptions as classes: parsing, checks, and a new group's bias."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from nkest.fit.prior import sample_prior
from nkest.model.identification import (
    GroupPriors,
    Identification,
    ReferenceSources,
    SourceGroupsUnbiased,
)
from nkest.validate import simulate_conflict


@pytest.fixture(scope="module")
def reports():
    return simulate_conflict(5, days=120, n_reports=30, n_groups=3).reports


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("groups", SourceGroupsUnbiased),
        ("reference:S1, S2", ReferenceSources),
        ({"reference": "S1"}, ReferenceSources),
        ({"group_priors": {"G1": (1.5, 0.2)}}, GroupPriors),
    ],
)
def test_each_assumption_parses_and_reads_back_from_its_plain_form(spec, kind):
    ident = Identification.parse(spec)
    assert isinstance(ident, kind)
    assert Identification.parse(ident.to_dict()) == ident
    assert ident.describe()


def test_an_assumption_naming_no_used_source_or_group_is_refused():
    with pytest.raises(ValueError, match="reference source"):
        ReferenceSources(("Nobody",)).check(["A", "B"], ["G"])
    with pytest.raises(ValueError, match="no such group"):
        GroupPriors({"Elsewhere": (1.0, 0.1)}).check(["A"], ["G"])


@pytest.mark.parametrize(
    "spec",
    ["groups", {"reference": ["S1"]}, {"group_priors": {"G1": (1.5, 0.2)}}],
    ids=["groups", "reference", "group_priors"],
)
def test_a_new_groups_bias_follows_the_model_graph(reports, spec):
    """A group the fit has not seen is drawn as the PyMC graph draws an unanchored group.

    Under the prior, group G3 is one more group, anchored by nothing: its
    log-bias in the PyMC graph and ``new_group_bias`` given the same draws of
    the hyperparameters must have one distribution. (The NumPy restatement
    used to centre a new group on zero, which ignores the free common level
    of the reference and group-priors assumptions.)
    """
    ident = Identification.parse(spec)
    prior = sample_prior(reports, draws=4000, random_seed=3, identification=spec)
    in_graph = prior["group_bias"].sel(source_group="G3").to_numpy().ravel()
    shape = prior["group_bias_sd"].shape
    drawn = ident.new_group_bias(prior, np.random.default_rng(4), shape).ravel()
    if isinstance(ident, SourceGroupsUnbiased):
        # A zero-sum set of three shrinks each member's spread by sqrt(2/3); one more
        # group of a zero-sum set is drawn with the full spread.
        in_graph = in_graph / np.sqrt(2 / 3)
    result = stats.ks_2samp(in_graph, drawn)
    assert result.pvalue > 0.001, result
    centred_on_zero = SourceGroupsUnbiased().new_group_bias(prior, np.random.default_rng(4), shape)
    if not isinstance(ident, SourceGroupsUnbiased):
        # The test can tell: the old draw, centred on zero, is refused.
        assert stats.ks_2samp(in_graph, centred_on_zero.ravel()).pvalue < 1e-6


def test_reference_sources_have_no_bias_and_the_others_keep_theirs():
    log_bias = np.array([0.3, -0.2, 0.5])
    sources = ["A", "B", "C"]
    fixed = ReferenceSources(("B",)).source_log_bias(log_bias, sources)
    np.testing.assert_array_equal(fixed, [0.3, 0.0, 0.5])
    unchanged = SourceGroupsUnbiased().source_log_bias(log_bias, sources)
    np.testing.assert_array_equal(unchanged, log_bias)
