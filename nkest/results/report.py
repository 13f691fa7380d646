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

import numpy as np
import pandas as pd

from nkest.files import check_replaceable, replace_output
from nkest.fit.per_report import source_conflicts
from nkest.reports.figures import Figure
from nkest.results import plots
from nkest.results.markup import markdown_text, safe_html
from nkest.results.summaries import DEFAULT_PROB, check_prob, diagnostics_in_words
from nkest.results.tables import format_table, write_table
from nkest.version import __version__

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

    from nkest.results.estimate import Estimate

__all__ = ["headline_sentences", "inner_prob", "report_figures", "write_report"]

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
            text = estimate.cite(quantity, prob=prob, allow_failed_diagnostics=True)
            sentence, _, note = text.partition(" Source: ")
            out.append((sentence, note))
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


def inner_prob(prob: float) -> float:
    """Return the probability of the inner band drawn with an outer band of ``prob``.

    50%, the usual inner band, when the outer band is wider than that;
    otherwise half the outer one.
    """
    return 0.5 if prob > 0.5 else prob / 2


def report_figures(estimate: Estimate, *, prob: float = DEFAULT_PROB) -> dict[str, MplFigure]:
    """Draw the report's figures: ``totals``, ``source_bias`` and ``report_checks``.

    The outer bands and intervals have probability ``prob``, the inner ones
    ``inner_prob(prob)`` (50% for the default 90%).
    """
    inner = inner_prob(prob)
    return {
        "totals": plots.plot_totals(estimate, prob_inner=inner, prob_outer=prob),
        "source_bias": plots.plot_source_bias(estimate, prob=prob, prob_inner=inner),
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
    import markdown

    (directory / "figures").mkdir(parents=True, exist_ok=True)
    (directory / "tables").mkdir(parents=True, exist_ok=True)

    for name, figure in report_figures(estimate, prob=prob).items():
        figure.savefig(directory / "figures" / f"{name}.png", dpi=150, bbox_inches="tight")

    quantities = [q for q in ("killed", "wounded", "casualties") if q in estimate.quantities]
    dates = report_dates(estimate)
    summary = estimate.summary(dates=dates, quantities=quantities, prob=prob)
    bias = estimate.source_bias(prob=prob)
    checks = estimate.report_checks(prob=prob)
    worded_claims = {row.report_id: worded(row._asdict()) for row in estimate.used.itertuples()}
    checks.insert(
        checks.columns.get_loc("claim_lower"), "claim", checks["report_id"].map(worded_claims)
    )
    reports = estimate.reports.to_frame().set_index("report_id")
    used = estimate.used.join(reports[["published", "citation"]], on="report_id")
    used = used.assign(figure=[worded(row) for _, row in used.iterrows()])
    used_table = used[
        [
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
    ]
    excluded = estimate.excluded.join(reports[["value_high", "citation"]], on="report_id")
    excluded = excluded.assign(figure=[worded(row) for _, row in excluded.iterrows()])
    excluded_table = excluded[
        ["report_id", "source", "quantity", "figure", "as_of", "excluded_by", "reason", "citation"]
    ]
    conflicts = source_conflicts(estimate.loo_checks())
    for name, table in (
        ("summary", summary),
        ("source_bias", bias),
        ("report_checks", checks),
        ("source_conflicts", conflicts),
        ("reports_used", used_table),
        ("reports_excluded", excluded_table),
    ):
        for suffix in (".md", ".csv", ".json", ".tex"):
            write_table(table, directory / "tables" / f"{name}{suffix}")

    diagnostics = estimate.diagnostics()
    headline, provenance = [], ""
    for sentence, note in headline_sentences(estimate, prob=prob):
        headline.append(f"- {markdown_text(sentence)}")
        provenance = note
    warning = ""
    if not diagnostics["passed"]:
        warning = (
            "> **Warning: this fit fails its sampler diagnostics ("
            + "; ".join(diagnostics["failures"])
            + "). Its intervals are not reliable; refit with more draws before citing them.**"
        )
    surprising = checks[checks["tail_p"] < SURPRISE_LEVEL].sort_values("tail_p")
    surprising_text = (
        format_table(
            surprising[
                [
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
            ]
        )
        if len(surprising)
        else f"No report has a tail probability below {SURPRISE_LEVEL}."
    )
    passed = diagnostics_in_words(diagnostics)
    diagnostics_table = pd.DataFrame(
        [
            {
                "check": "divergent transitions",
                "value": f"{diagnostics['divergences']}",
                "threshold": "0",
            },
            {
                "check": "max R-hat",
                "value": f"{diagnostics['max_rhat']:.3f}",
                "threshold": "≤ 1.01",
            },
            {
                "check": "min bulk ESS",
                "value": f"{diagnostics['min_ess_bulk']:,.0f}",
                "threshold": f"≥ {100 * diagnostics['chains']}",
            },
            {
                "check": "min tail ESS",
                "value": f"{diagnostics['min_ess_tail']:,.0f}",
                "threshold": f"≥ {100 * diagnostics['chains']}",
            },
        ]
    )
    priors = estimate.options.priors.to_dict()
    priors_table = pd.DataFrame(
        {"prior": list(priors), "setting": [json.dumps(v) for v in priors.values()]}
    )
    sampling = estimate.sampling
    title = estimate.reports.metadata.get("title") or "Casualty estimate"
    values = {
        "title": markdown_text(title),
        "generated": dt.date.today().isoformat(),
        "version": __version__,
        "fingerprint": estimate.reports.fingerprint(),
        "warning": warning,
        "headline": "\n".join(headline),
        "provenance": markdown_text("Source: " + provenance),
        "prob_pct": f"{prob:.0%}",
        "summary_table": format_table(summary),
        "early_note": early_totals_note(estimate, dates),
        "identification": markdown_text(estimate.identification),
        "bias_table": format_table(bias),
        "surprising": surprising_text,
        "conflicts_table": format_table(conflicts),
        "used_count": str(len(used_table)),
        "used_table": format_table(used_table),
        "excluded_count": str(len(excluded_table)),
        "excluded_table": format_table(excluded_table) if len(excluded_table) else "None.",
        "sampler": sampling.sampler,
        "chains": str(sampling.chains),
        "draws": f"{sampling.draws:,}",
        "tune": f"{sampling.tune:,}",
        "seed": str(sampling.random_seed),
        "diagnostics_sentence": passed + ".",
        "diagnostics_table": format_table(diagnostics_table),
        "priors_table": format_table(priors_table),
        "options": json.dumps(estimate.options.to_dict(), indent=2),
    }
    text = _template("report.md").substitute(values)
    path = directory / "report.md"
    path.write_text(text, encoding="utf-8")
    body = safe_html(markdown.markdown(text, extensions=["tables", "fenced_code"]))
    if warning:
        body = body.replace("<blockquote>", '<blockquote class="warning">', 1)
    html = _template("report.html").substitute(
        title=html_escape(title), version=__version__, body=_embed_figures(body, directory)
    )
    (directory / "report.html").write_text(html, encoding="utf-8")
    return path
