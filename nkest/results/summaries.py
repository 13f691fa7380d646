"""Pure functions from posterior draws to tables: totals at dates, bias factors, diagnostics.

They take arrays and return DataFrames, so they are tested without sampling.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from nkest.errors import OptionError
from nkest.model.grid import TimeGrid
from nkest.results.convergence import BLOCK_VARIABLES, rhat_and_ess

__all__ = [
    "DEFAULT_PROB",
    "diagnostics_in_words",
    "diagnostics_of",
    "headline_quantities",
    "interval_table",
    "parse_dates",
    "totals_at",
]

DEFAULT_PROB = 0.9
"""nkest's default credible interval: 90%, equal-tailed."""

SAMPLE_DIMS = ("chain", "draw")


def headline_quantities(estimated: Sequence[str]) -> list[str]:
    """Return the quantities a report leads with: killed, wounded, casualties, troops sent.

    Troops sent (``deployed``) only when the reports state them, so that losses
    can be read against them.
    """
    return [q for q in ("killed", "wounded", "casualties", "deployed") if q in estimated]


THRESHOLDS = {"max_rhat": 1.01, "ess_per_chain": 100.0, "divergences": 0}
"""What a fit must meet for its intervals to be cited: no divergences, R-hat at
most 1.01 and bulk and tail ESS of at least 100 per chain (400 for the default
four chains), as recommended by Vehtari et al. (2021)."""


def check_prob(prob: float) -> float:
    """Return ``prob`` if it is a probability strictly between 0 and 1."""
    if not isinstance(prob, int | float) or not 0 < prob < 1:
        raise OptionError(f"prob must be a number between 0 and 1 (e.g. 0.9), got {prob!r}")
    return float(prob)


def parse_dates(dates: object, grid: TimeGrid) -> pd.DatetimeIndex:
    """Read ``dates`` as ``summary`` takes it: None (last grid date), "all", a date or dates.

    Raises
    ------
    ValueError
        For text that is not a date, or a date outside the grid.
    """
    if dates is None:
        return pd.DatetimeIndex([grid.dates[-1]])
    if isinstance(dates, str) and dates == "all":
        return grid.dates
    items = (
        [dates]
        if isinstance(dates, str | pd.Timestamp) or not isinstance(dates, Iterable)
        else list(dates)
    )
    if not items:
        raise OptionError("dates must name at least one date; got an empty list")
    try:
        index = pd.DatetimeIndex([read_date(item) for item in items])
    except (ValueError, TypeError):
        raise OptionError(
            f"dates must be None, 'all', or ISO dates like '2025-04-30'; got {dates!r}"
        ) from None
    if index.hasnans:
        raise OptionError(f"dates must be real dates; got {dates!r}")
    grid.position(index.normalize())
    return index.normalize()


def read_date(item: object) -> pd.Timestamp:
    """Read one date: ISO text or a date object; "04/03/2025" or 20250430 is not guessed at."""
    if isinstance(item, str):
        if not re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}([ T][0-9:.]+)?\s*", item):
            raise ValueError(item)
    elif isinstance(item, bool | numbers.Number):
        raise TypeError(item)
    stamp = pd.Timestamp(item)
    # a time zone says nothing about which day's totals are meant
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def totals_at(totals: xr.DataArray, grid: TimeGrid, dates: pd.DatetimeIndex) -> xr.DataArray:
    """Read cumulative totals at any dates by linear interpolation between grid dates.

    A total grows at a constant rate between two grid dates, so this is exact
    for the model, not an approximation: a date between grid points is never
    snapped to one.
    """
    left, weight = grid.interpolation(dates)
    lower = totals.isel(date=left).drop_vars("date")
    upper = totals.isel(date=left + 1).drop_vars("date")
    w = xr.DataArray(weight, dims="date")
    return ((1 - w) * lower + w * upper).assign_coords(date=dates)


def interval_table(draws: xr.DataArray, prob: float, index: Sequence[str]) -> pd.DataFrame:
    """Summarise draws by mean, median and the equal-tailed ``prob`` interval.

    ``index`` names the non-sample dims to keep as columns, in order.
    """
    prob = check_prob(prob)
    tail = (1 - prob) / 2
    stats = xr.Dataset(
        {
            "mean": draws.mean(SAMPLE_DIMS),
            "median": draws.median(SAMPLE_DIMS),
            "lower": draws.quantile(tail, SAMPLE_DIMS).drop_vars("quantile"),
            "upper": draws.quantile(1 - tail, SAMPLE_DIMS).drop_vars("quantile"),
        }
    )
    frame = stats.to_dataframe().reset_index()
    return frame[[*index, "mean", "median", "lower", "upper"]]


def monte_carlo_errors(draws: xr.DataArray, prob: float) -> tuple[float, float, float]:
    """Return the Monte Carlo standard errors of the lower end, median and upper end.

    How much another seed would move each of the three figures of a
    ``prob`` equal-tailed interval of ``draws`` (dims ``chain, draw``), from
    the draws' effective sample size at each quantile.
    """
    import arviz_stats

    tail = (1 - prob) / 2
    return tuple(  # type: ignore[return-value]
        float(arviz_stats.mcse(draws, method="quantile", prob=q, sample_dims=["chain", "draw"]))
        for q in (tail, 0.5, 1 - tail)
    )


def diagnostics_of(
    posterior: xr.Dataset, sample_stats: xr.Dataset, var_names: Iterable[str]
) -> dict:
    """Return divergences, max R-hat and min bulk/tail ESS over the given variables.

    ``nonfinite`` names the variables with a NaN or infinite draw: a chain that
    overflowed, which the statistics (NaN for such a variable) would not show.

    The statistics are ArviZ's (rank-normalised split R-hat; bulk and tail
    ESS), computed for all the variables at once (``convergence``).
    Constant entries (a total fixed at zero at the origin) have no R-hat and
    are left out.
    """
    names = [name for name in var_names if name in posterior]
    chains = posterior.sizes["chain"]
    draws = posterior.sizes["draw"]
    statistics, owner, finite = [], [], []
    for block in _blocks(posterior, names, chains, draws):
        statistics.append(rhat_and_ess(block))
        finite.append(np.isfinite(block).all(axis=(0, 1)))
    for name in names:
        owner.extend([name] * (posterior[name].size // (chains * draws)))
    empty = (np.empty(0),) * 3
    rhat, ess_bulk, ess_tail = (
        np.concatenate(part) for part in zip(*(statistics or [empty]), strict=True)
    )
    owner_of = np.array(owner)
    nonfinite = ~np.concatenate(finite or [np.empty(0, dtype=bool)])
    return {
        "nonfinite": list(dict.fromkeys(owner_of[nonfinite].tolist())),
        "divergences": int(sample_stats["diverging"].sum()),
        "max_rhat": _extreme(rhat, np.nanmax),
        "min_ess_bulk": _extreme(ess_bulk, np.nanmin),
        "min_ess_tail": _extreme(ess_tail, np.nanmin),
        "chains": int(chains),
        "draws": int(draws),
        "worst_rhat": _worst(rhat, owner_of, largest=True),
        "worst_ess_bulk": _worst(ess_bulk, owner_of, largest=False),
    }


def _blocks(posterior: xr.Dataset, names: list[str], chains: int, draws: int):
    """Yield the variables' draws as (chain, draw, columns) blocks of ``BLOCK_VARIABLES``.

    Never the whole posterior in one array: at thousands of variables a copy of
    every draw would double the memory a fit needs. The blocks are the size
    ``rhat_and_ess`` works in, so it takes each one whole.
    """
    pending, width = [], 0
    for name in names:
        values = posterior[name].transpose("chain", "draw", ...).to_numpy()
        values = values.reshape(chains, draws, -1)
        start = 0
        while start < values.shape[-1]:
            part = values[..., start : start + BLOCK_VARIABLES - width]
            pending.append(part)
            width += part.shape[-1]
            start += part.shape[-1]
            if width == BLOCK_VARIABLES:
                yield np.concatenate(pending, axis=-1)
                pending, width = [], 0
    if pending:
        yield np.concatenate(pending, axis=-1)


def sampler_diagnostics(posterior: xr.Dataset, sample_stats: xr.Dataset) -> dict:
    """Return ``diagnostics_of`` over every posterior variable, with ``failures`` and ``passed``."""
    result = diagnostics_of(posterior, sample_stats, list(posterior.data_vars))
    result["failures"] = failures(result)
    result["passed"] = not result["failures"]
    return result


def _extreme(values: np.ndarray, reducer) -> float:
    values = values[np.isfinite(values)]
    return float(reducer(values)) if values.size else float("nan")


def _worst(values: np.ndarray, owner: np.ndarray, *, largest: bool) -> str:
    """Name the variable of the largest (or smallest) finite value; "" if none is finite."""
    finite = np.isfinite(values)
    if not finite.any():
        return ""
    candidates = np.where(finite, values, -np.inf if largest else np.inf)
    return str(owner[np.argmax(candidates) if largest else np.argmin(candidates)])


def diagnostics_in_words(diagnostics: dict) -> str:
    """Return "passed", or "FAILED: " and what fails ``THRESHOLDS``.

    ``diagnostics`` is what ``Estimate.diagnostics()`` returns.
    """
    if diagnostics["passed"]:
        return "passed"
    return "FAILED: " + "; ".join(diagnostics["failures"])


def failures(diagnostics: dict) -> list[str]:
    """Return what fails ``THRESHOLDS``, in words (empty when the fit passes)."""
    needed = THRESHOLDS["ess_per_chain"] * diagnostics["chains"]
    problems = []
    if diagnostics.get("nonfinite"):
        problems.append("non-finite draws in " + ", ".join(diagnostics["nonfinite"]))
    if diagnostics["divergences"] > THRESHOLDS["divergences"]:
        problems.append(f"{diagnostics['divergences']} divergent transitions")
    if diagnostics["chains"] < 2:
        problems.append("a single chain: R-hat needs at least two")
    elif not diagnostics["max_rhat"] <= THRESHOLDS["max_rhat"]:
        problems.append(f"max R-hat {diagnostics['max_rhat']:.3f} > {THRESHOLDS['max_rhat']}")
    for kind in ("bulk", "tail"):
        value = diagnostics[f"min_ess_{kind}"]
        if not value >= needed:
            problems.append(f"min {kind} ESS {value:.0f} < {needed:.0f}")
    return problems


def inner_prob(prob: float) -> float:
    """Return the probability of the inner band drawn with an outer band of ``prob``.

    50%, the usual inner band, when the outer band is wider than that;
    otherwise half the outer one.
    """
    return 0.5 if prob > 0.5 else prob / 2
