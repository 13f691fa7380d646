"""Saving and loading fits: netCDF or zarr, with the reports, options and provenance.

A saved file holds the posterior, the sampler statistics, the reports the fit
used (as a table, so that they load back exactly) and, in its attributes, the
nkest version, the file format, the model options and the reports'
fingerprint. Loading checks all of it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from nkest.errors import IncompatibleFileError, ReportError

if TYPE_CHECKING:
    from nkest.fit.estimate import Estimate

__all__ = ["FILE_FORMAT", "load_estimate", "save_estimate"]

FILE_FORMAT = 1
"""Version of the saved-file layout; a file of another format is refused."""

_GROUPS = ("posterior", "sample_stats", "log_likelihood")


_SUFFIXES = {".nc": "h5netcdf", ".netcdf": "h5netcdf", ".h5": "h5netcdf", ".nc4": "h5netcdf"}
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _engine(path: Path) -> str:
    """Return the engine that writes ``path``, by its suffix."""
    suffix = path.suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if suffix == ".zarr":
        return "zarr"
    raise ValueError(f"save to a .nc (netCDF) or .zarr path, got {path.name!r}")


def _read_engine(path: Path) -> str:
    """Return the engine that reads ``path``: by its suffix, else by what the file holds.

    Raises
    ------
    IncompatibleFileError
        If the path is neither a netCDF (HDF5) file nor a zarr store.
    """
    suffix = path.suffix.lower()
    if suffix in _SUFFIXES or suffix == ".zarr":
        return _engine(path)
    if path.is_dir() and any((path / name).exists() for name in ("zarr.json", ".zgroup")):
        return "zarr"
    if path.is_file():
        try:
            with path.open("rb") as file:
                if file.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE:
                    return "h5netcdf"
        except OSError:
            pass
    raise IncompatibleFileError(
        f"{path} is not an nkest fit file: expected a netCDF (.nc) file or a zarr (.zarr) "
        "store written by Estimate.save"
    )


def save_estimate(estimate: Estimate, path: str | os.PathLike[str]) -> Path:
    """Write an estimate to ``path`` (``.nc`` or ``.zarr``); return the path."""
    path = Path(path)
    engine = _engine(path)
    frame = estimate.reports.to_text_frame()
    reports = xr.Dataset(
        {
            f"c{i}": ("row", frame[name].astype(str).to_numpy())
            for i, name in enumerate(frame.columns)
        },
        attrs={
            "columns": json.dumps(list(frame.columns)),
            "metadata": json.dumps(dict(estimate.reports.metadata)),
        },
    )
    groups = {name: estimate.posterior[name].to_dataset() for name in _GROUPS}
    groups["reports"] = reports
    tree = xr.DataTree.from_dict(groups)
    tree.attrs.update(estimate.posterior.attrs)
    tree.attrs["nkest_file_format"] = FILE_FORMAT
    if engine == "zarr":
        tree.to_zarr(path, mode="w", consolidated=False)
    else:
        tree.to_netcdf(path, engine=engine)
    return path


def load_estimate(path: str | os.PathLike[str]) -> Estimate:
    """Read an estimate written by ``Estimate.save``.

    Raises
    ------
    IncompatibleFileError
        If the path is not an nkest fit file (netCDF or zarr, with the
        attributes ``Estimate.save`` writes), has another file format, was
        written by a newer major version of nkest, lacks something a fit
        needs (its options, its reports, their columns), records options or
        sampler settings this nkest does not know, or its reports or shapes
        do not match what it says. The message names the nkest version that
        wrote the file.
    FileNotFoundError
        If there is no such file.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no saved fit at {path}")
    engine = _read_engine(path)
    try:
        extra = {"consolidated": False} if engine == "zarr" else {}
        with xr.open_datatree(path, engine=engine, **extra) as opened:
            tree = opened.load()  # read it all, and let the file go
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IncompatibleFileError(
            f"{path} is not a readable nkest fit file: {type(error).__name__}: {error}"
        ) from None
    attrs = dict(tree.attrs)
    found = attrs.get("nkest_file_format")
    if found is None:
        raise IncompatibleFileError(f"{path} is not an nkest fit (no nkest_file_format attribute)")
    written_by = f"nkest {attrs.get('nkest_version', '(version not recorded)')}"
    try:
        layout = int(str(found))
    except ValueError:
        layout = None
    if layout != FILE_FORMAT:
        raise IncompatibleFileError(
            f"{path} has nkest file format {found} (written by {written_by}); "
            f"this nkest ({_version()}) reads format {FILE_FORMAT}"
        )
    newer = _major(attrs.get("nkest_version"))
    if newer is not None and (ours := _major(_version())) is not None and newer > ours:
        raise IncompatibleFileError(
            f"{path} was written by {written_by}, a newer major version than this nkest "
            f"({_version()}): upgrade nkest to read it"
        )
    try:
        return _estimate_from(tree, attrs, path)
    except IncompatibleFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        what = f"missing {error}" if isinstance(error, KeyError) else str(error)
        raise IncompatibleFileError(
            f"{path} was written by {written_by} and cannot be read by this nkest "
            f"({_version()}): {type(error).__name__}: {what}"
        ) from error


def _version() -> str:
    from nkest import __version__

    return __version__


def _major(version: object) -> int | None:
    """Return the major version of a version string ("0.1.0" -> 0), or None if unreadable."""
    match = re.match(r"\s*v?(\d+)", str(version)) if version is not None else None
    return int(match.group(1)) if match else None


def _estimate_from(tree: xr.DataTree, attrs: dict, path: Path) -> Estimate:
    """Rebuild the estimate of a file whose format has been checked."""
    from nkest.fit.estimate import Estimate
    from nkest.fit.sampling import SamplingInfo
    from nkest.model.design import make_design
    from nkest.model.options import make_options
    from nkest.reports import load_reports

    missing = [name for name in (*_GROUPS, "reports") if name not in tree.children]
    if missing:
        raise IncompatibleFileError(f"{path} lacks the group(s) {', '.join(missing)}")
    table = tree["reports"].to_dataset()
    columns = json.loads(table.attrs["columns"])
    frame = pd.DataFrame(
        {
            name: [str(cell) for cell in table[f"c{i}"].to_numpy().astype(object)]
            for i, name in enumerate(columns)
        }
    )
    try:
        reports = load_reports(frame, metadata=json.loads(table.attrs["metadata"]))
    except ReportError as error:
        raise IncompatibleFileError(f"the reports saved in {path} do not load: {error}") from None
    if reports.fingerprint() != attrs.get("reports_fingerprint"):
        raise IncompatibleFileError(
            f"the reports saved in {path} do not match its fingerprint "
            f"({reports.fingerprint()} != {attrs.get('reports_fingerprint')}): the file was altered"
        )
    options = make_options(**json.loads(attrs["options"]))
    design = make_design(reports, options)
    posterior = tree["posterior"].to_dataset()
    if posterior.sizes.get("date") != design.grid.size or list(posterior["source"].values) != list(
        design.sources
    ):
        raise IncompatibleFileError(
            f"the posterior in {path} does not match the model of its reports "
            "(grid or sources differ): written by an incompatible nkest?"
        )
    sampling = SamplingInfo(**json.loads(attrs["sampling"]))
    groups = xr.DataTree.from_dict(
        {"posterior": posterior, "sample_stats": tree["sample_stats"].to_dataset()}
    )
    estimate = Estimate(
        posterior=groups, reports=reports, design=design, options=options, sampling=sampling
    )
    estimate.posterior.attrs.update({k: v for k, v in attrs.items() if k != "nkest_file_format"})
    return estimate
