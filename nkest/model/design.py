"""From reports to the arrays the model reads: what each report says about which total.

Each usable report becomes an interval on the log scale for a *claim* about
one latent quantity: the total at a date (cumulative), the increase over a
window (period), or at least part of that increase (incident). Reports the
model cannot use are listed with the reason, never dropped silently.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nkest.errors import DesignError
from nkest.model.grid import TimeGrid, make_grid, parse_freq
from nkest.model.likelihood import OPEN_BOUND
from nkest.model.options import FitOptions, make_options
from nkest.reports import Reports
from nkest.reports.qualifiers import claim_bounds
from nkest.reports.schema import COLUMNS

__all__ = ["KINDS", "Design", "date_read", "default_end", "make_design"]

CORE_QUANTITIES = ("killed", "wounded", "casualties")
OPTIONAL_QUANTITIES = ("captured", "missing")
DEPLOYED = "deployed"
"""Troops sent: a latent total of its own when a report states the total sent."""
ALL_LOSSES = "all_losses"
"""Internal quantity kept below the troops sent: casualties plus captured and missing."""

BIAS_FAMILIES = {
    "killed": "deaths",
    "wounded": "wounded and casualties",
    "casualties": "wounded and casualties",
    "captured": "captured and missing",
    "missing": "captured and missing",
    DEPLOYED: "troops sent",
}
"""The kinds of figure a source may err on differently: a source's bias has a part of its
own for each kind it reports, when it reports more than one (docs/model.md)."""

KINDS = ("interval", "lower", "upper")
"""How a claim bounds the source's figure: both sides, from below, from above."""


@dataclass(frozen=True)
class Design:
    """Everything the model needs from the reports, as plain arrays.

    Attributes
    ----------
    grid : TimeGrid
    quantities : tuple of str
        The latent totals reported on (killed, wounded, casualties, and captured
        or missing where reported).
    internal : tuple of str
        ``quantities`` plus ``all_losses`` when troops sent are estimated.
    sources, source_groups : tuple of str
        The sources that have observations (constraints have none), and each
        one's group.
    groups : tuple of str
    pairs : tuple of (str, str)
        Each (source, family of figures) with observations, in ``BIAS_FAMILIES``'s
        families; a report's bias is its pair's.
    family_deviations : tuple of bool
        For each pair, whether it has a bias part of its own: only the pairs of
        sources that report more than one family.
    has_origin : bool
        Whether the totals are zero at the first grid date.
    rows : pandas.DataFrame
        The used reports, one row each, with what the model reads from them.
    excluded : pandas.DataFrame
        Every report not used, with ``reason``.
    arrays : dict of str to numpy.ndarray
        The data of the model (``pm.Data``), by name.
    """

    grid: TimeGrid
    quantities: tuple[str, ...]
    internal: tuple[str, ...]
    sources: tuple[str, ...]
    source_groups: tuple[str, ...]
    groups: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    family_deviations: tuple[bool, ...]
    has_origin: bool
    rows: pd.DataFrame
    excluded: pd.DataFrame
    arrays: dict[str, np.ndarray] = field(repr=False)

    @property
    def coords(self) -> dict[str, object]:
        """The model's coordinates: grid dates, steps, quantities, sources and groups."""
        return {
            "date": self.grid.dates,
            "interval": self.grid.dates[1:],
            "quantity": list(self.internal),
            "source": list(self.sources),
            "source_group": list(self.groups),
            "bias_pair": [f"{source} · {family}" for source, family in self.pairs],
            "family_pair": [
                f"{source} · {family}"
                for (source, family), own in zip(self.pairs, self.family_deviations, strict=True)
                if own
            ],
            "sent_knot": list(range(self.sent_knots)),
        }

    @property
    def sent_knots(self) -> int:
        """The number of knots of the troops sent's curve (0 when troops sent are not estimated)."""
        weight = self.arrays.get("sent_weight")
        return 0 if weight is None else int(weight.shape[1])

    @property
    def structure(self) -> tuple:
        """What fixes the shape of the model: equal structures share one compiled model."""
        return (
            self.grid.size,
            self.grid.step,
            self.internal,
            self.sources,
            self.source_groups,
            self.pairs,
            self.family_deviations,
            self.sent_knots,
            self.has_origin,
        )


def make_design(reports: Reports, options: FitOptions) -> Design:
    """Turn loaded reports into the model's design.

    Raises
    ------
    ValueError
        If nothing usable remains, or the identification names sources or
        groups that have no usable reports.
    """
    frame = _claimed(reports, options)
    origin = resolved_origin(reports, options)
    step = parse_freq(options.freq)
    latest = date_read(frame)
    end = dt.date.fromisoformat(options.end) if options.end else _last_date(frame)
    _exclude(
        frame,
        latest > pd.Timestamp(end),
        f"refers to a date after the end of the estimate ({end})",
    )
    if origin is not None:
        at_origin = pd.Timestamp(origin)
        before = (frame["period_start"] <= at_origin) | (frame["as_of"] <= at_origin)
        _exclude(frame, before, f"refers to a date on or before the origin ({origin})")
    _exclude_unbounded(frame)
    usable = frame["reason"] == ""
    if not usable.any():
        raise DesignError(f"no usable reports up to the end of the estimate ({end})")
    grid = make_grid(_first_date(frame[usable]), end, step, origin)

    used = frame[usable].copy()
    quantities = CORE_QUANTITIES + tuple(
        q for q in OPTIONAL_QUANTITIES if (used["quantity"] == q).any()
    )
    sent = (used["quantity"] == DEPLOYED).any()
    quantities += (DEPLOYED,) if sent else ()
    processes = tuple(q for q in quantities if q not in ("wounded", "casualties", DEPLOYED))
    ratio = options.priors.wounded_ratio[0]
    internal = quantities + ((ALL_LOSSES,) if sent else ())
    used["target"] = used["quantity"]

    # A statement of the troops sent is an observation of the troops sent, with its
    # source's bias; the losses stay below the troops sent at every date.
    constrained = ((used["constraint"] != "") & (used["quantity"] != DEPLOYED)).to_numpy()
    observed = used[~constrained]
    source_table = _group_of_each_source(observed)
    sources = tuple(source_table.index)
    source_groups = tuple(source_table.to_numpy())
    groups = tuple(sorted(set(source_groups)))
    _check_identification(options, sources, groups)
    pairs, family_deviations = _bias_pairs(observed)

    windowed = used["scope"].isin(["period", "incident"]).to_numpy()
    end_left, end_weight = grid.interpolation(used["period_end"].where(windowed, used["as_of"]))
    window_start = used["period_start"] - pd.Timedelta(days=1)
    start_dates = window_start.where(windowed, used["as_of"])
    start_left, start_weight = grid.interpolation(start_dates)
    # Within a grid step the model's rate is constant, so a window shorter than a step
    # would be read as its share of the step: "at least 500 killed in one battle" on a
    # weekly grid would say "at least 3,500 killed that week". Incidents are reported
    # because they are bursts; a lower bound on a window is also a lower bound on any
    # window around it, so lower bounds read the whole grid steps their window touches.
    # The troops sent's curve is read at the grid dates too, so a batch sent within a
    # window is read over the whole steps the window touches, not as a share of them.
    widen = windowed & ((used["kind"] == "lower") | (used["quantity"] == DEPLOYED)).to_numpy()
    start_weight = np.where(widen, 0.0, start_weight)  # back to the grid date at or before
    end_weight = np.where(widen & (end_weight > 0), 1.0, end_weight)  # on to the one after
    _warn_short_windows(used, windowed & ~widen, grid)
    source_index = {name: i for i, name in enumerate(sources)}
    pair_index = {pair: i for i, pair in enumerate(pairs)}
    src = np.array(
        [
            len(sources) if c else source_index[s]
            for s, c in zip(used["source"], constrained, strict=True)
        ],
        dtype=np.int64,
    )
    pair = np.array(
        [
            len(pairs) if c else pair_index[(s, BIAS_FAMILIES[q])]
            for s, q, c in zip(used["source"], used["quantity"], constrained, strict=True)
        ],
        dtype=np.int64,
    )
    arrays = {
        "quantity_index": np.array([internal.index(t) for t in used["target"]], dtype=np.int64),
        "end_left": end_left,
        "end_weight": end_weight,
        "start_left": start_left,
        "start_weight": start_weight,
        "windowed": windowed.astype(np.float64),
        "source_index": src,
        "pair_index": pair,
        "log_lower": log_bounds(used["lower"].to_numpy(float), upper=False),
        "log_upper": log_bounds(used["upper"].to_numpy(float), upper=True),
        **_noise_mixture(constrained, options),
        "log_rate_centre": np.array(
            [_log_rate_centre(observed, grid, q, ratio) for q in processes]
        ),
        "log_span_weight": np.stack(
            [_log_span_weight(observed, grid, q, ratio) for q in processes]
        ),
        "log_initial_centre": np.array(_log_initial_centre(observed, ratio)),
        **(_sent_knots(observed, grid) if sent else {}),
    }
    used["role"] = np.where(constrained, used["constraint"], "observation")
    used["family"] = used["quantity"].map(BIAS_FAMILIES)
    excluded = frame[frame["reason"] != ""]
    excluded = excluded[
        [
            "report_id",
            "source",
            "quantity",
            "value",
            "qualifier",
            "scope",
            "as_of",
            "excluded_by",
            "reason",
        ]
    ].reset_index(drop=True)
    rows = used[
        [
            "report_id",
            "source",
            "source_group",
            "quantity",
            "target",
            "family",
            "value",
            "value_high",
            "qualifier",
            "scope",
            "as_of",
            "period_start",
            "period_end",
            "role",
            "kind",
            "lower",
            "upper",
        ]
    ].reset_index(drop=True)
    return Design(
        grid=grid,
        quantities=quantities,
        internal=internal,
        sources=sources,
        source_groups=source_groups,
        groups=groups,
        pairs=pairs,
        family_deviations=family_deviations,
        has_origin=origin is not None,
        rows=rows,
        excluded=excluded,
        arrays=arrays,
    )


def _sent_knots(observed: pd.DataFrame, grid: TimeGrid) -> dict[str, np.ndarray]:
    """Return the troops sent's knots: a monotone curve through the dates its reports read.

    Troops are sent in batches, and a report states the total at a date: the
    curve rises from one knot to the next (the grid's start, each date a report
    of troops sent reads, the grid's end), linearly in between, so each rise is
    a parameter the reports inform, and no rate process has to mimic a batch.
    A total (``constraint=cap``) reads the curve at its date; a report of the
    troops sent in a period (``scope=period``) reads the rise over its window.
    Returns ``sent_weight`` (grid dates x knots: how much of each rise a date
    has reached; the first "rise" is the troops in place at the grid's start,
    free even with an origin, which dates the first loss, not the first
    soldier) and ``log_sent_centre`` (each rise's prior centre: the reports'
    median figure shared over the rises).
    """
    rows = observed[observed["quantity"] == DEPLOYED]
    dates = pd.concat([rows["as_of"], rows["period_end"].dropna(), rows["period_start"].dropna()])
    inside = grid.position(dates.drop_duplicates())
    knots = np.unique(np.concatenate([[0.0], inside, [grid.size - 1.0]]))
    t = np.arange(grid.size, dtype=float)[:, None]
    span = np.diff(knots)[None, :]
    reached = np.clip((t - knots[None, :-1]) / span, 0.0, 1.0)
    weight = np.concatenate([np.ones((grid.size, 1)), reached], 1)
    totals = rows.loc[rows["scope"] == "cumulative", "value"].astype(float)
    # Without a total, the batches reported add up to the least that was sent.
    figure = float(
        np.median(totals.clip(lower=1)) if len(totals) else max(rows["value"].sum(), 1.0)
    )
    centre = np.full(len(knots), np.log(figure / (len(knots) - 1)))
    return {"sent_weight": weight, "log_sent_centre": centre}


def _bias_pairs(observed: pd.DataFrame) -> tuple[tuple[tuple[str, str], ...], tuple[bool, ...]]:
    """Return each (source, family) with observations, and whether it has a bias of its own."""
    families = observed["quantity"].map(BIAS_FAMILIES)
    pairs = tuple(sorted(set(zip(observed["source"], families, strict=True))))
    count = pd.Series([source for source, _ in pairs]).value_counts()
    return pairs, tuple(bool(count[source] > 1) for source, _ in pairs)


def _warn_short_windows(used: pd.DataFrame, two_sided: np.ndarray, grid: TimeGrid) -> None:
    """Warn when a two-sided window claim is shorter than a grid step."""
    days = (used["period_end"] - used["period_start"]).dt.days.to_numpy() + 1
    short = two_sided & (days < grid.step)
    if short.any():
        import warnings

        ids = ", ".join(used.loc[short, "report_id"].head(5))
        warnings.warn(
            f"report(s) {ids} count a window shorter than the grid step ({grid.step} days); "
            "the model spreads each step's losses evenly over its days, so such a count is "
            "read as its share of the step. Fit with freq='D' to read it exactly.",
            UserWarning,
            stacklevel=3,
        )


def _noise_mixture(constrained: np.ndarray, options: FitOptions) -> dict[str, np.ndarray]:
    """Per report, the log-weights of ordinary and garbled noise, and the garbled scale.

    Floors and caps are never garbled: they are constraints, not figures.
    """
    share = np.where(constrained, 0.0, options.outlier_share)
    with np.errstate(divide="ignore"):
        log_share = np.log(share)
    return {
        "log_main_share": np.log1p(-share),
        # a finite stand-in for log(0): -inf would turn gradients into NaN
        "log_outlier_share": np.maximum(log_share, _OUTSIDE_SPAN),
        "outlier_scale": np.full(len(share), options.outlier_scale),
    }


def default_end(reports: Reports, options: FitOptions | None = None) -> dt.date:
    """Return the end of the estimate when none is given: the last date a used report reads.

    Its ``as_of`` or ``period_end``, among the reports the model uses (those
    it excludes whatever the dates, such as troops-deployed rows that are not
    caps, do not extend the estimate). Studies that refit subsets of the
    reports pass this end to every fit, so that all of them speak of the same
    date.
    """
    return _last_date(_claimed(reports, options or make_options()))


def _last_date(frame: pd.DataFrame) -> dt.date:
    usable = frame["reason"] == ""
    if not usable.any():
        raise DesignError("no usable reports: every report is excluded (see Reports.excluded)")
    # Ending on the date of a report the model then drops would extrapolate past the
    # evidence for nothing.
    return date_read(frame[usable]).max().date()


def date_read(frame: pd.DataFrame) -> pd.Series:
    """Return the last date each report speaks of: a window's end, else its ``as_of``.

    A window's ``as_of`` is not read: left blank it is the publication date, which
    can lie long after the window.
    """
    return frame["period_end"].fillna(frame["as_of"])


def _claimed(reports: Reports, options: FitOptions) -> pd.DataFrame:
    """Every report with its claim, and the reason the model excludes it whatever the dates."""
    # The format's columns only: a user's extra column may share a name the design adds.
    frame = reports.to_frame()[list(COLUMNS)]
    frame["reason"] = frame["exclude"]
    frame["excluded_by"] = np.where(frame["exclude"] != "", "reports", "")
    _exclude(
        frame,
        (frame["quantity"] == DEPLOYED)
        & (frame["constraint"] != "cap")
        & (frame["scope"] != "period"),
        "troops deployed that are neither the total sent (constraint=cap) nor the troops "
        "sent in a period (scope=period): troops present, a partial contingent or a "
        "forecast are not the troops sent",
    )
    _exclude(
        frame,
        (frame["scope"] == "incident") & (frame["constraint"] == "cap"),
        "a cap on one incident does not bound the total",
    )
    _exclude(
        frame,
        (frame["scope"] == "incident")
        & (frame["constraint"] == "")
        & frame["qualifier"].isin(["at_most", "fewer_than"]),
        "an upper bound on one incident says nothing about the total",
    )
    frame = frame.join(_claims(frame, options))
    _exclude(
        frame,
        frame["kind"].isna() & (frame["reason"] == ""),
        "the claim carries no information (a lower bound of zero)",
    )
    _exclude_unbounded(frame)
    return frame


def _exclude_unbounded(frame: pd.DataFrame) -> None:
    """Exclude captured or missing when no used report bounds it from above."""
    for quantity in OPTIONAL_QUANTITIES:
        rows = frame["quantity"] == quantity
        bounded = rows & (frame["reason"] == "") & np.isfinite(frame["upper"].astype(float))
        if (rows & (frame["reason"] == "")).any() and not bounded.any():
            _exclude(
                frame,
                rows,
                f"only lower bounds of {quantity} are reported: with no figure that bounds "
                f"it from above, its total would be set by the prior alone (and would "
                f"take room under the caps on all losses)",
            )


def _exclude(frame: pd.DataFrame, mask: pd.Series, reason: str) -> None:
    hit = mask.fillna(False).astype(bool) & (frame["reason"] == "")
    frame.loc[hit, "reason"] = reason
    frame.loc[hit, "excluded_by"] = "model"


def resolved_origin(reports: Reports, options: FitOptions) -> dt.date | None:
    """Return the date every total was zero: the option's, else the reports' metadata's.

    None when neither gives one, or the option is ``"unknown"``: the initial
    totals are then estimated.
    """
    origin = options.origin if options.origin is not None else reports.metadata.get("origin")
    if origin in (None, "unknown"):
        return None
    return dt.date.fromisoformat(str(origin))


def _first_date(frame: pd.DataFrame) -> dt.date:
    """Return the earliest time point a report reads: as_of, or the day before a window."""
    return (frame["period_start"] - pd.Timedelta(days=1)).fillna(frame["as_of"]).min().date()


def _claims(frame: pd.DataFrame, options: FitOptions) -> pd.DataFrame:
    """Lower and upper ends of what each report claims, and the kind of bound it gives."""
    lower = np.full(len(frame), np.nan)
    upper = np.full(len(frame), np.nan)
    for i, (qualifier, value, high) in enumerate(
        zip(frame["qualifier"], frame["value"], frame["value_high"], strict=True)
    ):
        if pd.isna(value):
            continue
        lower[i], upper[i] = claim_bounds(
            qualifier,
            float(value),
            float(high) if pd.notna(high) else math.nan,
            approx_max_relative=options.approx_max_relative,
            approaching_band=options.approaching_band,
        )
    constraint = frame["constraint"].to_numpy()
    lower_only = (frame["scope"].to_numpy() == "incident") | (constraint == "floor")
    upper = np.where(lower_only, np.inf, upper)
    lower = np.where((constraint == "cap") & (frame["quantity"] != DEPLOYED), 0.0, lower)
    lower = np.maximum(lower, 0.0)
    kind = np.full(len(frame), None, dtype=object)
    kind[(lower > 0) & np.isinf(upper)] = "lower"
    kind[(lower <= 0) & np.isfinite(upper) & (upper > 0)] = "upper"
    kind[(lower > 0) & np.isfinite(upper)] = "interval"
    return pd.DataFrame({"lower": lower, "upper": upper, "kind": kind}, index=frame.index)


def _group_of_each_source(observed: pd.DataFrame) -> pd.Series:
    """Return each source's group, by source name (``load_reports`` refuses a second one)."""
    groups = observed.groupby("source", sort=True)["source_group"].unique()
    for source, names in groups.items():
        if len(names) > 1:
            raise DesignError(
                f"source {source!r} appears in several source groups "
                f"({', '.join(sorted(names))}); a source belongs to one group"
            )
    return groups.map(lambda names: names[0])


def _check_identification(
    options: FitOptions, sources: Sequence[str], groups: Sequence[str]
) -> None:
    if not sources:
        raise DesignError(
            "no source has an observation (only floors and caps): nothing identifies the biases"
        )
    options.identification.check(sources, groups)


def _equivalent(rows: pd.DataFrame, quantity: str, ratio: float) -> pd.Series:
    """Put reported magnitudes on one quantity's scale (killed: via the prior median ratio)."""
    if quantity == "killed":
        factors = {"killed": 1.0, "wounded": 1 / ratio, "casualties": 1 / (1 + ratio)}
    else:
        factors = {quantity: 1.0}
    # as float: on no rows, the mapped factors would keep the quantity's text type
    return (rows["value"].astype(float) * rows["quantity"].map(factors).astype(float)).dropna()


def _log_rate_centre(observed: pd.DataFrame, grid: TimeGrid, quantity: str, ratio: float) -> float:
    """Centre of the prior on a quantity's log mean daily rate, read from the reports' magnitude."""
    cumulative = observed[(observed["scope"] == "cumulative") & (observed["value"] > 0)]
    killed = _equivalent(cumulative, quantity, ratio)
    if len(killed):
        days = (cumulative.loc[killed.index, "as_of"] - pd.Timestamp(grid.start)).dt.days
        return float(np.median(np.log(killed / np.maximum(days, 1))))
    windows = observed[(observed["scope"] != "cumulative") & (observed["value"] > 0)]
    killed = _equivalent(windows, quantity, ratio)
    if len(killed):
        days = (
            windows.loc[killed.index, "period_end"] - windows.loc[killed.index, "period_start"]
        ).dt.days + 1
        return float(np.median(np.log(killed / days)))
    return 0.0


def _log_initial_centre(observed: pd.DataFrame, ratio: float) -> float:
    """Centre of the prior on the log initial killed total when the origin is unknown.

    The earliest cumulative figures (up to three), which speak of the time
    nearest the grid's start: later ones include what happened since.
    """
    losses = observed["quantity"] != DEPLOYED  # troops sent say nothing of the losses
    cumulative = observed[losses & (observed["scope"] == "cumulative") & (observed["value"] > 0)]
    earliest = cumulative.sort_values("as_of", kind="stable").head(3)
    killed = _equivalent(earliest, "killed", ratio)
    return float(np.log(np.median(killed))) if len(killed) else 0.0


def _log_span_weight(
    observed: pd.DataFrame, grid: TimeGrid, quantity: str, ratio: float
) -> np.ndarray:
    """Log-weights of the grid steps inside the span a quantity's observations cover.

    Uniform over the steps from the earliest to the latest date the reports
    read (all steps when they read only one date); -1000 (a weight of zero) outside.
    """
    rows = observed.loc[_equivalent(observed, quantity, ratio).index]
    steps = grid.size - 1
    if rows.empty:
        inside = np.ones(steps, dtype=bool)
    else:
        first = grid.position([pd.Timestamp(_first_date(rows))])[0]
        last = grid.position([date_read(rows).max()])[0]
        centres = np.arange(steps) + 0.5
        inside = (centres >= np.floor(first)) & (centres <= np.ceil(last))
        if inside.sum() < 2:
            inside = np.ones(steps, dtype=bool)
    # Outside the span the weight is exp(-1000) = 0.0 exactly, but finite: an infinite
    # log-weight would turn gradients into NaN on backends that form inf - inf.
    return np.where(inside, -np.log(inside.sum()), _OUTSIDE_SPAN)


_OUTSIDE_SPAN = -1000.0


def log_bounds(bounds: np.ndarray, *, upper: bool) -> np.ndarray:
    """Log of a claim's bounds, with an open side (0 below, inf above) at the open bound."""
    open_side = np.isinf(bounds) if upper else bounds <= 0
    with np.errstate(divide="ignore"):
        logs = np.log(np.where(open_side, 1.0, bounds))
    return np.where(open_side, OPEN_BOUND if upper else -OPEN_BOUND, logs)
