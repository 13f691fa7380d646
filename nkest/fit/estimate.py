"""The result of a fit: posterior draws with the reports and assumptions that produced them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from nkest.model.design import Design
from nkest.model.likelihood import NUMPY_OPS, pointwise_logp, report_latent
from nkest.model.options import FitOptions
from nkest.reports import Reports
from nkest.results import summaries
from nkest.results.summaries import DEFAULT_PROB

__all__ = ["Estimate"]

DIAGNOSED_VARIABLES_EXCLUDED = ("log_rate", "wounded_ratio")


class Estimate:
    """Posterior estimates of casualties over time, with where they come from.

    Made by :func:`nkest.fit`; not meant to be built by hand.

    Attributes
    ----------
    posterior : xarray.DataTree
        ArviZ data: groups ``posterior`` (with ``total`` over ``quantity`` and
        ``date``, ``bias_factor`` and ``noise`` over ``source``, and every
        parameter), ``sample_stats`` and ``log_likelihood`` (``reports`` over
        ``report``).
    reports : Reports
        The reports as given to :func:`nkest.fit`.
    options : FitOptions
        Every model option, including the identification assumption and priors.
    sampling : SamplingInfo
        Sampler, draws, seed and where the time went.
    """

    def __init__(
        self,
        *,
        posterior: xr.DataTree,
        reports: Reports,
        design: Design,
        options: FitOptions,
        sampling: Any,
    ) -> None:
        self.reports = reports
        self.options = options
        self.sampling = sampling
        self._design = design
        self.posterior = _with_report_groups(posterior, design, options.constraint_scale)

    # -- what went in -------------------------------------------------------

    @property
    def grid(self):
        """The time grid of the latent totals."""
        return self._design.grid

    @property
    def quantities(self) -> tuple[str, ...]:
        """The quantities estimated (killed, wounded, casualties, and captured or missing)."""
        return self._design.quantities

    @property
    def used(self) -> pd.DataFrame:
        """The reports in the likelihood: role (observation, floor, cap) and the claim's bounds."""
        return self._design.rows.copy()

    @property
    def excluded(self) -> pd.DataFrame:
        """The reports not used, each with ``reason`` and who excluded it (reports or model)."""
        return self._design.excluded.copy()

    @property
    def identification(self) -> str:
        """The identification assumption, in words."""
        return self.options.identification.describe()

    # -- results ------------------------------------------------------------

    def totals(self, dates: object = "all") -> xr.DataArray:
        """Return the posterior draws of the cumulative totals at ``dates``.

        Parameters
        ----------
        dates : None, "all", date or list of dates
            As in :meth:`summary`.

        Returns
        -------
        xarray.DataArray
            Dims ``chain, draw, quantity, date``.
        """
        total = self.posterior["posterior"]["total"].sel(quantity=list(self.quantities))
        return summaries.totals_at(total, self.grid, summaries.parse_dates(dates, self.grid))

    def summary(
        self,
        dates: object = None,
        quantities: Sequence[str] = ("killed", "wounded", "casualties"),
        prob: float = DEFAULT_PROB,
    ) -> pd.DataFrame:
        """Summarise the cumulative totals at dates.

        Parameters
        ----------
        dates : None, "all", date or list of dates
            None for the last grid date; "all" for every grid date; or any
            dates within the grid (between grid dates they are interpolated,
            not snapped).
        quantities : sequence of str
            Any of :attr:`quantities`.
        prob : float
            Probability of the equal-tailed credible interval.

        Returns
        -------
        pandas.DataFrame
            Columns ``date, quantity, mean, median, lower, upper``.
        """
        quantities = self._check_quantities(quantities)
        draws = self.totals(dates).sel(quantity=quantities)
        table = summaries.interval_table(draws, prob, index=("date", "quantity"))
        order = {q: i for i, q in enumerate(quantities)}
        return table.sort_values(
            ["date", "quantity"], key=lambda c: c.map(order) if c.name == "quantity" else c
        ).reset_index(drop=True)

    def source_bias(self, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Summarise each source's bias factor (1.3: the source states 30% above the truth).

        Returns
        -------
        pandas.DataFrame
            Columns ``source, source_group, factor_median, factor_lower,
            factor_upper``.
        """
        draws = self.posterior["posterior"]["bias_factor"]
        table = summaries.interval_table(draws, prob, index=("source",))
        groups = dict(zip(self._design.sources, self._design.source_groups, strict=True))
        return pd.DataFrame(
            {
                "source": table["source"],
                "source_group": table["source"].map(groups),
                "factor_median": table["median"],
                "factor_lower": table["lower"],
                "factor_upper": table["upper"],
            }
        )

    def diagnostics(self) -> dict[str, Any]:
        """Return the sampler diagnostics over every free parameter and the latent totals.

        Returns
        -------
        dict
            ``divergences``, ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``,
            ``chains``, ``draws``, the worst variables, ``passed`` and
            ``failures`` (what misses the thresholds, in words).
        """
        posterior = self.posterior["posterior"].to_dataset()
        names = [
            name
            for name in posterior.data_vars
            if not any(name.endswith(suffix) for suffix in DIAGNOSED_VARIABLES_EXCLUDED)
        ]
        result = summaries.diagnostics_of(
            posterior, self.posterior["sample_stats"].to_dataset(), names
        )
        result["failures"] = summaries.failures(result)
        result["passed"] = not result["failures"]
        return result

    def __repr__(self) -> str:
        last = self.summary(quantities=("killed",)).iloc[0]
        diagnostics = self.diagnostics()
        state = (
            "passed" if diagnostics["passed"] else "FAILED: " + "; ".join(diagnostics["failures"])
        )
        return (
            f"<Estimate: {len(self.used)} reports used, {len(self.excluded)} excluded; "
            f"killed by {last['date']:%Y-%m-%d}: {last['median']:,.0f} "
            f"({DEFAULT_PROB:.0%} interval {last['lower']:,.0f}-{last['upper']:,.0f}); "
            f"{self.identification}; diagnostics {state}>"
        )

    def _check_quantities(self, quantities: Iterable[str]) -> list[str]:
        names = [quantities] if isinstance(quantities, str) else list(quantities)
        unknown = [q for q in names if q not in self.quantities]
        if unknown or not names:
            raise ValueError(
                f"quantities must be among {', '.join(self.quantities)}; got {names!r}"
            )
        return names


def _with_report_groups(tree: xr.DataTree, design: Design, constraint_scale: float) -> xr.DataTree:
    """Add per-report log-likelihood, computed from the draws with the model's own formulas."""
    posterior = tree["posterior"].to_dataset()
    log_lik = report_log_likelihood(posterior, design, constraint_scale)
    groups = {name: tree[name].to_dataset() for name in tree.children}
    groups["log_likelihood"] = xr.Dataset({"reports": log_lik})
    return xr.DataTree.from_dict(groups)


def report_centres(
    posterior: xr.Dataset, design: Design, constraint_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per draw and report, ``log(latent) + bias`` and the noise scale."""
    total = posterior["total"].transpose("chain", "draw", "quantity", "date").to_numpy()
    latent = report_latent(total, design.arrays, design.grid.size, NUMPY_OPS)
    bias = np.log(posterior["bias_factor"].transpose("chain", "draw", "source").to_numpy())
    noise = posterior["noise"].transpose("chain", "draw", "source").to_numpy()
    zeros = np.zeros((*bias.shape[:2], 1))
    bias_all = np.concatenate([bias, zeros], axis=-1)
    scale_all = np.concatenate([noise, zeros + constraint_scale], axis=-1)
    src = design.arrays["source_index"]
    return np.log(latent) + bias_all[..., src], scale_all[..., src]


def report_log_likelihood(
    posterior: xr.Dataset, design: Design, constraint_scale: float
) -> xr.DataArray:
    """Return each used report's log-likelihood per draw (dims chain, draw, report)."""
    centre, scale = report_centres(posterior, design, constraint_scale)
    values = pointwise_logp(centre, scale, design.arrays)
    return xr.DataArray(
        values,
        dims=("chain", "draw", "report"),
        coords={
            "chain": posterior["chain"],
            "draw": posterior["draw"],
            "report": design.rows["report_id"].to_numpy(),
        },
    )
