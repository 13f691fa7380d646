"""What a report's claim says about the latent totals: the observation model.

Written once for two array libraries: PyTensor inside the PyMC model, and
NumPy after sampling (per-report log-likelihood, predictions). Each function
takes ``ops``, a namespace with ``log``, ``expm1``, ``softplus``, ``take`` and
``exp``, so the model and the post-hoc checks cannot drift apart.

A source's figure for a report is ``latent * exp(bias + noise)``. The noise
is, with probability ``1 - outlier_share``, logistic with the source's scale
(on the log scale, heavier-tailed than the normal), and otherwise logistic
with the wide ``outlier_scale``: a garbled figure (casualties passed on as
killed, a mixed unit, a typo). A figure far from the rest is then explained
as garbled rather than dragging the estimate: its pull fades the further
out it is. Floors and caps have no outlier part. A claim is an interval for
the figure; its log-probability is log(F(b) - F(a)), with ``a``, ``b`` the
standardised log-bounds and F the logistic CDF, mixed over the two parts. A
lower bound alone (``b`` far above) or an upper bound alone (``a`` far below)
is the same formula with the missing bound at ``OPEN_BOUND``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

__all__ = [
    "NUMPY_OPS",
    "OPEN_BOUND",
    "claim_logp",
    "draw_log_noise",
    "report_latent",
    "tail_probability",
]

OPEN_BOUND = 100.0
"""Log-scale stand-in for a missing bound: e**100 is beyond any count, and divided by
the smallest noise scale (0.02) still far from float64's limits."""


def _np_softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


NUMPY_OPS = SimpleNamespace(
    log=np.log,
    exp=np.exp,
    expm1=np.expm1,
    softplus=_np_softplus,
    take=np.take,
    logaddexp=np.logaddexp,
)
"""The NumPy side of the ``ops`` namespace."""


def tensor_ops() -> SimpleNamespace:
    """Return the PyTensor side of the ``ops`` namespace."""
    import pytensor.tensor as pt

    return SimpleNamespace(
        log=pt.log,
        exp=pt.exp,
        expm1=pt.expm1,
        softplus=pt.softplus,
        take=pt.take,
        logaddexp=pt.logaddexp,
    )


def _read_at(flat: Any, quantity: Any, left: Any, weight: Any, size: int, ops: Any) -> Any:
    index = quantity * size + left
    return (1.0 - weight) * ops.take(flat, index, axis=-1) + weight * ops.take(
        flat, index + 1, axis=-1
    )


def report_latent(totals: Any, arrays: dict[str, Any], size: int, ops: Any) -> Any:
    """Return the latent value each report speaks of.

    Parameters
    ----------
    totals : array (..., quantities, size)
        Cumulative totals on the grid (leading dims for draws, if any).
    arrays : dict
        The design arrays (``quantity_index``, ``end_left``, ``end_weight``,
        ``start_left``, ``start_weight``, ``windowed``).
    size : int
        Number of grid dates.

    Returns
    -------
    array (..., reports)
        The total at ``as_of`` for a cumulative report; the increase from the
        day before ``period_start`` to ``period_end`` for a windowed one.
    """
    shape = totals.shape
    flat = totals.reshape((*shape[:-2], shape[-2] * shape[-1]))
    q = arrays["quantity_index"]
    end = _read_at(flat, q, arrays["end_left"], arrays["end_weight"], size, ops)
    start = _read_at(flat, q, arrays["start_left"], arrays["start_weight"], size, ops)
    return end - arrays["windowed"] * start


def claim_logp(log_centre: Any, scale: Any, arrays: dict[str, Any], ops: Any) -> Any:
    """Return the log-probability of each claim.

    One formula serves every kind of claim: a claim with no upper bound has
    ``log_upper`` at ``OPEN_BOUND`` and one with no lower bound has
    ``log_lower`` at ``-OPEN_BOUND``, so that far outside any figure the
    interval probability ``F(b) - F(a)`` becomes ``1 - F(a)`` or ``F(b)``
    exactly (in floating point too: the terms vanish, never overflow).

    Parameters
    ----------
    log_centre : array (..., reports)
        ``log(latent) + bias`` of each report's source.
    scale : array (..., reports)
        The logistic scale of each report's noise.
    arrays : dict
        ``log_lower`` and ``log_upper`` of each claim; ``log_main_share`` and
        ``log_outlier_share`` (the log-weights of the two parts of the noise)
        and ``outlier_scale``.

    Returns
    -------
    array (..., reports)
    """
    main = _interval_logp(log_centre, scale, arrays, ops)
    garbled = _interval_logp(log_centre, arrays["outlier_scale"], arrays, ops)
    return ops.logaddexp(arrays["log_main_share"] + main, arrays["log_outlier_share"] + garbled)


def _interval_logp(log_centre: Any, scale: Any, arrays: dict[str, Any], ops: Any) -> Any:
    """log(F(b) - F(a)) for the logistic CDF F, stable for every a < b."""
    a = (arrays["log_lower"] - log_centre) / scale
    b = (arrays["log_upper"] - log_centre) / scale
    return b + ops.log(-ops.expm1(a - b)) - ops.softplus(a) - ops.softplus(b)


def draw_log_noise(
    scale: np.ndarray, arrays: dict[str, Any], rng: np.random.Generator
) -> np.ndarray:
    """Draw each report's log-noise from the model's noise distribution (NumPy).

    Parameters
    ----------
    scale : array (..., reports)
        The logistic scale of each report's ordinary noise.
    arrays : dict
        The design arrays (``log_outlier_share``, ``outlier_scale``).
    rng : numpy.random.Generator

    Returns
    -------
    array (..., reports)
    """
    garbled = rng.random(np.shape(scale)) < np.exp(arrays["log_outlier_share"])
    width = np.where(garbled, arrays["outlier_scale"], scale)
    return width * rng.logistic(size=np.shape(scale))


def pointwise_logp(log_centre: np.ndarray, scale: np.ndarray, arrays: dict[str, Any]) -> np.ndarray:
    """Return the log-probability of every claim, in report order (NumPy)."""
    return claim_logp(log_centre, scale, arrays, NUMPY_OPS)


def tail_probability(
    figures: np.ndarray,
    weights: np.ndarray | None,
    lower: np.ndarray,
    upper: np.ndarray,
    kind: np.ndarray,
) -> np.ndarray:
    """Return how far in a tail of predicted figures each claim lies (small: surprising).

    For a two-sided claim, twice the smaller of P(figure <= upper) and
    P(figure >= lower); for a lower or an upper bound, its one tail.

    Parameters
    ----------
    figures : array (samples, reports)
        Predicted figures of each report's source.
    weights : array (samples, reports), optional
        Sample weights summing to one per report (importance weights for
        leave-one-out); default uniform.
    lower, upper : array (reports,)
        The claims' bounds (0 and inf when open).
    kind : array (reports,)
        ``"interval"``, ``"lower"`` or ``"upper"``.
    """
    if weights is None:
        weights = np.full(figures.shape, 1.0 / figures.shape[0])
    below_upper = (weights * (figures <= upper)).sum(axis=0)
    above_lower = (weights * (figures >= lower)).sum(axis=0)
    two_sided = 2 * np.minimum(below_upper, above_lower)
    tail = np.where(kind == "lower", above_lower, np.where(kind == "upper", below_upper, two_sided))
    return np.clip(tail, 0.0, 1.0)  # weights sum to one only up to rounding
