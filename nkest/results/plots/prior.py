"""The prior predictive check: cumulative totals drawn from the prior alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from nkest.errors import OptionError
from nkest.results.cite import percent
from nkest.results.plots._layout import arrange, check_probs, fitted_legend, new_figure, note
from nkest.results.plots._style import (
    FONT,
    INNER_COLOUR,
    MEDIAN_COLOUR,
    OUTER_COLOUR,
    POINT,
    QUANTITY_LABELS,
    draw_fan,
    format_count_axis,
    format_date_axis,
)
from nkest.results.summaries import DEFAULT_PROB

if TYPE_CHECKING:
    import xarray as xr

    from nkest.reports import Reports

__all__ = ["plot_prior_totals"]


def plot_prior_totals(
    prior_dataset: xr.Dataset,
    *,
    quantities: Sequence[str] = ("killed", "wounded", "casualties"),
    dates: tuple[Any, Any] | None = None,
    reports: Reports | None = None,
    prob: float = DEFAULT_PROB,
    prob_inner: float | None = None,
) -> Figure:
    """Draw the prior predictive of the cumulative totals, to check the prior is plausible.

    One panel per quantity on a log scale: the median and two credible
    bands of the totals drawn from the prior alone (before the reports'
    values are seen).

    Parameters
    ----------
    prior_dataset : xarray.Dataset
        The result of ``nkest.fit.prior.sample_prior``: ``total`` with dims
        ``chain, draw, quantity, date``.
    quantities : sequence of str
        The panels, top to bottom.
    dates : (start, end), optional
        Limit the x axis to these dates (anything ``pandas.Timestamp``
        reads); default: every date of the draws.
    reports : Reports, optional
        If given, their cumulative figures are drawn as small grey points,
        for scale only (the prior does not see their values).
    prob, prob_inner : float
        Probabilities of the inner and outer bands.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per quantity.

    Raises
    ------
    ValueError
        For a quantity not in the draws, or bad probabilities.
    """
    prob_inner, prob = check_probs(prob_inner, prob)
    total = prior_dataset["total"]
    available = [str(q) for q in total["quantity"].to_numpy()]
    quantities = [quantities] if isinstance(quantities, str) else list(quantities)
    unknown = [q for q in quantities if q not in available]
    if unknown or not quantities:
        raise OptionError(f"quantities must be among {', '.join(available)}; got {quantities!r}")
    if dates is not None:
        first, last = (pd.Timestamp(d) for d in dates)
        total = total.sel(date=slice(first, last))
    draws = total.stack(sample=("chain", "draw")).transpose("sample", "quantity", "date")
    axis_dates = pd.DatetimeIndex(total["date"].to_numpy())
    observed = _cumulative_figures(reports) if reports is not None else None

    width, panel_height = 10.0, 2.5
    fig = new_figure(width, len(quantities) * panel_height + 3)
    axes = list(fig.subplots(len(quantities), 1, sharex=True, squeeze=False)[:, 0])
    for ax, quantity in zip(axes, quantities, strict=True):
        values = draws.sel(quantity=quantity).to_numpy()

        def band(prob: float, values: np.ndarray = values) -> pd.DataFrame:
            low, median, high = np.quantile(values, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
            return pd.DataFrame({"date": axis_dates, "lower": low, "median": median, "upper": high})

        draw_fan(ax, band(prob_inner), band(prob), log_scale=True)
        if observed is not None:
            mine = observed[
                (observed["quantity"] == quantity)
                & (observed["as_of"] >= axis_dates[0])
                & (observed["as_of"] <= axis_dates[-1])
            ]
            ax.plot(mine["as_of"], mine["value"], color="0.35", zorder=4, **{**POINT, "ms": 4.0})
        format_count_axis(ax, log_scale=True)
        ax.set_ylabel(QUANTITY_LABELS.get(quantity, quantity.capitalize()), fontsize=FONT)
    format_date_axis(axes[-1])
    axes[-1].set_xlim(axis_dates[0], axis_dates[-1])

    handles: list[Any] = [
        Line2D([], [], color=MEDIAN_COLOUR, lw=1.8),
        Patch(fc=INNER_COLOUR),
        Patch(fc=OUTER_COLOUR),
    ]
    labels = [
        "prior median",
        f"{percent(prob_inner)} prior interval",
        f"{percent(prob)} prior interval",
    ]
    if observed is not None:
        handles.append(Line2D([], [], color="0.35", **{**POINT, "ms": 4.0}))
        labels.append("reported cumulative figures, for scale")
    key = fitted_legend(fig, handles, labels, width, title=None)
    caption = (
        f"Totals drawn from the model's prior ({draws.sizes['sample']} draws), before it sees "
        "the reports' values: the bands should cover every plausible path, a few orders of "
        "magnitude wide, without being absurd."
    )
    arrange(
        fig,
        axes,
        width=width,
        panel_height=panel_height,
        title="Prior predictive check: cumulative totals before the reports' values are seen",
        below=[key, note(fig, caption, width)],
    )
    return fig


def _cumulative_figures(reports: Reports) -> pd.DataFrame:
    """Return the quantity, as_of date and value of the included cumulative figures."""
    frame = reports.to_frame()
    keep = (frame["scope"] == "cumulative") & frame["value"].notna() & (frame["exclude"] == "")
    frame = frame[keep]
    return pd.DataFrame(
        {
            "quantity": frame["quantity"],
            "as_of": pd.to_datetime(frame["as_of"]),
            "value": frame["value"].astype(float),
        }
    )
