"""Sampling a design: one compiled model per model structure, reused with new data.

Compiling a model costs seconds, sampling it often less. Models are cached by
their structure (grid length, quantities, sources, identification, priors):
a new fit whose design has the same structure swaps its data into the
compiled model instead of compiling again.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr

from nkest.errors import OptionError
from nkest.fit.callbacks import compile_nutpie_model
from nkest.fit.compiling import reproducible_compilation
from nkest.fit.progress import ProgressLog, announce, interactive
from nkest.model.build import build_model, model_data
from nkest.model.design import Design
from nkest.model.options import FitOptions
from nkest.reports import Reports
from nkest.version import __version__

__all__ = [
    "DEFAULT_CHAINS",
    "DEFAULT_DRAWS",
    "DEFAULT_TUNE",
    "SamplingInfo",
    "clear_cache",
    "provenance",
    "sample_design",
]

# Ten seeds of the DPRK fit pass with margin at these sizes (every seed: no divergences,
# R-hat <= 1.004, bulk and tail ESS >= 1,900), where 1,000 draws left R-hat up to 1.008
# and one seed with a divergence (docs/performance.md, "The defaults over ten seeds").
DEFAULT_DRAWS = 2000
"""Posterior draws per chain of a fit."""
DEFAULT_TUNE = 1000
"""Tuning steps per chain of a fit (discarded)."""
DEFAULT_CHAINS = 4
"""Independent chains of a fit."""

logger = logging.getLogger("nkest")

_POLL_SECONDS = 0.05
"""How often a fit checks whether sampling has ended (and Python handles Ctrl-C)."""

_CACHE_SIZE = 8
_cache: OrderedDict[str, _Compiled] = OrderedDict()


@dataclass
class _Compiled:
    model: pm.Model
    nutpie_model: Any = None


@dataclass(frozen=True)
class SamplingInfo:
    """How a fit was sampled, and where its time went (seconds)."""

    sampler: str
    draws: int
    tune: int
    chains: int
    random_seed: int
    seconds: dict[str, float] = field(default_factory=dict)
    reused_compiled_model: bool = False
    attempts: list[dict[str, Any]] = field(default_factory=list)
    """Every attempt at the fit, the kept one last: its settings, seconds, whether it
    passed its diagnostics and what failed (see ``nkest.results.refit``)."""
    time_budget: float | None = None
    """Seconds the fit could take, refits included (0: no refit)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the plain form (a deep copy)."""
        return asdict(self)


def clear_cache() -> None:
    """Forget every compiled model (the next fit compiles again)."""
    _cache.clear()


def resolve_sampler(name: str) -> str:
    """Return the sampler to use: nutpie when installed, unless PyMC's is asked for."""
    if name == "auto":
        return "nutpie" if importlib.util.find_spec("nutpie") else "pymc"
    if name == "nutpie" and not importlib.util.find_spec("nutpie"):
        raise ImportError("sampler='nutpie' needs the nutpie package: pip install nutpie")
    return name


def structure_key(design: Design, options: FitOptions) -> str:
    """Return the key of the compiled-model cache: what fixes the model's graph."""
    return json.dumps(
        {
            "structure": design.structure,
            "identification": options.identification.to_dict(),
            "priors": options.priors.to_dict(),
            "constraint_scale": options.constraint_scale,
        },
        sort_keys=True,
        default=str,
    )


def sample_design(
    design: Design,
    options: FitOptions,
    *,
    draws: int,
    tune: int,
    chains: int,
    random_seed: int | None,
    progressbar: bool,
    cores: int | None = None,
) -> tuple[xr.DataTree, SamplingInfo]:
    """Sample the posterior of a design.

    Returns
    -------
    (DataTree, SamplingInfo)
        The posterior and sampler statistics, with coordinates of this design.
    """
    for name, value in (("draws", draws), ("tune", tune), ("chains", chains)):
        if not isinstance(value, int | np.integer) or value < (0 if name == "tune" else 1):
            raise OptionError(f"{name} must be a positive whole number, got {value!r}")
    sampler = resolve_sampler(options.sampler)
    seed = _seed(random_seed)
    cores = cores or min(chains, os.cpu_count() or 1)
    seconds: dict[str, float] = {}
    key = f"{sampler}:{structure_key(design, options)}"
    reused = key in _cache
    start = time.perf_counter()
    if not reused:
        _cache[key] = _Compiled(model=build_model(design, options))
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    _cache.move_to_end(key)
    compiled = _cache[key]
    seconds["build"] = time.perf_counter() - start
    sample = _sample_nutpie if sampler == "nutpie" else _sample_pymc
    with reproducible_compilation():
        tree = sample(
            compiled, design, options, draws, tune, chains, seed, progressbar, cores, seconds
        )
    tree = _with_design_coords(tree, design)
    info = SamplingInfo(sampler, int(draws), int(tune), int(chains), seed, seconds, reused)
    return tree, info


def _seed(random_seed: int | None) -> int:
    if random_seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    if not isinstance(random_seed, int | np.integer) or random_seed < 0:
        raise OptionError(f"random_seed must be a non-negative whole number, got {random_seed!r}")
    return int(random_seed)


def _sample_nutpie(
    compiled, design, options, draws, tune, chains, seed, progressbar, cores, seconds
):
    import nutpie

    start = time.perf_counter()
    if compiled.nutpie_model is None:
        # Once per model structure in a process; the costliest part once per machine.
        # One line either way: the CLI also sends the log to stderr, beside the announcement.
        if progressbar:
            announce("compiling the model …")
        else:
            logger.info("compiling the model")
        compiled.nutpie_model = compile_nutpie_model(compiled.model)
    seconds["compile"] = time.perf_counter() - start
    start = time.perf_counter()
    # The initial point (PyMC's support points) reads the PyMC model's own data, which
    # nutpie's with_data does not update: without this, a reused model would start from
    # the previous fit's prior centres and give other draws than a fresh compile.
    data = model_data(design.arrays)
    with compiled.model:
        pm.set_data(data)
    # nutpie keeps only the data the compiled graph reads.
    known = {var.name for var in compiled.nutpie_model.shared_var_keys}
    with_data = compiled.nutpie_model.with_data(
        **{name: value for name, value in data.items() if name in known}
    )
    logger.info("sampling %d chains of %d draws after %d tuning steps", chains, draws, tune)
    # A bar where one can see it (a terminal, a notebook); elsewhere a line every few seconds.
    bar = progressbar and interactive()
    log = ProgressLog(chains) if progressbar and not bar else None
    # Ctrl-C is caught as a flag while nutpie runs: an interrupt raised inside Python code
    # that nutpie's native code calls back could be swallowed there, and the fit would go on.
    with _interrupt_flag() as interrupted:
        sampler = nutpie.sample(
            with_data,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=seed,
            progress_bar=bar,
            progress_callback=log,
            progress_rate=100 if bar else 500,
            save_warmup=False,
            target_accept=options.target_accept,
            # Mass matrix from the draws rather than the gradients: on the DPRK data it
            # doubles to triples the minimum ESS for the same cost (docs/performance.md).
            adaptation="draw_diag",
            blocking=False,
        )
        # nutpie's own blocking wait does not return to Python until sampling ends, so
        # Ctrl-C would wait for it; and on an interrupt it returns the draws so far as if
        # they were the fit. Waiting here in short sleeps lets Ctrl-C stop the chains at
        # once and raise, as in any other Python code.
        try:
            while not _finished(sampler):
                if interrupted.is_set():
                    raise KeyboardInterrupt
                time.sleep(_POLL_SECONDS)
        except KeyboardInterrupt:
            sampler.cancel()
            raise
    if interrupted.is_set():  # Ctrl-C as the last draw came in: still an interrupt
        raise KeyboardInterrupt
    tree = sampler.wait()
    seconds["sample"] = time.perf_counter() - start
    return tree


@contextmanager
def _interrupt_flag() -> Iterator[threading.Event]:
    """Turn Ctrl-C (SIGINT) into a flag while native code runs, then restore the handler.

    Outside the main thread no handler can be set: the flag then never rises, and an
    interrupt reaches the code as Python delivers it.
    """
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda signum, frame: flag.set())
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _finished(sampler) -> bool:
    """Return whether nutpie's background sampler is done (it raises TimeoutError if not)."""
    try:
        return bool(sampler.is_finished)
    except TimeoutError:
        return False


def _sample_pymc(compiled, design, options, draws, tune, chains, seed, progressbar, cores, seconds):
    start = time.perf_counter()
    with compiled.model:
        pm.set_data(model_data(design.arrays))
        tree = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=seed,
            progressbar=progressbar,
            nuts_sampler="pymc",
            nuts={"target_accept": options.target_accept},
            compute_convergence_checks=False,
        )
    seconds["compile_and_sample"] = time.perf_counter() - start
    return xr.DataTree.from_dict(
        {
            "posterior": tree["posterior"].to_dataset(),
            "sample_stats": tree["sample_stats"].to_dataset(),
        }
    )


def _with_design_coords(tree: xr.DataTree, design: Design) -> xr.DataTree:
    """Label the dims with this design's dates and names (a reused model has the old ones)."""
    coords = design.coords
    posterior = tree["posterior"].to_dataset()
    posterior = posterior.assign_coords({k: v for k, v in coords.items() if k in posterior.dims})
    return xr.DataTree.from_dict(
        {"posterior": posterior, "sample_stats": tree["sample_stats"].to_dataset()}
    )


def provenance(reports: Reports, options: FitOptions, sampling: Any) -> dict[str, str]:
    """Return what produced a fit, as text attributes for the posterior's file."""
    return {
        "nkest_version": __version__,
        "reports_fingerprint": reports.fingerprint(),
        "reports_count": str(len(reports)),
        "identification": options.identification.describe(),
        "options": json.dumps(options.to_dict(), sort_keys=True),
        "sampling": json.dumps(sampling.to_dict(), sort_keys=True),
        "dataset": str(reports.metadata.get("name", "")),
    }
