"""Compile the model so that its seed alone fixes its draws.

PyTensor compiles a model's log-density with numba and, by default, with
fast-math flags (reassociation, contraction into fused multiply-adds,
approximate functions). It also caches each operation's kernel on disk. With
fast-math, a kernel compiled cold, inlined into the whole function, and the
same kernel loaded from the cache round differently in the last bits; MCMC
turns a difference in the last bit of a gradient into other trajectories.
The same data and seed then gave draws that depended on the state of the
cache: a killed median of 1,375 with a cold cache and 1,388 with a warm one
(docs/safety.md). Without fast-math the kernels compute the same numbers
whichever way they were built, at no measured cost in sampling time
(docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytensor

__all__ = ["REPRODUCIBLE_FLAGS", "reproducible_compilation"]

REPRODUCIBLE_FLAGS: dict[str, object] = {"numba__fastmath": False}
"""PyTensor settings under which nkest compiles every function it samples with."""


@contextmanager
def reproducible_compilation() -> Iterator[None]:
    """Compile under ``REPRODUCIBLE_FLAGS``, then restore the caller's settings.

    The settings are changed only for the duration, so nkest leaves PyTensor's
    global configuration as it found it.
    """
    with pytensor.config.change_flags(**REPRODUCIBLE_FLAGS):
        yield
