"""The bundled datasets load from the installed package, with their metadata."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import nkest

ROOT = Path(__file__).parents[1]


def test_dprk_dataset_loads_every_row_of_the_curated_file():
    reports = nkest.load_dataset("dprk")
    with (ROOT / "data" / "dprk_reports.csv").open(encoding="utf-8") as handle:
        data_rows = sum(1 for line in handle if line.strip()) - 1
    assert len(reports) == data_rows
    assert reports.metadata["subject"] == "North Korean soldiers"
    assert reports.metadata["origin"] < reports.first_date.strftime("%Y-%m-%d")
    assert (reports.to_frame()["citation"] != "").all()


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ValueError, match="available: dprk"):
        nkest.load_dataset("nope")


def test_wheel_ships_the_dataset(tmp_path):
    build = pytest.importorskip("hatchling.builders.wheel")
    builder = build.WheelBuilder(str(ROOT))
    (wheel,) = list(builder.build(directory=str(tmp_path), versions=["standard"]))
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("nkest/datasets/dprk_reports.csv")
    assert shipped == (ROOT / "data" / "dprk_reports.csv").read_bytes()
