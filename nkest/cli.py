"""The ``nkest`` command line: check reports, fit them, write a report.

Exit status: 0 on success; 1 when a fit fails its sampler diagnostics (its
report is still written, with a warning); 2 for bad input (a problem with
the reports, an option or ``--out``, with a clear message and no traceback);
3 for an unexpected error inside nkest (a bug: a short message, and the
traceback with ``--debug``); 130 after Ctrl-C, which stops a fit at once.

Every argument is checked, and ``--out`` tried, before any sampling starts.
``--out`` is written beside itself and moved into place whole: an error or
Ctrl-C leaves an earlier report as it was and no half-written one.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from nkest.datasets import list_datasets, load_dataset
from nkest.errors import IncompatibleFileError, ReportError
from nkest.files import OutputExistsError, check_replaceable, replace_output
from nkest.fit.sampling import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE
from nkest.model.design import make_design
from nkest.model.grid import parse_freq
from nkest.model.options import SAMPLERS, FitOptions, make_options
from nkest.reports import Reports, load_reports
from nkest.results import report as report_module
from nkest.results.compare import compare
from nkest.results.fitting import fit, load
from nkest.results.report import headline_sentences
from nkest.version import __version__

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_DIAGNOSTICS",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "main",
    "run",
]

_DEFAULTS = FitOptions()
"""The library's defaults, which the options of the command line show and use."""

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130
"""Ctrl-C (128 + SIGINT), as other command-line tools exit."""

EXIT_STATUS_HELP = """\
exit status:
  0  success
  1  the fit fails its sampler diagnostics (the report is still written, with a warning)
  2  bad input: a problem with the reports, an option or --out (the message says what)
  3  an unexpected error inside nkest: a bug, please report it (--debug shows the traceback)
  130  interrupted (Ctrl-C): the fit stops at once and nothing is written
"""


@contextmanager
def _progress_lines(show: bool) -> Iterator[None]:
    """Print nkest's progress messages ("compiling", "sampling") to stderr while running."""
    if not show:
        yield
        return
    logger = logging.getLogger("nkest")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("nkest: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class BadInput(Exception):
    """An argument the command line refuses, found before any fitting."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return its exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or an argument argparse refuses
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    with warnings.catch_warnings(), _progress_lines(not getattr(args, "quiet", True)):
        warnings.showwarning = _show_warning
        try:
            return args.run(args)
        except (BadInput, ReportError, IncompatibleFileError) as error:
            print(f"nkest: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            print("nkest: interrupted; nothing was written", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:  # the reader stopped early (`nkest check ... | head`)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes
            return 141  # 128 + SIGPIPE, as other command-line tools do
        except Exception as error:
            if args.debug:
                raise
            print(
                f"nkest: unexpected error inside nkest ({type(error).__name__}: {error}). "
                "This is a bug, not a problem with your input: please report it with the "
                "command you ran (add --debug to see the traceback).",
                file=sys.stderr,
            )
            return EXIT_INTERNAL


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"nkest: warning: {message}", file=sys.stderr)


# -- arguments -------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a probability between 0 and 1 (e.g. 0.9 for 90% intervals), got {text!r}"
        )
    return value


def _parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="nkest",
        description="Bayesian estimates of war casualties from conflicting public reports.",
        epilog=EXIT_STATUS_HELP,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"nkest {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", help="show the traceback of an unexpected error"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser(
        "check",
        help="validate a table of reports and list what the fit will use (no fitting)",
        description="Validate a table of reports, summarise it, and list the reports the "
        "fit will leave out: those the table excludes and those the model cannot use.",
        epilog=EXIT_STATUS_HELP,
        formatter_class=formatter,
        parents=[common],
    )
    _add_input(check)
    check.add_argument("--end", help="last date of the estimate, as for fit (YYYY-MM-DD)")
    check.add_argument("--origin", help="date at which every total was zero (YYYY-MM-DD)")
    check.set_defaults(run=_check)

    fit = commands.add_parser(
        "fit",
        help="fit a CSV of reports; write the report, tables, figures and the saved fit",
        description="Fit a CSV file of reports and write the report, tables, figures and "
        "the saved fit to --out.",
        epilog=EXIT_STATUS_HELP,
        formatter_class=formatter,
        parents=[common],
    )
    fit.add_argument("reports", help="a CSV file (or an .xlsx workbook) of reports")
    _add_fit_options(fit)
    fit.set_defaults(run=_fit)

    report = commands.add_parser(
        "report",
        help="like fit, for a bundled dataset (--dataset) or a CSV file",
        description="Like fit, for a bundled dataset (--dataset) or a CSV file.",
        epilog=EXIT_STATUS_HELP,
        formatter_class=formatter,
        parents=[common],
    )
    _add_input(report)
    _add_fit_options(report)
    report.set_defaults(run=_fit)

    comparison = commands.add_parser(
        "compare",
        help="how the estimate moved between two saved fits, and which reports moved it",
        description="Compare two saved fits (a fit.nc, or the --out directory that holds "
        "it): the headline then and now at the earlier fit's last date, the reports "
        "added, removed or changed, and how far each moved the estimate.",
        epilog=EXIT_STATUS_HELP,
        formatter_class=formatter,
        parents=[common],
    )
    comparison.add_argument("old", type=Path, help="the earlier fit")
    comparison.add_argument("new", type=Path, help="the later fit")
    comparison.add_argument(
        "--quantity", default="killed", help="whose movers to weigh (default killed)"
    )
    comparison.add_argument("--date", help="the date to compare at (default: the old fit's end)")
    _add_prob(comparison)
    comparison.set_defaults(run=_compare)
    return parser


def _add_input(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("reports", nargs="?", help="a CSV file (or an .xlsx workbook) of reports")
    source.add_argument(
        "--dataset", choices=list_datasets(), help="a bundled dataset instead of a file"
    )


def _add_prob(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prob",
        type=_probability,
        default=0.9,
        help="probability of the credible intervals (default 0.9)",
    )


def _add_fit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="directory to write into: new, empty, or an earlier nkest report (with --force)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an earlier nkest report in --out (anything else is never replaced)",
    )
    parser.add_argument("--end", help="last date of the estimate (YYYY-MM-DD)")
    parser.add_argument(
        "--freq",
        default=_DEFAULTS.freq,
        help=f"time grid: W (weekly), D, 2W, ... (default {_DEFAULTS.freq})",
    )
    parser.add_argument(
        "--identification",
        default=_DEFAULTS.identification.kind,
        help="what anchors the level: 'most_groups' (most source groups roughly unbiased), "
        "'groups' (source groups unbiased on average) or 'reference:NAME[,NAME]' (named "
        f"sources unbiased); default {_DEFAULTS.identification.kind!r}",
    )
    parser.add_argument("--origin", help="date at which every total was zero (YYYY-MM-DD)")
    parser.add_argument(
        "--subject",
        help="who the figures count, for the sentences, e.g. 'North Korean soldiers' "
        "(default: the dataset's metadata; 'people' for a CSV file)",
    )
    parser.add_argument(
        "--title", help="title of the report (default: the dataset's metadata, if any)"
    )
    parser.add_argument(
        "--draws",
        type=_positive_int,
        default=DEFAULT_DRAWS,
        help=f"posterior draws per chain (default {DEFAULT_DRAWS})",
    )
    parser.add_argument(
        "--tune",
        type=_positive_int,
        default=DEFAULT_TUNE,
        help=f"tuning steps per chain, discarded (default {DEFAULT_TUNE})",
    )
    parser.add_argument(
        "--chains",
        type=_positive_int,
        default=DEFAULT_CHAINS,
        help=f"independent chains (default {DEFAULT_CHAINS}; R-hat needs at least 2)",
    )
    parser.add_argument("--seed", type=_seed, default=None, help="random seed for reproducibility")
    parser.add_argument(
        "--time-budget",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="seconds the fit may take, refits included: a fit that misses its diagnostics "
        "is refitted with longer tuning, more draws or smaller steps while the budget allows "
        "(default 600 with the default --draws and --tune, else 0: no refit)",
    )
    _add_prob(parser)
    parser.add_argument(
        "--sampler",
        default=_DEFAULTS.sampler,
        choices=SAMPLERS,
        help="sampler (default auto: nutpie when installed)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--add",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="new reports (CSV or .xlsx) added after the others, checked the same way "
        "(may be given more than once)",
    )
    parser.add_argument(
        "--previous",
        type=Path,
        metavar="FIT",
        help="an earlier saved fit (fit.nc, or its --out directory): the report says what "
        "changed since it",
    )


# -- shared steps ----------------------------------------------------------------------


def _load(args: argparse.Namespace) -> Reports:
    if getattr(args, "dataset", None):
        reports = load_dataset(args.dataset)
    else:
        path = Path(args.reports)
        if not path.exists():
            raise BadInput(f"no such file: {path}")
        reports = load_reports(path)
    metadata = {
        key: value
        for key in ("subject", "title")
        if (value := getattr(args, key, None)) is not None
    }
    for key, value in metadata.items():
        if not value.strip():
            raise BadInput(f"--{key} must not be empty")
    for path in getattr(args, "add", None) or []:
        if not path.exists():
            raise BadInput(f"--add: no such file: {path}")
        reports = reports.add(path)
    return reports.with_metadata(metadata) if metadata else reports


def _saved_fit(path: Path, option: str):
    """Load a saved fit from its file or from the report directory that holds it."""
    file = path / "fit.nc" if path.is_dir() else path
    if not file.exists():
        raise BadInput(f"{option}: no saved fit at {file}")
    try:
        return load(file)
    except IncompatibleFileError as error:
        raise BadInput(f"{option}: {error}") from None


def _options(args: argparse.Namespace, **extra: Any):
    """Check the model's options and return them (nothing is fitted)."""
    try:
        if "freq" in extra:
            parse_freq(extra["freq"])
        return make_options(end=args.end, origin=args.origin, **extra)
    except (ValueError, TypeError) as error:
        raise BadInput(str(error)) from None


def _design(reports: Reports, options):
    """Return the model's design of the reports (cheap: no sampling)."""
    try:
        return make_design(reports, options)
    except ValueError as error:
        raise BadInput(str(error)) from None


def _writable_directory(out: Path, force: bool) -> None:
    """Check, creating nothing, that ``out`` may be written: refuse it before any fitting."""
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} is a file, not a directory")
    try:
        check_replaceable(out, overwrite=force, what="report")
    except OutputExistsError as error:
        raise BadInput(f"--out: {error}".replace("overwrite=True", "--force")) from None
    # The report is written beside --out and moved into place: try --out itself when it
    # exists (a folder the user cannot write is refused, not replaced), else the nearest
    # folder that exists, where the first missing one will be created.
    existing = out
    while not existing.exists():
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(existing))
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise BadInput(f"cannot write to --out {out}: {error.strerror or error}") from None


# -- commands --------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    reports = _load(args)
    print(reports)
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print()
        print(reports.summary().to_string())
        print()
        print(reports.sources.to_string(index=False))
    design = _design(reports, _options(args))
    excluded = design.excluded
    by_table = excluded[excluded["excluded_by"] == "reports"]
    by_model = excluded[excluded["excluded_by"] == "model"]
    print()
    print(f"Excluded by the table (its exclude column): {_reports_count(len(by_table))}")
    for row in by_table.itertuples():
        print(f"  {row.report_id}: {row.reason}")
    print()
    print(f"Excluded by the model, which cannot use them: {_reports_count(len(by_model))}")
    for reason, rows in by_model.groupby("reason", sort=False):
        print(f"  {', '.join(rows['report_id'])}: {reason}")
    print()
    print(
        f"The fit will use {len(design.rows)} of {_reports_count(len(reports))}; "
        f"the estimate ends on {design.grid.dates[-1]:%Y-%m-%d}."
    )
    return EXIT_OK


def _reports_count(n: int) -> str:
    return "1 report" if n == 1 else f"{n} reports"


def _fit(args: argparse.Namespace) -> int:
    reports = _load(args)
    fit_options = {
        "freq": args.freq,
        "identification": args.identification,
        "sampler": args.sampler,
    }
    _design(reports, _options(args, **fit_options))
    out = args.out
    _writable_directory(out, args.force)
    previous = _saved_fit(args.previous, "--previous") if args.previous else None

    start = time.perf_counter()
    estimate = fit(
        reports,
        end=args.end,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        random_seed=args.seed,
        progressbar=not args.quiet,
        time_budget=args.time_budget,
        origin=args.origin,
        **fit_options,
    )
    # The report and the saved fit are written together beside --out and moved into
    # place whole: a failure or Ctrl-C leaves an earlier report as it was.
    try:
        with replace_output(out, overwrite=args.force, what="report", directory=True) as staging:
            report_module.write_report_files(estimate, staging, prob=args.prob, previous=previous)
            estimate.save(staging / "fit.nc")
        report, saved = out / "report.md", out / "fit.nc"
    except OutputExistsError as error:
        raise BadInput(f"--out: {error}".replace("overwrite=True", "--force")) from None
    except OSError as error:
        raise BadInput(
            f"could not write the results to {out}: {error.strerror or error}"
            + (f" ({error.filename})" if error.filename else "")
        ) from None
    diagnostics = estimate.diagnostics()
    print(f"{estimate!r}")
    for sentence, _ in headline_sentences(estimate, prob=args.prob):
        print(sentence)
    print(f"Wrote {report}, {report.with_suffix('.html')}, {out / 'figures'}, {out / 'tables'}")
    print(f"Saved the fit to {saved} ({time.perf_counter() - start:.0f} s in all).")
    if not diagnostics["passed"]:
        print(
            "nkest: the fit fails its sampler diagnostics ("
            + "; ".join(diagnostics["failures"])
            + "); do not cite it. "
            + (f"It was refitted ({diagnostics['refits']}); " if diagnostics["refits"] else "")
            + "refit with more --draws and --tune, or a longer --time-budget.",
            file=sys.stderr,
        )
        return EXIT_DIAGNOSTICS
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    old, new = _saved_fit(args.old, "old"), _saved_fit(args.new, "new")
    try:
        comparison = compare(old, new, quantity=args.quantity, date=args.date, prob=args.prob)
    except ValueError as error:
        raise BadInput(str(error)) from None
    print(comparison.to_markdown())
    return EXIT_OK


def run() -> None:
    """Run the command line as a program (the ``nkest`` command) and exit with its status.

    After Ctrl-C the process ends at once: nothing is left to write (outputs are moved
    into place whole or not at all), and tearing down a compiled model takes seconds.
    """
    status = main()
    if status == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
