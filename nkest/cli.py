"""The ``nkest`` command line: check reports, fit them, write a report.

Exit status: 0 on success, 2 for bad input (with a clear message and no
traceback), 1 when a fit fails its sampler diagnostics (its report is still
written, with a warning).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from nkest.datasets import list_datasets, load_dataset
from nkest.errors import IncompatibleFileError, ReportError
from nkest.reports import Reports, load_reports

__all__ = ["main"]

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return its exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ReportError, IncompatibleFileError) as error:
        print(f"nkest: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"nkest: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nkest",
        description="Bayesian estimates of war casualties from conflicting public reports.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser(
        "check", help="validate a table of reports and summarise it (no fitting)"
    )
    _add_input(check)
    check.set_defaults(run=_check)

    fit = commands.add_parser(
        "fit",
        help="fit a CSV of reports; write the report, tables, figures and the saved fit",
    )
    fit.add_argument("reports", help="a CSV file of reports")
    _add_fit_options(fit)
    fit.set_defaults(run=_fit)

    report = commands.add_parser(
        "report", help="like fit, for a bundled dataset (--dataset) or a CSV file"
    )
    _add_input(report)
    _add_fit_options(report)
    report.set_defaults(run=_fit)
    return parser


def _add_input(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("reports", nargs="?", help="a CSV file of reports")
    source.add_argument(
        "--dataset", choices=list_datasets(), help="a bundled dataset instead of a file"
    )


def _add_fit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="directory to write into")
    parser.add_argument("--end", help="last date of the estimate (YYYY-MM-DD)")
    parser.add_argument("--freq", default="W", help="time grid: W (weekly, default), D, 2W, ...")
    parser.add_argument(
        "--identification",
        default="groups",
        help="'groups' (default: source groups unbiased on average) or "
        "'reference:NAME[,NAME]' (named sources unbiased)",
    )
    parser.add_argument("--origin", help="date at which every total was zero (YYYY-MM-DD)")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=None, help="random seed for reproducibility")
    parser.add_argument("--prob", type=float, default=0.9, help="credible interval (default 0.9)")
    parser.add_argument("--sampler", default="auto", choices=("auto", "nutpie", "pymc"))
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _load(args: argparse.Namespace) -> Reports:
    if getattr(args, "dataset", None):
        return load_dataset(args.dataset)
    path = Path(args.reports)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    return load_reports(path)


def _check(args: argparse.Namespace) -> int:
    reports = _load(args)
    print(reports)
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print()
        print(reports.summary().to_string())
        print()
        print(reports.sources.to_string(index=False))
    return EXIT_OK


def _fit(args: argparse.Namespace) -> int:
    from nkest.fit import fit

    reports = _load(args)
    start = time.perf_counter()
    estimate = fit(
        reports,
        end=args.end,
        freq=args.freq,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        random_seed=args.seed,
        progressbar=not args.quiet,
        identification=args.identification,
        origin=args.origin,
        sampler=args.sampler,
    )
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    report = estimate.report(out, prob=args.prob)
    saved = estimate.save(out / "fit.nc")
    diagnostics = estimate.diagnostics()
    print(f"{estimate!r}")
    for quantity in ("killed", "wounded", "casualties"):
        text = estimate.cite(quantity, prob=args.prob, allow_failed_diagnostics=True)
        print(text.partition(" Source: ")[0])
    print(f"Wrote {report}, {report.with_suffix('.html')}, {out / 'figures'}, {out / 'tables'}")
    print(f"Saved the fit to {saved} ({time.perf_counter() - start:.0f} s in all).")
    if not diagnostics["passed"]:
        print(
            "nkest: the fit fails its sampler diagnostics ("
            + "; ".join(diagnostics["failures"])
            + "); do not cite it. Refit with more --draws and --tune.",
            file=sys.stderr,
        )
        return EXIT_DIAGNOSTICS
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
