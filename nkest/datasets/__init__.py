"""Datasets bundled with nkest, readable from the installed package."""

from __future__ import annotations

import json
from importlib import resources

from nkest.errors import OptionError
from nkest.reports import Reports, load_reports

__all__ = ["dataset_metadata", "list_datasets", "load_dataset"]


def list_datasets() -> list[str]:
    """Return the names of the bundled datasets."""
    folder = resources.files(__name__)
    names = (item.name for item in folder.iterdir())
    return sorted(name.removesuffix(".json") for name in names if name.endswith(".json"))


def dataset_metadata(name: str) -> dict[str, str]:
    """Return a bundled dataset's metadata: title, subject, origin, ``version``, ``reports_up_to``.

    ``version`` names the curation (``YYYY.MM``; ``data/CHANGELOG.md`` says what
    each version added, excluded or corrected); ``reports_up_to`` is the date
    of the latest report in it.

    Raises
    ------
    nkest.errors.OptionError
        If there is no dataset by that name.
    """
    names = list_datasets()
    if name not in names:
        raise OptionError(f"no bundled dataset {name!r}; available: {', '.join(names)}")
    folder = resources.files(__name__)
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


def load_dataset(name: str) -> Reports:
    """Load a bundled dataset of reports, with its metadata.

    Parameters
    ----------
    name : str
        One of ``list_datasets``: ``"dprk"``, the reported losses of North
        Korean troops fighting for Russia (2024-); ``"ukraine"``, Ukraine's
        military losses in the Russia-Ukraine war (2022-). Both curated from
        public reporting, every row with its citation and quote (see
        ``data/README.md``).

    Returns
    -------
    Reports
        With the dataset's metadata, its ``version`` and ``reports_up_to``
        among them (cited by ``Estimate.cite``, the report and a saved fit).

    Raises
    ------
    nkest.errors.OptionError
        If there is no dataset by that name.
    """
    metadata = dataset_metadata(name)
    folder = resources.files(__name__)
    with resources.as_file(folder / metadata.pop("file")) as path:
        return load_reports(path, metadata=metadata)
