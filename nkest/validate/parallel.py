"""Many fits, one model: run fits in parallel through any ``concurrent.futures.Executor``.

Validation and sensitivity studies run hundreds of fits of same-shaped data.
Each worker process compiles the model once (the compiled-model cache lives
in the process) and swaps the data in for every later fit. Workers return
small results (tables), never whole posteriors.

By default the fits run in local processes; pass ``executor=`` to use
another pool, for example a Dask cluster's::

    from dask.distributed import Client
    client = Client("scheduler-address:8786")
    results = run_fits(tasks, executor=client.get_executor())
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from nkest.reports import Reports
from nkest.results.fitting import fit

__all__ = ["FitTask", "default_executor", "run_fits"]


@dataclass(frozen=True)
class FitTask:
    """One fit to run and what to keep of it.

    Attributes
    ----------
    reports : Reports
        The reports to fit.
    fit_kwargs : dict
        Keyword arguments of ``nkest.fit`` (draws, random_seed, options).
    extract : callable
        ``extract(estimate, **extract_kwargs)`` returns what to keep; it must
        be a module-level function so that it pickles.
    extract_kwargs : dict
    label : object
        Anything that identifies the task in the results.
    """

    reports: Reports
    fit_kwargs: dict[str, Any] = field(default_factory=dict)
    extract: Callable[..., Any] | None = None
    extract_kwargs: dict[str, Any] = field(default_factory=dict)
    label: Any = None


def _run(task: FitTask) -> Any:
    estimate = fit(task.reports, progressbar=False, **task.fit_kwargs)
    if task.extract is None:
        return estimate.summary()
    return task.extract(estimate, **task.extract_kwargs)


def default_executor(max_workers: int | None = None) -> Executor:
    """Return a pool of local worker processes (spawned, one per core by default).

    Processes are spawned rather than forked: the samplers run threads, and a
    forked copy of a threaded process can deadlock.
    """
    workers = max_workers or os.cpu_count() or 1
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def run_fits(
    tasks: Iterable[FitTask],
    *,
    executor: Executor | None = None,
    max_workers: int | None = None,
) -> list[Any]:
    """Run fits in parallel and return their extracted results, in task order.

    Parameters
    ----------
    tasks : iterable of FitTask
    executor : concurrent.futures.Executor, optional
        Where to run: default, local worker processes (``default_executor``);
        a Dask cluster through ``client.get_executor()``; or any other
        executor. With ``max_workers=1`` and no executor, fits run in this
        process one after the other.
    max_workers : int, optional
        Size of the default pool.

    Returns
    -------
    list
        ``task.extract(estimate)`` of each task, in the order of ``tasks``.
    """
    tasks = list(tasks)
    if executor is None and (max_workers == 1 or len(tasks) <= 1):
        return [_run(task) for task in tasks]
    owned = executor is None
    pool = executor or default_executor(max_workers)
    try:
        futures = [pool.submit(_run, task) for task in tasks]
        return [future.result() for future in futures]
    finally:
        if owned:
            pool.shutdown()
