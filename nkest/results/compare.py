"""How an estimate moved between two fits, and which reports moved it.

Two fits of the same conflict (an update with new reports, a new dataset
version, other options) are compared at the first fit's last date, so that
more time is not mistaken for new information, and each at its own last date.
The reports that differ are listed: added, removed, or changed (the same
``report_id`` with other cells).

**Which reports moved it.** Refitting once per report would tell exactly; an
importance-sampling estimate tells nearly as much from the draws already
made. For a report in a fit, the fit's draws reweighted by Pareto-smoothed
importance sampling (PSIS, the weights of leave-one-out) approximate the
posterior without that report; the difference of the medians is how far that
report moved the estimate. An added report is weighed in the new fit, a
removed one in the old fit (its removal moved the estimate by minus that), a
changed one in both. A Pareto k above 0.7 marks an approximation that is only
indicative: the report carries so much weight that only a refit can tell.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nkest.errors import OptionError
from nkest.fit.per_report import PARETO_K_RELIABLE, loo_weights
from nkest.reports.schema import COLUMNS
from nkest.results.cite import count, interval_text, percent, quantity_name, worded
from nkest.results.markup import markdown_text
from nkest.results.summaries import DEFAULT_PROB, check_prob, headline_quantities, read_date
from nkest.results.tables import format_table

if TYPE_CHECKING:
    from nkest.results.estimate import Estimate

__all__ = ["Comparison", "compare", "report_influence"]

_ROW_COLUMNS = [name for name in COLUMNS if name != "report_id"]


@dataclass(frozen=True)
class Comparison:
    """Two fits side by side: the headline then and now, the reports that changed, and why.

    Attributes
    ----------
    date : pandas.Timestamp
        The common date: the old fit's last date (or the one asked for).
    headline : pandas.DataFrame
        One row per quantity both estimate: ``quantity``, the old and new
        ``median``, ``lower`` and ``upper`` at ``date``, the relative change of
        the median (``change``), and the new fit's median and interval at its
        own last date (``new_end``, ``median_at_new_end``, ...).
    reports : pandas.DataFrame
        The reports that differ: ``report_id, change`` ("added", "removed",
        "changed"), ``source, quantity, figure, as_of``.
    movers : pandas.DataFrame
        The reports that differ and take part in a fit, by how far each moved
        the median of ``quantity`` at ``date`` (``moved``: positive raised it),
        largest first, with ``pareto_k`` and ``reliable``.
    quantity : str
        The quantity whose movers are given.
    prob : float
        The probability of the intervals.
    """

    date: pd.Timestamp
    headline: pd.DataFrame
    reports: pd.DataFrame
    movers: pd.DataFrame
    quantity: str
    prob: float

    def to_markdown(self, *, most: int = 10) -> str:
        """Say what moved, as Markdown: the headline table, the movers, the count of changes."""
        day = f"{self.date.day} {self.date:%B %Y}"
        lines = [
            f"**At {day}** (the earlier fit's last date), median and {percent(self.prob)} interval:"
        ]
        lines += ["", format_table(self._headline_view()), ""]
        counts = self.reports["change"].value_counts()
        said = [f"{counts[k]} {k}" for k in ("added", "removed", "changed") if k in counts]
        lines.append(
            "**Reports:** " + (", ".join(said) + "." if said else "the same reports in both fits.")
        )
        if len(self.movers):
            lines += [
                "",
                f"**What moved the {markdown_text(self.quantity)} estimate most** (its median "
                f"at {day}; each report weighed by leaving it out of the fit it is in):",
                "",
            ]
            for row in self.movers.dropna(subset=["moved"]).head(most).itertuples():
                sign = "raised" if row.moved > 0 else "lowered"
                note = "" if row.reliable else " (only indicative: a refit would tell)"
                when = pd.Timestamp(row.as_of)
                lines.append(
                    f"- {markdown_text(row.report_id)}, {row.change}: "
                    f"{markdown_text(row.source)}, {markdown_text(row.quantity)} "
                    f'"{markdown_text(row.figure)}" ({when.day} {when:%B %Y}) '
                    f"{sign} it by about {count(abs(row.moved))}{note}."
                )
        return "\n".join(lines)

    def _headline_view(self) -> pd.DataFrame:
        frame = self.headline

        def interval(prefix: str) -> list[str]:
            return [
                interval_text(r[prefix + "median"], r[prefix + "lower"], r[prefix + "upper"])
                for _, r in frame.iterrows()
            ]

        return pd.DataFrame(
            {
                "quantity": [quantity_name(q) for q in frame["quantity"]],
                "before": interval("old_"),
                "now": interval("new_"),
                "change": [f"{c:+.0%}" for c in frame["change"]],
            }
        )

    def __str__(self) -> str:
        return self.to_markdown()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _row_hashes(estimate: Estimate) -> pd.Series:
    """One hash per report of every cell but its id: equal hashes, the same report."""
    frame = estimate.reports.to_text_frame()
    text = frame[_ROW_COLUMNS].astype(str).agg("\x1f".join, axis=1)
    hashes = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in text]
    return pd.Series(hashes, index=frame["report_id"])


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(np.interp(q * cumulative[-1], cumulative, values[order]))


def report_influence(
    estimate: Estimate,
    quantity: str = "killed",
    date: object = None,
    report_ids: list[str] | None = None,
) -> pd.DataFrame:
    """Return how far each report moved an estimate's median, by leaving it out (PSIS).

    Parameters
    ----------
    estimate : Estimate
    quantity : str
        One of ``estimate.quantities``.
    date : date, optional
        Default: the estimate's last date.
    report_ids : list of str, optional
        The reports to weigh (default: every report in the fit).

    Returns
    -------
    pandas.DataFrame
        ``report_id, median, median_without, moved`` (``median -
        median_without``), ``pareto_k`` and ``reliable`` (``pareto_k <= 0.7``).
    """
    if quantity not in estimate.quantities:
        raise OptionError(f"quantity must be one of {', '.join(estimate.quantities)}")
    totals = estimate.totals(date).sel(quantity=quantity).isel(date=0)
    values = totals.transpose("chain", "draw").to_numpy().ravel()
    weights, pareto_k = loo_weights(estimate.posterior["log_likelihood"]["reports"])
    ids = list(estimate.used["report_id"])
    wanted = ids if report_ids is None else [r for r in report_ids if r in ids]
    median = float(np.median(values))
    rows = []
    for report_id in wanted:
        column = ids.index(report_id)
        if np.ptp(weights[:, column]) == 0:  # never binds: moves nothing
            rows.append((report_id, median, median, 0.0, 0.0))
            continue
        # PSIS can fail (k NaN): then nothing is said of the report but that
        without = (
            _weighted_quantile(values, weights[:, column], 0.5)
            if np.isfinite(weights[:, column]).all()
            else np.nan
        )
        rows.append((report_id, median, without, median - without, float(pareto_k[column])))
    frame = pd.DataFrame(
        rows, columns=["report_id", "median", "median_without", "moved", "pareto_k"]
    )
    frame["reliable"] = frame["pareto_k"] <= PARETO_K_RELIABLE
    return frame


def compare(
    old: Estimate,
    new: Estimate,
    *,
    quantity: str = "killed",
    date: object = None,
    prob: float = DEFAULT_PROB,
) -> Comparison:
    """Compare two fits: how the headline moved, and which reports moved it.

    Parameters
    ----------
    old, new : Estimate
        Two fits of the same conflict, e.g. before and after new reports
        (``Reports.add``) or two dataset versions.
    quantity : str
        The quantity whose movers are weighed.
    date : date, optional
        The common date of the comparison; default the old fit's last date
        (it must lie within both fits).
    prob : float
        Probability of the intervals.

    Returns
    -------
    Comparison
        ``str()`` or ``to_markdown()`` says it in words and tables.

    Examples
    --------
    >>> comparison = nkest.compare(old, new)          # doctest: +SKIP
    >>> print(comparison)                             # doctest: +SKIP
    """
    prob = check_prob(prob)
    try:
        when = pd.Timestamp(old.grid.end) if date is None else read_date(date)
    except (ValueError, TypeError):
        raise OptionError(f"date must be an ISO date like '2025-04-30'; got {date!r}") from None
    quantities = [q for q in headline_quantities(old.quantities) if q in new.quantities]
    if quantity not in quantities:
        raise OptionError(f"quantity must be one both fits estimate: {', '.join(quantities)}")
    before = old.summary(dates=[when], quantities=quantities, prob=prob).set_index("quantity")
    after = new.summary(dates=[when], quantities=quantities, prob=prob).set_index("quantity")
    at_end = new.summary(quantities=quantities, prob=prob).set_index("quantity")
    headline = pd.DataFrame(
        {
            "quantity": quantities,
            **{
                f"old_{c}": before.loc[quantities, c].to_numpy()
                for c in ("median", "lower", "upper")
            },
            **{
                f"new_{c}": after.loc[quantities, c].to_numpy()
                for c in ("median", "lower", "upper")
            },
        }
    )
    headline["change"] = headline["new_median"] / headline["old_median"] - 1
    headline["new_end"] = pd.Timestamp(new.grid.end)
    for column in ("median", "lower", "upper"):
        headline[f"{column}_at_new_end"] = at_end.loc[quantities, column].to_numpy()

    old_rows, new_rows = _row_hashes(old), _row_hashes(new)
    added = [r for r in new_rows.index if r not in old_rows.index]
    removed = [r for r in old_rows.index if r not in new_rows.index]
    changed = [r for r in new_rows.index if r in old_rows.index and new_rows[r] != old_rows[r]]
    reports = pd.concat(
        [
            _describe(new, added, "added"),
            _describe(old, removed, "removed"),
            _describe(new, changed, "changed"),
        ],
        ignore_index=True,
    )
    movers = _movers(old, new, reports, quantity, when)
    return Comparison(when, headline, reports, movers, quantity, prob)


def _describe(estimate: Estimate, ids: list[str], change: str) -> pd.DataFrame:
    frame = estimate.reports.to_frame().set_index("report_id").loc[ids].reset_index()
    return pd.DataFrame(
        {
            "report_id": frame["report_id"],
            "change": change,
            "source": frame["source"],
            "quantity": frame["quantity"],
            "figure": [worded(row) for _, row in frame.iterrows()],
            "as_of": frame["as_of"],
        }
    )


def _movers(
    old: Estimate, new: Estimate, reports: pd.DataFrame, quantity: str, when: pd.Timestamp
) -> pd.DataFrame:
    parts = []
    in_new = reports[reports["change"].isin(["added", "changed"])]
    if len(in_new):
        weighed = report_influence(new, quantity, when, list(in_new["report_id"]))
        parts.append(weighed)
    in_old = reports[reports["change"].isin(["removed", "changed"])]
    if len(in_old):
        weighed = report_influence(old, quantity, when, list(in_old["report_id"]))
        weighed["moved"] = -weighed["moved"]  # removing it moved the estimate the other way
        parts.append(weighed)
    columns = ["report_id", "change", "source", "quantity", "figure", "as_of"]
    if not parts:
        return pd.DataFrame(columns=[*columns, "moved", "pareto_k", "reliable"])
    weighed = pd.concat(parts, ignore_index=True)
    weighed = weighed.groupby("report_id", as_index=False).agg(
        moved=("moved", "sum"), pareto_k=("pareto_k", "max")
    )
    weighed["reliable"] = weighed["pareto_k"] <= PARETO_K_RELIABLE
    out = reports[columns].drop_duplicates("report_id").merge(weighed, on="report_id")
    order = out["moved"].abs().sort_values(ascending=False).index
    return out.loc[order].reset_index(drop=True)
