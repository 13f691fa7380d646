"""Identification assumptions: what anchors the overall level of the estimates.

With no ground truth, reports identify the truth only up to a common bias
factor: if every source over-reported by 30%, the reports would look the
same. An assumption about the sources fixes that factor. It drives the
answer, so it is a visible choice and part of every citation.

Each assumption is a small class that owns all of its consequences: how it
is written (``parse``, ``to_dict``, ``describe``), its check against the
sources and groups of a design, its piece of the PyMC graph (the groups'
log-biases), and the bias of a source group the fit has not seen (a draw
from the same hierarchy, for predictions of future reports).

- ``MostGroupsUnbiased`` (``"most_groups"``, the default): each group's
  log-bias is drawn from a heavy-tailed distribution centred on no bias, so
  most groups sit near it and one group far from the others (a belligerent
  stating its own losses at a tenth of everyone else's figure) is read as
  biased, without moving the others.
- ``SourceGroupsUnbiased`` (``"groups"``): the groups' log-bias factors sum to
  zero, so a strongly biased group pulls every other group the other way.
- ``ReferenceSources`` (``{"reference": [...]}``): the named sources are
  unbiased; the groups share a free common level.
- ``GroupPriors`` (``{"group_priors": {group: (factor, sd)}}``): informative
  priors on the bias of named groups; the others share a free common level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from nkest.errors import OptionError

__all__ = [
    "GROUP_BIAS_TAIL",
    "GroupPriors",
    "Identification",
    "MostGroupsUnbiased",
    "ReferenceSources",
    "SourceGroupsUnbiased",
    "finite_pair",
]


def finite_pair(value: Any, what: str) -> tuple[float, float]:
    """Return ``value`` as a pair of finite floats, or say what ``what`` must be."""
    try:
        first, second = value
        pair = float(first), float(second)
    except (TypeError, ValueError):
        raise OptionError(f"{what} must be a pair of numbers, got {value!r}") from None
    if not all(math.isfinite(number) for number in pair):
        raise OptionError(f"{what} must be a pair of finite numbers, got {value!r}")
    return pair


def _join_names(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class Identification:
    """An identification assumption (use one of its subclasses, or ``parse``)."""

    kind: ClassVar[str] = ""
    KINDS: ClassVar[tuple[str, ...]] = ("most_groups", "groups", "reference", "group_priors")
    prior_sets_common_bias: ClassVar[bool] = False
    """Whether only the prior tells the sources' common bias from the level.

    True when no source or group is pinned: the reports then see the level
    plus the sources' average bias, and the model draws the level as they see
    it (``docs/model.md``, "Parameterisation for sampling")."""

    @classmethod
    def parse(cls, spec: str | Mapping[str, Any] | Identification) -> Identification:
        """Read an identification from its plain form.

        Accepted: ``"most_groups"``, ``"groups"``; ``{"reference": ["NIS"]}`` or
        ``"reference:NIS,UK Defence Intelligence"``; ``{"group_priors":
        {"Ukraine government": (1.5, 0.2)}}``; the form ``to_dict`` writes;
        or an ``Identification``.

        Raises
        ------
        ValueError
            For anything else, saying what is accepted.
        """
        if isinstance(spec, Identification):
            return spec
        if isinstance(spec, str):
            kind, _, names = spec.partition(":")
            kind = kind.strip()
            if kind == "reference":
                return ReferenceSources(tuple(n.strip() for n in names.split(",") if n.strip()))
            if names:
                raise OptionError(f"only 'reference:<sources>' takes names; got {spec!r}")
            return _of_kind(kind, (), {})
        if isinstance(spec, Mapping):
            if "kind" in spec:
                return _of_kind(
                    spec["kind"],
                    tuple(spec.get("sources", ())),
                    dict(spec.get("group_priors", {})),
                )
            if set(spec) == {"reference"}:
                names = spec["reference"]
                return ReferenceSources((names,) if isinstance(names, str) else tuple(names))
            if set(spec) == {"group_priors"}:
                return GroupPriors(dict(spec["group_priors"]))
        raise OptionError(
            "identification must be 'groups', {'reference': [sources]} or "
            f"{{'group_priors': {{group: (factor, sd)}}}}; got {spec!r}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the plain, JSON-serialisable form (read back by ``parse``)."""
        return {"kind": self.kind, "sources": [], "group_priors": {}}

    def describe(self) -> str:
        """Say the assumption in words, for citations and reports.

        A noun phrase that reads after "assuming" or "identification:":
        ``"source groups unbiased on average"``, ``"NIS unbiased"``.
        """
        raise NotImplementedError

    def check(self, sources: Sequence[str], groups: Sequence[str]) -> None:
        """Refuse an assumption that names sources or groups with no used observation.

        Raises
        ------
        ValueError
        """

    def group_bias(self, groups: Sequence[str], priors: Any) -> Any:
        """Add the groups' log-biases to the PyMC model in context; return them (by group)."""
        raise NotImplementedError

    def source_log_bias(self, log_bias: Any, sources: Sequence[str]) -> Any:
        """Return the sources' log-biases as the assumption fixes them (by default, as drawn)."""
        return log_bias

    def new_group_bias(
        self, posterior: Any, rng: np.random.Generator, shape: tuple[int, ...]
    ) -> np.ndarray:
        """Draw, per posterior draw, the log-bias of a source group the fit has not seen."""
        raise NotImplementedError

    @staticmethod
    def _spread_draws(posterior: Any, shape: tuple[int, ...]) -> np.ndarray:
        if "group_bias_sd" in posterior:
            return posterior["group_bias_sd"].to_numpy()
        return np.zeros(shape)


GROUP_BIAS_TAIL = 3.0
"""Degrees of freedom of the Student t of the groups' log-biases under ``MostGroupsUnbiased``:
heavy enough that one far group costs little more than a moderately biased one."""


@dataclass(frozen=True)
class _ScaledGroups(Identification):
    """Group log-biases are a shared spread times standardised draws around no bias.

    The subclass says how the standardised draws are distributed. With a
    single group, the group bias is zero and sources are unbiased on average
    a priori.
    """

    prior_sets_common_bias: ClassVar[bool] = True

    def _standardised(self, name: str) -> Any:
        """Add the groups' standardised log-biases to the model in context."""
        raise NotImplementedError

    def _draw_standardised(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def group_bias(self, groups: Sequence[str], priors: Any) -> Any:
        import pymc as pm
        import pytensor.tensor as pt

        if len(groups) > 1:
            spread = pm.HalfNormal("group_bias_sd", sigma=priors.group_bias_sd)
            z = self._standardised("group_bias_z")
            return pm.Deterministic("group_bias", spread * z, dims="source_group")
        return pm.Deterministic("group_bias", pt.zeros(1), dims="source_group")

    def new_group_bias(self, posterior, rng, shape):
        return self._spread_draws(posterior, shape) * self._draw_standardised(rng, shape)


@dataclass(frozen=True)
class MostGroupsUnbiased(_ScaledGroups):
    """Most source groups are roughly unbiased; a few may be far off.

    Each group's log-bias is its spread times a Student t draw with 3 degrees
    of freedom, centred on no bias: the level rests on the groups that agree,
    and a group far from them (a belligerent on its own losses) is found biased
    instead of pulling the others, as a zero sum would. With a single group,
    the group bias is zero and sources are unbiased on average a priori.
    """

    kind: ClassVar[str] = "most_groups"

    def describe(self) -> str:  # noqa: D102 - the base class says it
        return "most source groups roughly unbiased"

    def _standardised(self, name: str) -> Any:
        import pymc as pm

        return pm.StudentT(name, nu=GROUP_BIAS_TAIL, mu=0.0, sigma=1.0, dims="source_group")

    def _draw_standardised(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.standard_t(GROUP_BIAS_TAIL, shape)


@dataclass(frozen=True)
class SourceGroupsUnbiased(_ScaledGroups):
    """Source groups are unbiased on average: the groups' log-bias factors sum to zero.

    Each source deviates from its group's bias by a partially pooled amount;
    with a single group, the group bias is zero and sources are unbiased on
    average a priori.
    """

    kind: ClassVar[str] = "groups"

    def describe(self) -> str:  # noqa: D102 - the base class says it
        return "source groups unbiased on average"

    def _standardised(self, name: str) -> Any:
        import pymc as pm

        # Non-centred: PyMC's ZeroSumNormal is centred, which made 212 divergences.
        return pm.ZeroSumNormal(name, sigma=1.0, dims="source_group")

    def _draw_standardised(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        # One more group of a zero-sum set: centred on the others' average, zero.
        return rng.standard_normal(shape)


@dataclass(frozen=True)
class _CommonLevel(Identification):
    """Groups share a free common level; the subclass says what anchors it."""

    def _anchors(self, groups: Sequence[str]) -> tuple[np.ndarray, np.ndarray, dict[int, float]]:
        """Return which groups are anchored, their centres and their spreads by index."""
        return np.zeros(len(groups), dtype=bool), np.zeros(len(groups)), {}

    def group_bias(self, groups: Sequence[str], priors: Any) -> Any:
        import pymc as pm
        import pytensor.tensor as pt

        # The anchor is the reference sources or the named groups' priors alone: the
        # other groups share a free common level instead of being pulled towards zero
        # bias, which would be the "groups unbiased on average" assumption again.
        group_sd = pm.HalfNormal("group_bias_sd", sigma=priors.group_bias_sd)
        z = pm.Normal("group_bias_z", 0.0, 1.0, dims="source_group")
        common = pm.Normal("group_bias_common", 0.0, priors.group_bias_common_sd)
        anchored, centre, spreads = self._anchors(groups)
        spread = pt.ones(len(groups)) * group_sd
        for i, sd in spreads.items():
            spread = pt.set_subtensor(spread[i], sd)
        level = centre + pt.where(anchored, 0.0, common)
        return pm.Deterministic("group_bias", level + spread * z, dims="source_group")

    def new_group_bias(self, posterior, rng, shape):
        # A group no prior names: the free common level plus a draw of the spread.
        common = posterior["group_bias_common"].to_numpy()
        return common + self._spread_draws(posterior, shape) * rng.standard_normal(shape)


@dataclass(frozen=True)
class ReferenceSources(_CommonLevel):
    """The named reference sources are unbiased (their bias factor is 1)."""

    sources: tuple[str, ...] = ()
    kind: ClassVar[str] = "reference"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(self.sources))
        if not self.sources:
            raise OptionError("identification 'reference' needs at least one source name")

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {"kind": self.kind, "sources": list(self.sources), "group_priors": {}}

    def describe(self) -> str:  # noqa: D102
        return f"{_join_names(self.sources)} unbiased"

    def check(self, sources, groups):  # noqa: D102
        missing = [s for s in self.sources if s not in sources]
        if missing:
            raise OptionError(
                f"reference source(s) {', '.join(map(repr, missing))} have no used observations; "
                f"sources with observations: {', '.join(sources)}"
            )

    def source_log_bias(self, log_bias, sources):  # noqa: D102
        free = np.array([s not in self.sources for s in sources], dtype=np.float64)
        return log_bias * free


@dataclass(frozen=True)
class GroupPriors(_CommonLevel):
    """Informative priors on the bias of named groups.

    ``group_priors`` maps a group to (median bias factor, standard deviation
    of the log factor): ``{"Ukraine government": (1.5, 0.2)}`` says that
    group states about 50% above the truth.
    """

    group_priors: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    kind: ClassVar[str] = "group_priors"

    def __post_init__(self) -> None:
        if not self.group_priors:
            raise OptionError("identification 'group_priors' needs at least one group prior")
        checked = {}
        for group, value in dict(self.group_priors).items():
            factor, sd = finite_pair(value, f"group prior for {group!r}")
            if factor <= 0 or sd <= 0:
                raise OptionError(
                    f"group prior for {group!r} must be (median factor > 0, log sd > 0), "
                    f"got {value!r}"
                )
            checked[str(group)] = (factor, sd)
        object.__setattr__(self, "group_priors", checked)

    def __hash__(self) -> int:
        return hash((self.kind, tuple(sorted(self.group_priors.items()))))

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {
            "kind": self.kind,
            "sources": [],
            "group_priors": {k: list(v) for k, v in self.group_priors.items()},
        }

    def describe(self) -> str:  # noqa: D102
        parts = [
            f"{group} states x{factor:g} the truth (log sd {sd:g})"
            for group, (factor, sd) in self.group_priors.items()
        ]
        return "informative priors on group biases: " + "; ".join(parts)

    def check(self, sources, groups):  # noqa: D102
        missing = [g for g in self.group_priors if g not in groups]
        if missing:
            raise OptionError(
                f"group prior(s) for {', '.join(map(repr, missing))}: no such group with used "
                f"observations; groups: {', '.join(groups)}"
            )

    def _anchors(self, groups):
        anchored = np.zeros(len(groups), dtype=bool)
        centre = np.zeros(len(groups))
        spreads = {}
        for group, (factor, sd) in self.group_priors.items():
            i = list(groups).index(group)
            anchored[i] = True
            centre[i] = math.log(factor)
            spreads[i] = sd
        return anchored, centre, spreads


_KINDS: dict[str, type[Identification]] = {
    "most_groups": MostGroupsUnbiased,
    "groups": SourceGroupsUnbiased,
    "reference": ReferenceSources,
    "group_priors": GroupPriors,
}


def _of_kind(kind: str, sources: tuple[str, ...], group_priors: dict) -> Identification:
    if kind not in _KINDS:
        raise OptionError(
            f"identification kind must be one of: {', '.join(Identification.KINDS)}; got {kind!r}"
        )
    if kind == "reference":
        return ReferenceSources(sources)
    if kind == "group_priors":
        return GroupPriors(group_priors)
    return _KINDS[kind]()
