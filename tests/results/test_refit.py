"""Fits that check themselves: refits when the diagnostics fail, within a time budget."""

from __future__ import annotations

import itertools

import pytest

import nkest
from nkest.errors import OptionError
from nkest.results.refit import Attempt, next_attempt, projected_seconds, refit_words

FAILED_MIXING = {"divergences": 0, "failures": ["max R-hat 1.030 > 1.01"]}
FAILED_DIVERGING = {"divergences": 3, "failures": ["3 divergent transitions"]}


def test_divergences_call_for_smaller_steps_and_longer_tuning_not_more_draws():
    first = Attempt(draws=2000, tune=1000, target_accept=0.97, random_seed=5)
    second = next_attempt(first, FAILED_DIVERGING, 1)
    assert (second.draws, second.tune, second.target_accept) == (2000, 2000, 0.99)
    third = next_attempt(second, FAILED_DIVERGING, 2)
    assert (third.draws, third.tune, third.target_accept) == (2000, 4000, 0.995)


def test_poor_mixing_calls_for_more_draws_and_longer_tuning_at_the_same_steps():
    first = Attempt(draws=2000, tune=1000, target_accept=0.97, random_seed=5)
    second = next_attempt(first, FAILED_MIXING, 1)
    assert (second.draws, second.tune, second.target_accept) == (4000, 2000, 0.97)
    # a user's higher target acceptance is never lowered
    careful = Attempt(draws=100, tune=100, target_accept=0.999, random_seed=5)
    assert next_attempt(careful, FAILED_DIVERGING, 1).target_accept == 0.999


def test_refit_seeds_are_new_and_reproducible():
    first = Attempt(draws=10, tune=10, target_accept=0.97, random_seed=5)
    seeds = {next_attempt(first, FAILED_MIXING, n).random_seed for n in (1, 2)}
    assert len(seeds) == 2
    assert first.random_seed not in seeds
    assert next_attempt(first, FAILED_MIXING, 1) == next_attempt(first, FAILED_MIXING, 1)


def test_projected_time_grows_with_iterations_and_smaller_steps():
    first = Attempt(draws=1000, tune=1000, target_accept=0.97, random_seed=5)
    more = Attempt(draws=2000, tune=2000, target_accept=0.97, random_seed=6)
    smaller = Attempt(draws=1000, tune=2000, target_accept=0.99, random_seed=6)
    assert projected_seconds(10.0, first, more) == pytest.approx(20.0)
    assert projected_seconds(10.0, first, smaller) > 15.0


def test_refit_words_say_what_changed_and_why():
    attempts = [
        {**Attempt(2000, 1000, 0.97, 1).to_dict(), "failures": ["2 divergent transitions"]},
        {**Attempt(2000, 2000, 0.99, 2).to_dict(), "failures": []},
    ]
    words = refit_words(attempts)
    assert words == (
        "refitted with target acceptance 0.99, 2,000 tuning steps after a fit that failed "
        "(2 divergent transitions)"
    )
    assert refit_words(attempts[:1]) == ""


@pytest.fixture(scope="module")
def refitted(simulated):
    """A fit too short to pass, given a budget to refit in."""
    end = simulated.daily.index[-1].date().isoformat()
    return nkest.fit(
        simulated.reports,
        end=end,
        draws=30,
        tune=30,
        chains=2,
        random_seed=1,
        progressbar=False,
        time_budget=300,
    )


def test_a_failed_fit_is_refitted_within_its_budget_and_says_so(refitted):
    attempts = refitted.sampling.attempts
    assert 2 <= len(attempts) <= 3
    assert not attempts[0]["passed"]
    assert attempts[0]["failures"]
    # each refit tunes longer; the kept fit is the last attempt's
    assert all(b["tune"] == 2 * a["tune"] for a, b in itertools.pairwise(attempts))
    assert refitted.sampling.draws == attempts[-1]["draws"]
    assert refitted.sampling.tune == attempts[-1]["tune"]
    assert refitted.options.target_accept == attempts[-1]["target_accept"]
    diagnostics = refitted.diagnostics()
    assert diagnostics["attempts"] == len(attempts)
    assert diagnostics["refits"].startswith("refitted with")
    note = refitted.cite("killed", allow_failed_diagnostics=True).note
    assert "refitted with" in note
    refits = len(attempts) - 1
    assert repr(refitted).endswith(f" after {refits} refit{'s' if refits > 1 else ''}>")


def test_refits_are_saved_with_the_fit(refitted, tmp_path):
    saved = nkest.load(refitted.save(tmp_path / "fit.nc"))
    assert saved.sampling.attempts == refitted.sampling.attempts
    assert saved.diagnostics()["refits"] == refitted.diagnostics()["refits"]


def test_no_refit_without_budget_and_the_reason_when_the_budget_is_too_small(simulated):
    end = simulated.daily.index[-1].date().isoformat()
    common = {
        "end": end,
        "draws": 30,
        "tune": 30,
        "chains": 2,
        "random_seed": 1,
        "progressbar": False,
    }
    # chosen sampler settings are kept: no refit unless a budget is given
    chosen = nkest.fit(simulated.reports, **common)
    assert len(chosen.sampling.attempts) == 1
    assert chosen.diagnostics()["refits"] == chosen.diagnostics()["no_refit"] == ""
    tight = nkest.fit(simulated.reports, time_budget=0.001, **common)
    assert len(tight.sampling.attempts) == 1
    assert not tight.diagnostics()["passed"]
    assert "beyond the time budget" in tight.diagnostics()["no_refit"]
    assert (
        "Not refitted: a refit would take"
        in tight.cite("killed", allow_failed_diagnostics=True).note
    )


@pytest.mark.parametrize("budget", [-1, "600", True, float("nan")])
def test_a_bad_time_budget_is_refused(simulated, budget):
    with pytest.raises(OptionError, match="time_budget"):
        nkest.fit(simulated.reports, time_budget=budget, progressbar=False)


def test_the_report_says_what_the_refits_did_and_why_a_refit_was_not_made():
    from nkest.results.report import _refits_line

    assert _refits_line({"refits": "", "no_refit": ""}) == ""
    line = _refits_line({"refits": "refitted with 2,000 draws after a fit that failed (x)"})
    assert line == "\n- **Refits:** Refitted with 2,000 draws after a fit that failed (x)."
    budget = _refits_line({"refits": "", "no_refit": "a refit would take about 90 s more"})
    assert budget.endswith("Not refitted: a refit would take about 90 s more.")
