"""The bundled datasets load from the installed package, with their metadata."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import nkest
import nkest.datasets

ROOT = Path(__file__).parents[2]
CURATED = ROOT / "data" / "dprk_reports.csv"


def _curated_rows() -> list[dict[str, str]]:
    with CURATED.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_dprk_dataset_loads_every_row_of_the_curated_file():
    reports = nkest.load_dataset("dprk")
    with CURATED.open(encoding="utf-8") as handle:
        data_rows = sum(1 for line in handle if line.strip()) - 1
    assert len(reports) == data_rows
    assert reports.metadata["subject"] == "North Korean soldiers"
    assert reports.metadata["origin"] < reports.first_date.strftime("%Y-%m-%d")
    assert (reports.to_frame()["citation"] != "").all()


def test_dprk_dataset_keeps_every_cell_of_the_curated_file():
    """The loader changes no figure: ids, numbers, words and exclusions are as in the CSV."""
    frame = nkest.load_dataset("dprk").to_frame()
    rows = _curated_rows()
    assert frame["report_id"].tolist() == [row["report_id"] for row in rows]
    for name in ("value", "value_high"):
        loaded = frame[name].astype("string").fillna("").tolist()
        assert loaded == [row[name] for row in rows], name
    for name in ("source", "quantity", "qualifier", "scope", "constraint", "exclude", "citation"):
        assert frame[name].tolist() == [row[name] for row in rows], name
    assert frame["published"].dt.strftime("%Y-%m-%d").tolist() == [r["published"] for r in rows]


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ValueError, match="available: dprk"):
        nkest.load_dataset("nope")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    build = pytest.importorskip("hatchling.builders.wheel")
    builder = build.WheelBuilder(str(ROOT))
    directory = tmp_path_factory.mktemp("wheel")
    (built,) = list(builder.build(directory=str(directory), versions=["standard"]))
    return Path(built)


@pytest.mark.parametrize("name", ["dprk", "ukraine"])
def test_wheel_ships_the_dataset(wheel, name):
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read(f"nkest/datasets/{name}_reports.csv")
        names = archive.namelist()
    assert shipped == (ROOT / "data" / f"{name}_reports.csv").read_bytes()
    assert f"nkest/datasets/{name}.json" in names


def test_installed_package_loads_the_dataset_outside_the_repository(wheel, tmp_path):
    """Unpack the wheel (as pip would install it) and load the dataset from elsewhere."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    script = (
        "import json, nkest; r = nkest.load_dataset('dprk'); "
        "print(json.dumps([nkest.__file__, len(r), len(r.kept), r.metadata['name']]))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    location, count, used, name = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(location).is_relative_to(site)  # the unpacked wheel, not the repository
    rows = _curated_rows()
    assert count == len(rows)
    assert used == sum(row["exclude"] == "" for row in rows)
    assert name == "dprk"


@pytest.mark.parametrize("name", ["dprk", "ukraine"])
def test_each_dataset_states_its_version_and_the_date_of_its_latest_report(name):
    reports = nkest.load_dataset(name)
    metadata = reports.metadata
    assert metadata["version"] == nkest.datasets.dataset_metadata(name)["version"]
    latest = reports.to_frame()["published"].max().strftime("%Y-%m-%d")
    assert metadata["reports_up_to"] == latest
    changelog = (ROOT / "data" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {name} {metadata['version']} — reports up to {latest}" in changelog
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert f"| `{name}` | `{name}_reports.csv` |" in readme


def test_the_ukraine_dataset_is_large_cited_and_quoted():
    reports = nkest.load_dataset("ukraine")
    frame = reports.to_frame()
    assert len(frame) >= 120
    assert frame["source"].nunique() >= 30
    assert frame["citation"].str.contains("http").all()
    assert frame["note"].str.contains(r"Quote(?: \([^)]*\))?:").all()  # "Quote (Polish): ..."
    assert reports.metadata["subject"] == "Ukrainian soldiers"
    assert (frame["constraint"] == "floor").sum() >= 1  # a named list of the dead


def test_the_dprk_dataset_is_current_and_audited():
    frame = nkest.load_dataset("dprk").to_frame()
    assert len(frame) >= 110
    assert frame["published"].max() >= pd.Timestamp("2026-01-01")


def test_a_fit_saved_from_an_older_dataset_version_says_so(small_estimate, tmp_path):
    older = small_estimate.reports.with_metadata({"name": "dprk", "version": "2026.01"})
    estimate = nkest.fit(
        older,
        end=small_estimate.grid.end.isoformat(),
        draws=50,
        tune=50,
        chains=1,
        random_seed=1,
        progressbar=False,
    )
    path = estimate.save(tmp_path / "fit.nc")
    with pytest.warns(nkest.DatasetVersionWarning, match="version 2026.01; the bundled"):
        nkest.load(path)
    current = small_estimate.reports.with_metadata(
        {"name": "dprk", "version": nkest.datasets.dataset_metadata("dprk")["version"]}
    )
    assert (
        "dataset dprk"
        in nkest.fit(
            current,
            end=small_estimate.grid.end.isoformat(),
            draws=50,
            tune=50,
            chains=1,
            random_seed=1,
            progressbar=False,
        )
        .cite(allow_failed_diagnostics=True)
        .note
    )
