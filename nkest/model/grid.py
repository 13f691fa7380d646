"""The time grid of the latent totals, and reading totals at any date on it.

A total "as of" a date means at the end of that day. Grid points are such
dates, ``step`` days apart; between two grid points a total grows at a
constant rate, so a date between grid points is answered by linear
interpolation of the cumulative totals, never snapped to a grid point.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nkest.errors import OptionError

__all__ = ["TimeGrid", "make_grid", "parse_freq"]

_FREQ = re.compile(r"(\d*)\s*([DW])")


def parse_freq(freq: str) -> int:
    """Return the grid step in days for ``"D"``, ``"W"``, ``"3D"``, ``"2W"`` ...

    Raises
    ------
    ValueError
        For any other text.
    """
    match = _FREQ.fullmatch(str(freq).strip().upper())
    if not match or match.group(1) == "0":
        raise OptionError(f"freq must be 'D', 'W', '<n>D' or '<n>W' (e.g. '2W'); got {freq!r}")
    count = int(match.group(1) or 1)
    return count * (7 if match.group(2) == "W" else 1)


@dataclass(frozen=True)
class TimeGrid:
    """Equally spaced dates from ``start`` on, ``step`` days apart.

    Attributes
    ----------
    start : datetime.date
        The first grid date. With a known origin, every total is zero here.
    step : int
        Days between grid dates.
    size : int
        Number of grid dates.
    origin : datetime.date or None
        The date every total was still zero, within the first step: dates up to
        it read zero, and the first step's losses accrue after it.
    """

    start: dt.date
    step: int
    size: int
    origin: dt.date | None = None

    @property
    def dates(self) -> pd.DatetimeIndex:
        """The grid dates."""
        return pd.date_range(self.start, periods=self.size, freq=f"{self.step}D")

    @property
    def end(self) -> dt.date:
        """The last grid date."""
        return self.start + dt.timedelta(days=self.step * (self.size - 1))

    def position(self, dates: pd.Series | pd.DatetimeIndex | list) -> np.ndarray:
        """Return fractional grid positions of dates (0 is ``start``).

        Raises
        ------
        ValueError
            If a date lies outside the grid.
        """
        stamps = pd.DatetimeIndex(pd.to_datetime(list(dates) if isinstance(dates, list) else dates))
        days = (stamps - pd.Timestamp(self.start)).days.to_numpy(dtype=float)
        positions = days / self.step
        outside = (positions < 0) | (positions > self.size - 1)
        if outside.any():
            bad = stamps[outside]
            raise OptionError(
                f"date(s) {', '.join(d.strftime('%Y-%m-%d') for d in bad[:3])} outside the "
                f"estimate's grid {self.start} to {self.end}"
            )
        return positions

    def interpolation(
        self, dates: pd.Series | pd.DatetimeIndex | list
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (left index, weight of the right neighbour) for each date.

        The total at a date is ``(1 - w) * total[i] + w * total[i + 1]``; a date
        on the last grid point uses ``i = size - 2, w = 1``.
        """
        positions = self.position(dates)
        left = np.minimum(np.floor(positions), self.size - 2).astype(np.int64)
        left = np.maximum(left, 0)
        weight = positions - left
        if self.origin is not None and self.origin > self.start:
            # the grid starts up to a step before the origin, where totals are still zero
            lead = (self.origin - self.start).days / self.step
            first = left == 0
            weight[first] = np.clip((positions[first] - lead) / (1.0 - lead), 0.0, 1.0)
        return left, weight

    def to_dict(self) -> dict[str, object]:
        """Return the plain form of the grid."""
        plain: dict[str, object] = {
            "start": self.start.isoformat(),
            "step": self.step,
            "size": self.size,
        }
        if self.origin is not None:
            plain["origin"] = self.origin.isoformat()
        return plain


def make_grid(first: dt.date, last: dt.date, step: int, origin: dt.date | None) -> TimeGrid:
    """Make the grid that ends on ``last`` and covers ``first``.

    The last grid date is ``last`` itself, so the default summary speaks of
    the end of the estimate, not a few days past it. With an ``origin`` the
    grid starts on the last grid date on or before it (at most one step
    before the origin; totals are zero from there to the origin, and the
    first step's losses accrue after it); otherwise at least one step before
    ``first``, so that the first report already sees growth of the totals.

    Raises
    ------
    ValueError
        If ``origin`` is on or after ``first``, or ``last`` before ``first``.
    """
    if last < first:
        raise OptionError(f"the end ({last}) is before the first date of the reports ({first})")
    if origin is not None:
        if origin >= first:
            raise OptionError(
                f"origin {origin} must be before the first date the reports refer to ({first}); "
                "the origin is a date at which every total was still zero"
            )
        earliest = origin
    else:
        earliest = first - dt.timedelta(days=step)
    steps = max(-(-(last - earliest).days // step), 2)
    start = last - dt.timedelta(days=step * steps)
    return TimeGrid(start=start, step=step, size=steps + 1, origin=origin)
