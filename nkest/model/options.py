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

from nkest.errors import OptionError, UnknownOptionError
from nkest.model.grid import parse_freq
from nkest.model.identification import (
    GroupPriors,
    Identification,
    MostGroupsUnbiased,
    ReferenceSources,
    SourceGroupsUnbiased,
    finite_pair,
)

__all__ = [
    "SAMPLERS",
    "FitOptions",
    "GroupPriors",
    "Identification",
    "MostGroupsUnbiased",
    "Priors",
    "ReferenceSources",
    "SourceGroupsUnbiased",
    "make_options",
]


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
    wounded_ratio: tuple[float, float] = (3.0, 0.55)
    """Wounded per killed: median 3, 95% prior mass from about 1.0 to 8.8. Published
    ratios of modern wars span this range: US forces, about 1.7 in the world wars, 2.6 to
    2.8 in Korea and Vietnam, 4.5 in Afghanistan and 7.3 in Iraq (docs/model.md)."""
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
    family_bias_sd: float = 0.5
    """Half-normal scale of how far a source's bias on one family of figures (deaths;
    wounded and casualties; captured and missing; troops sent) strays from its bias on
    the others: a factor of 1.6 at one sd. A source that keeps its deaths as
    conservative floors while its wounded are not needs room to differ."""
    noise: tuple[float, float] = (0.1, 0.5)
    """Typical logistic scale of a source's report-to-report noise (sd about 18%)."""
    noise_spread: float = 0.25
    """Half-normal scale of how much noise differs between sources (log scale): a
    source's noise is typically within a factor 1.3 of the others', up to 1.6 (two sd).
    Most sources give one or two figures, which cannot tell their noise from their bias;
    a wider spread lets a lone conflicting figure hide in a noise of its own (and
    doubles the sampler's work: docs/performance.md)."""
    sent_rise_sd: float = 2.0
    """Sd of the log of each rise of the troops sent between the dates its reports speak of,
    around the reports' median figure shared over the rises: a batch may be any size
    from a handful to all of them."""
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
            raise UnknownOptionError(
                f"unknown prior(s) {', '.join(unknown)}; valid: {', '.join(sorted(names))}"
            )
        values = {}
        for name, value in spec.items():
            default = getattr(cls, name)
            if isinstance(default, tuple):
                pair = finite_pair(value, f"prior {name!r}")
                if pair[0] <= 0 or pair[1] <= 0:
                    raise OptionError(f"prior {name!r} needs (median > 0, sd > 0), got {value!r}")
                values[name] = pair
            else:
                number = float(value)
                if not number > 0 or math.isinf(number):
                    raise OptionError(f"prior {name!r} must be a positive number, got {value!r}")
                values[name] = number
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Return the plain, JSON-serialisable form."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }


SAMPLERS = ("auto", "nutpie", "pymc")
"""The samplers ``FitOptions.sampler`` names: ``"auto"`` is nutpie when installed."""


_RANGES = {
    "approx_max_relative": (lambda v: 0 < v < 1, "between 0 and 1"),
    "approaching_band": (lambda v: 0 < v < 1, "between 0 and 1"),
    "outlier_share": (lambda v: 0 <= v < 0.5, "at least 0 and below 0.5"),
    "outlier_scale": (lambda v: 0 < v <= 5, "above 0 and at most 5"),
    "constraint_scale": (lambda v: 0 < v < 1, "between 0 and 1"),
    "target_accept": (lambda v: 0.5 <= v < 1, "in [0.5, 1)"),
}
"""Every numeric option's allowed range, in words for the message."""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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
    identification: Identification = field(default_factory=MostGroupsUnbiased)
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

    def __post_init__(self) -> None:
        """Check every value, however the options were made.

        ``make_options``, the class itself and ``dataclasses.replace`` all pass
        here: each range lives in ``_RANGES`` and nowhere else.
        """
        for name, (inside, words) in _RANGES.items():
            value = getattr(self, name)
            if not _number(value) or not inside(value):
                raise OptionError(f"{name} must be {words}, got {value!r}")
        if self.sampler not in SAMPLERS:
            raise OptionError(f"sampler must be one of {', '.join(SAMPLERS)}; got {self.sampler!r}")
        if self.cores is not None and (
            not isinstance(self.cores, int) or isinstance(self.cores, bool) or self.cores < 1
        ):
            raise OptionError(f"cores must be a positive whole number, got {self.cores!r}")
        parse_freq(self.freq)
        if not isinstance(self.identification, Identification):
            raise OptionError(
                f"identification must be an Identification (make_options parses its plain "
                f"form), got {self.identification!r}"
            )
        if not isinstance(self.priors, Priors):
            raise OptionError(
                f"priors must be Priors (make_options parses a mapping), got {self.priors!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the plain, JSON-serialisable form (read back by ``make_options``)."""
        plain = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        plain["identification"] = self.identification.to_dict()
        plain["priors"] = self.priors.to_dict()
        return plain


def make_options(**options: Any) -> FitOptions:
    """Merge user options over the defaults, checking each; unknown names are refused.

    Raises
    ------
    nkest.errors.UnknownOptionError
        For an unknown option, listing the valid ones (a ``TypeError``).
    nkest.errors.OptionError
        For a bad value (a ``ValueError``).
    """
    names = [f.name for f in dataclasses.fields(FitOptions)]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise UnknownOptionError(
            f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(names)}"
        )
    values = {k: v for k, v in options.items() if v is not None}
    if "identification" in values:
        values["identification"] = Identification.parse(values["identification"])
    if "priors" in values:
        values["priors"] = Priors.parse(values["priors"])
    for name in ("end", "origin"):
        if name in values and values[name] != "unknown":
            values[name] = _iso_date(values[name], name)
    return FitOptions(**values)


def _iso_date(value: Any, name: str) -> str:
    import datetime as dt

    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise OptionError(f"{name} must be a date (YYYY-MM-DD), got {value!r}") from None
    if pd.isna(stamp):
        raise OptionError(f"{name} must be a date (YYYY-MM-DD), got {value!r}")
    return dt.date(stamp.year, stamp.month, stamp.day).isoformat()
