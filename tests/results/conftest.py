"""Fixtures of the results' tests: a written report of the quick simulated fit."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def report_dir(small_estimate, tmp_path_factory):
    """The report of ``small_estimate``, written once."""
    directory = tmp_path_factory.mktemp("report")
    small_estimate.report(directory)
    return directory
