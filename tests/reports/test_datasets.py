"""The bundled datasets load from the installed package, with their metadata."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import nkest

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


def test_wheel_ships_the_dataset(wheel):
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("nkest/datasets/dprk_reports.csv")
        names = archive.namelist()
    assert shipped == CURATED.read_bytes()
    assert "nkest/datasets/dprk.json" in names


def test_installed_package_loads_the_dataset_outside_the_repository(wheel, tmp_path):
    """Unpack the wheel (as pip would install it) and load the dataset from elsewhere."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    script = (
        "import json, nkest; r = nkest.load_dataset('dprk'); "
        "print(json.dumps([nkest.__file__, len(r), len(r.used), r.metadata['name']]))"
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
