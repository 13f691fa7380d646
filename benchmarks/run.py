"""Run nkest's benchmarks and print each target with its ratio to a baseline timed in the same run.

    python benchmarks/run.py            # the full run (about 100 minutes on two cores)
    python benchmarks/run.py --smoke    # a quick check that every benchmark runs (CI)
    python benchmarks/profile_fit.py    # where a fit's time goes: compilation and gradient

Every workload runs in a fresh process (``benchmarks/workload.py``). These
machines are noisy, so each result is also given as a ratio to a baseline
measured in the same run: the plainly written PyMC model of the same data
(``benchmarks/naive.py``) for time and sampling efficiency, the smallest
report set for scale. A scale fit still running after ``--scale-limit`` seconds is
stopped and reported with what a short pilot fit measured (compilation, cost of a
gradient, steps per draw) and the time they project. Results are written to
``benchmarks/results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
FULL = {"draws": 2000, "tune": 1000, "chains": 4}  # the fit's defaults
SMOKE = {"draws": 100, "tune": 100, "chains": 2}
SCALE_TARGET = "linear; 10,000 daily < 300 s"
"""The issue's scale target, shown beside every scale case."""

PREVIOUS_DEFAULTS = {"draws": 1000, "tune": 1000, "chains": 4, "target_accept": 0.95}
"""The fit's defaults before the seed study (issue 17): the baseline of ``seeds``."""

SEED_TARGET = "every seed: 0 divergences, R-hat <= 1.005, bulk and tail ESS >= 600"

BATCH = {"draws": 500, "tune": 500, "chains": 2}
"""The size of each fit in the validation studies' batch work (SBC uses it)."""


def workload(
    name: str, *args: object, timeout: float = 3600, env: dict[str, str] | None = None
) -> dict:
    """Run one workload in a fresh Python process and return its measurements.

    A workload still running after ``timeout`` seconds is stopped; its result
    is then what it printed as ``PARTIAL`` so far, with ``stopped_after``.
    ``env`` adds to the process's environment.
    """
    command = [sys.executable, str(HERE / "workload.py"), name, *map(str, args)]
    start = time.perf_counter()
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired as stopped:
        output = stopped.stdout or ""
        output = output.decode() if isinstance(output, bytes) else output
        partial = [line for line in output.splitlines() if line.startswith("PARTIAL ")]
        if not partial:
            raise RuntimeError(f"{name} printed nothing in {timeout:.0f} s") from None
        measured = json.loads(partial[-1].removeprefix("PARTIAL "))
        measured["stopped_after"] = timeout
        measured["wall"] = time.perf_counter() - start
        return measured
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"{name} failed:\n{result.stderr[-3000:]}")
    measured = json.loads(lines[-1].removeprefix("RESULT "))
    measured["wall"] = time.perf_counter() - start
    return measured


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; print the table; save the raw numbers."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check everything runs")
    parser.add_argument(
        "--only",
        default="",
        help=(
            "comma-separated: time,compile,diagnostics,ess,scale,throughput,seeds,realistic,"
            "datasets"
        ),
    )
    parser.add_argument(
        "--scale-limit",
        type=float,
        default=600,
        help="seconds after which a scale fit is stopped and reported as a gap (default 600)",
    )
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    draws, tune, chains = sizes["draws"], sizes["tune"], sizes["chains"]
    chosen = set(filter(None, args.only.split(","))) or {
        "time",
        "compile",
        "diagnostics",
        "ess",
        "scale",
        "throughput",
        "seeds",
        "realistic",
        "datasets",
    }
    results: dict[str, object] = {
        "smoke": args.smoke,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "sizes": sizes,
    }
    rows: list[tuple[str, str, str, str]] = []

    if chosen & {"time", "ess"}:
        fresh = workload("fresh", draws, tune, chains)
        warm = workload("warm", draws, tune, chains)
        naive = workload("naive", draws, tune, chains)
        results.update(fresh=fresh, warm=warm, naive=naive)
        rows += [
            (
                "time to posterior, fresh process (s)",
                f"{fresh['total']:.1f}",
                "< 10",
                f"naive model {naive['total']:.1f} s: "
                f"{naive['total'] / fresh['total']:.1f}x faster",
            ),
            (
                "  of which import / compile / sample (s)",
                f"{fresh['import']:.1f} / {fresh['compile']:.1f} / {fresh['sample']:.1f}",
                "",
                f"{fresh['steps_per_draw']:.0f} leapfrog steps per draw, about "
                f"{fresh['gradient_microseconds']:.0f} µs per gradient; diagnostics "
                f"{'passed' if fresh['passed'] else 'FAILED'} ({fresh['divergences']} "
                f"divergences, R-hat {fresh['max_rhat']:.3f}, min ESS {fresh['min_ess_bulk']:.0f})",
            ),
            (
                "second fit with new data, warm process (s)",
                f"{warm['warm_fit']:.1f}",
                "< 2",
                f"reused compiled model: {warm['reused']}",
            ),
            (
                "ESS per second, headline totals",
                f"{fresh['ess_per_second']:.0f}",
                ">= 10x naive",
                f"naive {naive['ess_per_second']:.1f}/s: "
                f"{fresh['ess_per_second'] / max(naive['ess_per_second'], 1e-9):.1f}x "
                f"(naive: {naive['divergences']} divergences, R-hat {naive['max_rhat']:.2f})",
            ),
        ]

    if "compile" in chosen:
        # Smoke: nkest's way only (the baseline is the same workload, twice as long).
        ways = ("cached",) if args.smoke else ("cached", "nutpie")
        results["compile"] = times = _compile_times(ways, empty_cache=not args.smoke)
        ours, theirs = times["cached"], times.get("nutpie")
        baseline = (
            f"nutpie's own callbacks {theirs['first_ever']['compile']:.1f} / "
            f"{theirs['fresh']['compile']:.1f} s: "
            f"{theirs['fresh']['compile'] / ours['fresh']['compile']:.1f}x faster warm; "
            if theirs
            else "nutpie's own callbacks not timed (smoke); "
        )
        rows.append(
            (
                "compile, fresh process: "
                + (
                    "first / second, this machine's cache (s)"
                    if args.smoke
                    else "first ever / cache warm (s)"
                ),
                f"{ours['first_ever']['compile']:.1f} / {ours['fresh']['compile']:.1f}",
                "part of < 10",
                f"{baseline}callbacks loaded from disk: "
                f"{'yes' if ours['fresh']['callbacks_loaded'] else 'NO'}",
            )
        )

    if "diagnostics" in chosen:
        results["diagnostics"] = {}
        # Smoke: one size (both are the smoke size there).
        for label, size in (("defaults", sizes), ("batch", BATCH))[: 1 if args.smoke else 2]:
            timed = workload("diagnostics", size["draws"], size["chains"], 1 if args.smoke else 3)
            results["diagnostics"][label] = timed
            rows.append(
                (
                    f"convergence diagnostics, CPU s ({size['chains']} x {size['draws']} draws, "
                    f"{timed['variables']} variables)",
                    f"{timed['nkest']:.2f}",
                    "part of < 2",
                    f"ArviZ on the same draws {timed['arviz']:.2f} s: "
                    f"{timed['arviz'] / timed['nkest']:.1f}x faster",
                )
            )

    if "throughput" in chosen:
        fits = 3 if args.smoke else 12
        # Batch studies (SBC, coverage) run shorter fits than a cited estimate: both sizes.
        batch = SMOKE if args.smoke else BATCH
        results["throughput"] = {}
        for label, size in (("defaults", sizes), ("batch", batch)):
            b_draws, b_tune, b_chains = size["draws"], size["tune"], size["chains"]
            serial = workload("throughput", fits, b_draws, b_tune, b_chains, 1)
            parallel = workload("throughput", fits, b_draws, b_tune, b_chains, 2)
            results["throughput"][label] = {"serial": serial, "parallel": parallel, "size": size}
            best = max(serial["per_minute"], parallel["per_minute"])
            rows.append(
                (
                    f"throughput, DPRK-sized fits per minute ({b_chains} x {b_draws} draws)",
                    f"{best:.1f}",
                    ">= 60",
                    f"one process {serial['per_minute']:.1f}/min; two processes "
                    f"{parallel['per_minute']:.1f}/min "
                    f"({parallel['per_minute'] / serial['per_minute']:.1f}x)",
                )
            )
        # The same batch fits through a Dask executor, as a study on a cluster runs them.
        size = batch
        one = workload("throughput_dask", fits, size["draws"], size["tune"], size["chains"], 1)
        two = workload("throughput_dask", fits, size["draws"], size["tune"], size["chains"], 2)
        results["throughput"]["dask"] = {"one_worker": one, "two_workers": two, "size": size}
        rows.append(
            (
                f"throughput on a local Dask cluster, fits per minute ({size['chains']} x "
                f"{size['draws']} draws)",
                f"{max(one['per_minute'], two['per_minute']):.1f}",
                ">= 60",
                f"one worker {one['per_minute']:.1f}/min; two workers "
                f"{two['per_minute']:.1f}/min ({two['per_minute'] / one['per_minute']:.1f}x); "
                "single-threaded workers, each compiled once",
            )
        )

    if "scale" in chosen:
        cases = (
            [(100, 5, "W"), (300, 10, "W")]
            if args.smoke
            else [
                (100, 5, "W"),
                (1000, 20, "W"),
                (10000, 200, "W"),
                (1000, 20, "D"),
                (10000, 200, "D"),
            ]
        )
        scale = [
            workload("scale", n, s, f, draws, tune, chains, timeout=args.scale_limit)
            for n, s, f in cases
        ]
        results["scale"] = scale
        base = scale[0]
        for case in scale:
            name = (
                f"scale: {case['reports']:,} reports, {case['sources']} sources, "
                f"{'daily' if case['freq'] == 'D' else 'weekly'}"
                + (f" ({case['grid']} dates)" if "grid" in case else "")
            )
            if "stopped_after" in case:
                rows.append(
                    (name, f"> {case['stopped_after']:.0f} s", SCALE_TARGET, _stopped(case, sizes))
                )
                continue
            rows.append(
                (
                    name,
                    f"{case['fit_seconds']:.0f} s, {case['peak_rss_mb']:.0f} MB",
                    SCALE_TARGET,
                    f"x{case['fit_seconds'] / base['fit_seconds']:.1f} time, "
                    f"x{case['peak_rss_mb'] / base['peak_rss_mb']:.1f} memory for "
                    f"x{case['reports'] / base['reports']:.0f} reports; "
                    f"{case['steps_per_draw']:.0f} steps per draw, "
                    f"{case['gradient_microseconds']:.0f} µs per gradient; diagnostics "
                    f"{'passed' if case['passed'] else 'FAILED'}",
                )
            )

    if "seeds" in chosen:
        count = 2 if args.smoke else 10
        smoke = json.dumps(SMOKE)
        defaults = workload("seeds", count, smoke if args.smoke else "{}")
        previous = workload("seeds", count, smoke if args.smoke else json.dumps(PREVIOUS_DEFAULTS))
        results["seeds"] = {"defaults": defaults, "previous": previous}
        rows.append(_seeds_row(defaults, previous, count))
        if not args.smoke:
            _write_seeds_table(defaults, previous)

    if "realistic" in chosen:
        count = 1 if args.smoke else 5
        realistic = workload("realistic", count, json.dumps(SMOKE) if args.smoke else "{}")
        results["realistic"] = realistic
        fits = realistic["fits"]
        slowest = max(f["seconds"] for f in fits)
        passed = sum(f["passed"] for f in fits)
        rows.append(
            (
                f"realistic conflict: {fits[0]['reports']} reports, {fits[0]['sources']} sources "
                f"(slowest of {count} seeds, s)",
                f"{slowest:.0f}",
                f"< 30, passing {count} of {count}",
                f"x{slowest / realistic['dprk_seconds']:.1f} the DPRK fit in the same process; "
                f"diagnostics passed on {passed} of {count}; "
                f"{max(f['steps_per_draw'] for f in fits):.0f} steps per draw at most; "
                f"{_refits(fits)}",
            )
        )

    if "datasets" in chosen:
        count = 1 if args.smoke else 3
        fitted = workload("datasets", count, json.dumps(SMOKE) if args.smoke else "{}")
        results["datasets"] = fitted
        for name, fits in fitted["datasets"].items():
            passed = sum(f["passed"] for f in fits)
            rows.append(
                (
                    f"bundled data set '{name}' "
                    f"{'at smoke sizes' if args.smoke else 'with the defaults'} "
                    f"(slowest of {count} seeds, s)",
                    f"{max(f['seconds'] for f in fits):.0f}",
                    f"passing {count} of {count}",
                    f"diagnostics passed on {passed} of {count}; "
                    f"{_refits(fits)}; R-hat at most "
                    f"{max(f['max_rhat'] for f in fits):.3f}; "
                    f"{max(f['steps_per_draw'] for f in fits):.0f} steps per draw at most",
                )
            )

    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'measured':>22}  {'target':>28}  ratio / note")
    for name, value, target, note in rows:
        print(f"{name:<{width}}  {value:>22}  {target:>28}  {note}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    # A partial run (--only) keeps the last full run's numbers in latest.json.
    name = "smoke" if args.smoke else f"only-{'-'.join(sorted(chosen))}" if args.only else "latest"
    (out / f"{name}.json").write_text(json.dumps(results, indent=2))
    if not args.smoke and not args.only:
        _write_results_table(rows, results)
    return 0


def _compile_times(ways: tuple[str, ...] = ("cached", "nutpie"), empty_cache: bool = True) -> dict:
    """Compile the DPRK model in fresh processes: first ever, then with the cache warm.

    Both ways, nkest's (callbacks cached on disk) and nutpie's own (the baseline),
    each with its own new, empty cache directory (PyTensor's and numba's): the
    first process compiles everything, the second finds what the first left.
    Without ``empty_cache`` both use the machine's cache (CI's smoke run, where
    a cold compile would cost a minute and check nothing more).
    """
    import tempfile

    times = {}
    for callbacks in ways:
        with tempfile.TemporaryDirectory(prefix="nkest-compile-") as cache:
            env = {
                "PYTENSOR_FLAGS": f"base_compiledir={cache}",
                "NUMBA_CACHE_DIR": str(Path(cache) / "numba-own"),
            }
            env = env if empty_cache else None
            times[callbacks] = {
                "first_ever": workload("compile_model", callbacks, env=env),
                "fresh": workload("compile_model", callbacks, env=env),
            }
    return times


def _worst(fits: list[dict]) -> dict:
    return {
        "divergences": sum(f["divergences"] for f in fits),
        "max_rhat": max(f["max_rhat"] for f in fits),
        "min_ess_bulk": min(f["min_ess_bulk"] for f in fits),
        "min_ess_tail": min(f["min_ess_tail"] for f in fits),
        "sample": sorted(f["sample"] for f in fits)[len(fits) // 2],
    }


def _meets_seed_target(worst: dict) -> bool:
    return (
        worst["divergences"] == 0
        and worst["max_rhat"] <= 1.005
        and min(worst["min_ess_bulk"], worst["min_ess_tail"]) >= 600
    )


def _seeds_row(defaults: dict, previous: dict, count: int) -> tuple[str, str, str, str]:
    now, before = _worst(defaults["fits"]), _worst(previous["fits"])
    settings = defaults["settings"]
    return (
        f"DPRK defaults over {count} seeds ({settings['chains']} x {settings['draws']} draws, "
        f"{settings['tune']} tuning, target accept {settings['target_accept']})",
        f"R-hat {now['max_rhat']:.4f}, ESS {min(now['min_ess_bulk'], now['min_ess_tail']):.0f}",
        SEED_TARGET,
        f"{'met' if _meets_seed_target(now) else 'NOT met'}; {now['divergences']} divergences; "
        f"median sampling {now['sample']:.1f} s, x{now['sample'] / before['sample']:.1f} the "
        f"previous defaults ({before['sample']:.1f} s, R-hat {before['max_rhat']:.4f}, "
        f"{before['divergences']} divergences)",
    )


def _write_seeds_table(defaults: dict, previous: dict) -> None:
    """Put every seed's diagnostics, now and with the previous defaults, into performance.md."""
    lines = [
        f"Measured on {time.strftime('%Y-%m-%d')} (Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores; this table alone: "
        "`python benchmarks/run.py --only seeds`); "
        f"target: {SEED_TARGET}.",
        "",
        "| Settings | Seed | Divergences | Max R-hat (worst) | Min bulk ESS | Min tail ESS "
        "| Sampling (s) | Steps per draw |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, run in (("defaults", defaults), ("previous defaults", previous)):
        settings = run["settings"]
        name = (
            f"{label}: {settings['chains']} x {settings['draws']}, tune {settings['tune']}, "
            f"target accept {settings['target_accept']}"
        )
        for fit in run["fits"]:
            lines.append(
                f"| {name} | {fit['seed']} | {fit['divergences']} | {fit['max_rhat']:.4f} "
                f"({fit['worst_rhat']}) | {fit['min_ess_bulk']:.0f} | {fit['min_ess_tail']:.0f} "
                f"| {fit['sample']:.1f} | {fit['steps_per_draw']:.0f} |"
            )
            name = ""
    _write_between_markers("seeds", lines)


def _refits(fits: list[dict]) -> str:
    """Say how many refits the fits took ("1 refit", "3 refits")."""
    count = sum(fit["attempts"] - 1 for fit in fits)
    return f"{count} refit{'' if count == 1 else 's'}"


def _stopped(case: dict, sizes: dict) -> str:
    """Note on a scale fit stopped at the time limit: what it would take."""
    if "compile" not in case:
        return "stopped at the limit before a 50-draw pilot ended"
    cores = min(sizes["chains"], os.cpu_count() or 1)
    leapfrogs = sizes["chains"] * (sizes["draws"] + sizes["tune"]) * case["pilot_steps_per_draw"]
    projected = case["compile"] + leapfrogs * case["gradient_microseconds"] * 1e-6 / cores
    return (
        f"stopped at the limit; compile {case['compile']:.0f} s, "
        f"{case['gradient_microseconds']:.0f} µs per gradient, "
        f"{case['pilot_steps_per_draw']:.0f} steps per draw in a 50-draw pilot: "
        f"about {projected:,.0f} s projected"
    )


def _write_results_table(rows: list[tuple[str, str, str, str]], results: dict) -> None:
    """Put the table of a full run between the results markers of docs/performance.md."""
    lines = [
        f"Measured on {time.strftime('%Y-%m-%d')} by `python benchmarks/run.py` "
        f"(Python {results['python']}, {results['machine']}, {os.cpu_count()} cores); "
        "raw numbers in `benchmarks/results/latest.json`.",
        "",
        "| Benchmark | Measured | Target | Ratio / note |",
        "|---|---|---|---|",
        *(f"| {row[0].strip()} | {row[1]} | {row[2]} | {row[3]} |" for row in rows),
    ]
    _write_between_markers("results", lines)


def _write_between_markers(name: str, lines: list[str]) -> None:
    """Replace what lies between ``<!-- name:start -->`` and ``<!-- name:end -->`` in the page."""
    page = HERE.parent / "docs" / "performance.md"
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = page.read_text(encoding="utf-8")
    if start not in text or end not in text:
        print(f"{page} has no {name} markers; table not written", file=sys.stderr)
        return
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    page.write_text(f"{before}{start}\n" + "\n".join(lines) + f"\n{end}{after}", encoding="utf-8")
    print(f"wrote the {name} table into {page}")


if __name__ == "__main__":
    sys.exit(main())
