"""Does nutpie's JAX backend beat numba on the DPRK model?

The experiment behind docs/performance.md's row on the JAX backend. It builds
the DPRK model with the defaults, compiles it with nutpie's numba or JAX
backend, samples 4 chains x 1,000 draws after 1,000 tuning steps (seed 1,
target acceptance 0.97) and prints one JSON line: compile and sampling
seconds, leapfrog steps per draw, microseconds per gradient, divergences and
the killed total at the last date.

    python benchmarks/experiments/jax_backend.py numba
    JAX_ENABLE_X64=1 python benchmarks/experiments/jax_backend.py jax

JAX is not a dependency of nkest: install ``jax`` to run the second line.
Without ``--as-is``, PyTensor's JAX ``softplus`` is replaced with
``jax.nn.softplus`` first: PyTensor's nested ``where``s overflow in their
untaken branches for claims with an open bound, and the gradient of an
untaken branch (0 x inf) is NaN, which nutpie reports as a "bad initial
gradient". ``--as-is`` shows that failure.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def _jax_softplus_without_nan_gradients() -> None:
    import jax
    from pytensor.link.jax.dispatch import jax_funcify
    from pytensor.scalar import Softplus

    @jax_funcify.register(Softplus)
    def _softplus(op, **kwargs):
        return jax.nn.softplus


def main(backend: str, as_is: bool) -> dict:
    import nutpie

    from nkest.datasets import load_dataset
    from nkest.model.build import build_model
    from nkest.model.design import make_design
    from nkest.model.options import make_options

    if backend == "jax" and not as_is:
        _jax_softplus_without_nan_gradients()
    options = make_options()
    model = build_model(make_design(load_dataset("dprk"), options), options)
    start = time.perf_counter()
    backends = {"backend": "jax", "gradient_backend": "jax"} if backend == "jax" else {}
    compiled = nutpie.compile_pymc_model(model, **backends)
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    trace = nutpie.sample(
        compiled,
        draws=1000,
        tune=1000,
        chains=4,
        cores=2,
        seed=1,
        target_accept=0.97,
        progress_bar=False,
    )
    sample_seconds = time.perf_counter() - start
    stats = trace["sample_stats"].dataset
    killed = trace["posterior"].dataset["total"].sel(quantity="killed").isel(date=-1).values
    gradients = float(stats["n_steps"].sum()) * 2  # tuning steps cost about as many as draws
    return {
        "backend": backend,
        "compile_s": round(compile_seconds, 1),
        "sample_s": round(sample_seconds, 1),
        "steps_per_draw": round(float(stats["n_steps"].mean()), 1),
        "us_per_gradient": round(1e6 * sample_seconds * 2 / gradients, 1),  # two cores
        "divergences": int(stats["diverging"].sum()),
        "killed_median": float(np.median(killed)),
        "killed_90": [float(q) for q in np.quantile(killed, [0.05, 0.95])],
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], "--as-is" in sys.argv)))
