"""Studies that record each fit's diagnostics themselves need no warning about them."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from nkest.errors import UnreliableEstimateWarning

__all__ = ["diagnostics_recorded"]


@contextmanager
def diagnostics_recorded() -> Iterator[None]:
    """Silence ``UnreliableEstimateWarning`` where a study keeps each fit's ``passed``.

    A validation study fits hundreds of conflicts and records whether each
    passed its diagnostics beside its results; a warning per failed fit would
    bury its log. Usable as a decorator.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreliableEstimateWarning)
        yield
