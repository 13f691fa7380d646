"""The result of a fit: posterior draws with the reports and assumptions that produced them.

An ``Estimate`` summarises, checks, cites, reports and saves itself; it is
made by ``nkest.fit`` or ``nkest.load`` (``nkest.results.fitting``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from nkest.errors import ConvergenceError, OptionError, UnreliableEstimateWarning
from nkest.fit import per_report
from nkest.fit.sampling import (
    provenance,
)
from nkest.model.build import build_model
from nkest.model.design import Design
from nkest.model.options import FitOptions
from nkest.reports import Reports
from nkest.results import io, summaries
from nkest.results.cite import (
    Citation,
    cite_sentence,
    counted,
    dataset_words,
    last_reports,
    round_figure,
    sentence_caveats,
    short_note,
)
from nkest.results.refit import refit_words
from nkest.results.report import write_report
from nkest.results.summaries import DEFAULT_PROB
from nkest.version import __version__

__all__ = ["Estimate"]

_PACKAGE_DIR = str(Path(__file__).parent.parent) + os.sep


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
        sampler_diagnostics: dict[str, Any] | None = None,
    ) -> None:
        self.reports = reports
        self.options = options
        self.sampling = sampling
        self._design = design
        # ``fit`` checks the draws before it keeps them; computing that again costs seconds.
        self._sampler_diagnostics = sampler_diagnostics
        self._diagnostics: dict[str, Any] | None = None
        # PSIS over every report's log-likelihood: the report asks for it more than once
        self._loo_checks: dict[int, pd.DataFrame] = {}
        self._warned_unreliable = False
        self.posterior = per_report.with_report_log_likelihood(
            posterior, design, options.constraint_scale
        )
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

    def build_model(self, *, levels_as_seen: bool = True) -> Any:
        """Rebuild the PyMC model of this fit (with this fit's data), e.g. for log priors.

        Parameters
        ----------
        levels_as_seen : bool, default True
            As the fit draws them; False: the levels as free variables (the
            same model; every fit's posterior holds their values).

        Returns
        -------
        pymc.Model
        """
        return build_model(self._design, self.options, levels_as_seen=levels_as_seen)

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
        quantities: Sequence[str] | None = None,
        prob: float = DEFAULT_PROB,
    ) -> pd.DataFrame:
        """Summarise the cumulative totals at dates.

        Parameters
        ----------
        dates : None, "all", date or list of dates
            None for the last grid date; "all" for every grid date; or any
            dates within the grid (between grid dates they are interpolated,
            not snapped).
        quantities : sequence of str, optional
            Any of ``quantities``; default killed, wounded, casualties, and the
            troops sent (``deployed``) when reports state them.
        prob : float
            Probability of the equal-tailed credible interval.

        Returns
        -------
        pandas.DataFrame
            Columns ``date, quantity, mean, median, lower, upper`` and
            ``past_last_report``: whether the date lies after the last report
            of the quantity (or no report states it), where the estimate
            follows the model rather than reports of it.

        Warns
        -----
        UnreliableEstimateWarning
            When the fit fails its sampler diagnostics (once per estimate, for
            this and the other summaries: ``losses_per_month``,
            ``wounded_ratio``, ``source_bias``).
        """
        self._warn_if_unreliable()
        return self._summary(dates, quantities, prob)

    def _summary(
        self, dates: object, quantities: Sequence[str] | None, prob: float
    ) -> pd.DataFrame:
        if quantities is None:
            quantities = summaries.headline_quantities(self.quantities)
        quantities = self._check_quantities(quantities)
        draws = self.totals(dates).sel(quantity=quantities)
        table = summaries.interval_table(draws, prob, index=("date", "quantity"))
        table = _in_quantity_order(table, "date", quantities)
        last = table["quantity"].map(last_reports(self.used))
        table["past_last_report"] = last.isna() | (table["date"] > last)
        return table

    def losses_per_month(
        self, quantities: Sequence[str] | None = None, prob: float = DEFAULT_PROB
    ) -> pd.DataFrame:
        """Summarise the increase of each total in each calendar month.

        The increase of a cumulative total from a month's start to its end
        (or to the estimate's first and last dates, for the two months they
        cut: ``partial``), from the same draws as ``summary``.

        Parameters
        ----------
        quantities : sequence of str, optional
            As in ``summary`` (default killed, wounded, casualties and, when
            estimated, the troops sent).
        prob : float
            Probability of the equal-tailed credible interval.

        Returns
        -------
        pandas.DataFrame
            Columns ``month`` ("2025-04"), ``start``, ``end``, ``quantity``,
            ``mean, median, lower, upper``, ``partial`` and
            ``past_last_report`` (the month ends after the last report of the
            quantity: its increase follows the model, not reports of it).
        """
        self._warn_if_unreliable()
        if quantities is None:
            quantities = summaries.headline_quantities(self.quantities)
        quantities = self._check_quantities(quantities)
        first, last = pd.Timestamp(self.grid.dates[0]), pd.Timestamp(self.grid.dates[-1])
        starts = pd.date_range(first.to_period("M").to_timestamp(), last, freq="MS")
        edges = sorted({first, last, *[d for d in starts if first < d < last]})
        draws = self.totals(edges).sel(quantity=quantities)
        increase = draws.diff("date", label="upper")
        table = summaries.interval_table(increase, prob, index=("date", "quantity"))
        table = table.rename(columns={"date": "end"})
        ends = list(pd.DatetimeIndex(edges[1:]))
        begin = dict(zip(ends, edges[:-1], strict=True))
        table.insert(0, "start", table["end"].map(begin))
        # a month runs to the next month's first day; name it by the month it covers
        table.insert(0, "month", (table["end"] - pd.Timedelta(days=1)).dt.strftime("%Y-%m"))
        whole = (table["start"] == table["start"].dt.to_period("M").dt.to_timestamp()) & (
            table["end"] == (table["start"] + pd.offsets.MonthBegin(1))
        )
        table["partial"] = ~whole
        table = _in_quantity_order(table, "end", quantities)
        read = table["quantity"].map(last_reports(self.used))
        table["past_last_report"] = read.isna() | (table["start"] >= read)
        return table

    def wounded_ratio(self, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Summarise the wounded:killed ratio of the losses in each grid step.

        The ratio of the increases of wounded and killed over each step (the
        model's drifting ratio), by its median and equal-tailed interval.

        Returns
        -------
        pandas.DataFrame
            Columns ``date`` (end of the step), ``mean, median, lower, upper``.
        """
        self._warn_if_unreliable()
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
        self._warn_if_unreliable()
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
    ) -> Citation:
        """Return a sentence to paste into an article, with a provenance note.

        Figures are rounded to two significant figures: posterior intervals of
        casualty counts are too wide for more. The note gives each figure's
        Monte Carlo error: how far a rerun with another seed moves it (the
        upper end of an interval, in a long tail, moves most). The note says which nkest,
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
        Citation
            A ``str``: the sentence then the note; ``.sentence`` and ``.note``
            give each alone, and ``.short`` the sentence with a one-line source
            for an article ("(nkest estimate from 68 public reports up to 16
            February 2026; dataset dprk 2026.12)").

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
        if not isinstance(allow_failed_diagnostics, bool):
            raise OptionError(
                f"allow_failed_diagnostics must be True or False, got {allow_failed_diagnostics!r}"
            )
        # the quantity and the date are checked before the diagnostics, so that a typo is
        # named as such on a failed fit too
        row = self._summary(None if date is None else [date], [quantity], prob)
        diagnostics = self.diagnostics()
        if not diagnostics["passed"] and not allow_failed_diagnostics:
            raise ConvergenceError(
                "this fit fails its sampler diagnostics ("
                + "; ".join(diagnostics["failures"])
                + "): its intervals should not be cited. Refit with more draws (draws=, tune=) "
                "or pass allow_failed_diagnostics=True to cite it with a warning."
            )
        row = row.iloc[0]
        sentence = cite_sentence(
            subject=str(self.reports.metadata.get("subject", "people")),
            quantity=quantity,
            date=row["date"],
            median=row["median"],
            lower=row["lower"],
            upper=row["upper"],
            prob=prob,
            caveats=sentence_caveats(
                quantity,
                self.used,
                passed=diagnostics["passed"],
                date=row["date"],
                median=row["median"],
            ),
        )
        draws = self.totals([row["date"]]).sel(quantity=quantity).isel(date=0)
        low_error, median_error, high_error = summaries.monte_carlo_errors(draws, prob)
        used = self.used
        observed = used[used["role"] == "observation"]
        dataset = dataset_words(self.reports.metadata)
        dataset = f"; {dataset}" if dataset else ""
        note = (
            f"Source: nkest {__version__} estimate from {len(used)} of {len(self.reports)} "
            f"reported figures ({counted(observed['source'].nunique(), 'source')}; "
            f"reports fingerprint {self.reports.fingerprint()}{dataset}), "
            f"assuming {self.identification}; "
            f"{diagnostics['chains']} chains x {diagnostics['draws']:,} draws, "
            f"{diagnostics['divergences']} divergences, max R-hat {diagnostics['max_rhat']:.3f}, "
            f"min ESS {diagnostics['min_ess_bulk']:,.0f}"
            + (f" ({diagnostics['refits']})" if diagnostics["refits"] else "")
            + "; Monte Carlo standard error (the spread of reruns with other seeds): median "
            f"±{round_figure(median_error, 1):,}, interval ends ±{round_figure(low_error, 1):,} "
            f"and ±{round_figure(high_error, 1):,}."
        )
        if not diagnostics["passed"]:
            note += (
                " WARNING: the sampler's diagnostics failed ("
                + "; ".join(diagnostics["failures"])
                + "); this estimate is not reliable."
            )
            if diagnostics["no_refit"]:
                note += f" Not refitted: {diagnostics['no_refit']}."
        return Citation(
            sentence, note, short_note(used, self.reports.to_frame(), self.reports.metadata)
        )

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
        return per_report.report_checks(
            self.posterior,
            self._design,
            self.options.constraint_scale,
            summaries.check_prob(prob),
            random_seed,
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
        return per_report.predicted_figures(
            self.posterior["posterior"].to_dataset(),
            self._design,
            self.options.constraint_scale,
            random_seed,
        )

    def loo_checks(self, random_seed: int = 0) -> pd.DataFrame:
        """Leave-one-out predictive check of every used report (PSIS-LOO).

        Returns
        -------
        pandas.DataFrame
            One row per used report: ``report_id, source, quantity, role, kind,
            elpd_loo`` (log predictive probability of the claim given the other
            reports), ``pareto_k``, ``reliable`` (``pareto_k <= 0.7``),
            ``loo_tail_p`` (small: the report is surprising given the others) and
            ``loo_pit`` (for two-sided claims: the LOO predictive probability that
            the figure is below the claim's midpoint on the log scale; uniform
            over reports if the model is calibrated).
        """
        if random_seed not in self._loo_checks:
            self._loo_checks[random_seed] = per_report.loo_checks(
                self.posterior, self._design, self.options.constraint_scale, random_seed
            )
        return self._loo_checks[random_seed].copy()

    def _warn_if_unreliable(self) -> None:
        """Warn, once per estimate, that a failed fit's summaries are not reliable."""
        if self._warned_unreliable:
            return
        diagnostics = self.diagnostics()
        if diagnostics["passed"]:
            return
        self._warned_unreliable = True
        warnings.warn(
            "this fit fails its sampler diagnostics ("
            + "; ".join(diagnostics["failures"])
            + "): its intervals are not reliable. Refit with more draws (draws=, tune=) "
            "before using them; this warning is shown once per estimate.",
            UnreliableEstimateWarning,
            # attributed to the caller's line, however deep in nkest the table was asked for
            skip_file_prefixes=(_PACKAGE_DIR,),
        )

    def diagnostics(self) -> dict[str, Any]:
        """Return the sampler diagnostics over every free parameter and the latent totals.

        Returns
        -------
        dict
            ``divergences``, ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``,
            ``chains``, ``draws``, the worst variables, ``passed``,
            ``failures`` (what misses the thresholds, in words), ``attempts``
            (fits made, refits included), ``refits`` (what the refits changed
            and why, in words; "" when the first fit was kept) and ``no_refit``
            (why a failed fit was not refitted, e.g. the time budget).
        """
        if self._diagnostics is not None:
            return dict(self._diagnostics, failures=list(self._diagnostics["failures"]))
        if self._sampler_diagnostics is not None:
            result = dict(self._sampler_diagnostics)
        else:
            result = summaries.sampler_diagnostics(
                self.posterior["posterior"].to_dataset(),
                self.posterior["sample_stats"].to_dataset(),
            )
        attempts = list(getattr(self.sampling, "attempts", []) or [])
        result["attempts"] = max(len(attempts), 1)
        result["refits"] = refit_words(attempts)
        result["no_refit"] = attempts[-1].get("no_refit", "") if attempts else ""
        self._diagnostics = result  # the draws never change after the fit
        return dict(result, failures=list(result["failures"]))

    def report(
        self,
        directory: str | os.PathLike[str],
        *,
        prob: float = DEFAULT_PROB,
        overwrite: bool = False,
        previous: Estimate | None = None,
    ) -> Path:
        """Write a Markdown and an HTML report of the fit, with its figures and tables.

        The report gives the headline sentences, what changed since a
        ``previous`` fit, the totals over time with the reports drawn on them,
        the losses per month, the source biases, the reports the model finds
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
        previous : Estimate, optional
            An earlier fit of the same conflict (``nkest.load``): the report
            says how the headline moved since it and which reports moved it
            (``nkest.compare``).

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
        return write_report(self, directory, prob=prob, overwrite=overwrite, previous=previous)

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
        return io.save_fit(self.posterior, self.reports, path, overwrite=overwrite)

    def __repr__(self) -> str:
        last = self._summary(None, ("killed",), DEFAULT_PROB).iloc[0]
        diagnostics = self.diagnostics()
        state = summaries.diagnostics_in_words(diagnostics)
        refits = diagnostics["attempts"] - 1
        if refits:
            state += f" after {refits} refit{'s' if refits > 1 else ''}"
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
            raise OptionError(
                f"quantities must be among {', '.join(self.quantities)}; got {names!r}"
            )
        return names


def _in_quantity_order(table: pd.DataFrame, by: str, quantities: Sequence[str]) -> pd.DataFrame:
    """Sort a table by ``by`` (a date column), then by the quantities' order as given."""
    order = {q: i for i, q in enumerate(quantities)}
    return table.sort_values(
        [by, "quantity"], key=lambda c: c.map(order) if c.name == "quantity" else c
    ).reset_index(drop=True)
