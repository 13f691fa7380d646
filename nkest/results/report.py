"""The written report of a fit: Markdown and HTML, with figures and tables beside them."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from html import escape as html_escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

import markdown
import numpy as np
import pandas as pd

from nkest.files import check_replaceable, replace_output
from nkest.fit.per_report import source_conflicts
from nkest.model.design import resolved_origin
from nkest.results.cite import (
    be,
    counted,
    dataset_words,
    interval_text,
    last_reports,
    percent,
    quantity_name,
    worded,
)
from nkest.results.compare import Comparison, compare
from nkest.results.markup import markdown_text, safe_html
from nkest.results.page import NARROW_SUFFIX, label_table_cells, narrow_figures, shorten_link_texts
from nkest.results.summaries import (
    DEFAULT_PROB,
    THRESHOLDS,
    check_prob,
    diagnostics_in_words,
    headline_quantities,
)
from nkest.results.tables import format_table, write_table
from nkest.version import __version__

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

    from nkest.results.estimate import Estimate

__all__ = [
    "diagnostics_table",
    "headline_sentences",
    "render_html",
    "render_markdown",
    "report_figures",
    "report_tables",
    "write_report",
]

SURPRISE_LEVEL = 0.05
"""Tail probability below which a report is listed as surprising."""


def _template(name: str) -> Template:
    return Template((resources.files("nkest.results") / "templates" / name).read_text("utf-8"))


def report_dates(estimate: Estimate) -> list[pd.Timestamp]:
    """Return the quarter ends within the estimate, and its end."""
    grid = estimate.grid
    quarters = pd.date_range(grid.dates[0], grid.dates[-1], freq="QE")
    return sorted({*quarters[quarters > grid.dates[0]], grid.dates[-1]})


# The reports that bound a total from above: its own, and casualties (killed + wounded).
_BOUNDED_BY = {
    "killed": ("killed", "casualties"),
    "wounded": ("wounded", "casualties"),
    "casualties": ("casualties",),
}


def first_upper_bounds(estimate: Estimate) -> dict[str, pd.Timestamp]:
    """Return, per total, the date of the first used report that bounds it from above.

    Before that date a total rests on the prior and on lower bounds only
    (a count over a window bounds the increase in the window, not the total).
    Quantities with no such report are left out.
    """
    used = estimate.used
    observed = used[
        (used["role"] == "observation")
        & (used["scope"] == "cumulative")
        & np.isfinite(used["upper"])
    ]
    dates = pd.to_datetime(observed["as_of"])
    out = {}
    for quantity, bounding in _BOUNDED_BY.items():
        chosen = dates[observed["quantity"].isin(bounding)]
        if quantity in estimate.quantities and len(chosen):
            out[quantity] = chosen.min()
    return out


def early_totals_note(estimate: Estimate, dates: list[pd.Timestamp]) -> str:
    """Return a caveat for the table's dates before the first upper bound of a total."""
    bounds = first_upper_bounds(estimate)
    early = {q: d for q, d in bounds.items() if any(date < d for date in dates)}
    if not early:
        return ""
    listed = "; ".join(f"{q}: {d.day} {d:%B %Y}" for q, d in early.items())
    return (
        "Before the first report that bounds a total from above "
        f"({listed}), that total rests on the prior and on lower bounds only: read "
        "the rows before those dates as the model's assumptions, not as what the reports say."
    )


def headline_sentences(estimate: Estimate, *, prob: float = DEFAULT_PROB) -> list[tuple[str, str]]:
    """Return the sentence and provenance note of ``cite`` for killed, wounded and casualties.

    Each sentence says in its parenthesis when the fit fails its sampler
    diagnostics ("NOT RELIABLE") and when no report speaks of its quantity
    (then it rests on the assumed wounded:killed ratio).
    """
    out = []
    for quantity in ("killed", "wounded", "casualties"):
        if quantity in estimate.quantities:
            citation = estimate.cite(quantity, prob=prob, allow_failed_diagnostics=True)
            out.append((citation.sentence, citation.note.removeprefix("Source: ")))
    return out


_FIGURE_SOURCE = re.compile(r'(src|srcset)="(figures/[a-z_]+\.png)"')


def _embed_figures(body: str, directory: Path) -> str:
    """Put the report's own figures into the page as data.

    The HTML is then one file that loads nothing, which its
    Content-Security-Policy enforces.
    """

    def inline(match: re.Match[str]) -> str:
        data = base64.b64encode((directory / match.group(2)).read_bytes()).decode("ascii")
        return f'{match.group(1)}="data:image/png;base64,{data}"'

    return _FIGURE_SOURCE.sub(inline, body)


FIGURE_DPI = 150
"""Resolution of the report's PNG figures."""
NARROW_FIGURE_WIDTH = 4.2
"""Width in inches of the figures drawn for a phone (shown about 390 CSS pixels wide)."""
NARROW_CHECKS_MOST = 15
"""Reports drawn in the phone's check chart: those that fit least (all are in the wide one)."""


def report_figures(
    estimate: Estimate, *, prob: float = DEFAULT_PROB, narrow: bool = False
) -> dict[str, MplFigure]:
    """Draw the report's figures, by name: totals, biases, checks, losses per month.

    The outer bands and intervals have probability ``prob``, the inner ones
    ``inner_prob(prob)`` (50% for the default 90%). ``narrow`` draws them for a
    phone's width, where the checks keep only the reports that fit least.
    """
    # Matplotlib is imported when a figure is drawn, not with nkest: a fit needs none of it.
    from nkest.results import plots

    figsize = (NARROW_FIGURE_WIDTH, None) if narrow else None
    return {
        "totals": plots.plot_totals(estimate, prob=prob, figsize=figsize),
        "source_bias": plots.plot_source_bias(estimate, prob=prob, figsize=figsize),
        "report_checks": plots.plot_report_checks(
            estimate, prob=prob, figsize=figsize, most=NARROW_CHECKS_MOST if narrow else None
        ),
        "losses_per_month": plots.plot_losses_per_month(
            estimate, quantities=_monthly_quantities(estimate), prob=prob, figsize=figsize
        ),
    }


def _monthly_quantities(estimate: Estimate) -> list[str]:
    """Killed and wounded per month (casualties are their sum), or what is estimated."""
    return [q for q in ("killed", "wounded") if q in estimate.quantities] or list(
        estimate.quantities[:1]
    )


def save_figure(figure: MplFigure, path: Path) -> None:
    """Save a report figure as PNG, recording its smallest text's height in pixels.

    The record (PNG text ``nkest:smallest-text-px``) lets a check of the page
    tell how large that text is where the figure is shown
    (``browser.report_layout``).
    """
    from nkest.results.plots._layout import smallest_text_px

    smallest = smallest_text_px(figure, FIGURE_DPI)
    figure.savefig(
        path,
        dpi=FIGURE_DPI,
        bbox_inches="tight",
        metadata={"nkest:smallest-text-px": f"{smallest:.2f}"},
    )


def write_report(
    estimate: Estimate,
    directory: str | os.PathLike[str],
    *,
    prob: float = DEFAULT_PROB,
    overwrite: bool = False,
    previous: Estimate | None = None,
) -> Path:
    """Write ``report.md`` and ``report.html`` with their figures and tables.

    The report is written beside ``directory`` and moved into place whole, so
    a failure leaves an earlier report as it was (``nkest.files``).

    Parameters
    ----------
    estimate : Estimate
    directory : path
        Absent or empty, or a report nkest wrote before (replaced only with
        ``overwrite``). Gets ``report.md``, ``report.html``, ``figures/``
        (PNG) and ``tables/`` (Markdown, CSV, JSON and LaTeX).
    prob : float
        Probability of the credible intervals.
    overwrite : bool
        Replace an earlier nkest report in ``directory``.
    previous : Estimate, optional
        An earlier fit (``nkest.load`` of its ``fit.nc``): the report then
        says what changed since it (``nkest.compare``) and writes the
        comparison to ``tables/changes.*``.

    Returns
    -------
    pathlib.Path
        The path of ``report.md``.

    Raises
    ------
    nkest.files.OutputExistsError
        Before anything is computed, if ``directory`` may not be replaced.
    """
    prob = check_prob(prob)
    directory = Path(directory)
    check_replaceable(directory, overwrite=overwrite, what="report")
    with replace_output(directory, overwrite=overwrite, what="report", directory=True) as staging:
        write_report_files(estimate, staging, prob=prob, previous=previous)
    return directory / "report.md"


def write_report_files(
    estimate: Estimate, directory: Path, *, prob: float, previous: Estimate | None = None
) -> Path:
    """Write the report's files into an existing, empty ``directory`` (no checks)."""
    (directory / "figures").mkdir(parents=True, exist_ok=True)
    (directory / "tables").mkdir(parents=True, exist_ok=True)
    for narrow, suffix in ((False, ""), (True, NARROW_SUFFIX)):
        for name, figure in report_figures(estimate, prob=prob, narrow=narrow).items():
            save_figure(figure, directory / "figures" / f"{name}{suffix}.png")
    tables = report_tables(estimate, prob=prob)
    comparison = None
    if previous is not None:
        comparison = compare(previous, estimate, prob=prob)
        tables["changes"] = comparison.movers
    for name, table in tables.items():
        for suffix in (".md", ".csv", ".json", ".tex"):
            write_table(table, directory / "tables" / f"{name}{suffix}")
    text = render_markdown(estimate, tables, prob=prob, comparison=comparison)
    path = directory / "report.md"
    path.write_text(text, encoding="utf-8")
    html = render_html(text, estimate, directory)
    (directory / "report.html").write_text(html, encoding="utf-8")
    return path


_USED_COLUMNS = [
    "report_id",
    "published",
    "as_of",
    "source",
    "quantity",
    "figure",
    "scope",
    "role",
    "citation",
]
_EXCLUDED_COLUMNS = [
    "report_id",
    "source",
    "quantity",
    "figure",
    "as_of",
    "excluded_by",
    "reason",
    "citation",
]
_SURPRISING_COLUMNS = [
    "report_id",
    "source",
    "quantity",
    "claim",
    "claim_lower",
    "claim_upper",
    "predicted_median",
    "predicted_lower",
    "predicted_upper",
    "tail_p",
]


def report_tables(estimate: Estimate, *, prob: float = DEFAULT_PROB) -> dict[str, pd.DataFrame]:
    """Compute the report's tables, by the name of their files.

    ``summary`` (quarter ends and the end), ``series`` (every date of the
    estimate), ``losses_per_month``, ``source_bias``, ``report_checks``
    (with each claim as worded), ``source_conflicts``, ``reports_used`` and
    ``reports_excluded`` (with their citations and reasons).
    """
    quantities = headline_quantities(estimate.quantities)
    summary = estimate.summary(dates=report_dates(estimate), quantities=quantities, prob=prob)
    checks = estimate.report_checks(prob=prob)
    worded_claims = {row.report_id: worded(row._asdict()) for row in estimate.used.itertuples()}
    checks.insert(
        checks.columns.get_loc("claim_lower"), "claim", checks["report_id"].map(worded_claims)
    )
    reports = estimate.reports.to_frame().set_index("report_id")
    used = estimate.used.join(reports[["published", "citation"]], on="report_id")
    used = used.assign(figure=[worded(row) for _, row in used.iterrows()])
    excluded = estimate.excluded.join(reports[["value_high", "citation"]], on="report_id")
    excluded = excluded.assign(figure=[worded(row) for _, row in excluded.iterrows()])
    return {
        "summary": summary,
        "series": estimate.summary(dates="all", quantities=quantities, prob=prob),
        "losses_per_month": estimate.losses_per_month(quantities, prob=prob),
        "source_bias": estimate.source_bias(prob=prob),
        "report_checks": checks,
        "source_conflicts": source_conflicts(estimate.loo_checks()),
        "reports_used": used[_USED_COLUMNS],
        "reports_excluded": excluded[_EXCLUDED_COLUMNS],
    }


def conflicts_in_words(
    estimate: Estimate, conflicts: pd.DataFrame, *, level: float = SURPRISE_LEVEL
) -> str:
    """Say in plain words which sources the other reports contradict (Markdown).

    A source stands out when its conflict p-value (``source_conflicts``) is
    below ``level``; its least expected figure is quoted, with how often a
    figure that far from the others would turn up if they were right.
    """
    flagged = conflicts[conflicts["conflict_p"] < level]
    if not len(flagged):
        return (
            "No source stands out: each source's figures are in line with what the other "
            "reports imply, once its bias is allowed for."
        )
    checks = estimate.loo_checks()
    used = estimate.used.set_index("report_id")
    n = len(flagged)
    lines = [
        f"{n} of {len(conflicts)} sources {'stands' if n == 1 else 'stand'} out: the other "
        "reports say otherwise, and they can't all be right.",
        "",
    ]
    for row in flagged.itertuples():
        own = checks[(checks["source"] == row.source) & (checks["role"] == "observation")]
        worst = own.loc[own["loo_tail_p"].idxmin()]
        report = used.loc[worst["report_id"]]
        when = pd.Timestamp(report["as_of"])
        chance = max(1, round(100 * row.conflict_p))
        lines.append(
            f'- **{markdown_text(row.source)}**: its figure "{markdown_text(worded(report))}" '
            f"({markdown_text(report['quantity'])} by {when.day} {when:%B %Y}, "
            f"{markdown_text(worst['report_id'])}) is far from what the other reports imply. "
            f"If they were right, a figure that far out would turn up by chance about {chance} "
            f"time{'s' if chance > 1 else ''} in 100"
            + (f" (counting all {row.reports} of its figures)." if row.reports > 1 else ".")
        )
    return "\n".join(lines)


def summary_view(summary: pd.DataFrame) -> pd.DataFrame:
    """Return the summary as a reader's table: a row per date, "median (lower–upper)" cells.

    A cell past its quantity's last report is marked with a dagger (†).
    """
    frame = summary.assign(
        cell=[
            interval_text(r.median, r.lower, r.upper) + (" †" if r.past_last_report else "")
            for r in summary.itertuples()
        ]
    )
    wide = frame.pivot(index="date", columns="quantity", values="cell")
    order = [q for q in dict.fromkeys(summary["quantity"]) if q in wide.columns]
    wide = wide[order].rename(columns=quantity_name)
    wide.index = [pd.Timestamp(d).date().isoformat() for d in wide.index]
    return wide.rename_axis("date").reset_index()


def past_last_report_note(estimate: Estimate) -> str:
    """Explain the dagger of ``summary_view``, with each quantity's last report."""
    last = last_reports(estimate.used)
    end = pd.Timestamp(estimate.grid.dates[-1])
    listed = [
        f"{quantity_name(q)} {last[q].day} {last[q]:%B %Y}"
        for q in headline_quantities(estimate.quantities)
        if q in last and last[q] < end
    ]
    if not listed:
        return ""
    return (
        "† Past the quantity's last report (" + "; ".join(listed) + "): there the estimate "
        "follows the model (the other quantities' reports, the wounded:killed ratio, the "
        "pace of losses), not reports of the quantity itself."
    )


def _reader_table(frame: pd.DataFrame) -> str:
    """Return a table as the report shows it: column names as words ("as of", not "as_of").

    The table files (``tables/``) keep the names code reads.
    """
    return format_table(frame, header=lambda name: name.replace("_", " "))


def diagnostics_table(diagnostics: Mapping[str, Any]) -> pd.DataFrame:
    """Return each sampler diagnostic with its value and the threshold it must meet."""
    ess_floor = THRESHOLDS["ess_per_chain"] * diagnostics["chains"]
    rows = [
        ("divergent transitions", f"{diagnostics['divergences']}", f"{THRESHOLDS['divergences']}"),
        ("max R-hat", f"{diagnostics['max_rhat']:.3f}", f"≤ {THRESHOLDS['max_rhat']}"),
        ("min bulk ESS", f"{diagnostics['min_ess_bulk']:,.0f}", f"≥ {ess_floor:,.0f}"),
        ("min tail ESS", f"{diagnostics['min_ess_tail']:,.0f}", f"≥ {ess_floor:,.0f}"),
    ]
    return pd.DataFrame(rows, columns=["check", "value", "threshold"])


def _failure_warning(diagnostics: Mapping[str, Any]) -> str:
    if diagnostics["passed"]:
        return ""
    return (
        "> **Warning: this fit fails its sampler diagnostics ("
        + "; ".join(diagnostics["failures"])
        + "). Its intervals are not reliable; refit with more draws before citing them.**"
    )


def _refits_line(diagnostics: Mapping[str, Any]) -> str:
    """Return the report's line on refits (with its leading newline), or ""."""
    said = [
        text
        for text in (
            diagnostics.get("refits", ""),
            f"not refitted: {diagnostics['no_refit']}" if diagnostics.get("no_refit") else "",
        )
        if text
    ]
    if not said:
        return ""
    words = "; ".join(said)
    return "\n- **Refits:** " + markdown_text(words[0].upper() + words[1:] + ".")


def grid_words(estimate: Estimate) -> str:
    """Say what the time grid is and where the totals start from (for the report)."""
    grid = estimate.grid
    step = "weekly" if grid.step == 7 else "daily" if grid.step == 1 else f"{grid.step}-day"
    text = f"{step} steps from {grid.start.isoformat()} to {grid.end.isoformat()}; "
    origin = resolved_origin(estimate.reports, estimate.options)
    if origin is None:
        return (
            text + "no origin (a date when every total was zero): the initial totals are estimated"
        )
    given = "the option origin" if estimate.options.origin else "the reports' metadata"
    return text + f"every total zero at the origin, {origin.isoformat()} (from {given})"


def _changes_section(comparison: Comparison | None) -> str:
    if comparison is None:
        return ""
    return "## What changed since the previous fit\n\n" + comparison.to_markdown() + "\n"


def _title(estimate: Estimate) -> str:
    return estimate.reports.metadata.get("title") or "Casualty estimate"


def render_markdown(
    estimate: Estimate,
    tables: Mapping[str, pd.DataFrame],
    *,
    prob: float = DEFAULT_PROB,
    comparison: Comparison | None = None,
) -> str:
    """Return the report as Markdown, from the estimate and its ``report_tables``."""
    diagnostics = estimate.diagnostics()
    headline, provenance = [], ""
    for sentence, note in headline_sentences(estimate, prob=prob):
        headline.append(f"- {markdown_text(sentence)}")
        provenance = note
    checks = tables["report_checks"]
    surprising = checks[checks["tail_p"] < SURPRISE_LEVEL].sort_values("tail_p")
    surprising_text = (
        _reader_table(surprising[_SURPRISING_COLUMNS])
        if len(surprising)
        else f"No report has a tail probability below {SURPRISE_LEVEL}."
    )
    priors = estimate.options.priors.to_dict()
    priors_table = pd.DataFrame(
        {"prior": list(priors), "setting": [json.dumps(v) for v in priors.values()]}
    )
    sampling = estimate.sampling
    used, excluded = tables["reports_used"], tables["reports_excluded"]
    dataset = dataset_words(estimate.reports.metadata)
    values = {
        "title": markdown_text(_title(estimate)),
        "generated": dt.date.today().isoformat(),
        "version": __version__,
        "fingerprint": estimate.reports.fingerprint(),
        "dataset": markdown_text(f"; {dataset}") if dataset else "",
        "warning": _failure_warning(diagnostics),
        "changes": _changes_section(comparison),
        "headline": "\n".join(headline),
        "provenance": markdown_text("Source: " + provenance),
        "prob_pct": percent(prob),
        "summary_table": format_table(summary_view(tables["summary"])),
        "past_note": markdown_text(past_last_report_note(estimate)),
        "early_note": early_totals_note(estimate, report_dates(estimate)),
        "identification": markdown_text(estimate.identification),
        "bias_table": _reader_table(tables["source_bias"]),
        "surprising": surprising_text,
        "conflicts_words": conflicts_in_words(estimate, tables["source_conflicts"]),
        "conflicts_table": _reader_table(tables["source_conflicts"]),
        "used_count": str(len(used)),
        "used_table": _reader_table(used),
        "excluded_kept": f"{counted(len(excluded), 'report')} {be(len(excluded))} kept",
        "excluded_reports": counted(len(excluded), "report"),
        "excluded_table": _reader_table(excluded) if len(excluded) else "None.",
        "sampler": sampling.sampler,
        "chains": str(sampling.chains),
        "draws": f"{sampling.draws:,}",
        "tune": f"{sampling.tune:,}",
        "seed": str(sampling.random_seed),
        "grid": markdown_text(grid_words(estimate)),
        "refits": _refits_line(diagnostics),
        "diagnostics_sentence": diagnostics_in_words(diagnostics) + ".",
        "diagnostics_table": format_table(diagnostics_table(diagnostics)),
        "priors_table": format_table(priors_table),
        "options": json.dumps(estimate.options.to_dict(), indent=2),
    }
    return _template("report.md").substitute(values)


def render_html(text: str, estimate: Estimate, directory: Path) -> str:
    """Return the report's Markdown as one safe HTML page, its figures inside it."""
    body = safe_html(markdown.markdown(text, extensions=["tables", "fenced_code", "md_in_html"]))
    body = narrow_figures(label_table_cells(shorten_link_texts(body)), directory)
    if _failure_warning(estimate.diagnostics()):
        body = body.replace("<blockquote>", '<blockquote class="warning">', 1)
    return _template("report.html").substitute(
        title=html_escape(_title(estimate)),
        version=__version__,
        body=_embed_figures(body, directory),
    )
