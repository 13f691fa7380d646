"""Where a DPRK fit spends its time: compilation by phase, and the gradient by operation.

    python benchmarks/profile_fit.py            # both profiles
    python benchmarks/profile_fit.py --calls N  # evaluations for the gradient profile

The compilation profile is cProfile over ``nutpie.compile_pymc_model`` (the
step that dominates a fresh fit); the gradient profile is PyTensor's own
profiler over the model's log density and gradient at the initial point,
compiled with the C backend. nutpie samples a numba translation of the same
graph, so the operations' shares carry over, not their absolute times.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
import warnings

warnings.filterwarnings("ignore")

# Functions whose cumulative time names a phase of nutpie's compilation.
PHASES = {
    "_make_functions": "PyTensor graph to functions (rewrites, numba translation)",
    "_make_c_logp_func": "the log density and gradient as a numba C callback",
    "_make_c_expand_func": "the function that stores the deterministics",
}


def main(argv: list[str] | None = None) -> int:
    """Print the compilation phases and the gradient's most expensive operations."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import nutpie
    import pytensor

    import nkest
    from nkest.model.build import build_model
    from nkest.model.design import make_design
    from nkest.model.options import make_options

    print(f"import: {time.perf_counter() - start:.1f} s")
    reports = nkest.load_dataset("dprk")
    options = make_options()
    start = time.perf_counter()
    model = build_model(make_design(reports, options), options)
    print(f"design and model: {time.perf_counter() - start:.2f} s")

    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    nutpie.compile_pymc_model(model)
    profile.disable()
    total = time.perf_counter() - start
    print(f"\nnutpie compilation: {total:.1f} s, of which")
    stats = pstats.Stats(profile, stream=io.StringIO())
    rest = total
    for (_, _, function), (_, _, _, cumulative, _) in sorted(
        stats.stats.items(), key=lambda item: -item[1][3]
    ):
        if function in PHASES and cumulative > 0.05 * total:
            print(f"  {cumulative:5.1f} s  {PHASES[function]} ({function})")
            rest -= cumulative
    print(f"  {rest:5.1f} s  the rest: mostly numba compiling the C callbacks it is given")

    value_vars = model.value_vars
    logp = model.logp()
    outputs = [logp, *pytensor.grad(logp, value_vars)]
    point = model.initial_point()
    inputs = [point[v.name] for v in value_vars]
    plain = pytensor.function(value_vars, outputs, on_unused_input="ignore")
    plain(*inputs)
    start = time.perf_counter()
    for _ in range(args.calls):
        plain(*inputs)
    per_call = 1e6 * (time.perf_counter() - start) / args.calls
    print(f"\ngradient (C backend): {per_call:.0f} µs per call over {args.calls} calls")
    print(f"{len(plain.maker.fgraph.apply_nodes)} operations in the compiled graph")
    # The Python VM times every operation (with its own overhead per call, so only
    # the shares are read from it).
    function = pytensor.function(
        value_vars,
        outputs,
        mode=pytensor.compile.mode.Mode(linker="vm", optimizer="fast_run"),
        profile=True,
        on_unused_input="ignore",
    )
    for _ in range(max(1, args.calls // 10)):
        function(*inputs)
    summary = function.profile
    by_op: dict[str, float] = {}
    for key, seconds in summary.apply_time.items():
        node = key[-1] if isinstance(key, tuple) else key
        name = type(node.op).__name__
        if hasattr(node.op, "scalar_op"):
            name += f"{{{type(node.op.scalar_op).__name__}}}"
        by_op[name] = by_op.get(name, 0.0) + seconds
    measured = sum(by_op.values())
    print(f"most expensive operation types (share of {measured:.2f} s in operations):")
    for name, seconds in sorted(by_op.items(), key=lambda item: -item[1])[: args.top]:
        print(f"  {100 * seconds / measured:5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
