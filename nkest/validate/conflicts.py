"""Source conflicts: which sources and reports disagree with the rest, and how much it matters.

Two measures:

- the **shift of the headline estimate when one source is left out**
  (``leave_one_source_out``): refit without each source in turn and
  compare the totals; a large shift means the estimate leans on that source;
- **conflict p-values** (``nkest.validate.predictive.source_conflicts``):
  how surprising each source's figures are given all the other reports
  (PSIS leave-one-out).

``conflicts_table`` joins them; ``plot_conflicts`` draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd

from nkest.model.design import default_end
from nkest.reports import Reports
from nkest.results.estimate import Estimate
from nkest.results.summaries import DEFAULT_PROB
from nkest.validate.parallel import FitTask, run_fits
from nkest.validate.predictive import loo_checks, source_conflicts
from nkest.validate.quiet import diagnostics_recorded

__all__ = ["conflicts_table", "leave_one_source_out", "plot_conflicts"]


@diagnostics_recorded()
def _headline(
    estimate: Estimate,
    *,
    dates: Sequence[str] | None,
    quantities: Sequence[str],
    prob: float,
    left_out: str,
) -> pd.DataFrame:
    table = estimate.summary(dates=list(dates) if dates else None, quantities=quantities, prob=prob)
    return table.assign(left_out=left_out, passed=estimate.diagnostics()["passed"])


def leave_one_source_out(
    reports: Reports,
    *,
    dates: Sequence[str] | None = None,
    quantities: Sequence[str] = ("killed", "casualties"),
    prob: float = DEFAULT_PROB,
    sources: Sequence[str] | None = None,
    executor: Executor | None = None,
    max_workers: int | None = 1,
    **fit_kwargs: Any,
) -> pd.DataFrame:
    """Refit without each source in turn and compare the headline totals.

    Parameters
    ----------
    reports : Reports
    dates : sequence of str, optional
        Dates of the totals compared; default the end of the estimate (which
        is kept fixed, whatever source is left out).
    sources : sequence of str, optional
        Sources to leave out; default every source with a used observation.
    executor, max_workers
        Where the fits run (see ``nkest.validate.parallel.run_fits``).
    **fit_kwargs
        Passed to every ``nkest.fit``.

    Returns
    -------
    pandas.DataFrame
        One row per left-out source (``"none"`` for the full fit), date and
        quantity: ``median, lower, upper``, ``shift_pct`` (change of the
        median from the full fit, in percent) and ``outside_50`` (the
        median moves outside the full fit's 50% interval).
    """
    frame = reports.to_frame()
    kept = frame[frame["exclude"] == ""]
    end = fit_kwargs.pop("end", None) or default_end(reports).isoformat()
    if sources is None:
        observed = kept[(kept["constraint"] == "") & (kept["quantity"] != "deployed")]
        sources = sorted(observed["source"].unique())
    extract = {"dates": dates, "quantities": tuple(quantities), "prob": prob}
    tasks = [
        FitTask(reports, {**fit_kwargs, "end": end}, _headline, {**extract, "left_out": "none"})
    ]
    for source in sources:
        ids = frame.loc[frame["source"] == source, "report_id"]
        tasks.append(
            FitTask(
                reports.exclude(ids, f"left out: {source} (leave-one-source-out)"),
                {**fit_kwargs, "end": end},
                _headline,
                {**extract, "left_out": source},
            )
        )
    table = pd.concat(
        run_fits(tasks, executor=executor, max_workers=max_workers), ignore_index=True
    )
    full = table[table["left_out"] == "none"].set_index(["date", "quantity"])
    inner = _fifty(reports, dates, quantities, table, full)
    base = full.loc[list(zip(table["date"], table["quantity"], strict=True))]
    table["shift_pct"] = 100 * (table["median"].to_numpy() / base["median"].to_numpy() - 1)
    table["outside_50"] = (table["median"].to_numpy() < inner["lower"].to_numpy()) | (
        table["median"].to_numpy() > inner["upper"].to_numpy()
    )
    return table


def _fifty(reports, dates, quantities, table, full) -> pd.DataFrame:
    """Return the full fit's 50% intervals, aligned with the rows of ``table``.

    Derived from the 90% interval by a log-normal approximation, so that no
    extra fit is needed: the log-scale sd from the 90% interval, times 0.674.
    """
    base = full.loc[list(zip(table["date"], table["quantity"], strict=True))]
    sigma = (np.log(base["upper"]) - np.log(base["lower"])) / (2 * 1.645)
    centre = np.log(base["median"])
    return pd.DataFrame(
        {
            "lower": np.exp(centre - 0.674 * sigma).to_numpy(),
            "upper": np.exp(centre + 0.674 * sigma).to_numpy(),
        }
    )


def conflicts_table(estimate: Estimate, loso: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per source: conflict p-value and, if given, the shift when it is left out."""
    table = source_conflicts(loo_checks(estimate))
    if loso is not None:
        last = loso[loso["left_out"] != "none"]
        shifts = last.pivot_table(
            index="left_out", columns="quantity", values="shift_pct", aggfunc="last"
        )
        shifts.columns = [f"shift if left out: {q} (%)" for q in shifts.columns]
        table = table.join(shifts, on="source")
    return table


def plot_conflicts(
    loso: pd.DataFrame, conflicts: pd.DataFrame | None = None, *, quantity: str = "killed"
):
    """Plot the headline total with each source left out, and the conflict p-values.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    rows = loso[loso["quantity"] == quantity]
    rows = rows[rows["date"] == rows["date"].max()]
    full = rows[rows["left_out"] == "none"].iloc[0]
    others = rows[rows["left_out"] != "none"].sort_values("median")
    panels = 2 if conflicts is not None else 1
    height = 1.2 + 0.32 * len(others)
    figure = Figure(figsize=(5.2 * panels, height), layout="constrained")
    axes = figure.subplots(1, panels, squeeze=False, sharey=True)[0]
    ax = axes[0]
    y = np.arange(len(others))
    ax.axvspan(full["lower"], full["upper"], color="0.9", label="all sources: 90% interval")
    ax.axvline(full["median"], color="0.3", lw=1, label="all sources: median")
    colours = np.where(others["outside_50"], "#b2182b", "#2166ac")
    ax.hlines(y, others["lower"], others["upper"], color=colours, lw=1.5)
    ax.scatter(others["median"], y, color=colours, zorder=3, s=18)
    ax.set_yticks(y, [f"without {s}" for s in others["left_out"]], fontsize=8)
    ax.set_xlabel(f"{quantity} by {pd.Timestamp(full['date']):%-d %b %Y}")
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.set_title("Headline estimate with one source left out", fontsize=10)
    if conflicts is not None:
        ax2 = axes[1]
        p = conflicts.set_index("source").reindex(others["left_out"])["conflict_p"].to_numpy()
        ax2.barh(y, -np.log10(np.clip(p, 1e-6, 1)), color=np.where(p < 0.05, "#b2182b", "0.6"))
        ax2.axvline(-np.log10(0.05), color="0.3", ls="--", lw=0.8)
        ax2.set_xlabel("conflict: −log10 p (dashed: p = 0.05)")
        ax2.set_title(
            "How surprising each source's figures are\ngiven all the other reports", fontsize=10
        )
    return figure
