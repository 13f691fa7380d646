r"""Tables that paste into a report: Markdown, CSV, JSON and LaTeX with readable numbers.

Two kinds of output:

- **Data** (CSV, JSON): every number at full precision, so that a table reads
  back exactly. Dates are ISO dates. An open bound (infinity) is written
  ``inf`` (``-inf``) in both: in CSV as the text ``inf``, which readers such as
  pandas read back as a float, and in JSON as the string ``"inf"``, since JSON
  has no infinity. A missing value is an empty cell in CSV and ``null`` in
  JSON. CSV files open in spreadsheets: a text cell that starts with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so
  that it cannot run as a formula (OWASP); JSON keeps every text as it is.
- **Display** (Markdown, LaTeX): numbers for reading. Estimated counts
  (``mean``, ``median``, ``lower``, ``upper``, predicted figures) are rounded
  to two significant figures, as in ``cite``; stated figures and the bounds
  of claims are whole numbers from 10 up; every count below 10 keeps two
  significant figures (a claim of 1.5–2.5 stays 1.5–2.5, not 2–2);
  probabilities have three decimals, or read ``<0.001``; bias factors two
  decimals; an open bound is ∞. Text cells are escaped so that they read as
  text and never as markup (``nkest.results.markup``), and ``http(s)``
  addresses become links (``<https://...>`` in Markdown; ``\url{...}`` in
  LaTeX when the address has no character special to LaTeX, which needs
  ``\usepackage{url}`` or ``hyperref``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nkest.errors import OptionError
from nkest.files import OutputExistsError
from nkest.results.markup import latex_cell, latex_text, markdown_cell, spreadsheet_cell

__all__ = ["FORMATS", "format_table", "write_table"]

FORMATS = {".md": "markdown", ".csv": "csv", ".json": "json", ".tex": "latex"}
"""File suffix -> format written by ``write_table``."""

_ESTIMATE_COLUMNS = {
    "mean",
    "median",
    "lower",
    "upper",
    "latent_median",
    "predicted_median",
    "predicted_lower",
    "predicted_upper",
}
"""Estimated counts: shown to two significant figures, like the sentences of ``cite``."""
_COUNT_COLUMNS = {"claim_lower", "claim_upper", "value", "value_high", "truth"}
"""Stated counts and the bounds of claims: shown whole from 10 up."""
_FACTOR_COLUMNS = {"factor_median", "factor_lower", "factor_upper", "bias_factor"}
_PROBABILITY_COLUMNS = {
    "p_claim",
    "tail_p",
    "loo_tail_p",
    "min_tail_p",
    "conflict_p",
    "prob",
    "coverage",
}
_SMALLEST_PROBABILITY = 0.001


def format_table(
    frame: pd.DataFrame, fmt: str = "markdown", *, header: Callable[[str], str] | None = None
) -> str:
    """Render a result table as text.

    Parameters
    ----------
    frame : pandas.DataFrame
        For example ``Estimate.summary()`` or ``Estimate.source_bias()``.
    fmt : {"markdown", "csv", "json", "latex"}
        Markdown and LaTeX are for reading (rounded, escaped, URLs as
        links); CSV and JSON are data (full precision, ``inf`` for an open
        bound). See the module's description.
    header : callable, optional
        Markdown and LaTeX: the column names as shown (``"as of"`` for
        ``as_of``). The columns are formatted by their own names, so their
        rules (rounding, probabilities) still apply.

    Returns
    -------
    str
    """
    numeric = [_is_number_column(frame[c]) for c in frame.columns]
    shown = [(header or str)(str(c)) for c in frame.columns]
    if fmt == "markdown":
        text = _readable(frame, markdown_cell)
        text.columns = [markdown_cell(name) for name in shown]
        align = ["right" if is_number else "left" for is_number in numeric]
        return text.to_markdown(index=False, disable_numparse=True, colalign=align)
    if fmt == "latex":
        text = _readable(frame, latex_cell, latex_text)
        text.columns = [latex_text(name) for name in shown]
        spec = "".join("r" if is_number else "l" for is_number in numeric)
        return text.to_latex(index=False, escape=False, column_format=spec)
    if fmt == "csv":
        data = _data(frame).astype(object)
        for name in data.columns:
            data[name] = [spreadsheet_cell(v) if isinstance(v, str) else v for v in data[name]]
        data.columns = [spreadsheet_cell(str(c)) for c in data.columns]
        return data.to_csv(index=False)
    if fmt == "json":
        records = [
            {str(name): _json_value(value) for name, value in row.items()}
            for row in _data(frame).to_dict(orient="records")
        ]
        return json.dumps(records, indent=2, ensure_ascii=False, allow_nan=False)
    raise OptionError(f"fmt must be one of {', '.join(FORMATS.values())}; got {fmt!r}")


def write_table(
    frame: pd.DataFrame, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write a table in the format its suffix names (``.md``, ``.csv``, ``.json``, ``.tex``).

    Parameters
    ----------
    frame : pandas.DataFrame
    path : path
    overwrite : bool
        Replace a file already at ``path``. A table file cannot say who wrote
        it, so without this an existing file is refused, never replaced.

    Raises
    ------
    nkest.files.OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise OptionError(f"write a table to one of {', '.join(FORMATS)}; got {path.name!r}")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise OutputExistsError(
            f"{path} already exists; nkest replaces a file only when asked: pass "
            "overwrite=True to replace it, or choose a new path"
        )
    path.write_text(format_table(frame, fmt), encoding="utf-8")
    return path


# -- data: CSV and JSON ----------------------------------------------------------------


def _is_number_column(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _iso(value: Any) -> str:
    """Write a timestamp as an ISO date (with the time only when there is one)."""
    if pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()


def _data(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the table with dates as ISO text and every number as it is."""
    frame = frame.copy()
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            frame[name] = [_iso(v) if pd.notna(v) else None for v in column]
        elif column.dtype == object:
            frame[name] = [
                _iso(v) if isinstance(v, pd.Timestamp) and pd.notna(v) else v for v in column
            ]
    return frame


def _json_value(value: Any) -> Any:
    """Return a cell as JSON can hold it: infinity as "inf", missing as null."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


# -- display: Markdown and LaTeX -------------------------------------------------------


def _readable(frame: pd.DataFrame, escape, escape_number=str) -> pd.DataFrame:
    """Return the table as text cells: numbers formatted by their column, text escaped."""
    cells = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            cells[name] = [_iso(v) for v in column]
        elif _is_number_column(column):
            cells[name] = [escape_number(_display_number(name, v, column)) for v in column]
        else:
            cells[name] = [
                "" if _missing(v) else escape(_iso(v) if isinstance(v, pd.Timestamp) else str(v))
                for v in column
            ]
    return pd.DataFrame(cells, columns=list(frame.columns), index=frame.index)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _display_number(name: str, value: Any, column: pd.Series) -> str:
    """Format one number for reading, by what its column holds."""
    if pd.isna(value):
        return ""
    if pd.api.types.is_integer_dtype(column):
        return f"{int(value):,}"
    value = float(value)
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if name in _PROBABILITY_COLUMNS:
        return f"<{_SMALLEST_PROBABILITY:g}" if value < _SMALLEST_PROBABILITY else f"{value:.3f}"
    if name in _FACTOR_COLUMNS:
        return f"{value:,.2f}"
    if name in _ESTIMATE_COLUMNS:
        return _significant(value, 2) if abs(value) >= 10 else _small(value)
    if name in _COUNT_COLUMNS:
        return f"{value:,.0f}" if abs(value) >= 10 else _small(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return _small(value, digits=3, floor=False)


def _significant(value: float, digits: int) -> str:
    """Round to ``digits`` significant figures, with thousands separators: 12,345 -> 12,000."""
    if value == 0:
        return "0"
    unit = 10 ** (math.floor(math.log10(abs(value))) - digits + 1)
    rounded = math.floor(abs(value) / unit + 0.5) * unit
    text = f"{rounded:,.0f}" if unit >= 1 else f"{rounded:,.{-math.floor(math.log10(unit))}f}"
    return f"-{text}" if value < 0 else text


def _small(value: float, digits: int = 2, *, floor: bool = True) -> str:
    """Write a number to ``digits`` significant figures: 0.5, 1.5, 0.053, and "<0.01" below."""
    if value == 0:
        return "0"
    if abs(value) < 0.01:
        if floor:
            return "<0.01" if value > 0 else ">-0.01"
        return f"{value:.{digits}g}"
    text = _significant(value, digits)
    return text.rstrip("0").rstrip(".") if "." in text else text
