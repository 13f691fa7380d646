"""Regenerate ``docs/validation.md``: every validation study, its numbers and figures.

Run ``python -m validation.publish`` (about half a day on two cores; see the page) or
``make validation``; ``--quick`` runs a small version of each study (CI).
Raw results go to ``docs/validation-data/`` and figures to
``docs/figures/validation/``, so every number on the page can be traced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from nkest.datasets import load_dataset
from nkest.reports import Reports
from nkest.results.estimate import Estimate
from nkest.results.fitting import fit
from nkest.results.markup import markdown_text
from nkest.results.summaries import diagnostics_in_words
from nkest.results.tables import format_table
from nkest.validate.conflicts import conflicts_table, leave_one_source_out, plot_conflicts
from nkest.validate.coverage import REGIMES, coverage_table, run_coverage
from nkest.validate.predictive import (
    PARETO_K_RELIABLE,
    future_rate,
    leave_future_out,
    loo_checks,
)
from nkest.validate.recovery import RecoveryResult, run_recovery
from nkest.validate.sbc import plot_rank_ecdf, rank_uniformity, run_sbc
from nkest.validate.sensitivity import (
    compare_fits,
    identification_markdown,
    prior_sensitivity,
    without_groups,
)
from nkest.validate.simulate import simulate_conflict
from nkest.version import __version__
from validation.dprk import IDENTIFICATION_VARIANTS_DPRK

__all__ = ["Settings", "publish"]

LFO_CUTOFFS = ("2025-01-01", "2025-03-01", "2025-05-01", "2025-07-01")
"""Leave-future-out cutoffs for the DPRK data."""

UKRAINE_LFO_CUTOFFS = ("2023-07-01", "2024-07-01", "2025-07-01")
"""Leave-future-out cutoffs for the Ukrainian data: a year apart, each with later reports."""

UKRAINE_BELLIGERENTS = ("Russia government", "Ukraine government")
"""The groups of the Ukrainian data whose figures are those of a side in the war."""


@dataclass(frozen=True)
class Settings:
    """Sizes of the studies."""

    recovery: int = 20
    sbc: int = 400
    coverage: int = 100
    workers: int | None = None
    quick: bool = False
    executor: Executor | None = None
    """Where the fits run (a Dask cluster's ``client.get_executor()``); default local."""

    @classmethod
    def small(cls, workers: int | None = None) -> Settings:
        """Return the CI sizes: every study runs, few data sets."""
        return cls(recovery=3, sbc=12, coverage=2, workers=workers, quick=True)


def headline_dates(estimate: Estimate) -> list[str]:
    """Return the dates the DPRK studies compare: NIS's April 2025 briefing and the end."""
    return ["2025-04-30", estimate.grid.end.isoformat()]


def _md(frame: pd.DataFrame) -> str:
    return format_table(frame, "markdown")


class _Page:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.figures = root / "figures" / "validation"
        self.data = root / "validation-data"
        self.figures.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        self.parts: list[str] = []
        self.timings: list[tuple[str, float]] = []

    def figure(self, figure, name: str, alt: str) -> str:
        import matplotlib.pyplot as plt

        figure.savefig(self.figures / f"{name}.png", dpi=130, bbox_inches="tight")
        plt.close(figure)
        return f"![{alt}](figures/validation/{name}.png)"

    def save(self, frame: pd.DataFrame, name: str) -> str:
        frame.to_csv(self.data / f"{name}.csv", index=False)
        return f"`validation-data/{name}.csv`"

    def run(self, title: str, study: Callable[[], str]) -> None:
        start = time.perf_counter()
        print(f"running: {title}", flush=True)
        text = study()
        seconds = time.perf_counter() - start
        self.timings.append((title, seconds))
        self.parts.append(text)
        print(f"  done in {seconds:.0f} s", flush=True)


def _recovery(page: _Page, settings: Settings) -> str:

    result = run_recovery(settings.recovery)
    page.save(result.totals, "recovery_totals")
    page.save(result.biases, "recovery_biases")
    passed = result.totals.groupby("seed")["passed"].first().mean()
    return f"""## Parameter recovery

{settings.recovery} conflicts simulated by `nkest.validate.simulate_conflict`, a generator that
is not the model: a daily count process with phases and bursts (not an AR(1)), Gaussian
report noise on the log scale (not logistic), biased sources (each group's bias drawn around
no bias, independently of the others'), figures worded as people word them (rounded,
bounds, ranges, counts over a window, incident counts dated on days of heavy fighting),
3% of figures garbled (casualties given as killed), a floor of acknowledged dead and a cap
of troops sent. Each is fitted with the defaults. Totals at the last day:

{_md(result.table())}

Bias factors: {result.bias_coverage():.0%} of the 90% intervals cover the true factor;
the correlation of the log posterior medians with the log true factors is
{result.bias_correlation():.2f}. Fits passing their diagnostics: {passed:.0%}.
Raw results: {page.save(result.totals, "recovery_totals")}.
"""


def _sbc(page: _Page, settings: Settings) -> str:

    result = run_sbc(settings.sbc, max_workers=settings.workers, executor=settings.executor)
    page.save(result.ranks, "sbc_ranks")
    table = result.uniformity()
    worst = table["p_value"].min()
    image = page.figure(plot_rank_ecdf(result), "sbc_ecdf", "SBC rank ECDF differences")
    divergent = int((result.diagnostics["divergences"] > 0).sum())
    verdict = (
        "Uniformity is not rejected at the 0.01 level for any tracked quantity"
        if worst > 0.01
        else "Uniformity IS rejected (p <= 0.01) for at least one quantity"
    )
    return f"""## Simulation-based calibration

{settings.sbc} data sets drawn from the model's own prior (on a simulated design of 36
reports from six sources in three groups, figures exact), each fitted (2 chains x 500
draws, thinned to 100); the rank of each true value among the posterior draws should be
uniform (Talts et al. 2018). Chi-square tests of the ranks in 10 bins:

{_md(table)}

{verdict} (smallest p = {worst:.3f}; with {len(table)} quantities, one p below 0.05 is
expected by chance about half the time). {divergent} of {settings.sbc} fits had divergent
transitions.

{image}

Rounded figures are left out of SBC on purpose: the model reads "about 600" as an interval
whose width is capped, and such intervals do not partition the line, so data simulated
through them would not come from the model's likelihood. Their reading is checked by the
recovery and coverage studies instead.
"""


def _coverage(page: _Page, settings: Settings) -> str:

    results = run_coverage(
        settings.coverage, max_workers=settings.workers, executor=settings.executor
    )
    page.save(results, "coverage")
    return coverage_section(results, **_coverage_companions(page.data))


COVERAGE_TARGET = (0.85, 0.95)
"""The range the model issue asks of the 90% intervals' coverage in 100 conflicts."""

BASELINE_GAIN_TARGET = 30.0
"""How far (%) the model issue asks the median's error to fall below the better baseline's."""


def _coverage_companions(data: Path) -> dict[str, pd.DataFrame | None]:
    """Read the kept coverage runs the section shows beside the current one, if any.

    ``coverage_previous_model.csv``: the previous model's run, shown for the
    regimes the current run has not reached; ``coverage_centred.csv``: the
    current model in simulated worlds whose groups average exactly no bias.
    """
    return {
        "previous": _read_kept(data / "coverage_previous_model.csv"),
        "centred": _read_kept(data / "coverage_centred.csv"),
    }


def _read_kept(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.exists() else None


def _beats_baselines(table: pd.DataFrame) -> pd.Series:
    """Whether each row of a ``coverage_table`` has the median beat both baselines."""
    return table["error below the better baseline (%)"] > 0


def _before_and_after(
    before: pd.DataFrame, after: pd.DataFrame, floor: pd.Series | None = None
) -> pd.DataFrame:
    """Put two coverage tables' 90% coverage and errors side by side, row by row.

    ``floor``, by regime: the error (%) of the sources' common bias in the after run.
    """
    columns = [
        "data sets",
        "90% coverage",
        "90% coverage (95% CI)",
        "error: nkest median (%)",
        "error below the better baseline (%)",
    ]
    keys = ["regime", "quantity"]
    merged = before[keys + columns].merge(
        after[keys + columns], on=keys, suffixes=(" before", " after")
    )
    if floor is not None:
        merged["error floor: sources' common bias (%)"] = merged["regime"].map(floor)
    return merged


def _common_bias_error(results: pd.DataFrame) -> pd.Series:
    """Median |common bias| (%) of each regime's simulated conflicts, from their truth.

    The common bias is exp of the mean true log-bias of the sources with figures:
    the part of every source's error that the reports cannot reveal.
    """
    errors = {}
    for (regime, seed), _ in results.groupby(["regime", "seed"], sort=False):
        if regime not in REGIMES:
            continue
        sim = simulate_conflict(int(seed), **REGIMES[regime])
        reports = sim.reports.to_frame()
        figures = reports.get("constraint", pd.Series("", index=reports.index)).fillna("") == ""
        sources = sim.bias.index.intersection(reports.loc[figures, "source"].unique())
        errors.setdefault(regime, []).append(
            100 * abs(float(np.exp(np.log(sim.bias[sources]).mean())) - 1)
        )
    return pd.Series({regime: float(np.median(e)) for regime, e in errors.items()})


def _kept_words(after: pd.DataFrame, before: pd.DataFrame) -> str:
    """Say in how many of the rerun rows the 90% coverage stays within the target range."""
    low, high = COVERAGE_TARGET
    rows = after[after["regime"].isin(set(before["regime"]))]
    within = rows["90% coverage"].between(low, high)
    return (
        f"After the change, 90% coverage is within {low:.2f}–{high:.2f} in {int(within.sum())} "
        f"of {len(rows)} rows{_rows_named(rows[~within], '90% coverage', 'coverage', 'outside')}."
    )


def _not_rerun(results: pd.DataFrame) -> list[str]:
    """Return the regimes of ``REGIMES`` that a coverage run has no results for."""
    run = set(results["regime"])
    return [regime for regime in REGIMES if regime not in run]


def _seed_words(results: pd.DataFrame) -> str:
    """Say which seeds the regimes ran, naming the regimes when their ranges differ."""
    ranges = results.groupby("regime", sort=False)["seed"].agg(_seed_range)
    if ranges.nunique() == 1:
        return f"seeds {ranges.iloc[0]}"
    parts = [f"{span} for {', '.join(ranges.index[ranges == span])}" for span in ranges.unique()]
    return "seeds " + "; ".join(parts)


def _factor_text(factor: float) -> str:
    """Write a bias factor so that one near 1 does not read as exactly 1 (0.999, not 1.00)."""
    digits = 2
    text = f"{factor:.{digits}f}"
    while factor != 1 and float(text) == 1 and digits < 8:
        digits += 1
        text = f"{factor:.{digits}f}"
    return text


def _seed_range(seeds: pd.Series) -> str:
    """Write a set of seeds as a range, naming the few it skips ("1000–1097 but 1096")."""
    present = sorted(set(int(seed) for seed in seeds))
    first, last = present[0], present[-1]
    skipped = sorted(set(range(first, last + 1)) - set(present))
    if not skipped:
        return f"{first}–{last}"
    if len(skipped) <= 3:
        return f"{first}–{last} but {', '.join(map(str, skipped))}"
    return f"{len(present)} between {first} and {last}"


def _coverage_text(share: float) -> str:
    """Write a coverage outside the target range so that it does not read as its edge."""
    text = f"{share:.2f}"
    return f"{share:.3f}" if text in {f"{edge:.2f}" for edge in COVERAGE_TARGET} else text


def _spread_words() -> str:
    """Say the true log-bias spreads of the weak, default and strong regimes (from ``REGIMES``)."""
    defaults = inspect.signature(simulate_conflict).parameters

    def spread(regime: str, key: str) -> str:
        return f"{REGIMES.get(regime, {}).get(key, defaults[key].default):g}"

    regimes = ("weak source bias", "the default", "strong source bias")
    groups = "; ".join(f"{regime}, {spread(regime, 'group_bias_sd')}" for regime in regimes)
    weak, default, strong = (spread(regime, "source_bias_sd") for regime in regimes)
    return (
        f"the sd of their log-biases: {groups}; the sources' within their groups "
        f"{weak}, {default} and {strong}"
    )


def _rows_named(rows: pd.DataFrame, column: str, spec: str, label: str) -> str:
    """Name each row with its value, as " (label: regime, quantity: value; ...)"."""
    if rows.empty:
        return ""
    return (
        f" ({label}: "
        + "; ".join(
            f"{row['regime']}, {row['quantity']}: "
            + (_coverage_text(row[column]) if spec == "coverage" else f"{row[column]:{spec}}")
            for _, row in rows.iterrows()
        )
        + ")"
    )


def _coverage_verdict(table: pd.DataFrame) -> str:
    """Say how many rows meet the model issue's two targets, naming those that miss."""
    low, high = COVERAGE_TARGET
    ninety = table["90% coverage"]
    gain = table["error below the better baseline (%)"]
    outside = table[(ninety < low) | (ninety > high)]
    short = table[gain < BASELINE_GAIN_TARGET]
    return (
        f"90% coverage ranges from {ninety.min():.2f} to {ninety.max():.2f}; "
        f"{len(table) - len(outside)} of {len(table)} regime and quantity rows are within "
        f"{low:.2f}–{high:.2f}{_rows_named(outside, '90% coverage', 'coverage', 'outside')}. "
        f"The posterior median's error is at least {BASELINE_GAIN_TARGET:.0f}% below the "
        f"better baseline's in {len(table) - len(short)} of {len(table)}"
        f"{_rows_named(short, 'error below the better baseline (%)', '.0f', 'short')}, and "
        f"below both baselines in {int(_beats_baselines(table).sum())} of {len(table)}."
        + _lopsided_words(table)
    )


def _lopsided_words(table: pd.DataFrame) -> str:
    """Name the rows whose median falls on one side of the truth in 80% of data sets or more."""
    above = table["median above the truth"]
    rows = table[(above >= 0.8) | (above <= 0.2)]
    if rows.empty:
        return ""
    sides = []
    for _, row in rows.iterrows():
        share = row["median above the truth"]
        side, most = ("above", share) if share > 0.5 else ("below", 1 - share)
        sides.append(f"{row['regime']}, {row['quantity']} ({side} in {most:.0%})")
    return " The median falls mostly on one side of the truth in: " + "; ".join(sides) + "."


def coverage_section(
    results: pd.DataFrame,
    *,
    previous: pd.DataFrame | None = None,
    centred: pd.DataFrame | None = None,
) -> str:
    """Return the page's coverage section for ``run_coverage`` results.

    ``previous`` (the previous model's run) is shown for the regimes of
    ``REGIMES`` that ``results`` lacks, under a note that it is outdated;
    ``centred`` (the current model, the groups' biases centred to average
    exactly no bias) gets a subsection of its own.
    """
    table = coverage_table(results)
    counts = _value_range(table["data sets"])
    text = f"""## Coverage on simulated conflicts

{counts} simulated conflicts in each regime ({_seed_words(results)}), each
fitted with the default model and identification, 4 chains of 1,000 draws (half the
default) after 1,000 tuning steps, and no refits.
Coverage of the 50% and 90% intervals of the totals at the last day, and the median
absolute error of the posterior median against two baselines: the latest report, and the
mean of each source's latest figure. Each group's true bias is drawn around no bias,
independently of the others: the world the default identification ("most source groups
roughly unbiased") describes, in which the groups' average bias is itself unknown, to
the model as to the baselines. The regimes share their seeds: data set *k* has the same
true trajectory and the same bias draws (scaled to the regime's spread) in every regime,
and only its reports differ; a conflict the model misses tends to be missed in several.
The model issue asks for 90% coverage within {COVERAGE_TARGET[0]:.2f}–{COVERAGE_TARGET[1]:.2f}
in 100 conflicts, and a median error at least {BASELINE_GAIN_TARGET:.0f}% below the better
baseline's.

{_md(table)}

{_coverage_verdict(table)} Raw results: `validation-data/coverage.csv`.

Coverage falls as the groups' true spread rises ({_spread_words()}), because one prior on
that spread sets the width of the intervals in every world: wider than needed where
groups agree closely, narrower where they disagree widely. Why that prior stays as it is:
[the model](model.md#identification).
"""
    earlier = (
        previous[previous["regime"].isin(_not_rerun(results))] if previous is not None else None
    )
    if earlier is not None and not earlier.empty:
        text += f"""
### Regimes not yet rerun on the current model

> **{PREVIOUS_MODEL}** (one bias per source, groups unbiased on average, no latent
> troops sent), in simulated worlds whose groups average exactly no bias. Raw results:
> `validation-data/coverage_previous_model.csv`.

{_md(coverage_table(earlier))}
"""
    rerun = (
        previous[previous["regime"].isin(set(results["regime"]))] if previous is not None else None
    )
    if rerun is not None and not rerun.empty:
        text += f"""
### The previous model's regimes, before and after

{_md(_before_and_after(coverage_table(rerun), table, _common_bias_error(results)))}

Before: the previous model (one bias per source, groups unbiased on average, no latent
troops sent) in worlds whose groups average exactly no bias
(`validation-data/coverage_previous_model.csv`). After: the current model in the worlds
above, where the groups' average bias is itself unknown. {_kept_words(table, rerun)}
The last column is the error that no estimate could avoid without knowing the sources'
average bias: the median of |exp(mean true log-bias of the sources with figures) − 1|
over the same conflicts. The mean of the sources' latest figures carries that error too,
so where it sits near the floor, little is left for the model to gain over it.
"""
    if centred is not None:
        centred_table = coverage_table(centred)
        text += f"""
### When the groups average exactly no bias

The current model in the simulated worlds of the previous coverage study, where the
groups' biases are centred to average exactly no bias: the truth of the zero-sum
assumption (`identification="groups"`), which the default does not make. Knowing
nothing of the centring, the default still spends interval width on the groups' common
bias, so its intervals can be wider than this world needs:

{_md(centred_table)}

{_coverage_verdict(centred_table)} Seeds {centred["seed"].min()}–{centred["seed"].max()};
raw results: `validation-data/coverage_centred.csv`. An analyst who knows the groups
balance each other out says so with `identification="groups"`, and one who knows a
group's bias gives it a prior (`group_priors`): see [the model](model.md).
"""
    return text


def _dprk_predictive(page: _Page, settings: Settings, estimate: Estimate) -> str:

    checks = loo_checks(estimate)
    page.save(checks, "dprk_loo")
    pit = checks["loo_pit"].dropna()
    unreliable = int((~checks["reliable"]).sum())
    draws = 300 if settings.quick else 1000
    cutoffs = LFO_CUTOFFS[:1] if settings.quick else LFO_CUTOFFS
    per_cutoff, overall = _leave_future_out(
        page, load_dataset("dprk"), cutoffs, "dprk", settings, draws=draws, tune=draws
    )

    figure = Figure(figsize=(5, 3), layout="constrained")
    ax = figure.subplots()
    ax.hist(pit, bins=np.linspace(0, 1, 11), color="#4575b4", edgecolor="white")
    ax.axhline(len(pit) / 10, color="0.3", ls="--", lw=0.8)
    ax.set_xlabel("LOO-PIT (two-sided claims)")
    ax.set_ylabel("reports")
    image = page.figure(figure, "dprk_loo_pit", "LOO-PIT histogram of the DPRK reports")
    surprising = checks.sort_values("loo_tail_p").head(6)
    return f"""## Predictive checks on the DPRK data

**Leave-one-out.** For each report, the PSIS-LOO predictive probability of its claim given
all the other reports. Most surprising:

{_md(surprising[["report_id", "source", "quantity", "kind", "loo_tail_p", "pareto_k"]])}

{unreliable} of {len(checks)} reports have a Pareto k above {PARETO_K_RELIABLE}: with few reports
per source, leaving one out moves that source's bias a lot, and their LOO values are only
indicative. The LOO-PIT of the {len(pit)} two-sided claims (mean {pit.mean():.2f}; uniform if
calibrated, mean 0.5) {_pit_reading(pit)}

{image}

**Leave-future-out.** Fit on the reports published before each cutoff (same grid), then
check whether each later observation falls within its 90% predictive interval (a source
the early fit never saw is predicted as a new member of its group):

{_md(per_cutoff)}

{overall}
"""


def _leave_future_out(
    page: _Page,
    reports: Reports,
    cutoffs: Sequence[str],
    name: str,
    settings: Settings,
    **fit_kwargs: Any,
) -> tuple[pd.DataFrame, str]:
    """Run leave-future-out on a data set, save it; return its table per cutoff and its verdict."""
    future = leave_future_out(
        reports,
        cutoffs,
        random_seed=1,
        max_workers=settings.workers or 1,
        executor=settings.executor,
        **fit_kwargs,
    )
    csv = f"{name}_leave_future_out"
    page.save(future, csv)
    rate = future_rate(future)
    per_cutoff = (
        future[future["role"] == "observation"]
        .groupby("cutoff")
        .agg(
            later_reports=("report_id", "size"),
            inside=("inside", "sum"),
            new_sources=("new_source", "sum"),
        )
        .reset_index()
    )
    overall = f"""Overall {rate["inside"]} of {rate["reports"]} later reports fall inside: a rate of
**{rate["rate"]:.2f} (95% interval {rate["rate_lower"]:.2f}–{rate["rate_upper"]:.2f})**
against the nominal 0.90. Raw results: `validation-data/{csv}.csv`."""
    return per_cutoff, overall


def _pit_reading(pit: pd.Series) -> str:
    """Say in words which way, if any, the LOO-PIT values lean."""
    p_value = stats.kstest(pit, "uniform").pvalue
    if p_value > 0.05:
        return f"is compatible with uniform (Kolmogorov-Smirnov p = {p_value:.2f})."
    side = "below" if pit.mean() < 0.5 else "above"
    return (
        f"departs from uniform (Kolmogorov-Smirnov p = {p_value:.3f}): reported figures sit "
        f"{side} the model's predictions more often than not."
    )


def _dprk_conflicts(page: _Page, settings: Settings, estimate: Estimate) -> str:

    draws = 300 if settings.quick else 1000
    sources = ["NIS", "Ukraine President"] if settings.quick else None
    loso = leave_one_source_out(
        load_dataset("dprk"),
        dates=headline_dates(estimate),
        sources=sources,
        random_seed=1,
        draws=draws,
        tune=draws,
        max_workers=settings.workers or 1,
        executor=settings.executor,
    )
    page.save(loso, "dprk_leave_one_source_out")
    last = loso[loso["date"] == loso["date"].max()]
    table = conflicts_table(estimate, last)
    image = page.figure(
        plot_conflicts(last, table), "dprk_conflicts", "Leave-one-source-out and conflict p-values"
    )
    worst = last[last["left_out"] != "none"].assign(shift=lambda t: t["shift_pct"].abs())
    worst = worst.sort_values("shift", ascending=False).head(3)
    moves = "; ".join(
        f"without {r.left_out}: {r.quantity} {r.shift_pct:+.0f}%" for r in worst.itertuples()
    )
    return f"""## Source conflicts on the DPRK data

Which sources disagree with the rest, and how much each one moves the headline. The
conflict p-value is the smallest PSIS-LOO tail probability among a source's observations,
Bonferroni-corrected for their number; the shifts are the change of the posterior median
at {pd.Timestamp(loso["date"].max()):%-d %B %Y} when the source's reports are left out.

{_md(table)}

{image}

Largest shifts: {moves}. The report of every fit includes this section's per-report part
(the surprising reports); the leave-one-source-out refits run here.
"""


def _sensitivity(page: _Page, settings: Settings, estimate: Estimate) -> str:

    draws = 300 if settings.quick else 1000
    reports = load_dataset("dprk")
    variants = dict(list(IDENTIFICATION_VARIANTS_DPRK.items())[: 2 if settings.quick else None])
    identification = compare_fits(
        reports,
        variants,
        dates=headline_dates(estimate),
        quantities=("killed", "casualties"),
        random_seed=1,
        draws=draws,
        tune=draws,
    )
    page.save(identification, "dprk_identification")
    groups = {
        "all sources": (lambda r: r),
        "without the warring parties (Ukraine and North Korea/Russia)": without_groups(
            "Ukraine government", "DPRK/Russia government"
        ),
        "without Ukraine's government": without_groups("Ukraine government"),
        "without South Korea's government": without_groups("South Korea government"),
        "without Western governments": without_groups("Western government"),
    }
    if settings.quick:
        groups = dict(list(groups.items())[:2])
    without = compare_fits(
        reports,
        {name: {} for name in groups},
        transform=groups,
        dates=headline_dates(estimate),
        quantities=("killed", "casualties"),
        random_seed=1,
        draws=draws,
        tune=draws,
    )
    page.save(without, "dprk_without_groups")
    priors = prior_sensitivity(estimate, dates=headline_dates(estimate))
    page.save(priors, "dprk_prior_sensitivity")
    totals = priors[priors["variable"].str.startswith("total@")]
    failed = sorted(
        set(identification.loc[~identification["passed"], "variant"])
        | set(without.loc[~without["passed"], "variant"])
    )
    failed_note = (
        f" Fits that failed their diagnostics ({'; '.join(failed)}) are shown, not hidden:"
        " read their rows as indicative, and refit them with more draws before citing them."
        if failed
        else " Every fit passed its diagnostics."
    )
    return f"""## Sensitivity on the DPRK data

**Identification.** The same reports under other identification assumptions (see
[the model](model.md#identification)), {draws:,} draws per chain; the last column gives each
fit's sampler diagnostics.{failed_note}

{identification_markdown(identification)}

**Without a source group.** Leaving whole groups out (with the default identification,
which then rests on the groups that remain):

{identification_markdown(without)}

**Priors.** Power-scaling sensitivity (Kallioinen et al. 2023; `arviz.psense_summary`):
the prior (its interpretable hyperpriors) and the likelihood are raised to powers near one
and the change in each posterior quantity is measured (cumulative Jensen-Shannon
distance; above 0.05 flags sensitivity). For the totals:

{_md(totals)}

All variables: `validation-data/dprk_prior_sensitivity.csv`. Totals long after the last
report of their quantity (the end of the estimate, months after the last death figure)
lean on the priors for the loss rate and its variability: cite them with that caveat,
or cite dates the reports cover.
"""


def _ukraine(page: _Page, settings: Settings) -> str:
    """Check the second real data set, where both sides of a war state figures."""
    reports = load_dataset("ukraine")
    quick = {"draws": 150, "tune": 150, "chains": 2} if settings.quick else {}
    estimate = fit(reports, random_seed=1, progressbar=False, **quick)
    diagnostics = estimate.diagnostics()
    used = estimate.used
    factors = estimate.source_bias()
    counts = factors["source"].map(used["source"].value_counts()).fillna(0).astype(int)
    factors.insert(2, "reports_used", counts)
    factors["excludes_1"] = (factors["factor_lower"] > 1) | (factors["factor_upper"] < 1)
    page.save(factors, "ukraine_bias_factors")
    sides = factors[factors["source_group"].isin(UKRAINE_BELLIGERENTS)]
    sides = sides.sort_values(["source_group", "reports_used"], ascending=[True, False])

    # sorted as summary() returns its dates, so that each floor meets its own date's estimate
    floors = used[(used["role"] == "floor") & (used["quantity"] == "killed")].sort_values("as_of")
    killed = estimate.summary(dates=list(floors["as_of"]), quantities=["killed"])
    floor_table = pd.DataFrame(
        {
            "report_id": floors["report_id"].to_numpy(),
            "source": floors["source"].to_numpy(),
            "as_of": floors["as_of"].to_numpy(),
            "named_deaths": floors["value"].to_numpy(),
            "killed_median": killed["median"].to_numpy(),
            "killed_lower": killed["lower"].to_numpy(),
        }
    )
    floor_table["interval_above_floor"] = floor_table["killed_lower"] >= floor_table["named_deaths"]
    page.save(floor_table, "ukraine_named_death_floors")
    headline = estimate.summary()
    page.save(headline, "ukraine_headline")

    cutoffs = UKRAINE_LFO_CUTOFFS[-1:] if settings.quick else UKRAINE_LFO_CUTOFFS
    per_cutoff, overall = _leave_future_out(
        page, reports, cutoffs, "ukraine", settings, **(quick or {"draws": 1000, "tune": 1000})
    )
    at_end = "; ".join(
        f"{row.quantity} {row.median:,.0f} ({row.lower:,.0f}–{row.upper:,.0f})"
        for row in headline.itertuples()
    )
    excluding = sides["excludes_1"]
    shown = sides.drop(columns="source_group")
    for column in ("factor_median", "factor_lower", "factor_upper"):
        shown[column] = shown[column].map(_factor_text)
    shown["excludes_1"] = shown["excludes_1"].map({True: "yes", False: "no"})
    floors_shown = floor_table.round({"killed_median": 0, "killed_lower": 0})
    floors_shown["as_of"] = pd.to_datetime(floors_shown["as_of"]).dt.date
    floors_shown["interval_above_floor"] = floors_shown["interval_above_floor"].map(
        {True: "yes", False: "no"}
    )
    above = int(floor_table["interval_above_floor"].sum())
    return f"""## The Ukrainian data

The second bundled data set ({len(reports)} reports on Ukraine's military losses since
February 2022; {len(used)} used) has what the DPRK data lacks: both sides of the war, each
stating figures about the same losses, more than tenfold apart. Russia's government
states Ukraine's losses; Ukraine's government states its own. Fitted with the defaults
(seed 1): {_diagnostics_words(diagnostics)}. At {estimate.grid.end:%-d %B %Y}: {at_end}.

**The two sides' bias factors** (1: states the truth; 90% intervals). {int(excluding.sum())}
of the {len(sides)} sources of the two governments have intervals that exclude 1:

{_md(shown)}

All sources: `validation-data/ukraine_bias_factors.csv`.

**Named deaths as floors.** Lists of the named dead count only deaths confirmed by name,
so the killed total can be no lower. At each list's date, the estimate's 90% interval
lies above it in {above} of {len(floor_table)}:

{_md(floors_shown)}

**Leave-future-out.** Fit on the reports published before each cutoff, then check whether
each later observation falls within its 90% predictive interval:

{_md(per_cutoff[["cutoff", "later_reports", "inside"]])}

{overall}
"""


def _diagnostics_words(diagnostics: dict) -> str:
    """Say a fit's diagnostics in one phrase: what failed, or by what margin it passed."""
    if not diagnostics["passed"]:
        return f"diagnostics {diagnostics_in_words(diagnostics)}"
    return (
        f"diagnostics passed ({diagnostics['divergences']} divergences, R-hat "
        f"{diagnostics['max_rhat']:.3f}, smallest bulk ESS {diagnostics['min_ess_bulk']:.0f})"
    )


def _commit() -> str:
    """Return the git commit of the source tree, if it is one."""
    import subprocess

    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).parent,
        )
    except OSError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


PREVIOUS_MODEL = "Made with the previous model"
"""Words a kept section starts its note with when a model change has outdated it."""

STUDIES = ("recovery", "sbc", "coverage", "predictive", "conflicts", "sensitivity", "ukraine")
"""The studies of the page, in its order (names for ``--only``)."""


def publish(
    root: str | Path = "docs",
    settings: Settings | None = None,
    only: tuple[str, ...] = (),
) -> Path:
    """Run the studies and write ``<root>/validation.md``; return its path.

    Each study's section is kept in ``validation-data/sections/``; with
    ``only``, just those studies run again and the page is assembled from
    the kept sections of the others, each stamped with its own date and
    commit. ``only=("none",)`` runs nothing and assembles the page.
    """
    settings = settings or Settings()
    unknown = sorted(set(only) - {*STUDIES, "none"})
    if unknown:
        raise ValueError(f"unknown studies {unknown}; choose from {', '.join(STUDIES)}")
    root = Path(root)
    page = _Page(root)
    sections = page.data / "sections"
    sections.mkdir(exist_ok=True)
    kept = {n for n in STUDIES if (sections / f"{n}.txt").exists()}
    missing = [n for n in STUDIES if only and n not in only and n not in kept]
    if missing:
        raise ValueError(f"no kept section for {', '.join(missing)}: run them too")
    needs_dprk = not only or set(only) & {"predictive", "conflicts", "sensitivity"}
    estimate = (
        fit(
            load_dataset("dprk"),
            random_seed=1,
            progressbar=False,
            draws=300 if settings.quick else 1000,
            tune=300 if settings.quick else 1000,
        )
        if needs_dprk
        else None
    )
    runs = {
        "recovery": lambda: _recovery(page, settings),
        "sbc": lambda: _sbc(page, settings),
        "coverage": lambda: _coverage(page, settings),
        "predictive": lambda: _dprk_predictive(page, settings, estimate),
        "conflicts": lambda: _dprk_conflicts(page, settings, estimate),
        "sensitivity": lambda: _sensitivity(page, settings, estimate),
        "ukraine": lambda: _ukraine(page, settings),
    }
    stamp = _stamp(settings)
    parts = []
    for name in STUDIES:
        section = sections / f"{name}.txt"
        if not only or name in only:
            page.run(name, runs[name])
            minutes = page.timings[-1][1] / 60
            text = f"{page.parts[-1].rstrip()}\n\n*{stamp}; {minutes:.0f} min.*\n"
            section.write_text(text, encoding="utf-8")  # kept: an hour survives a later failure
        parts.append(section.read_text(encoding="utf-8"))
    header = """# Validation

Evidence that nkest's intervals mean what they say, and that no single source or assumption
quietly decides the DPRK estimate. Regenerate the page with `python -m validation.publish`
(`make validation`), or one study with `--only NAME`: on two cores, about ten hours for the
coverage study's 900 fits and an hour for all the others. Each section says when, from
which commit and how long it ran. Raw results are in `validation-data/`.
"""
    if settings.quick:
        header += (
            "\n> **Warning: a quick run.** Small data sets: the numbers below only show that "
            "the studies run.\n"
        )
    header += "\n" + _at_a_glance(page.data)
    path = root / "validation.md"
    path.write_text("\n".join([header, *parts]), encoding="utf-8")
    return path


def _at_a_glance(data: Path) -> str:
    """Summarise the page's headline numbers from its raw results."""
    lines = ["## At a glance", ""]
    totals = pd.read_csv(data / "recovery_totals.csv")
    biases = pd.read_csv(data / "recovery_biases.csv")
    recovery = RecoveryResult(totals, biases, 0.9)
    cover = recovery.coverage()
    lines.append(
        f"- **Recovery** ({totals['seed'].nunique()} simulated conflicts): the 90% intervals "
        f"cover the true killed in {cover['killed']:.0%} and the true wounded in "
        f"{cover['wounded']:.0%} of the data sets; {recovery.bias_coverage():.0%} of the bias "
        f"factors' 90% intervals cover the truth (correlation {recovery.bias_correlation():.2f})."
    )
    ranks = pd.read_csv(data / "sbc_ranks.csv")
    uniformity = rank_uniformity(ranks, 100)
    worst = uniformity.loc[uniformity["p_value"].idxmin()]
    lines.append(
        f"- **Simulation-based calibration** ({len(ranks)} simulations, {len(uniformity)} "
        f"quantities): smallest uniformity p-value {worst['p_value']:.3f} "
        f"({worst['quantity']}); "
        + ("none is rejected at 0.01." if worst["p_value"] > 0.01 else "REJECTED at 0.01.")
    )
    lines.extend(_coverage_glance(data))
    rate = future_rate(pd.read_csv(data / "dprk_leave_future_out.csv"))
    lines.append(
        f"- **Leave-future-out on the DPRK data**: {rate['inside']} of {rate['reports']} later "
        f"reports fall inside their 90% predictive intervals, a rate of {rate['rate']:.2f} "
        f"(95% interval {rate['rate_lower']:.2f}–{rate['rate_upper']:.2f})."
    )
    lines.extend(_ukraine_glance(data))
    return "\n".join(lines) + "\n"


def _coverage_glance(data: Path) -> list[str]:
    """Summarise the coverage runs: the current model's, and the kept ones beside it."""
    results = pd.read_csv(data / "coverage.csv")
    table = coverage_table(results)
    missing = _not_rerun(results)
    lines = [
        f"- **Coverage** ({_value_range(table['data sets'])} data sets in each of "
        f"{table['regime'].nunique()} regimes, groups' biases drawn around no bias"
        + (
            f"; the other {len(missing)} regimes not yet rerun on the current model"
            if missing
            else ""
        )
        + f"): {_coverage_verdict(table)}"
        + _factor_words(table)
    ]
    centred = _read_kept(data / "coverage_centred.csv")
    if centred is not None:
        centred_table = coverage_table(centred)
        lines.append(
            "- **Coverage when the groups average exactly no bias** "
            f"({_value_range(centred_table['data sets'])} data sets in each of "
            f"{centred_table['regime'].nunique()} regimes; the zero-sum world, which the "
            "default does not assume): 90% intervals cover the truth in "
            f"{_value_range(centred_table['90% coverage'], '.0%')}"
            f"{_width_words(centred_table['90% coverage'])}."
        )
    return lines


def _width_words(coverage: pd.Series) -> str:
    """Say what the 90% intervals' coverage says of their width, against the target range."""
    low, high = COVERAGE_TARGET
    if (coverage > high).all():
        return ": wider than that world needs"
    if (coverage < low).all():
        return ": narrower than they claim"
    if coverage.between(low, high).all():
        return ": as wide as they claim"
    return ""


def _factor_words(table: pd.DataFrame) -> str:
    factor = table["biased group's factor coverage (90%)"].dropna()
    if factor.empty:
        return ""
    return (
        f" The biased group's factors are covered by their 90% intervals in "
        f"{_value_range(factor, '.0%')} of cases."
    )


def _value_range(values: pd.Series, spec: str = "") -> str:
    """Return "low–high" in the format ``spec``, or one value when both ends read the same."""
    low, high = f"{values.min():{spec}}", f"{values.max():{spec}}"
    return low if low == high else f"{low}–{high}"


def _ukraine_glance(data: Path) -> list[str]:
    """Summarise the Ukrainian study, once it has run."""
    if not (data / "ukraine_bias_factors.csv").exists():
        return []
    factors = pd.read_csv(data / "ukraine_bias_factors.csv")
    floors = pd.read_csv(data / "ukraine_named_death_floors.csv")
    rate = future_rate(pd.read_csv(data / "ukraine_leave_future_out.csv"))
    sides = []
    for group in UKRAINE_BELLIGERENTS:
        members = factors[(factors["source_group"] == group) & (factors["reports_used"] > 0)]
        if members.empty:
            sides.append(f"{markdown_text(group)} has no used reports")
            continue
        main = members.loc[members["reports_used"].idxmax()]
        sides.append(
            f"{markdown_text(main['source'])}, the most frequent of {markdown_text(group)}, "
            f"{_factor_text(main['factor_median'])} "
            f"(90% {_factor_text(main['factor_lower'])}–{_factor_text(main['factor_upper'])}; "
            f"intervals excluding 1: {int(members['excludes_1'].sum())} of its "
            f"{len(members)} sources)"
        )
    return [
        f"- **The Ukrainian data** (both sides of a war): bias factors {'; '.join(sides)}; "
        f"the killed interval lies above {int(floors['interval_above_floor'].sum())} of "
        f"{len(floors)} named-death floors; {rate['inside']} of {rate['reports']} later reports "
        f"fall inside their 90% predictive intervals ({rate['rate']:.2f})."
    ]


def _stamp(settings: Settings) -> str:

    version = f"nkest {__version__}" + (f", commit {_commit()}" if _commit() else "")
    command = "python -m validation.publish" + (" --quick" if settings.quick else "")
    return f"Generated on {dt.date.today().isoformat()} ({version}) by `{command}`"


def main(argv: list[str] | None = None) -> None:
    """Regenerate the validation page."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", default="docs", help="the docs folder (default: docs)")
    parser.add_argument("--quick", action="store_true", help="small studies (for CI)")
    parser.add_argument("--workers", type=int, default=None, help="parallel worker processes")
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated studies to rerun ({', '.join(STUDIES)}); the others' kept "
        "sections are reused; 'none' only assembles the page",
    )
    parser.add_argument("--sbc", type=int, default=None, help="SBC simulations (default 400)")
    parser.add_argument(
        "--scheduler",
        default=None,
        help="address of a Dask scheduler (tcp://host:8786): the fits run on its cluster",
    )
    args = parser.parse_args(argv)
    settings = Settings.small(args.workers) if args.quick else Settings(workers=args.workers)
    if args.sbc:
        settings = replace(settings, sbc=args.sbc)
    if args.scheduler:
        from dask.distributed import Client

        settings = replace(settings, executor=Client(args.scheduler).get_executor())
    only = tuple(filter(None, (name.strip() for name in args.only.split(","))))
    print(f"wrote {publish(args.root, settings, only)}")


if __name__ == "__main__":  # pragma: no cover
    main()
