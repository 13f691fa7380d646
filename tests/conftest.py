"""Shared fixtures: build small tables of reports as CSV files and DataFrames."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd
import pytest

type CsvContent = str | bytes | Sequence[Mapping[str, object]] | Sequence[Sequence[object]]


def csv_text(rows: Sequence[Mapping[str, object]] | Sequence[Sequence[object]]) -> str:
    """Render rows as CSV text with "\\n" line ends.

    Mappings: the header is the union of their keys, in first-seen order, and
    a missing key is a blank cell. Sequences: written as they are (the first
    one is the header).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if rows and isinstance(rows[0], Mapping):
        header = list(dict.fromkeys(key for row in rows for key in row))
        writer.writerow(header)
        writer.writerows([[row.get(name, "") for name in header] for row in rows])
    else:
        writer.writerows(rows)
    return buffer.getvalue()


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Return ``write(content, name=None) -> Path`` writing a file in ``tmp_path``.

    ``content`` is bytes (written as they are), text (encoded as UTF-8 with its
    line ends kept exactly) or rows (see :func:`csv_text`).
    """
    counter = itertools.count()

    def write(content: CsvContent, name: str | None = None) -> Path:
        path = tmp_path / (name or f"reports-{next(counter)}.csv")
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes(csv_text(content).encode("utf-8"))
        return path

    return write


@pytest.fixture
def minimal_frame() -> pd.DataFrame:
    """Three valid reports with only the required columns."""
    return pd.DataFrame(
        {
            "published": ["2024-12-19", "2025-01-13", "2025-04-30"],
            "source": ["Agency A", "Agency B", "Agency A"],
            "quantity": ["killed", "casualties", "killed"],
            "value": ["100", "3,000", "600"],
        }
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow", action="store_true", help="also run the long statistical studies"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="a long study: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def simulated():
    """A small simulated conflict with known truth (same structure for every use).

    Its groups are centred, as every simulated conflict's were when the plot and
    comparison tests were written against it: its exact figures are what they check.
    """
    from nkest.validate import simulate_conflict

    return simulate_conflict(7, days=200, n_reports=40, centre_groups=True)


@pytest.fixture(scope="session")
def small_estimate(simulated):
    """A quick fit of the simulated conflict: few draws, fixed seed."""
    import nkest

    end = simulated.daily.index[-1].date().isoformat()
    return nkest.fit(
        simulated.reports, end=end, draws=300, tune=300, chains=2, random_seed=11, progressbar=False
    )


@pytest.fixture(scope="session")
def dprk_estimate():
    """The bundled DPRK data fitted with the defaults and the README's seed (shared)."""
    import nkest

    return nkest.fit(nkest.load_dataset("dprk"), random_seed=20251123, progressbar=False)
