"""Datasets bundled with nkest, readable from the installed package."""

from __future__ import annotations

import json
from importlib import resources

from nkest.errors import OptionError
from nkest.reports import Reports, load_reports

__all__ = ["list_datasets", "load_dataset"]


def list_datasets() -> list[str]:
    """Return the names of the bundled datasets."""
    folder = resources.files(__name__)
    names = (item.name for item in folder.iterdir())
    return sorted(name.removesuffix(".json") for name in names if name.endswith(".json"))


def load_dataset(name: str) -> Reports:
    """Load a bundled dataset of reports, with its metadata.

    Parameters
    ----------
    name : str
        One of ``list_datasets``; ``"dprk"`` is the reported losses of
        North Korean troops fighting for Russia (2024-), curated from public
        reporting, every row with its citation (see ``data/README.md``).

    Returns
    -------
    Reports

    Raises
    ------
    ValueError
        If there is no dataset by that name.
    """
    names = list_datasets()
    if name not in names:
        raise OptionError(f"no bundled dataset {name!r}; available: {', '.join(names)}")
    folder = resources.files(__name__)
    metadata = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    with resources.as_file(folder / metadata.pop("file")) as path:
        return load_reports(path, metadata=metadata)
