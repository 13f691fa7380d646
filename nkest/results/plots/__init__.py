"""Figures of an estimate: totals over time with the reports, source biases, report checks.

- ``plot_totals``: the estimated cumulative totals over time (a fan chart),
  with the reports drawn on them as their sources worded them;
- ``plot_source_bias``: each source's bias factor, a forest plot grouped by
  source group;
- ``plot_report_checks``: each used report's claim against the figure the
  model predicts its source states (a posterior predictive check);
- ``plot_losses_per_month``: each month's losses (the increase of each
  total), with their intervals;
- ``plot_prior_totals``: the cumulative totals drawn from the prior alone
  (a prior predictive check).

Every function returns a new ``matplotlib.figure.Figure``. The figures
are not registered with pyplot and no global setting (``rcParams``) is
changed, so they are safe in loops, scripts and notebooks alike: save one
with ``fig.savefig("totals.png", dpi=150)``, or return it from a notebook
cell to display it.

>>> from nkest.results.plots import plot_totals   # doctest: +SKIP
>>> plot_totals(estimate).savefig("totals.png")    # doctest: +SKIP

The figures are drawn by one module each (``totals``, ``bias``, ``checks``,
``monthly``, ``prior``) from shared pieces: ``_style`` (colours, line styles, markers,
number and axis formats) and ``_layout`` (canvas, legends, notes, layout).
"""

from nkest.results.plots._style import SURPRISE_COLOUR as SURPRISE_COLOUR
from nkest.results.plots.bias import plot_source_bias
from nkest.results.plots.checks import plot_report_checks
from nkest.results.plots.monthly import plot_losses_per_month
from nkest.results.plots.prior import plot_prior_totals
from nkest.results.plots.totals import plot_totals

__all__ = [
    "plot_losses_per_month",
    "plot_prior_totals",
    "plot_report_checks",
    "plot_source_bias",
    "plot_totals",
]
