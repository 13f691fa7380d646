"""Saved fits: a file nkest cannot read is refused with a clear message, never a crash."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable

import pandas as pd
import pytest
import xarray as xr

import nkest
from nkest.errors import IncompatibleFileError


@pytest.fixture(scope="module")
def saved(small_estimate, tmp_path_factory):
    return small_estimate.save(tmp_path_factory.mktemp("saved") / "fit.nc")


def rewritten(saved, tmp_path, change: Callable[[xr.DataTree], None], name="changed.nc"):
    """A copy of the saved fit with ``change`` applied to its tree."""
    with xr.open_datatree(saved, engine="h5netcdf") as opened:
        tree = opened.load()
    change(tree)
    path = tmp_path / name
    tree.to_netcdf(path, engine="h5netcdf")
    return path


def written_by(saved) -> str:
    """How the refusal must name the nkest that wrote the file."""
    with xr.open_datatree(saved, engine="h5netcdf") as opened:
        return f"written by nkest {opened.attrs['nkest_version']}"


def set_attr(name, value):
    def change(tree):
        tree.attrs[name] = value

    return change


def drop_attr(name):
    def change(tree):
        del tree.attrs[name]

    return change


def with_json_key(name, key, value):
    def change(tree):
        plain = json.loads(tree.attrs[name])
        plain[key] = value
        tree.attrs[name] = json.dumps(plain)

    return change


def drop_reports_columns(tree):
    reports = tree["reports"].to_dataset()
    del reports.attrs["columns"]
    tree["reports"] = xr.DataTree(reports)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (set_attr("nkest_file_format", "abc"), "has nkest file format abc"),
        (drop_attr("options"), "missing 'options'"),
        (with_json_key("options", "option_from_the_future", 1), "option_from_the_future"),
        (with_json_key("sampling", "setting_from_the_future", 1), "setting_from_the_future"),
        (drop_reports_columns, "missing 'columns'"),
        (set_attr("options", "{not json"), "cannot be read by this nkest"),
    ],
    ids=[
        "format-not-a-number",
        "no-options",
        "unknown-option",
        "unknown-sampling-key",
        "no-report-columns",
        "options-not-json",
    ],
)
def test_incompatible_files_are_refused_naming_the_version_that_wrote_them(
    saved, tmp_path, change, message
):
    path = rewritten(saved, tmp_path, change)
    with pytest.raises(IncompatibleFileError) as raised:
        nkest.load(path)
    text = str(raised.value)
    assert message in text
    assert written_by(saved) in text
    assert str(path) in text


def test_a_file_of_a_newer_major_version_is_refused(saved, tmp_path):
    major = int(nkest.__version__.split(".")[0])
    path = rewritten(saved, tmp_path, set_attr("nkest_version", f"{major + 1}.0.0"))
    with pytest.raises(IncompatibleFileError, match="newer major version"):
        nkest.load(path)
    # a newer minor version of the same major is read
    path = rewritten(saved, tmp_path, set_attr("nkest_version", f"{major}.99.0"), "minor.nc")
    assert nkest.load(path).reports == nkest.load(saved).reports


def test_files_that_are_not_fits_are_refused(saved, tmp_path):
    with pytest.raises(IncompatibleFileError, match="is not an nkest fit file"):
        nkest.load("/etc/passwd")
    text = tmp_path / "notes.nc"
    text.write_text("not a netCDF file\n")
    with pytest.raises(IncompatibleFileError, match="is not a readable nkest fit file"):
        nkest.load(text)
    with pytest.raises(FileNotFoundError, match="no saved fit"):
        nkest.load(tmp_path / "missing.nc")


def test_a_renamed_fit_file_still_loads(saved, small_estimate, tmp_path):
    renamed = tmp_path / "fit-without-suffix"
    shutil.copy(saved, renamed)
    loaded = nkest.load(renamed)
    pd.testing.assert_frame_equal(loaded.summary(), small_estimate.summary())


def test_saving_names_the_formats():
    from nkest.results import io

    with pytest.raises(ValueError, match=r"save to a \.nc \(netCDF\) or \.zarr path"):
        io._engine(io.Path("fit.pickle"))
    assert io._engine(io.Path("fit.zarr")) == "zarr"
