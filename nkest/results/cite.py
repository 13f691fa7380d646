"""One sentence to cite, rounded without false precision, with where it comes from."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from nkest.errors import OptionError
from nkest.model.design import date_read
from nkest.reports.figures import Figure

__all__ = [
    "UNRELIABLE",
    "Citation",
    "cite_sentence",
    "count",
    "counted",
    "dataset_words",
    "interval_text",
    "last_reports",
    "quantity_name",
    "reported_quantities",
    "round_figure",
    "sentence_caveats",
    "short_note",
    "worded",
]

_VERBS = {
    "killed": "had been killed",
    "wounded": "had been wounded",
    "casualties": "had been killed or wounded",
    "captured": "had been captured",
    "missing": "were missing",
    "deployed": "had been sent",
}


class Citation(str):
    """A sentence to cite and its provenance note.

    As a string it is both, the sentence then the note, as ``cite`` has always
    returned; ``sentence`` and ``note`` give each alone (the note belongs in a
    methods section). ``short`` is the form for an article: the sentence, then
    where it comes from in one line ("nkest estimate from 68 public reports up
    to 16 February 2026; dataset dprk 2026.12").
    """

    sentence: str
    note: str
    short: str

    def __new__(  # noqa: D102 - the class says it
        cls, sentence: str, note: str, short_note: str = ""
    ) -> Citation:
        citation = super().__new__(cls, f"{sentence} {note}")
        citation.sentence = sentence
        citation.note = note
        citation.short = f"{sentence} ({short_note})" if short_note else sentence
        return citation


def short_note(used: pd.DataFrame, reports: pd.DataFrame, metadata: Mapping[str, Any]) -> str:
    """Return the one-line provenance of the short citation.

    "nkest estimate from 68 public reports up to 16 February 2026; dataset dprk
    2026.12": the reports the estimate uses, the latest date one of them was
    published (or, without publication dates, the latest date one speaks of),
    and the dataset's name and version when it has them.
    """
    rows = reports[reports["report_id"].isin(used["report_id"])]
    dates = pd.to_datetime(rows["published"]) if "published" in rows else pd.Series([])
    if dates.isna().all():
        dates = pd.to_datetime(used["as_of"])
    latest = dates.max()
    text = f"nkest estimate from {counted(len(used), 'public report')}"
    if pd.notna(latest):
        text += f" up to {latest.day} {latest:%B %Y}"
    name, version = metadata.get("name"), metadata.get("version")
    if name and version:
        text += f"; dataset {name} {version}"
    return text


UNRELIABLE = "NOT RELIABLE: the sampler's diagnostics failed"
"""What the sentence of a fit that fails its sampler diagnostics says, in its parenthesis."""

_PARTS = {"killed": "wounded", "wounded": "killed"}


def round_figure(value: float, digits: int = 2) -> int:
    """Round a count to ``digits`` significant figures (whole numbers below 10).

    Posterior intervals of casualty counts are wide: a third significant
    figure would claim a precision the evidence does not have. Halves are
    rounded up.

    Examples
    --------
    >>> round_figure(2653.4), round_figure(1346.0), round_figure(87.6), round_figure(4.4)
    (2700, 1300, 88, 4)
    """
    if not math.isfinite(value) or value < 0:
        raise OptionError(f"cannot round {value!r} as a count")
    if value < 10:
        return math.floor(value + 0.5)
    unit = 10 ** (math.floor(math.log10(value)) - digits + 1)
    return int(math.floor(value / unit + 0.5) * unit)


def percent(prob: float) -> str:
    """Write a probability as a percentage with its digits: 0.9 -> "90%", 0.995 -> "99.5%"."""
    return f"{prob * 100:g}%"


def count(value: float) -> str:
    """Write an estimated count as ``cite`` does: two significant figures, thousands separators.

    A value that is not a count (negative, infinite, NaN) is written "–".
    """
    if not math.isfinite(value) or value < 0:
        return "–"
    return f"{round_figure(value):,}"


def interval_text(median: float, lower: float, upper: float) -> str:
    """Write a median and its interval as the tables show them: "2,300 (1,400–4,200)"."""
    return f"{count(median)} ({count(lower)}–{count(upper)})"


_QUANTITY_NAMES = {"deployed": "troops sent"}


def quantity_name(quantity: str) -> str:
    """Name a quantity for readers: "troops sent" for ``deployed``, the others as they are."""
    return _QUANTITY_NAMES.get(quantity, quantity)


def dataset_words(metadata: Mapping[str, Any]) -> str:
    """Name a bundled dataset's version: "dataset dprk 2026.12, reports up to 2026-02-16".

    Empty for reports that are not a versioned dataset.
    """
    name, version = metadata.get("name"), metadata.get("version")
    if not name or not version:
        return ""
    up_to = metadata.get("reports_up_to")
    return f"dataset {name} {version}" + (f", reports up to {up_to}" if up_to else "")


def counted(n: int, noun: str) -> str:
    """Write a number of things: "1 source", "3 sources"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def be(n: int) -> str:
    """Return the verb for a number of things: "is" or "are"."""
    return "is" if n == 1 else "are"


def reported_quantities(used: pd.DataFrame) -> set[str]:
    """Return the quantities among killed, wounded and casualties that reports speak of.

    A quantity is reported when a used observation (not a floor or cap)
    states it, or when it follows from two reported ones: casualties are
    killed plus wounded, so reports of casualties and of killed speak of the
    wounded too. An unreported quantity rests on the assumed wounded:killed
    ratio (the model's prior).

    Parameters
    ----------
    used : pandas.DataFrame
        ``Estimate.used`` (columns ``quantity`` and ``role``).
    """
    observed = set(used.loc[used["role"] == "observation", "quantity"])
    reported = observed & {"killed", "wounded", "casualties"}
    if "casualties" in observed:
        reported |= {_PARTS[q] for q in ("killed", "wounded") if q in observed}
    if {"killed", "wounded"} <= observed:
        reported.add("casualties")
    return reported


def last_reports(used: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """Return, for each quantity a report observes, the latest date such a report reads.

    A cumulative figure reads its ``as_of`` date, a count over a window the
    window's end. Floors and caps are not reports of the total and do not
    count. Past this date an estimate of the quantity follows the model (the
    other quantities' reports, the wounded:killed ratio, the rate process), not
    reports of it. A quantity no report states but two others give (killed as
    casualties less wounded; see ``reported_quantities``) is read until the
    earlier of their last reports.
    """
    observed = used[used["role"] == "observation"]
    read = date_read(observed)
    last = {str(q): pd.Timestamp(d) for q, d in read.groupby(observed["quantity"]).max().items()}
    for quantity, parts in _GIVEN_BY.items():
        if quantity not in last and all(part in last for part in parts):
            last[quantity] = min(last[part] for part in parts)
    return last


_GIVEN_BY = {
    "killed": ("casualties", "wounded"),
    "wounded": ("casualties", "killed"),
    "casualties": ("killed", "wounded"),
}
"""The two quantities whose reports together state a third (casualties = killed + wounded)."""


def sentence_caveats(
    quantity: str,
    used: pd.DataFrame,
    *,
    passed: bool,
    date: pd.Timestamp | None = None,
    median: float | None = None,
) -> list[str]:
    """Return what the sentence about ``quantity`` must say about itself (may be empty).

    ``NOT RELIABLE`` when the fit fails its sampler diagnostics (``passed``
    false), and "no report of wounded: from the assumed wounded:killed
    ratio" for a quantity no report speaks of (see ``reported_quantities``),
    and "last reported 30 April 2025" when ``date`` lies past the last report
    of the quantity (see ``last_reports``). For a ``median`` below
    ``SMALL_COUNT`` it quotes the latest report ("last reported 28 October
    2025, as 2", or "the latest report says 2"), so that an estimate that
    differs from it shows it.
    """
    caveats = [] if passed else [UNRELIABLE]
    if quantity in ("killed", "wounded", "casualties") and quantity not in reported_quantities(
        used
    ):
        caveats.append(f"no report of {quantity}: from the assumed wounded:killed ratio")
    last = last_reports(used).get(quantity)
    past = date is not None and last is not None and date > last
    said = (
        latest_report(used, quantity, date) if median is not None and median < SMALL_COUNT else ""
    )
    if past:
        caveats.append(f"last reported {last.day} {last:%B %Y}" + (f", as {said}" if said else ""))
    elif said:
        caveats.append(f"the latest report says {said}")
    return caveats


SMALL_COUNT = 100
"""Below this, a sentence also quotes the latest report: a reader takes a small count as a
tally, and "an estimated 4" where the sources say 2 must show that it differs."""


def latest_report(used: pd.DataFrame, quantity: str, date: pd.Timestamp | None) -> str:
    """Return the figure of the latest report of ``quantity`` as worded ("2"), or "".

    The latest cumulative observation on or before ``date``; "" when there is none.
    """
    rows = used[
        (used["quantity"] == quantity)
        & (used["role"] == "observation")
        & (used["scope"] == "cumulative")
    ]
    if date is not None:
        rows = rows[rows["as_of"] <= date]
    if not len(rows):
        return ""
    return worded(rows.sort_values("as_of").iloc[-1])


def cite_sentence(
    *,
    subject: str,
    quantity: str,
    date: pd.Timestamp,
    median: float,
    lower: float,
    upper: float,
    prob: float,
    caveats: Sequence[str] = (),
) -> str:
    """Return the headline sentence.

    For example "An estimated 1,200 North Korean soldiers had been killed by
    30 April 2025 (90% credible interval 800–1,700)." Each of ``caveats``
    follows the interval in the parenthesis, so that it travels with the
    sentence: "(90% credible interval 800–1,700; NOT RELIABLE: the sampler's
    diagnostics failed)".
    """
    verb = _VERBS[quantity]
    day = f"{date.day} {date:%B %Y}"
    inside = "; ".join(
        [
            f"{percent(prob)} credible interval {round_figure(lower):,}–{round_figure(upper):,}",
            *caveats,
        ]
    )
    return f"An estimated {round_figure(median):,} {subject} {verb} by {day} ({inside})."


def worded(row: Mapping[str, Any]) -> str:
    """Return a report's figure as its source worded it ("at least 6", "1,500–2,000")."""
    if pd.isna(row["value"]):
        return ""
    high = None if pd.isna(row.get("value_high")) else int(row["value_high"])
    return str(Figure(int(row["value"]), high, row["qualifier"]))
