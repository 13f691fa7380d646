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
from nkest.reports.figures import Figure
from nkest.results import plots
from nkest.results.cite import dataset_words
from nkest.results.markup import markdown_text, safe_html
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


def worded(row: Mapping[str, Any]) -> str:
    """Return a report's figure as its source worded it ("at least 6", "1,500–2,000")."""
    if pd.isna(row["value"]):
        return ""
    high = None if pd.isna(row.get("value_high")) else int(row["value_high"])
    return str(Figure(int(row["value"]), high, row["qualifier"]))


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


_FIGURE_SOURCE = re.compile(r'src="(figures/[a-z_]+\.png)"')


def _embed_figures(body: str, directory: Path) -> str:
    """Put the report's own figures into the page as data.

    The HTML is then one file that loads nothing, which its
    Content-Security-Policy enforces.
    """

    def inline(match: re.Match[str]) -> str:
        data = base64.b64encode((directory / match.group(1)).read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}"'

    return _FIGURE_SOURCE.sub(inline, body)


def report_figures(estimate: Estimate, *, prob: float = DEFAULT_PROB) -> dict[str, MplFigure]:
    """Draw the report's figures: ``totals``, ``source_bias`` and ``report_checks``.

    The outer bands and intervals have probability ``prob``, the inner ones
    ``inner_prob(prob)`` (50% for the default 90%).
    """
    return {
        "totals": plots.plot_totals(estimate, prob=prob),
        "source_bias": plots.plot_source_bias(estimate, prob=prob),
        "report_checks": plots.plot_report_checks(estimate, prob=prob),
    }


def write_report(
    estimate: Estimate,
    directory: str | os.PathLike[str],
    *,
    prob: float = DEFAULT_PROB,
    overwrite: bool = False,
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
        write_report_files(estimate, staging, prob=prob)
    return directory / "report.md"


def write_report_files(estimate: Estimate, directory: Path, *, prob: float) -> Path:
    """Write the report's files into an existing, empty ``directory`` (no checks)."""
    (directory / "figures").mkdir(parents=True, exist_ok=True)
    (directory / "tables").mkdir(parents=True, exist_ok=True)
    for name, figure in report_figures(estimate, prob=prob).items():
        figure.savefig(directory / "figures" / f"{name}.png", dpi=150, bbox_inches="tight")
    tables = report_tables(estimate, prob=prob)
    for name, table in tables.items():
        for suffix in (".md", ".csv", ".json", ".tex"):
            write_table(table, directory / "tables" / f"{name}{suffix}")
    text = render_markdown(estimate, tables, prob=prob)
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

    ``summary`` (quarter ends and the end), ``source_bias``, ``report_checks``
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
        "source_bias": estimate.source_bias(prob=prob),
        "report_checks": checks,
        "source_conflicts": source_conflicts(estimate.loo_checks()),
        "reports_used": used[_USED_COLUMNS],
        "reports_excluded": excluded[_EXCLUDED_COLUMNS],
    }


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


def _title(estimate: Estimate) -> str:
    return estimate.reports.metadata.get("title") or "Casualty estimate"


def render_markdown(
    estimate: Estimate, tables: Mapping[str, pd.DataFrame], *, prob: float = DEFAULT_PROB
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
        format_table(surprising[_SURPRISING_COLUMNS])
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
        "headline": "\n".join(headline),
        "provenance": markdown_text("Source: " + provenance),
        "prob_pct": f"{prob:.0%}",
        "summary_table": format_table(tables["summary"]),
        "early_note": early_totals_note(estimate, report_dates(estimate)),
        "identification": markdown_text(estimate.identification),
        "bias_table": format_table(tables["source_bias"]),
        "surprising": surprising_text,
        "conflicts_table": format_table(tables["source_conflicts"]),
        "used_count": str(len(used)),
        "used_table": format_table(used),
        "excluded_count": str(len(excluded)),
        "excluded_table": format_table(excluded) if len(excluded) else "None.",
        "sampler": sampling.sampler,
        "chains": str(sampling.chains),
        "draws": f"{sampling.draws:,}",
        "tune": f"{sampling.tune:,}",
        "seed": str(sampling.random_seed),
        "refits": _refits_line(diagnostics),
        "diagnostics_sentence": diagnostics_in_words(diagnostics) + ".",
        "diagnostics_table": format_table(diagnostics_table(diagnostics)),
        "priors_table": format_table(priors_table),
        "options": json.dumps(estimate.options.to_dict(), indent=2),
    }
    return _template("report.md").substitute(values)


def render_html(text: str, estimate: Estimate, directory: Path) -> str:
    """Return the report's Markdown as one safe HTML page, its figures inside it."""
    body = safe_html(markdown.markdown(text, extensions=["tables", "fenced_code"]))
    if _failure_warning(estimate.diagnostics()):
        body = body.replace("<blockquote>", '<blockquote class="warning">', 1)
    return _template("report.html").substitute(
        title=html_escape(_title(estimate)),
        version=__version__,
        body=_embed_figures(body, directory),
    )
