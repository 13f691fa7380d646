"""Saving and loading fits: netCDF or zarr, with the reports, options and provenance.

A saved file holds the posterior, the sampler statistics, the reports the fit
used (as a table, so that they load back exactly) and, in its attributes, the
nkest version, the file format, the model options and the reports'
fingerprint. Loading checks all of it.
"""

from __future__ import annotations

import json
import os
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


def _engine(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".nc", ".netcdf", ".h5", ".nc4"):
        return "h5netcdf"
    if suffix == ".zarr":
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise ImportError(
                "saving to zarr needs the zarr package: pip install 'nkest[zarr]' (or zarr)"
            ) from None
        return "zarr"
    raise ValueError(f"save to a .nc (netCDF) or .zarr path, got {path.name!r}")


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
        If the file is not an nkest fit, has another file format, or its
        reports or shapes do not match what it says.
    FileNotFoundError
        If there is no such file.
    """
    from nkest.fit.estimate import Estimate
    from nkest.model.design import make_design
    from nkest.model.options import make_options
    from nkest.reports import load_reports

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no saved fit at {path}")
    engine = _engine(path)
    try:
        extra = {"consolidated": False} if engine == "zarr" else {}
        tree = xr.open_datatree(path, engine=engine, **extra).load()
    except (OSError, ValueError) as error:
        raise IncompatibleFileError(f"{path} is not a readable nkest fit: {error}") from None
    attrs = dict(tree.attrs)
    found = attrs.get("nkest_file_format")
    if found is None:
        raise IncompatibleFileError(f"{path} is not an nkest fit (no nkest_file_format attribute)")
    if int(found) != FILE_FORMAT:
        raise IncompatibleFileError(
            f"{path} has nkest file format {found} (written by nkest "
            f"{attrs.get('nkest_version', '?')}); this nkest reads format {FILE_FORMAT}"
        )
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
    options = json.loads(attrs["options"])
    options = make_options(**options)
    design = make_design(reports, options)
    posterior = tree["posterior"].to_dataset()
    if posterior.sizes.get("date") != design.grid.size or list(posterior["source"].values) != list(
        design.sources
    ):
        raise IncompatibleFileError(
            f"the posterior in {path} does not match the model of its reports "
            "(grid or sources differ): written by an incompatible nkest?"
        )
    from nkest.fit.sampling import SamplingInfo

    sampling = SamplingInfo(**json.loads(attrs["sampling"]))
    groups = xr.DataTree.from_dict(
        {"posterior": posterior, "sample_stats": tree["sample_stats"].to_dataset()}
    )
    estimate = Estimate(
        posterior=groups, reports=reports, design=design, options=options, sampling=sampling
    )
    estimate.posterior.attrs.update({k: v for k, v in attrs.items() if k != "nkest_file_format"})
    return estimate
