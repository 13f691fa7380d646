"""One sentence to cite, rounded without false precision, with where it comes from."""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["cite_sentence", "round_figure"]

_VERBS = {
    "killed": "had been killed",
    "wounded": "had been wounded",
    "casualties": "had been killed or wounded",
    "captured": "had been captured",
    "missing": "were missing",
}


def round_figure(value: float, digits: int = 2) -> int:
    """Round a count to ``digits`` significant figures (whole numbers below 10).

    Posterior intervals of casualty counts are wide: a third significant
    figure would claim a precision the evidence does not have.

    Examples
    --------
    >>> round_figure(2653.4), round_figure(1346.0), round_figure(87.6), round_figure(4.4)
    (2700, 1300, 88, 4)
    """
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"cannot round {value!r} as a count")
    if value < 10:
        return round(value)
    unit = 10 ** (math.floor(math.log10(value)) - digits + 1)
    return int(round(value / unit) * unit)


def cite_sentence(
    *,
    subject: str,
    quantity: str,
    date: pd.Timestamp,
    median: float,
    lower: float,
    upper: float,
    prob: float,
) -> str:
    """Return the headline sentence.

    For example "An estimated 1,200 North Korean soldiers had been killed by
    30 April 2025 (90% credible interval 800–1,700)."
    """
    verb = _VERBS[quantity]
    day = f"{date.day} {date:%B %Y}"
    return (
        f"An estimated {round_figure(median):,} {subject} {verb} by {day} "
        f"({prob:.0%} credible interval {round_figure(lower):,}–{round_figure(upper):,})."
    )
