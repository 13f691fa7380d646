"""One benchmark workload in a fresh process; prints its measurements as JSON.

Run by ``benchmarks/run.py``; e.g. ``python benchmarks/workload.py fresh``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import warnings

START = time.perf_counter()
warnings.filterwarnings("ignore")


def _headline_ess_per_second(estimate, sample_seconds: float) -> float:
    import arviz as az

    total = estimate.posterior["posterior"]["total"].isel(date=-1)
    ess = az.ess(total.sel(quantity=["killed", "casualties"]).to_dataset(name="t"), method="bulk")
    return float(ess["t"].min()) / sample_seconds


def _sampler_work(estimate) -> dict:
    """Leapfrog steps per draw, and the seconds of one gradient on one core."""
    sampling = estimate.sampling
    steps = estimate.posterior["sample_stats"]["n_steps"]
    # Tuning steps are not kept; they cost about as many leapfrog steps per draw.
    leapfrogs = float(steps.sum()) * (sampling.draws + sampling.tune) / sampling.draws
    busy_cores = min(sampling.chains, os.cpu_count() or 1)
    return {
        "steps_per_draw": float(steps.mean()),
        "gradient_microseconds": 1e6 * sampling.seconds.get("sample", 0.0) * busy_cores / leapfrogs,
    }


def fresh(draws: int, tune: int, chains: int) -> dict:
    """Time to posterior of the DPRK data from a fresh process, by phase."""
    import nkest

    imported = time.perf_counter()
    reports = nkest.load_dataset("dprk")
    estimate = nkest.fit(
        reports, draws=draws, tune=tune, chains=chains, random_seed=1, progressbar=False
    )
    done = time.perf_counter()
    seconds = estimate.sampling.seconds
    diagnostics = estimate.diagnostics()
    return {
        **_sampler_work(estimate),
        "divergences": diagnostics["divergences"],
        "max_rhat": diagnostics["max_rhat"],
        "min_ess_bulk": diagnostics["min_ess_bulk"],
        "import": imported - START,
        "build": seconds["build"],
        "compile": seconds.get("compile", 0.0),
        "sample": seconds.get("sample", seconds.get("compile_and_sample", 0.0)),
        "fit_total": done - imported,
        "total": done - START,
        "ess_per_second": _headline_ess_per_second(estimate, seconds.get("sample", 1.0)),
        "passed": diagnostics["passed"],
    }


def _fit_record(estimate, seed: int, seconds: float) -> dict:
    """One fit of a many-seed workload: its time, refits, diagnostics and sampler work."""
    diagnostics = estimate.diagnostics()
    return {
        "seed": seed,
        "seconds": seconds,
        "compile": estimate.sampling.seconds.get("compile", 0.0),
        "attempts": diagnostics["attempts"],
        **_sampler_work(estimate),
        "passed": diagnostics["passed"],
        "divergences": diagnostics["divergences"],
        "max_rhat": diagnostics["max_rhat"],
        "min_ess_bulk": diagnostics["min_ess_bulk"],
    }


def compile_model(callbacks: str) -> dict:
    """Import, build and compile the DPRK model in a fresh process, without sampling.

    ``callbacks``: "cached" compiles as a fit does (nutpie's callbacks loaded
    from disk when this machine compiled them before); "nutpie" compiles them
    nutpie's own way, the baseline.
    """
    import nutpie

    import nkest
    from nkest.fit.callbacks import compile_nutpie_model
    from nkest.fit.compiling import reproducible_compilation
    from nkest.model.build import build_model
    from nkest.model.design import make_design
    from nkest.model.options import make_options

    imported = time.perf_counter()
    options = make_options()
    model = build_model(make_design(nkest.load_dataset("dprk"), options), options)
    built = time.perf_counter()
    compile_ = compile_nutpie_model if callbacks == "cached" else nutpie.compile_pymc_model
    with reproducible_compilation():
        compiled = compile_(model)
    done = time.perf_counter()
    return {
        "import": imported - START,
        "build": built - imported,
        "compile": done - built,
        "total": done - START,
        "callbacks_loaded": compiled.compiled_logp_func.cache_hits,
    }


def warm(draws: int, tune: int, chains: int) -> dict:
    """A second fit with new data in a warm process (same structure)."""
    import nkest

    reports = nkest.load_dataset("dprk")
    nkest.fit(reports, draws=draws, tune=tune, chains=chains, random_seed=1, progressbar=False)
    changed = reports.exclude(["dprk-077"], "benchmark: new data")
    start = time.perf_counter()
    estimate = nkest.fit(
        changed, draws=draws, tune=tune, chains=chains, random_seed=2, progressbar=False
    )
    return {
        "warm_fit": time.perf_counter() - start,
        "reused": estimate.sampling.reused_compiled_model,
        "sample": estimate.sampling.seconds["sample"],
    }


def naive(draws: int, tune: int, chains: int) -> dict:
    """The plainly written baseline model of the same data, from a fresh process."""
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    import arviz as az
    import pymc as pm
    from naive import naive_model

    import nkest
    from nkest.model.design import make_design
    from nkest.model.options import make_options

    imported = time.perf_counter()
    options = make_options()
    design = make_design(nkest.load_dataset("dprk"), options)
    model = naive_model(design, options)
    start = time.perf_counter()
    with model:
        tree = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=1,
            progressbar=False,
            compute_convergence_checks=False,
        )
    sampled = time.perf_counter()
    total = tree["posterior"]["total"].isel(total_dim_1=-1)
    quantities = list(design.internal)
    picked = total.isel(total_dim_0=[quantities.index("killed"), quantities.index("casualties")])
    ess = float(az.ess(picked.to_dataset(name="t"), method="bulk")["t"].min())
    rhat = float(az.rhat(picked.to_dataset(name="t"))["t"].max())
    divergences = int(tree["sample_stats"]["diverging"].sum())
    # pm.sample compiles then samples; its own timing splits them in sample_stats attrs
    sampling = float(tree["sample_stats"].attrs.get("sampling_time", sampled - start))
    return {
        "fit_total": sampled - imported,
        "sample": sampling,
        "ess": ess,
        "ess_per_second": ess / sampling,
        "divergences": divergences,
        "max_rhat": rhat,
        "total": sampled - START,
    }


def scale(reports: int, sources: int, freq: str, draws: int, tune: int, chains: int) -> dict:
    """A synthetic report set of a given size over four years."""
    import nkest
    from nkest.validate import simulate_conflict

    groups = max(1, sources // 20) if sources >= 20 else 1
    per_group = max(1, sources // groups)
    sim = simulate_conflict(
        1,
        days=4 * 365,
        n_reports=reports,
        n_groups=groups,
        sources_per_group=per_group,
        start="2021-01-01",  # four years that end before today
    )
    end = sim.daily.index[-1].date().isoformat()
    case = {"reports": len(sim.reports), "sources": groups * per_group, "freq": freq}
    print("PARTIAL " + json.dumps(case), flush=True)

    def fit(draws: int, tune: int, chains: int):
        return nkest.fit(
            sim.reports,
            end=end,
            freq=freq,
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=1,
            progressbar=False,
        )

    # A short one-chain pilot compiles the model (the full fit reuses it) and prices a
    # gradient, so that a fit stopped at the time limit still says what bounds it.
    pilot_size = 50
    pilot = fit(pilot_size, pilot_size, 1)
    work = _sampler_work(pilot)
    case.update(
        grid=pilot.grid.size,
        compile=pilot.sampling.seconds.get("compile", 0.0),
        gradient_microseconds=work["gradient_microseconds"],
        pilot_steps_per_draw=work["steps_per_draw"],
    )
    print("PARTIAL " + json.dumps(case), flush=True)
    sampled = time.perf_counter()
    estimate = fit(draws, tune, chains)
    done = time.perf_counter()
    diagnostics = estimate.diagnostics()
    return {
        **case,
        # The time of a fit from the reports: compiling (in the pilot) plus sampling.
        "fit_seconds": case["compile"] + (done - sampled),
        "steps_per_draw": _sampler_work(estimate)["steps_per_draw"],
        "sample": estimate.sampling.seconds.get("sample", 0.0),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "passed": diagnostics["passed"],
        "divergences": diagnostics["divergences"],
        "max_rhat": diagnostics["max_rhat"],
        "min_ess_bulk": diagnostics["min_ess_bulk"],
    }


def realistic_conflict(seed: int):
    """Simulate the realistic workload's conflict for ``seed`` (see ``realistic``)."""
    from nkest.validate import simulate_conflict

    return simulate_conflict(
        seed,
        days=730,
        n_reports=170,
        n_groups=5,
        sources_per_group=11,
        belligerent=(5.0, 20.0),
        start="2023-01-01",
    )


def realistic(count: int, settings: str) -> dict:
    """A realistic synthetic conflict on seeds 1..count, after a DPRK fit in the same process.

    About 170 reports from about 55 sources in seven groups, one of them a
    belligerent understating its own losses 5 to 20 times, with floors, a cap,
    ranges, bounds and counts over windows, over two years: the size of the
    real data sets users bring. ``settings`` is a JSON object of ``nkest.fit``
    arguments; ``{}`` is the defaults (refits included).
    """
    import nkest

    chosen = json.loads(settings)
    start = time.perf_counter()
    dprk = nkest.fit(nkest.load_dataset("dprk"), random_seed=1, progressbar=False, **chosen)
    baseline = time.perf_counter() - start
    fits = []
    for seed in range(1, count + 1):
        sim = realistic_conflict(seed)
        begun = time.perf_counter()
        estimate = nkest.fit(
            sim.reports,
            end=sim.daily.index[-1].date().isoformat(),
            random_seed=seed,
            progressbar=False,
            **chosen,
        )
        fits.append(
            _fit_record(estimate, seed, time.perf_counter() - begun)
            | {"reports": len(estimate.used), "sources": len(estimate.source_bias())}
        )
    return {"dprk_seconds": baseline, "dprk_passed": dprk.diagnostics()["passed"], "fits": fits}


def seeds(count: int, settings: str) -> dict:
    """The DPRK fit on seeds 1..count in one process: each seed's diagnostics and time.

    ``settings`` is a JSON object of ``nkest.fit`` arguments; ``{}`` is the defaults.
    """
    import nkest

    reports = nkest.load_dataset("dprk")
    chosen = json.loads(settings)
    nkest.fit(reports, random_seed=0, progressbar=False, **chosen)  # compile: not timed
    fits = []
    for seed in range(1, count + 1):
        estimate = nkest.fit(reports, random_seed=seed, progressbar=False, **chosen)
        diagnostics = estimate.diagnostics()
        fits.append(
            {
                "seed": seed,
                "sample": estimate.sampling.seconds["sample"],
                "divergences": diagnostics["divergences"],
                "max_rhat": diagnostics["max_rhat"],
                "min_ess_bulk": diagnostics["min_ess_bulk"],
                "min_ess_tail": diagnostics["min_ess_tail"],
                "worst_rhat": diagnostics["worst_rhat"],
                "steps_per_draw": _sampler_work(estimate)["steps_per_draw"],
            }
        )
    sampling = estimate.sampling
    return {
        "settings": {"draws": sampling.draws, "tune": sampling.tune, "chains": sampling.chains}
        | {"target_accept": estimate.options.target_accept},
        "fits": fits,
    }


def datasets(count: int, settings: str) -> dict:
    """Each bundled data set fitted on seeds 1..count as a user fits it (refits on).

    ``settings`` is a JSON object of ``nkest.fit`` arguments; ``{}`` is the defaults.
    """
    import nkest

    chosen = json.loads(settings)
    results = {}
    for name in nkest.list_datasets():
        reports = nkest.load_dataset(name)
        fits = []
        for seed in range(1, count + 1):
            begun = time.perf_counter()
            estimate = nkest.fit(reports, random_seed=seed, progressbar=False, **chosen)
            fits.append(
                _fit_record(estimate, seed, time.perf_counter() - begun)
                | {"reports_used": len(estimate.used)}
            )
        results[name] = fits
    return {"datasets": results}


def throughput(fits: int, draws: int, tune: int, chains: int, workers: int) -> dict:
    """DPRK-sized fits per minute after the first compilation (each worker warmed first)."""
    import nkest
    from nkest.validate.parallel import default_executor

    reports = nkest.load_dataset("dprk")
    variants = [_revised(reports, i) for i in range(fits)]
    settings = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "random_seed": 1,
        "cores": 1 if workers > 1 else None,
    }
    if workers == 1:
        _fit_one((reports, settings))  # compile: not throughput
        start = time.perf_counter()
        for variant in variants:
            _fit_one((variant, settings))
        elapsed = time.perf_counter() - start
    else:
        with default_executor(workers) as pool:
            list(pool.map(_fit_one, [(reports, settings)] * workers))  # spawn and compile
            start = time.perf_counter()
            list(pool.map(_fit_one, [(v, settings) for v in variants]))
            elapsed = time.perf_counter() - start
    return {"fits": fits, "workers": workers, "seconds": elapsed, "per_minute": 60 * fits / elapsed}


def throughput_dask(fits: int, draws: int, tune: int, chains: int, workers: int) -> dict:
    """The same fits on a local Dask cluster of ``workers`` single-threaded worker processes.

    Through ``run_fits(..., executor=client.get_executor())``, as a study on a
    real cluster would run; every worker compiles the model once first.
    """
    from dask.distributed import Client, LocalCluster

    import nkest
    from nkest.validate.parallel import FitTask, run_fits

    reports = nkest.load_dataset("dprk")
    settings = {"draws": draws, "tune": tune, "chains": chains, "random_seed": 1, "cores": 1}
    tasks = [FitTask(_revised(reports, i), settings, _median) for i in range(fits)]
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        client.run(_fit_one, (reports, settings))  # compile once on every worker
        start = time.perf_counter()
        run_fits(tasks, executor=client.get_executor())
        elapsed = time.perf_counter() - start
    return {"fits": fits, "workers": workers, "seconds": elapsed, "per_minute": 60 * fits / elapsed}


def diagnostics(draws: int, chains: int, repeats: int) -> dict:
    """CPU seconds of a fit's convergence diagnostics: nkest's, and ArviZ's on the same draws.

    The draws are those of a short DPRK fit (every posterior variable), resampled
    to ``chains`` x ``draws`` and jittered: the variables and their shapes of a
    real fit, at the size of the defaults or of batch work. The best of
    ``repeats`` runs each.
    """
    import arviz_stats as azs
    import numpy as np

    import nkest
    from nkest.results.summaries import diagnostics_of

    estimate = nkest.fit(
        nkest.load_dataset("dprk"), draws=100, tune=100, chains=2, progressbar=False
    )
    short = estimate.posterior["posterior"].to_dataset()
    rng = np.random.default_rng(0)
    picks = rng.integers(0, short.sizes["draw"], size=(chains, draws))
    resampled = short.isel(chain=_pointwise(picks % 2), draw=_pointwise(picks))
    # jittered, as draws of a continuous posterior rarely tie (constant entries stay constant)
    posterior = resampled.map(
        lambda v: v + 0.01 * v.std(("chain", "draw")) * v.copy(data=rng.normal(size=v.shape))
    )
    stats = estimate.posterior["sample_stats"].to_dataset()
    names = list(posterior.data_vars)

    def ours() -> None:
        diagnostics_of(posterior, stats, names)

    def arviz() -> None:
        azs.rhat(posterior)
        azs.ess(posterior, method="bulk")
        azs.ess(posterior, method="tail")

    def best(run) -> float:
        times = []
        for _ in range(repeats):
            start = time.process_time()
            run()
            times.append(time.process_time() - start)
        return min(times)

    variables = sum(int(np.prod(posterior[n].shape[2:])) for n in names)
    return {"variables": variables, "nkest": best(ours), "arviz": best(arviz)}


def _pointwise(values):
    """Index a (chain, draw) grid pointwise."""
    import xarray as xr

    return xr.DataArray(values, dims=("chain", "draw"))


def _median(estimate) -> float:
    return float(estimate.summary().iloc[0]["median"])


def _revised(reports, i: int):
    """The reports with one figure revised by 10%: new data, the same model structure.

    (Leaving a report out can remove a source, and a new structure compiles anew.)
    """
    import nkest

    frame = reports.to_frame()
    rows = frame.index[(frame["exclude"] == "") & (frame["quantity"] != "deployed")]
    row = rows[i % len(rows)]
    frame.loc[row, "value"] = round(frame.loc[row, "value"] * (1.1 if i % 2 else 0.9))
    if frame.loc[row, "qualifier"] == "range":
        frame.loc[row, "value_high"] = max(frame.loc[row, "value_high"], frame.loc[row, "value"])
    return nkest.load_reports(frame, metadata=reports.metadata)


def _fit_one(job):
    import nkest

    reports, settings = job
    estimate = nkest.fit(reports, progressbar=False, **settings)
    return estimate.summary().iloc[0]["median"]


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    numbers = [int(a) if a.lstrip("-").isdigit() else a for a in args]
    result = globals()[name](*numbers)
    print("RESULT " + json.dumps(result))
