"""The result of a fit: posterior draws with the reports and assumptions that produced them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from nkest.model.design import Design
from nkest.model.likelihood import (
    NUMPY_OPS,
    draw_log_noise,
    pointwise_logp,
    report_latent,
    tail_probability,
)
from nkest.model.options import FitOptions
from nkest.reports import Reports
from nkest.results import summaries
from nkest.results.summaries import DEFAULT_PROB

__all__ = ["Estimate", "provenance"]


class Estimate:
    """Posterior estimates of casualties over time, with where they come from.

    Made by ``nkest.fit``; not meant to be built by hand.

    Attributes
    ----------
    posterior : xarray.DataTree
        ArviZ data: groups ``posterior`` (with ``total`` over ``quantity`` and
        ``date``, ``bias_factor`` and ``noise`` over ``source``, and every
        parameter), ``sample_stats`` and ``log_likelihood`` (``reports`` over
        ``report``).
    reports : Reports
        The reports as given to ``nkest.fit``.
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
        self._diagnostics: dict[str, Any] | None = None
        self.posterior = _with_report_groups(posterior, design, options.constraint_scale)
        self.posterior.attrs.update(provenance(reports, options, sampling))

    # -- what went in -------------------------------------------------------

    @property
    def grid(self):
        """The time grid of the latent totals."""
        return self._design.grid

    @property
    def quantities(self) -> tuple[str, ...]:
        """The quantities estimated.

        Killed, wounded and casualties, and captured or missing when a used
        report bounds them from above.
        """
        return self._design.quantities

    def build_model(self) -> Any:
        """Rebuild the PyMC model of this fit (with this fit's data), e.g. for log priors.

        Returns
        -------
        pymc.Model
        """
        from nkest.model.build import build_model

        return build_model(self._design, self.options)

    @property
    def sources(self) -> tuple[str, ...]:
        """The sources with observations, each with a bias factor."""
        return self._design.sources

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
            As in ``summary``.

        Returns
        -------
        xarray.DataArray
            Dims ``chain, draw, quantity, date``.
        """
        total = self.posterior["posterior"]["total"].sel(quantity=list(self.quantities))
        at = summaries.totals_at(total, self.grid, summaries.parse_dates(dates, self.grid))
        return at.transpose("chain", "draw", "quantity", "date")

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
            Any of ``quantities``.
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

    def wounded_ratio(self, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Summarise the wounded:killed ratio of the losses in each grid step.

        The ratio of the increases of wounded and killed over each step (the
        model's drifting ratio), by its median and equal-tailed interval.

        Returns
        -------
        pandas.DataFrame
            Columns ``date`` (end of the step), ``mean, median, lower, upper``.
        """
        total = self.posterior["posterior"]["total"]
        increase = total.diff("date")
        ratio = increase.sel(quantity="wounded") / increase.sel(quantity="killed")
        return summaries.interval_table(
            ratio.drop_vars("quantity", errors="ignore"), prob, index=("date",)
        )

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

    def cite(
        self,
        quantity: str = "killed",
        date: object = None,
        prob: float = DEFAULT_PROB,
        *,
        allow_failed_diagnostics: bool = False,
    ) -> str:
        """Return a sentence to paste into an article, with a provenance note.

        Figures are rounded to two significant figures: posterior intervals of
        casualty counts are too wide for more. The note says which nkest,
        which reports (their number, sources and fingerprint), the
        identification assumption and the sampler's diagnostics.

        Parameters
        ----------
        quantity : str
            One of ``quantities``.
        date : date, optional
            The date of the total; default the end of the estimate.
        prob : float
            Probability of the equal-tailed credible interval.
        allow_failed_diagnostics : bool
            Cite a fit that fails its sampler diagnostics anyway; the text
            then says so.

        Returns
        -------
        str

        Raises
        ------
        ConvergenceError
            If the fit fails its diagnostics and ``allow_failed_diagnostics``
            is false.

        Examples
        --------
        >>> estimate.cite("killed", "2025-04-30")  # doctest: +SKIP
        'An estimated 950 North Korean soldiers had been killed by 30 April 2025 (90% ...'
        """
        from nkest import __version__
        from nkest.errors import ConvergenceError
        from nkest.results.cite import cite_sentence, counted, sentence_caveats

        diagnostics = self.diagnostics()
        if not diagnostics["passed"] and not allow_failed_diagnostics:
            raise ConvergenceError(
                "this fit fails its sampler diagnostics ("
                + "; ".join(diagnostics["failures"])
                + "): its intervals should not be cited. Refit with more draws (draws=, tune=) "
                "or pass allow_failed_diagnostics=True to cite it with a warning."
            )
        row = self.summary(dates=None if date is None else [date], quantities=[quantity], prob=prob)
        row = row.iloc[0]
        sentence = cite_sentence(
            subject=str(self.reports.metadata.get("subject", "people")),
            quantity=quantity,
            date=row["date"],
            median=row["median"],
            lower=row["lower"],
            upper=row["upper"],
            prob=prob,
            caveats=sentence_caveats(quantity, self.used, passed=diagnostics["passed"]),
        )
        used = self.used
        observed = used[used["role"] == "observation"]
        note = (
            f"Source: nkest {__version__} estimate from {len(used)} of {len(self.reports)} "
            f"reported figures ({counted(observed['source'].nunique(), 'source')}; "
            f"reports fingerprint {self.reports.fingerprint()}), assuming {self.identification}; "
            f"{diagnostics['chains']} chains x {diagnostics['draws']:,} draws, "
            f"{diagnostics['divergences']} divergences, max R-hat {diagnostics['max_rhat']:.3f}, "
            f"min ESS {diagnostics['min_ess_bulk']:,.0f}."
        )
        if not diagnostics["passed"]:
            note += (
                " WARNING: the sampler's diagnostics failed ("
                + "; ".join(diagnostics["failures"])
                + "); this estimate is not reliable."
            )
        return f"{sentence} {note}"

    def report_checks(self, prob: float = DEFAULT_PROB, random_seed: int = 0) -> pd.DataFrame:
        """Check every used report against its posterior predictive distribution.

        For each report, the figure its source would state is simulated from
        the posterior (latent value, the source's bias and noise), and the
        claim the source actually made is compared with it.

        Parameters
        ----------
        prob : float
            Probability of the predictive interval.
        random_seed : int
            Seed of the simulated noise.

        Returns
        -------
        pandas.DataFrame
            One row per used report: ``report_id, source, quantity, role,
            kind, claim_lower, claim_upper, latent_median`` (the model's value
            of the quantity the report speaks of), ``predicted_median,
            predicted_lower, predicted_upper`` (the source's figure as the
            model predicts it), ``p_claim`` (posterior predictive probability
            of the claim) and ``tail_p`` (how far in a tail the claim lies:
            small means surprising; for a two-sided claim twice the smaller
            tail, for a bound its one tail).
        """
        prob = summaries.check_prob(prob)
        posterior = self.posterior["posterior"].to_dataset()
        figure = self.predicted_figures(random_seed).to_numpy()
        figure = figure.reshape(-1, figure.shape[-1])
        centre, _ = report_centres(posterior, self._design, self.options.constraint_scale)
        centre = centre.reshape(-1, centre.shape[-1])
        rows = self._design.rows
        lower = rows["lower"].to_numpy(float)
        upper = rows["upper"].to_numpy(float)
        kind = rows["kind"].to_numpy()
        tail = tail_probability(figure, None, lower, upper, kind)
        log_lik = self.posterior["log_likelihood"]["reports"].to_numpy()
        log_lik = log_lik.reshape(-1, log_lik.shape[-1])
        latent = np.exp(centre - np.log(self._bias_of_rows(posterior)))
        q = (1 - prob) / 2
        return pd.DataFrame(
            {
                "report_id": rows["report_id"],
                "source": rows["source"],
                "quantity": rows["quantity"],
                "role": rows["role"],
                "kind": kind,
                "claim_lower": lower,
                "claim_upper": upper,
                "latent_median": np.median(latent, axis=0),
                "predicted_median": np.median(figure, axis=0),
                "predicted_lower": np.quantile(figure, q, axis=0),
                "predicted_upper": np.quantile(figure, 1 - q, axis=0),
                "p_claim": np.exp(log_lik).mean(axis=0),
                "tail_p": tail,
            }
        )

    def predicted_figures(self, random_seed: int = 0) -> xr.DataArray:
        """Simulate, per posterior draw, the figure each used report's source would state.

        The latent value the report speaks of, seen through its source's bias
        and noise (floors and caps: through no bias and the constraint's small
        noise).

        Parameters
        ----------
        random_seed : int
            Seed of the simulated noise.

        Returns
        -------
        xarray.DataArray
            Dims ``chain, draw, report``.
        """
        posterior = self.posterior["posterior"].to_dataset()
        centre, scale = report_centres(posterior, self._design, self.options.constraint_scale)
        rng = np.random.default_rng(random_seed)
        figure = np.exp(centre + draw_log_noise(scale, self._design.arrays, rng))
        return xr.DataArray(
            figure,
            dims=("chain", "draw", "report"),
            coords={
                "chain": posterior["chain"],
                "draw": posterior["draw"],
                "report": self._design.rows["report_id"].to_numpy(),
            },
        )

    def _bias_of_rows(self, posterior: xr.Dataset) -> np.ndarray:
        """Return each draw's bias factor for each used report (1 for floors and caps)."""
        bias = posterior["bias_factor"].transpose("chain", "draw", "source").to_numpy()
        bias = bias.reshape(-1, bias.shape[-1])
        bias = np.concatenate([bias, np.ones((bias.shape[0], 1))], axis=-1)
        return bias[:, self._design.arrays["source_index"]]

    def diagnostics(self) -> dict[str, Any]:
        """Return the sampler diagnostics over every free parameter and the latent totals.

        Returns
        -------
        dict
            ``divergences``, ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``,
            ``chains``, ``draws``, the worst variables, ``passed`` and
            ``failures`` (what misses the thresholds, in words).
        """
        if self._diagnostics is not None:
            return dict(self._diagnostics, failures=list(self._diagnostics["failures"]))
        posterior = self.posterior["posterior"].to_dataset()
        names = list(posterior.data_vars)
        result = summaries.diagnostics_of(
            posterior, self.posterior["sample_stats"].to_dataset(), names
        )
        result["failures"] = summaries.failures(result)
        result["passed"] = not result["failures"]
        self._diagnostics = result  # the draws never change after the fit
        return dict(result, failures=list(result["failures"]))

    def report(
        self,
        directory: str | os.PathLike[str],
        *,
        prob: float = DEFAULT_PROB,
        overwrite: bool = False,
    ) -> Path:
        """Write a Markdown and an HTML report of the fit, with its figures and tables.

        The report gives the headline sentences, the totals over time with the
        reports drawn on them, the source biases, the reports the model finds
        surprising, every report used (with its citation) and every report
        excluded (with its reason), the identification assumption, the
        priors and the sampler diagnostics.

        Parameters
        ----------
        directory : path
            Absent or empty (it is created), or a report nkest wrote before;
            gets ``report.md``, ``report.html``, ``figures/`` and ``tables/``.
        prob : float
            Probability of the credible intervals.
        overwrite : bool
            Replace a report nkest wrote in ``directory`` before. A directory
            holding anything else is never replaced.

        Returns
        -------
        pathlib.Path
            The path of ``report.md``.

        Raises
        ------
        FileExistsError
            If ``directory`` holds files nkest did not write, or an earlier
            report and ``overwrite`` is false.
        """
        from nkest.results.report import write_report

        return write_report(self, directory, prob=prob, overwrite=overwrite)

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Save the fit to ``path``: netCDF (``.nc``) or zarr (``.zarr``).

        The file holds the posterior, the reports, the options, the
        provenance and a checksum of every array; ``nkest.load`` reads it
        back with identical summaries, and refuses it if it was damaged.

        Parameters
        ----------
        path : path
            Where to save; its suffix chooses the format.
        overwrite : bool
            Replace a fit saved at ``path`` before. Anything else at
            ``path`` is never replaced.

        Returns
        -------
        pathlib.Path

        Raises
        ------
        FileExistsError
            If ``path`` holds something that is not a saved fit, or a saved
            fit and ``overwrite`` is false.
        """
        from nkest.results.io import save_estimate

        return save_estimate(self, path, overwrite=overwrite)

    def __repr__(self) -> str:
        last = self.summary(quantities=("killed",)).iloc[0]
        diagnostics = self.diagnostics()
        state = summaries.diagnostics_in_words(diagnostics)
        return (
            f"<Estimate: {len(self.used)} reports used, {len(self.excluded)} excluded; "
            f"killed by {last['date']:%Y-%m-%d}: {last['median']:,.0f} "
            f"({DEFAULT_PROB:.0%} interval {last['lower']:,.0f}-{last['upper']:,.0f}); "
            f"assuming {self.identification}; diagnostics {state}>"
        )

    def _check_quantities(self, quantities: Iterable[str]) -> list[str]:
        names = [quantities] if isinstance(quantities, str) else list(quantities)
        unknown = [q for q in names if q not in self.quantities]
        if unknown or not names:
            raise ValueError(
                f"quantities must be among {', '.join(self.quantities)}; got {names!r}"
            )
        return names


def provenance(reports: Reports, options: FitOptions, sampling: Any) -> dict[str, str]:
    """Return what produced a fit, as text attributes for the posterior's file."""
    from nkest import __version__

    return {
        "nkest_version": __version__,
        "reports_fingerprint": reports.fingerprint(),
        "reports_count": str(len(reports)),
        "identification": options.identification.describe(),
        "options": json.dumps(options.to_dict(), sort_keys=True),
        "sampling": json.dumps(sampling.to_dict(), sort_keys=True),
        "dataset": str(reports.metadata.get("name", "")),
    }


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
    return centres_from_arrays(
        posterior["total"].transpose("chain", "draw", "quantity", "date").to_numpy(),
        posterior["bias_factor"].transpose("chain", "draw", "source").to_numpy(),
        posterior["noise"].transpose("chain", "draw", "source").to_numpy(),
        design,
        constraint_scale,
    )


def centres_from_arrays(
    total: np.ndarray,
    bias: np.ndarray,
    noise: np.ndarray,
    design: Design,
    constraint_scale: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Like ``report_centres``, from arrays (the source axis follows ``design.sources``)."""
    latent = report_latent(total, design.arrays, design.grid.size, NUMPY_OPS)
    zeros = np.zeros((*bias.shape[:-1], 1))
    bias_all = np.concatenate([np.log(bias), zeros], axis=-1)
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
