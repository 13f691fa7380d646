"""Model options, identification assumptions and priors: plain values, merged in one place.

Everything a user can set about the model is a serialisable value with a
documented default, so that a fitted result can record exactly what produced
it and a saved fit can be rebuilt.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FitOptions", "Identification", "Priors", "make_options"]


@dataclass(frozen=True)
class Identification:
    """What anchors the overall level of the estimates.

    With no ground truth, reports identify the truth only up to a common
    bias factor: if every source over-reported by 30%, the reports would
    look the same. An assumption about the sources fixes that factor. It
    drives the answer, so it is a visible choice and part of every citation.

    Parameters
    ----------
    kind : {"groups", "reference", "group_priors"}
        ``"groups"`` (default): source groups are unbiased on average; the
        groups' log-bias factors sum to zero (each source deviates from its
        group's bias by a partially pooled amount; with a single group, the
        group bias is zero and sources are unbiased on average a priori). ``"reference"``: the named
        reference sources are unbiased. ``"group_priors"``: informative
        priors on the bias of named groups.
    sources : tuple of str
        The reference sources (``kind="reference"``).
    group_priors : mapping of str to (float, float)
        For ``kind="group_priors"``: group -> (median bias factor, standard
        deviation of the log factor); e.g. ``{"Ukraine government": (1.5,
        0.2)}`` says that group states about 50% above the truth.
    """

    kind: str = "groups"
    sources: tuple[str, ...] = ()
    group_priors: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    KINDS = ("groups", "reference", "group_priors")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(
                f"identification kind must be one of: {', '.join(self.KINDS)}; got {self.kind!r}"
            )
        if self.kind == "reference" and not self.sources:
            raise ValueError("identification 'reference' needs at least one source name")
        if self.kind == "group_priors":
            if not self.group_priors:
                raise ValueError("identification 'group_priors' needs at least one group prior")
            for group, value in self.group_priors.items():
                factor, sd = _pair(value, f"group prior for {group!r}")
                if factor <= 0 or sd <= 0:
                    raise ValueError(
                        f"group prior for {group!r} must be (median factor > 0, log sd > 0), "
                        f"got {value!r}"
                    )
        object.__setattr__(self, "sources", tuple(self.sources))
        object.__setattr__(
            self,
            "group_priors",
            {str(k): _pair(v, str(k)) for k, v in dict(self.group_priors).items()},
        )

    @classmethod
    def parse(cls, spec: str | Mapping[str, Any] | Identification) -> Identification:
        """Read an identification from its plain form.

        Accepted: ``"groups"``; ``{"reference": ["NIS"]}`` or
        ``"reference:NIS,UK Defence Intelligence"``; ``{"group_priors":
        {"Ukraine government": (1.5, 0.2)}}``; or an ``Identification``.
        """
        if isinstance(spec, Identification):
            return spec
        if isinstance(spec, str):
            kind, _, names = spec.partition(":")
            kind = kind.strip()
            if kind == "reference":
                return cls("reference", tuple(n.strip() for n in names.split(",") if n.strip()))
            if names:
                raise ValueError(f"only 'reference:<sources>' takes names; got {spec!r}")
            return cls(kind)
        if isinstance(spec, Mapping):
            if "kind" in spec:
                return cls(
                    spec["kind"],
                    tuple(spec.get("sources", ())),
                    dict(spec.get("group_priors", {})),
                )
            if set(spec) == {"reference"}:
                names = spec["reference"]
                return cls("reference", (names,) if isinstance(names, str) else tuple(names))
            if set(spec) == {"group_priors"}:
                return cls("group_priors", group_priors=dict(spec["group_priors"]))
        raise ValueError(
            "identification must be 'groups', {'reference': [sources]} or "
            f"{{'group_priors': {{group: (factor, sd)}}}}; got {spec!r}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the plain, JSON-serialisable form (read back by ``parse``)."""
        return {
            "kind": self.kind,
            "sources": list(self.sources),
            "group_priors": {k: list(v) for k, v in self.group_priors.items()},
        }

    def describe(self) -> str:
        """Say the assumption in words, for citations and reports.

        A noun phrase that reads after "assuming" or "identification:":
        ``"source groups unbiased on average"``, ``"NIS unbiased"``.
        """
        if self.kind == "groups":
            return "source groups unbiased on average"
        if self.kind == "reference":
            return f"{_join_names(self.sources)} unbiased"
        parts = [
            f"{group} states x{factor:g} the truth (log sd {sd:g})"
            for group, (factor, sd) in self.group_priors.items()
        ]
        return "informative priors on group biases: " + "; ".join(parts)


def _pair(value: Any, what: str) -> tuple[float, float]:
    try:
        first, second = value
        pair = float(first), float(second)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a pair of numbers, got {value!r}") from None
    if not all(math.isfinite(number) for number in pair):
        raise ValueError(f"{what} must be a pair of finite numbers, got {value!r}")
    return pair


def _join_names(names: tuple[str, ...]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class Priors:
    """Prior settings of the model, each with its reason (see ``docs/model.md``).

    Scales are on the natural-log scale unless said otherwise. Pairs are
    (median, log-scale standard deviation) of a log-normal prior.
    """

    rate_level_sd: float = 1.5
    """Sd of the log mean daily rate (killed; captured and missing where bounded from above)
    around a centre read from the reports' magnitude: a factor of 20 either way at
    two sd."""
    rate_variability: tuple[float, float] = (1.0, 0.5)
    """Stationary sd of the log daily rate: bursts and lulls of a factor e^2 = 7
    around the mean are ordinary, up to e^5 = 150 plausible. Kept away from zero
    because loss rates in a war are never constant."""
    timescale_days: tuple[float, float] = (30.0, 0.5)
    """How long a burst or lull lasts (AR(1) correlation time), median one month."""
    wounded_ratio: tuple[float, float] = (4.5, 0.45)
    """Wounded per killed: 95% prior mass from about 1.9 to 10.8."""
    ratio_drift: float = 0.15
    """Half-normal scale of the monthly random-walk sd of the log wounded:killed ratio."""
    group_bias_sd: float = 0.5
    """Half-normal scale of the spread of group log-bias factors (factor 1.6 at one sd)."""
    group_bias_common_sd: float = 1.0
    """Sd of the common log-bias level of the groups that the identification does not
    anchor (``"reference"`` and ``"group_priors"`` only): free to within a factor of 7
    either way at two sd, so that the anchor alone sets the level."""
    source_bias_sd: float = 0.3
    """Half-normal scale of the spread of source log-bias factors within a group."""
    noise: tuple[float, float] = (0.1, 0.5)
    """Typical logistic scale of a source's report-to-report noise (sd about 18%)."""
    noise_spread: float = 0.25
    """Half-normal scale of how much noise differs between sources (log scale): a
    source's noise is typically within a factor 1.3 of the others', up to 1.6 (two sd).
    Most sources give one or two figures, which cannot tell their noise from their bias;
    a wider spread lets a lone conflicting figure hide in a noise of its own (and
    doubles the sampler's work: docs/performance.md)."""
    initial_level_sd: float = 2.5
    """Sd of the log initial killed total when the origin (the date totals were zero) is
    unknown; initial wounded follow through the wounded:killed ratio, captured and
    missing start at zero."""

    @classmethod
    def parse(cls, spec: Mapping[str, Any] | Priors | None) -> Priors:
        """Build priors from overrides, refusing unknown names."""
        if spec is None:
            return cls()
        if isinstance(spec, Priors):
            return spec
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(spec) - names)
        if unknown:
            raise TypeError(
                f"unknown prior(s) {', '.join(unknown)}; valid: {', '.join(sorted(names))}"
            )
        values = {}
        for name, value in spec.items():
            default = getattr(cls, name)
            if isinstance(default, tuple):
                pair = _pair(value, f"prior {name!r}")
                if pair[0] <= 0 or pair[1] <= 0:
                    raise ValueError(f"prior {name!r} needs (median > 0, sd > 0), got {value!r}")
                values[name] = pair
            else:
                number = float(value)
                if not number > 0 or math.isinf(number):
                    raise ValueError(f"prior {name!r} must be a positive number, got {value!r}")
                values[name] = number
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Return the plain, JSON-serialisable form."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }


@dataclass(frozen=True)
class FitOptions:
    """Every option of ``nkest.fit`` besides the sampler's draws and seed."""

    end: str | None = None
    """Last date of the estimate (ISO); default: the last date a usable report speaks of
    (its ``as_of``, or the end of its window)."""
    freq: str = "W"
    """Time grid step: ``"W"`` (weekly), ``"D"`` (daily), or ``"<n>D"``/``"<n>W"``."""
    origin: str | None = None
    """ISO date at which every total was zero; default: the reports' metadata.
    ``"unknown"`` ignores the metadata and estimates the initial totals."""
    identification: Identification = field(default_factory=Identification)
    priors: Priors = field(default_factory=Priors)
    approx_max_relative: float = 0.25
    """Widest half-width of a rounded ("about") figure, relative to the figure."""
    approaching_band: float = 0.2
    """"Approaching v" means between (1 - band) * v and v."""
    outlier_share: float = 0.05
    """Prior probability that a reported figure is garbled (casualties passed on as
    killed, a mixed unit, a typo): such figures are read with the wide
    ``outlier_scale`` noise instead of their source's, so a wild figure cannot drag
    the estimate. 0 turns the outlier part off."""
    outlier_scale: float = 1.0
    """Logistic scale (log) of a garbled figure's noise: within a factor of 3 of the
    truth half the time, of 20 nine times in ten."""
    constraint_scale: float = 0.02
    """Softness of floors and caps on the log scale (a 2% margin)."""
    sampler: str = "auto"
    """``"auto"`` (nutpie when installed), ``"nutpie"`` or ``"pymc"``."""
    cores: int | None = None
    """CPU cores for the chains; default one per chain, at most the machine's. Set 1
    when fits run in parallel processes."""
    target_accept: float = 0.97
    """NUTS target acceptance rate. 0.97 rather than the usual 0.8: smaller steps keep
    every seed of the DPRK fit free of divergences, and they raise the effective sample
    size per draw more than they cost (docs/performance.md)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the plain, JSON-serialisable form (read back by ``make_options``)."""
        plain = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        plain["identification"] = self.identification.to_dict()
        plain["priors"] = self.priors.to_dict()
        return plain


_SAMPLERS = ("auto", "nutpie", "pymc")


def make_options(**options: Any) -> FitOptions:
    """Merge user options over the defaults, checking each; unknown names are refused.

    Raises
    ------
    TypeError
        For an unknown option, listing the valid ones.
    ValueError
        For a bad value.
    """
    names = [f.name for f in dataclasses.fields(FitOptions)]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(names)}")
    values = {k: v for k, v in options.items() if v is not None}
    if "identification" in values:
        values["identification"] = Identification.parse(values["identification"])
    if "priors" in values:
        values["priors"] = Priors.parse(values["priors"])
    for name in ("end", "origin"):
        if name in values and values[name] != "unknown":
            values[name] = _iso_date(values[name], name)
    opts = FitOptions(**values)
    if opts.sampler not in _SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(_SAMPLERS)}; got {opts.sampler!r}")
    if not 0 < opts.approx_max_relative < 1:
        raise ValueError("approx_max_relative must be between 0 and 1")
    if not 0 < opts.approaching_band < 1:
        raise ValueError("approaching_band must be between 0 and 1")
    if not 0 <= opts.outlier_share < 0.5:
        raise ValueError("outlier_share must be at least 0 and below 0.5")
    if not 0 < opts.outlier_scale <= 5:
        raise ValueError("outlier_scale must be above 0 and at most 5")
    if not 0 < opts.constraint_scale < 1:
        raise ValueError("constraint_scale must be between 0 and 1")
    if opts.cores is not None and (not isinstance(opts.cores, int) or opts.cores < 1):
        raise ValueError(f"cores must be a positive whole number, got {opts.cores!r}")
    if not 0.5 <= opts.target_accept < 1:
        raise ValueError("target_accept must be in [0.5, 1)")
    return opts


def _iso_date(value: Any, name: str) -> str:
    import datetime as dt

    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name} must be a date (YYYY-MM-DD), got {value!r}") from None
    if pd.isna(stamp):
        raise ValueError(f"{name} must be a date (YYYY-MM-DD), got {value!r}")
    return dt.date(stamp.year, stamp.month, stamp.day).isoformat()
