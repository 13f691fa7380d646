"""Saving and loading fits: netCDF or zarr, with the reports, options and provenance.

A saved file holds the posterior, the sampler statistics, the reports the fit
used (as a table, so that they load back exactly) and, in its attributes, the
nkest version, the file format, the model options, the reports' fingerprint
and a SHA-256 checksum of every array. Loading checks all of it: a flipped
byte, a lost chunk or a truncated file is refused, never read as numbers.

Saving never replaces what nkest did not write, and replaces an earlier saved
fit only when asked (``overwrite=True``); the file is written beside its
destination and moved into place whole (``nkest.files``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from nkest.errors import IncompatibleFileError, OptionError, ReportError, ReportWarning
from nkest.files import replace_output
from nkest.reports import Reports, load_reports
from nkest.version import __version__

__all__ = ["FILE_FORMAT", "SavedFit", "read_fit", "save_fit"]

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
    raise OptionError(f"save to a .nc (netCDF) or .zarr path, got {path.name!r}")


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


def _is_saved_fit(path: Path) -> bool:
    """Return whether ``path`` is a fit ``save_fit`` wrote, holding nothing else.

    A netCDF file with its attributes, or a zarr store with them whose every
    file is part of the store (its metadata, or a chunk under a ``c/`` folder).
    """
    if path.is_dir():
        try:
            attributes = json.loads((path / "zarr.json").read_text("utf-8"))["attributes"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        files = [item.relative_to(path).parts for item in path.rglob("*") if item.is_file()]
        return "nkest_file_format" in attributes and all(
            parts[-1] == "zarr.json" or "c" in parts[:-1] for parts in files
        )
    try:
        with path.open("rb") as file:
            if file.read(len(_HDF5_SIGNATURE)) != _HDF5_SIGNATURE:
                return False
        import h5py

        with h5py.File(path, "r") as opened:
            return "nkest_file_format" in opened.attrs
    except (OSError, ValueError):
        return False


def array_checksum(values: np.ndarray) -> str:
    """Return the SHA-256 of an array's values, the same after a round trip through a file.

    Numbers are hashed as little-endian float64 or int64 (NaN in one form),
    dates as int64 nanoseconds, text as UTF-8 with each item's length.
    """
    values = np.asarray(values)
    digest = hashlib.sha256(repr(values.shape).encode())
    kind = values.dtype.kind
    if kind in "OUST":  # T: NumPy 2 variable-width text, as zarr reads it back
        for item in values.ravel():
            text = item.decode() if isinstance(item, bytes) else str(item)
            data = text.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little") + data)
    elif kind == "M":
        digest.update(values.astype("datetime64[ns]").astype("<i8").tobytes())
    elif kind in "biu":
        digest.update(values.astype("<i8").tobytes())
    else:
        numbers = values.astype("<f8")
        digest.update(np.where(np.isnan(numbers), np.nan, numbers).tobytes())
    return digest.hexdigest()


def tree_checksums(tree: xr.DataTree) -> dict[str, str]:
    """Return the checksum of every variable and coordinate of every group, by path."""
    sums = {}
    for node in tree.subtree:
        if node is tree:
            continue
        dataset = node.to_dataset()
        for name, variable in dataset.variables.items():
            sums[f"{node.name}/{name}"] = array_checksum(variable.to_numpy())
    return sums


def _text_as_str(dataset: xr.Dataset) -> xr.Dataset:
    """Store object arrays (the sampler's messages, None when there is none) as text.

    A file reads None back as NaN; as text ("" for none) they read back as written,
    which the checksums need.
    """
    for name, variable in dataset.data_vars.items():
        if variable.dtype == object:
            text = np.vectorize(lambda v: "" if v is None else str(v), otypes=[object])(
                variable.to_numpy()
            )
            dataset = dataset.assign({name: (variable.dims, text.astype(str), variable.attrs)})
    return dataset


def save_fit(
    posterior: xr.DataTree,
    reports: Reports,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> Path:
    """Write a fit's draws and its reports to ``path`` (``.nc`` or ``.zarr``); return the path.

    Raises
    ------
    nkest.files.OutputExistsError
        If ``path`` holds something other than a fit nkest saved, or a saved
        fit and ``overwrite`` is false.
    """
    path = Path(path)
    engine = _engine(path)
    frame = reports.to_text_frame()
    table = xr.Dataset(
        {
            f"c{i}": ("row", frame[name].astype(str).to_numpy())
            for i, name in enumerate(frame.columns)
        },
        attrs={
            "columns": json.dumps(list(frame.columns)),
            "metadata": json.dumps(dict(reports.metadata)),
        },
    )
    groups = {name: _text_as_str(posterior[name].to_dataset()) for name in _GROUPS}
    groups["reports"] = table
    tree = xr.DataTree.from_dict(groups)
    tree.attrs.update(posterior.attrs)
    tree.attrs["nkest_file_format"] = FILE_FORMAT
    tree.attrs["nkest_checksums"] = json.dumps(tree_checksums(tree), sort_keys=True)
    with replace_output(
        path,
        overwrite=overwrite,
        what="saved fit",
        directory=engine == "zarr",
        is_nkest_file=_is_saved_fit,
    ) as temporary:
        if engine == "zarr":
            tree.to_zarr(temporary, mode="w", consolidated=False)
        else:
            tree.to_netcdf(temporary, engine=engine)
    return path


@dataclass(frozen=True)
class SavedFit:
    """A saved fit, read and checked: its draws, its attributes and its reports.

    ``nkest.results.estimate.load`` rebuilds the ``Estimate`` from it.
    """

    path: Path
    tree: xr.DataTree
    attrs: dict[str, Any]
    reports: Reports
    written_by: str

    def incompatible(self, error: Exception | str) -> IncompatibleFileError:
        """Return the error that says this file cannot be read by this nkest, and why."""
        return _incompatible(self.path, self.written_by, error)


def _incompatible(path: Path, written_by: str, error: Exception | str) -> IncompatibleFileError:
    if isinstance(error, str):
        return IncompatibleFileError(
            f"{error.replace('the posterior', f'the posterior in {path}', 1)}: "
            "written by an incompatible nkest?"
        )
    what = f"missing {error}" if isinstance(error, KeyError) else str(error)
    return IncompatibleFileError(
        f"{path} was written by {written_by} and cannot be read by this nkest "
        f"({__version__}): {type(error).__name__}: {what}"
    )


def read_fit(path: str | os.PathLike[str]) -> SavedFit:
    """Read a fit written by ``save_fit``, checking everything that can be checked.

    Raises
    ------
    IncompatibleFileError
        If the path is not an nkest fit file, has another file format, was
        written by a newer major version of nkest, is damaged (its arrays
        differ from their checksums), or its reports do not load or do not
        match their fingerprint.
    FileNotFoundError
        If there is no such file.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no saved fit at {path}")
    engine = _read_engine(path)
    if engine == "zarr":
        _check_zarr_codecs(path)
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
            f"this nkest ({__version__}) reads format {FILE_FORMAT}"
        )
    _verify_checksums(tree, attrs, path, written_by)
    newer = _major(attrs.get("nkest_version"))
    if newer is not None and (ours := _major(__version__)) is not None and newer > ours:
        raise IncompatibleFileError(
            f"{path} was written by {written_by}, a newer major version than this nkest "
            f"({__version__}): upgrade nkest to read it"
        )
    missing = [name for name in (*_GROUPS, "reports") if name not in tree.children]
    if missing:
        raise IncompatibleFileError(f"{path} lacks the group(s) {', '.join(missing)}")
    kept = {k: v for k, v in attrs.items() if k not in ("nkest_file_format", "nkest_checksums")}
    try:
        reports = _saved_reports(tree, path)
    except IncompatibleFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise _incompatible(path, written_by, error) from error
    if reports.fingerprint() != attrs.get("reports_fingerprint"):
        raise IncompatibleFileError(
            f"the reports saved in {path} do not match its fingerprint "
            f"({reports.fingerprint()} != {attrs.get('reports_fingerprint')}): the file was altered"
        )
    return SavedFit(path, tree, kept, reports, written_by)


def _saved_reports(tree: xr.DataTree, path: Path) -> Reports:
    table = tree["reports"].to_dataset()
    columns = json.loads(table.attrs["columns"])
    frame = pd.DataFrame(
        {
            name: [str(cell) for cell in table[f"c{i}"].to_numpy().astype(object)]
            for i, name in enumerate(columns)
        }
    )
    try:
        with warnings.catch_warnings():
            # Its warnings (unused columns, look-alike names) were given when it was loaded.
            warnings.simplefilter("ignore", ReportWarning)
            return load_reports(frame, metadata=json.loads(table.attrs["metadata"]))
    except ReportError as error:
        raise IncompatibleFileError(f"the reports saved in {path} do not load: {error}") from None


_ZARR_CODECS = frozenset(
    {"bytes", "zstd", "gzip", "blosc", "crc32c", "transpose", "vlen-utf8", "vlen-bytes"}
)
"""Codecs a saved zarr store may use: none of them runs code (a pickle codec would)."""


def _codec_names(node: object) -> set[str]:
    if isinstance(node, dict):
        names = {node[key] for key in ("name", "id") if isinstance(node.get(key), str)}
        for key in ("codecs", "compressor", "filters", "configuration"):
            names |= _codec_names(node.get(key))
        return names
    if isinstance(node, list):
        return set().union(*(_codec_names(item) for item in node)) if node else set()
    return set()


def _check_zarr_codecs(path: Path) -> None:
    """Refuse a zarr store whose arrays would be decoded by a codec outside ``_ZARR_CODECS``."""
    for metadata in [*path.rglob("zarr.json"), *path.rglob(".zarray")]:
        try:
            description = json.loads(metadata.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # the read that follows reports an unreadable store
        if not isinstance(description, dict):
            continue
        unknown = (
            _codec_names({k: description.get(k) for k in ("codecs", "compressor", "filters")})
            - _ZARR_CODECS
        )
        if unknown:
            raise IncompatibleFileError(
                f"{path} uses the codec(s) {', '.join(sorted(unknown))} in "
                f"{metadata.relative_to(path)}, which nkest does not read: reading a saved fit "
                f"must not run code, and these are not among the codecs nkest writes "
                f"({', '.join(sorted(_ZARR_CODECS))})"
            )


def _verify_checksums(tree: xr.DataTree, attrs: dict, path: Path, written_by: str) -> None:
    """Refuse a file whose arrays differ from the checksums written with them."""
    try:
        expected = json.loads(attrs["nkest_checksums"])
    except (KeyError, TypeError, ValueError):
        raise IncompatibleFileError(
            f"{path} (written by {written_by}) has no readable checksums of its arrays, "
            "so its values cannot be trusted: save the fit again"
        ) from None
    found = tree_checksums(tree)
    damaged = sorted(
        name for name in expected.keys() | found.keys() if expected.get(name) != found.get(name)
    )
    if damaged:
        raise IncompatibleFileError(
            f"{path} is corrupt: the values of {', '.join(damaged[:5])}"
            + (f" and {len(damaged) - 5} more" if len(damaged) > 5 else "")
            + " differ from the checksums written with them (a damaged, truncated or "
            "edited file); it is not read"
        )


def _major(version: object) -> int | None:
    """Return the major version of a version string ("0.1.0" -> 0), or None if unreadable."""
    match = re.match(r"\s*v?(\d+)", str(version)) if version is not None else None
    return int(match.group(1)) if match else None
