"""What a report's claim says about the latent totals: the observation model.

Written once for two array libraries: PyTensor inside the PyMC model, and
NumPy after sampling (per-report log-likelihood, predictions). Each function
takes ``ops``, a namespace with ``log``, ``expm1``, ``softplus``, ``take`` and
``exp``, so the model and the post-hoc checks cannot drift apart.

A source's figure for a report is ``latent * exp(bias + noise)``, the noise
logistic with the source's scale: on the log scale, heavier-tailed than the
normal, so one wild report pulls the estimate with a bounded force. A claim
is an interval for that figure; its log-probability is log(F(b) - F(a)),
with ``a``, ``b`` the standardised log-bounds and F the logistic CDF. A lower
bound alone (``b`` far above) or an upper bound alone (``a`` far below) is the
same formula with the missing bound at ``OPEN_BOUND``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

__all__ = ["NUMPY_OPS", "OPEN_BOUND", "claim_logp", "report_latent", "tail_probability"]

OPEN_BOUND = 100.0
"""Log-scale stand-in for a missing bound: e**100 is beyond any count, and divided by
the smallest noise scale (0.02) still far from float64's limits."""


def _np_softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


NUMPY_OPS = SimpleNamespace(
    log=np.log, exp=np.exp, expm1=np.expm1, softplus=_np_softplus, take=np.take
)
"""The NumPy side of the ``ops`` namespace."""


def tensor_ops() -> SimpleNamespace:
    """Return the PyTensor side of the ``ops`` namespace."""
    import pytensor.tensor as pt

    return SimpleNamespace(
        log=pt.log, exp=pt.exp, expm1=pt.expm1, softplus=pt.softplus, take=pt.take
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
        ``log_lower`` and ``log_upper`` of each claim.

    Returns
    -------
    array (..., reports)
    """
    a = (arrays["log_lower"] - log_centre) / scale
    b = (arrays["log_upper"] - log_centre) / scale
    return b + ops.log(-ops.expm1(a - b)) - ops.softplus(a) - ops.softplus(b)


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
