"""Tables that paste into a report: Markdown, CSV, JSON and LaTeX with readable numbers.

Counts are whole numbers with thousands separators in Markdown and LaTeX,
bias factors two decimals, probabilities three, dates ISO. CSV and JSON keep
numbers as numbers (rounded the same way) so they can be read back.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FORMATS", "format_table", "write_table"]

FORMATS = {".md": "markdown", ".csv": "csv", ".json": "json", ".tex": "latex"}
"""File suffix -> format written by ``write_table``."""

_COUNT_COLUMNS = {
    "claim_lower",
    "claim_upper",
    "mean",
    "median",
    "lower",
    "upper",
    "value",
    "value_high",
    "latent_median",
    "predicted_median",
    "predicted_lower",
    "predicted_upper",
    "truth",
}
_FACTOR_COLUMNS = {"factor_median", "factor_lower", "factor_upper", "bias_factor"}
_PROBABILITY_COLUMNS = {"p_claim", "tail_p", "prob", "coverage"}


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            frame[name] = column.dt.strftime("%Y-%m-%d")
        elif name in _COUNT_COLUMNS and pd.api.types.is_numeric_dtype(column):
            frame[name] = column.astype(float).round(0)
        elif name in _FACTOR_COLUMNS and pd.api.types.is_numeric_dtype(column):
            frame[name] = column.astype(float).round(2)
        elif name in _PROBABILITY_COLUMNS and pd.api.types.is_numeric_dtype(column):
            frame[name] = column.astype(float).round(3)
    return frame


def _readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the table as text cells with thousands separators and fixed decimals."""
    frame = _rounded(frame)
    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            frame[name] = column.astype(object).where(column.notna(), "").astype(str)
            continue
        if name in _FACTOR_COLUMNS:
            pattern = "{:,.2f}"
        elif name in _PROBABILITY_COLUMNS:
            pattern = "{:.3f}"
        elif name in _COUNT_COLUMNS or pd.api.types.is_integer_dtype(column):
            pattern = "{:,.0f}"
        else:
            pattern = None
        frame[name] = ["" if pd.isna(v) else _number(v, pattern) for v in column]
    return frame


def format_table(frame: pd.DataFrame, fmt: str = "markdown") -> str:
    """Render a result table as text.

    Parameters
    ----------
    frame : pandas.DataFrame
        For example ``Estimate.summary()`` or ``Estimate.source_bias()``.
    fmt : {"markdown", "csv", "json", "latex"}

    Returns
    -------
    str
    """
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    if fmt == "markdown":
        align = ["right" if is_number else "left" for is_number in numeric]
        return _readable(frame).to_markdown(index=False, disable_numparse=True, colalign=align)
    if fmt == "latex":
        text = _readable(frame)
        text.columns = [_latex_escape(str(c)) for c in text.columns]
        text = text.map(lambda cell: r"$\infty$" if cell == "∞" else _latex_escape(cell))
        spec = "".join("r" if is_number else "l" for is_number in numeric)
        return text.to_latex(index=False, escape=False, column_format=spec)
    if fmt == "csv":
        return _rounded(frame).to_csv(index=False)
    if fmt == "json":
        return _rounded(frame).to_json(orient="records", indent=2, force_ascii=False)
    raise ValueError(f"fmt must be one of {', '.join(FORMATS.values())}; got {fmt!r}")


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table in the format its suffix names (``.md``, ``.csv``, ``.json``, ``.tex``)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"write a table to one of {', '.join(FORMATS)}; got {path.name!r}")
    path.write_text(format_table(frame, fmt), encoding="utf-8")
    return path


def _latex_escape(text: str) -> str:
    for char in "\\&%$#_{}":
        text = text.replace(char, "\\" + char)
    return text


def _number(value: float, pattern: str | None) -> str:
    """Format one number: with ``pattern``, or readably by its size when there is none."""
    if np.isinf(value):
        return "∞" if value > 0 else "-∞"
    if pattern is not None:
        return pattern.format(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
