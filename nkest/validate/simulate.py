"""Simulated conflicts with known truth, from a process that is not nkest's model.

The truth is a daily count process with phases and bursts (not an AR(1) on
the log rate); sources see it through a multiplicative bias and Gaussian noise
on the log scale (not logistic), and word their figures the way people do:
rounded to one or two significant figures, as bounds below or above the
nearest round number, as ranges, as counts over a window, or as incident
counts from one event (reported on the days of heavy fighting, as incidents
are). A few figures are garbled the way secondary media garble them
(casualties passed on as killed), and a warring party's acknowledged dead
and the troops sent give a floor and a cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nkest.reports import Reports, load_reports

__all__ = ["SimulatedConflict", "simulate_conflict"]


@dataclass(frozen=True)
class SimulatedConflict:
    """A simulated set of reports and the truth behind it.

    Attributes
    ----------
    reports : Reports
    daily : pandas.DataFrame
        True cumulative ``killed`` and ``wounded`` (and ``casualties``) at the
        end of each day, indexed by date, and the troops sent (``deployed``)
        when they are reported.
    bias : pandas.Series
        True bias factor of each source with figures (the troops-sent source,
        when there are constraints, states the truth: 1).
    groups : pandas.Series
        Each source's group.
    settings : dict
        The generator's settings.
    """

    reports: Reports
    daily: pd.DataFrame
    bias: pd.Series
    groups: pd.Series
    settings: dict = field(default_factory=dict)

    def truth_at(self, date: str | pd.Timestamp, quantity: str) -> float:
        """Return the true cumulative total of ``quantity`` at the end of ``date``."""
        return float(self.daily.loc[pd.Timestamp(date), quantity])


def simulate_conflict(
    seed: int | np.random.Generator,
    *,
    days: int = 360,
    n_reports: int = 60,
    n_groups: int = 3,
    sources_per_group: int = 2,
    group_bias_sd: float = 0.35,
    source_bias_sd: float = 0.15,
    noise_range: tuple[float, float] = (0.05, 0.25),
    bound_share: float = 0.3,
    incident_share: float = 0.1,
    period_share: float = 0.05,
    garbled_share: float = 0.03,
    constraints: bool = True,
    early_share: float | None = None,
    mean_daily_killed: float = 6.0,
    start: str = "2024-01-01",
    belligerent: tuple[float, float] | None = None,
    family_bias_sd: float = 0.0,
    deployment: bool = False,
    centre_groups: bool = False,
) -> SimulatedConflict:
    """Simulate a conflict and the reports about it.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        Seed of everything random in the simulation.
    days : int
        Length of the conflict; the origin (totals zero) is the day before ``start``.
    n_reports : int
        Number of reports (each source gives at least two).
    n_groups : int
        Number of source groups ``G1``, ``G2``, ...
    sources_per_group : int
        Sources per group, named ``S1``, ``S2``, ...
    group_bias_sd : float
        Spread of the groups' true log-bias factors, each drawn independently
        around no bias: the world the default identification ("most groups
        roughly unbiased") describes, in which the groups' average bias is
        itself a draw, which no fit can know.
    source_bias_sd : float
        Spread of each source's log-bias factor around its group's.
    noise_range : (float, float)
        Each source's Gaussian noise sd on the log scale is uniform in this range.
    bound_share : float
        Share of figures worded as bounds (at least, more than, approaching,
        at most).
    incident_share : float
        Share of reports that count one incident (a lower bound on the
        increase over a few days), dated with odds proportional to the day's
        true deaths.
    period_share : float
        Share of reports that count the deaths over a window of one to four
        weeks ("about 300 killed last month").
    garbled_share : float
        Share of cumulative reports that give the casualties as killed.
    constraints : bool
        Add a floor (the dead one side acknowledges by name: 20-40% of the
        true deaths at a date in the second half) and a cap (the troops sent,
        1.3-2.5 times the final casualties, as of the last day).
    early_share : float, optional
        If given, this share of the reports fall in the first third of the
        conflict ("sparse early data" when small).
    mean_daily_killed : float
        Average true killed per day.
    start : str
        First day of the conflict (ISO date).
    belligerent : (float, float), optional
        If given, a further group ``Belligerent`` of two sources (``B1``,
        ``B2``) that states its own losses at a fraction of the truth in all
        its figures: its log-bias is minus the log of a factor uniform in this
        range (``(5, 20)``: a fifth to a twentieth of the truth). The other
        groups are drawn as without it, so the truth is "most groups roughly
        unbiased", not "all groups unbiased on average".
    family_bias_sd : float
        Spread of each source's log-bias on wounded and casualties around its
        bias on deaths (0: one bias per source).
    deployment : bool
        Troops are sent in three to five batches, and the losses come close to
        them (the troops sent end at 1.05-1.3 times the final casualties); six
        reports of the troops sent, by the sources with their biases, replace
        the single cap.
    centre_groups : bool
        Centre the groups' log-biases (before any belligerent) to average
        exactly zero: the world of the zero-sum identification (``"groups"``),
        in which the default, not knowing the average is exactly zero, gives
        intervals wider than they need to be.

    Returns
    -------
    SimulatedConflict
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    killed_rate = _phased_rate(rng, days, mean_daily_killed)
    killed = rng.poisson(killed_rate)
    ratio = np.linspace(rng.uniform(2.5, 6.0), rng.uniform(2.5, 6.0), days)
    wounded = rng.poisson(killed_rate * ratio)
    daily = pd.DataFrame({"killed": np.cumsum(killed), "wounded": np.cumsum(wounded)}, index=dates)
    daily["casualties"] = daily["killed"] + daily["wounded"]

    groups = {
        f"S{g * sources_per_group + s + 1}": f"G{g + 1}"
        for g in range(n_groups)
        for s in range(sources_per_group)
    }
    sources = list(groups)
    group_effect = rng.normal(0.0, group_bias_sd, n_groups)
    if centre_groups:
        group_effect -= group_effect.mean()
    log_bias = {
        s: group_effect[int(groups[s][1:]) - 1] + rng.normal(0.0, source_bias_sd) for s in sources
    }
    if belligerent is not None:
        understated = -np.log(rng.uniform(*belligerent))
        for name in ("B1", "B2"):
            groups[name] = "Belligerent"
            log_bias[name] = understated + rng.normal(0.0, source_bias_sd)
        sources = list(groups)
    family_part = {s: rng.normal(0.0, family_bias_sd) if family_bias_sd else 0.0 for s in sources}
    noise = {s: rng.uniform(*noise_range) for s in sources}

    order = list(sources) * 2 + list(rng.choice(sources, size=max(n_reports - 2 * len(sources), 0)))
    rows = []
    for i, source in enumerate(order):
        rows.append(
            _report(
                rng,
                i,
                source,
                groups[source],
                daily,
                log_bias[source],
                family_part[source],
                noise[source],
                bound_share,
                incident_share,
                period_share,
                garbled_share,
                early_share,
            )
        )
    if deployment:
        daily["deployed"] = _troops_sent(rng, daily)
        rows += _sent_reports(rng, len(rows), daily, sources, groups, log_bias, noise)
    if constraints:
        rows += _constraints(rng, len(rows), daily, cap=not deployment)
        if not deployment:  # all the troops in place from the start, as the cap states
            daily["deployed"] = float(rows[-1]["value"])
    frame = pd.DataFrame(rows)
    origin = (dates[0] - pd.Timedelta(days=1)).date().isoformat()
    reports = load_reports(
        frame, metadata={"subject": "simulated soldiers", "origin": origin, "name": "simulated"}
    )
    settings = {
        "days": days,
        "n_reports": n_reports,
        "n_groups": n_groups,
        "sources_per_group": sources_per_group,
        "group_bias_sd": group_bias_sd,
        "source_bias_sd": source_bias_sd,
        "noise_range": noise_range,
        "bound_share": bound_share,
        "incident_share": incident_share,
        "period_share": period_share,
        "garbled_share": garbled_share,
        "constraints": constraints,
        "early_share": early_share,
        "mean_daily_killed": mean_daily_killed,
        "belligerent": belligerent,
        "family_bias_sd": family_bias_sd,
        "deployment": deployment,
        "centre_groups": centre_groups,
    }
    bias = {s: float(np.exp(b)) for s, b in log_bias.items()}
    if constraints and not deployment:
        bias["Troops sent"] = 1.0
        groups["Troops sent"] = "acknowledged"
    return SimulatedConflict(
        reports=reports,
        daily=daily,
        bias=pd.Series(bias, name="bias"),
        groups=pd.Series(groups, name="source_group"),
        settings=settings,
    )


def _phased_rate(rng: np.random.Generator, days: int, mean: float) -> np.ndarray:
    """Piecewise-constant phases (lulls and fighting) plus short bursts."""
    rate = np.empty(days)
    day = 0
    while day < days:
        length = int(rng.integers(15, 75))
        rate[day : day + length] = rng.lognormal(0.0, 1.0)
        day += length
    for _ in range(rng.poisson(days / 60)):
        at = int(rng.integers(0, days))
        rate[at : at + int(rng.integers(3, 12))] *= rng.uniform(3.0, 10.0)
    ramp = int(rng.integers(0, days // 6))
    rate[:ramp] *= 0.05
    return rate * mean / rate.mean()


def _round_figure(value: float, rng: np.random.Generator) -> int:
    """Round to one or two significant figures, as officials do."""
    if value < 10:
        return max(round(value), 0)
    digits = int(rng.choice([1, 2], p=[0.4, 0.6]))
    unit = 10 ** max(int(np.floor(np.log10(value))) - digits + 1, 0)
    return int(round(value / unit) * unit)


def _unit(value: float) -> int:
    return 10 ** max(int(np.floor(np.log10(max(value, 1.0)))) - 1, 0)


def _troops_sent(rng: np.random.Generator, daily: pd.DataFrame) -> np.ndarray:
    """Troops sent by each day: three to five batches, the first at the start.

    The last batch arrives within the first 60% of the conflict, and the total
    ends at 1.05-1.3 times the final casualties, so that the losses come close
    to it and the bound matters.
    """
    days = len(daily)
    batches = int(rng.integers(3, 6))
    arrive = np.sort(np.concatenate([[0], rng.integers(1, int(days * 0.6), batches - 1)]))
    size = rng.dirichlet(np.full(batches, 2.0))
    total = daily["casualties"].iloc[-1] * rng.uniform(1.05, 1.3)
    # every batch in place before the losses it bounds: never fewer sent than lost
    sent = np.zeros(days)
    for day, share in zip(arrive, size, strict=True):
        sent[day:] += share * total
    return np.maximum(np.round(sent), daily["casualties"].to_numpy() * 1.05)


def _sent_reports(
    rng: np.random.Generator,
    first: int,
    daily: pd.DataFrame,
    sources: list[str],
    groups: dict[str, str],
    log_bias: dict[str, float],
    noise: dict[str, float],
) -> list[dict]:
    """Six reports of the troops sent, by the sources, with their biases and noise.

    Four state the total sent by a date; two state a batch, the troops sent in
    a window around a day troops arrived, as governments announce reinforcements.
    """
    dates = daily.index
    sent = daily["deployed"].to_numpy()
    arrivals = np.flatnonzero(np.diff(sent) > 0) + 1
    rows = []
    for i in range(6):
        source = str(rng.choice(sources))
        batch = i >= 4 and len(arrivals) > 0
        if batch:
            arrival = int(rng.choice(arrivals))
            start = max(arrival - int(rng.integers(0, 30)), 1)
            day = min(arrival + int(rng.integers(0, 30)), len(dates) - 1)
            truth = sent[day] - sent[start - 1]
        else:
            day = int(rng.integers(len(dates) // 20, len(dates)))
            truth = sent[day]
        figure = truth * np.exp(log_bias[source] + rng.normal(0, noise[source]))
        row = {
            "report_id": f"sim-{first + i + 1:03d}",
            "published": dates[day].date().isoformat(),
            "as_of": dates[day].date().isoformat(),
            "source": source,
            "source_group": groups[source],
            "quantity": "deployed",
            "qualifier": "approx",
            "value": _round_figure(figure, rng),
            "scope": "cumulative",
            "constraint": "cap",
            "citation": "simulated",
        }
        if batch:
            row.update(
                scope="period",
                constraint="",
                period_start=dates[start].date().isoformat(),
                period_end=dates[day].date().isoformat(),
            )
        rows.append(row)
    return rows


def _constraints(
    rng: np.random.Generator, first: int, daily: pd.DataFrame, *, cap: bool = True
) -> list[dict]:
    """Return a floor of acknowledged dead and (with ``cap``) the troops sent, exactly."""
    dates = daily.index
    days = len(dates)
    day = int(rng.integers(days // 2, days))
    named = int(daily["killed"].iloc[day] * rng.uniform(0.2, 0.4))
    sent = _round_figure(daily["casualties"].iloc[-1] * rng.uniform(1.3, 2.5), rng)
    common = {"scope": "cumulative", "citation": "simulated"}
    rows = [
        {
            **common,
            "report_id": f"sim-{first + 1:03d}",
            "published": dates[day].date().isoformat(),
            "source": "Acknowledged",
            "source_group": "acknowledged",
            "quantity": "killed",
            "qualifier": "at_least",
            "value": max(named, 1),
            "constraint": "floor",
        },
        {
            **common,
            "report_id": f"sim-{first + 2:03d}",
            "published": dates[-1].date().isoformat(),
            "source": "Troops sent",
            "source_group": "acknowledged",
            "quantity": "deployed",
            "qualifier": "approx",
            "value": sent,
            "constraint": "cap",
        },
    ]
    return rows if cap else rows[:1]


def _report(
    rng,
    i,
    source,
    group,
    daily,
    log_bias,
    family_part,
    noise,
    bound_share,
    incident_share,
    period_share,
    garbled_share,
    early_share,
):
    dates = daily.index
    days = len(dates)
    low = days // 10
    kind = rng.random()
    if kind < incident_share:
        deaths = np.diff(daily["killed"].to_numpy(), prepend=0)[low:].astype(float) + 0.1
        day = low + int(rng.choice(days - low, p=deaths / deaths.sum()))
    elif early_share is not None:
        third = days // 3
        day = (
            int(rng.integers(low, third))
            if rng.random() < early_share
            else int(rng.integers(third, days))
        )
    else:
        day = int(rng.integers(low, days))
    as_of = dates[day]
    published = as_of + pd.Timedelta(days=int(rng.integers(0, 8)))
    row = {
        "report_id": f"sim-{i + 1:03d}",
        "published": published.date().isoformat(),
        "as_of": as_of.date().isoformat(),
        "source": source,
        "source_group": group,
        "citation": "simulated",
    }
    if kind < incident_share:
        length = int(rng.integers(1, 6))
        first = max(day - length + 1, 1)
        increase = daily["killed"].iloc[day] - daily["killed"].iloc[first - 1]
        share = rng.uniform(0.2, 0.8)
        claimed = increase * share * np.exp(log_bias + rng.normal(0.0, noise))
        row.update(
            quantity="killed",
            scope="incident",
            qualifier="approx",
            value=_round_figure(claimed, rng),
            period_start=dates[first].date().isoformat(),
            period_end=as_of.date().isoformat(),
        )
        if row["value"] == 0:
            row["qualifier"] = "exact"
        return row
    if kind < incident_share + period_share and day >= 7:
        length = int(rng.integers(7, min(29, day) + 1))
        first = day - length + 1
        increase = daily["killed"].iloc[day] - daily["killed"].iloc[first - 1]
        claimed = increase * np.exp(log_bias + rng.normal(0.0, noise))
        row.update(
            quantity="killed",
            scope="period",
            qualifier="approx",
            value=_round_figure(claimed, rng),
            period_start=dates[first].date().isoformat(),
            period_end=as_of.date().isoformat(),
        )
        if row["value"] == 0:
            row["qualifier"] = "exact"
        return row
    quantity = str(rng.choice(["killed", "wounded", "casualties"], p=[0.4, 0.2, 0.4]))
    believed = quantity
    if quantity == "killed" and rng.random() < garbled_share / 0.4:
        believed = "casualties"  # a secondary outlet turned "casualties" into "killed"
    # a source may err differently on the wounded (family_part) than on deaths
    bias = log_bias if quantity == "killed" else log_bias + family_part
    belief = daily[believed].iloc[day] * np.exp(bias + rng.normal(0.0, noise))
    row.update(quantity=quantity, scope="cumulative")
    draw = rng.random()
    if draw < bound_share:
        wording = str(
            rng.choice(
                ["at_least", "more_than", "approaching", "at_most"], p=[0.35, 0.35, 0.15, 0.15]
            )
        )
        unit = _unit(belief)
        if wording in ("at_least", "more_than"):
            value = int(np.floor(belief / unit) * unit)
            if wording == "more_than" and value >= belief:
                value -= unit
        elif wording == "approaching":
            value = int(np.ceil(belief / unit) * unit)
            if value <= belief:
                value += unit
        else:
            value = int(np.ceil(belief / unit) * unit)
        row.update(qualifier=wording, value=max(value, 0))
        if row["qualifier"] == "approaching" and row["value"] == 0:
            row["qualifier"] = "exact"
    elif draw < bound_share + 0.1:
        unit = _unit(belief) * 5
        lower = int(np.floor(belief / unit) * unit)
        row.update(qualifier="range", value=lower, value_high=lower + unit)
    elif draw < bound_share + 0.2:
        row.update(qualifier="exact", value=round(belief))
    else:
        row.update(qualifier="approx", value=_round_figure(belief, rng))
    return row
