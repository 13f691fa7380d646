"""The ``nkest`` command line: check reports, fit them, write a report.

Exit status: 0 on success, 2 for bad input (with a clear message and no
traceback), 1 when a fit fails its sampler diagnostics.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pandas as pd

from nkest.datasets import list_datasets, load_dataset
from nkest.errors import ReportError
from nkest.reports import Reports, load_reports

__all__ = ["main"]

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return its exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ReportError as error:
        print(f"nkest: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ValueError, FileNotFoundError) as error:
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
    return parser


def _add_input(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("reports", nargs="?", help="a CSV file of reports")
    source.add_argument(
        "--dataset", choices=list_datasets(), help="a bundled dataset instead of a file"
    )


def _load(args: argparse.Namespace) -> Reports:
    return load_dataset(args.dataset) if args.dataset else load_reports(args.reports)


def _check(args: argparse.Namespace) -> int:
    reports = _load(args)
    print(reports)
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print()
        print(reports.summary().to_string())
        print()
        print(reports.sources.to_string(index=False))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
