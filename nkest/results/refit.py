"""Fits that check themselves: when a fit misses its diagnostics, refit as an expert would.

An analyst whose fit fails its diagnostics tunes longer, draws more, or takes
smaller steps, and tries again. ``fit`` does the same, within a time budget:
divergent transitions call for a higher target acceptance (smaller steps) and
longer tuning; a high R-hat or a low effective sample size for more draws and
longer tuning. Every attempt is recorded (``SamplingInfo.attempts``), and the
diagnostics, the citation's note and the report say what was done.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_TIME_BUDGET",
    "MAX_ATTEMPTS",
    "Attempt",
    "next_attempt",
    "projected_seconds",
    "refit_words",
]

DEFAULT_TIME_BUDGET = 600.0
"""Seconds a fit with the default sampler settings may take, refits included.

The first attempt always runs to the end; a refit starts only when the time
spent so far plus the refit's projected time fits in the budget.
"""

MAX_ATTEMPTS = 3
"""The first fit and at most two refits: past that, the model or the data need a look."""

TARGET_ACCEPT_STEPS = (0.99, 0.995)
"""Target acceptance of the first and second refit after divergent transitions."""

_SMALLER_STEPS_COST = 1.6
"""How much longer sampling takes at the next target acceptance (more leapfrog steps per
draw); measured on the DPRK data, 0.97 to 0.99: 1.5 to 1.7 times."""


@dataclass(frozen=True)
class Attempt:
    """The sampler settings of one attempt at a fit."""

    draws: int
    tune: int
    target_accept: float
    random_seed: int

    def to_dict(self) -> dict[str, Any]:
        """Return the plain form."""
        return asdict(self)


def next_attempt(attempt: Attempt, diagnostics: dict[str, Any], number: int) -> Attempt:
    """Return the settings an expert would try after ``attempt`` failed as ``diagnostics`` say.

    Parameters
    ----------
    attempt : Attempt
        The settings that failed.
    diagnostics : dict
        Their diagnostics (``divergences``, ``failures``, ...).
    number : int
        Which refit this is (1 for the first).
    """
    draws, tune, target_accept = attempt.draws, attempt.tune, attempt.target_accept
    if diagnostics["divergences"] > 0:
        # Divergences mark curvature the step size cannot follow: smaller steps, and a
        # longer warm-up to adapt them.
        step = TARGET_ACCEPT_STEPS[min(number, len(TARGET_ACCEPT_STEPS)) - 1]
        target_accept = max(target_accept, step)
    mixing = [f for f in diagnostics["failures"] if "divergent" not in f]
    if mixing:
        draws *= 2  # R-hat and ESS improve with the draws; chains that disagree need both
    tune *= 2
    # A seed of its own, derived from the first: the same fit call refits identically.
    seed = int(np.random.SeedSequence([attempt.random_seed, number]).generate_state(1)[0] >> 1)
    return replace(attempt, draws=draws, tune=tune, target_accept=target_accept, random_seed=seed)


def projected_seconds(seconds: float, done: Attempt, planned: Attempt) -> float:
    """Project the sampling time of ``planned`` from the ``seconds`` that ``done`` took."""
    iterations = (planned.draws + planned.tune) / max(done.draws + done.tune, 1)
    steps = _SMALLER_STEPS_COST if planned.target_accept > done.target_accept else 1.0
    return seconds * iterations * steps


def refit_words(attempts: list[dict[str, Any]]) -> str:
    """Say in one phrase what the refits were, or "" when the first fit was kept.

    ``attempts`` is ``SamplingInfo.attempts``: each attempt's settings, whether
    it passed, what failed and (on the last) why no further refit was made.
    """
    if len(attempts) < 2:
        return ""
    parts = []
    for before, after in itertools.pairwise(attempts):
        changes = []
        if after["target_accept"] != before["target_accept"]:
            changes.append(f"target acceptance {after['target_accept']}")
        if after["tune"] != before["tune"]:
            changes.append(f"{after['tune']:,} tuning steps")
        if after["draws"] != before["draws"]:
            changes.append(f"{after['draws']:,} draws")
        failed = "; ".join(before["failures"]) or "diagnostics failed"
        parts.append(f"refitted with {', '.join(changes)} after a fit that failed ({failed})")
    return "; ".join(parts)
