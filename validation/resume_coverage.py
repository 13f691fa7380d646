"""Run the coverage study one fit at a time, appending to a CSV, so that it can resume.

A full rerun of every regime takes core-days; this runs it in pieces, beside
other work or across sessions. Each (regime, seed) fit's rows are appended to
``OUT`` as soon as the fit ends, and pairs already in ``OUT`` or in any
``--skip`` file are not fitted again. Two processes can share the work by
seed parity (``--first 1000`` and ``--first 1001``, both with ``--step 2``).

    python -m validation.resume_coverage OUT.csv --first 1001 --step 2 --regimes "few reports"

The rows are those of ``run_coverage``; ``validation.publish`` turns a
complete run into the page.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from nkest.validate.coverage import REGIMES, run_coverage


def _done(paths: list[Path]) -> set[tuple[str, int]]:
    pairs: set[tuple[str, int]] = set()
    for path in paths:
        if path.exists() and path.stat().st_size:
            frame = pd.read_csv(path)
            pairs |= set(zip(frame["regime"], frame["seed"], strict=True))
    return pairs


def main(argv: list[str] | None = None) -> None:
    """Fit the missing (regime, seed) pairs, appending each fit's rows to ``OUT``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--first", type=int, default=1000)
    parser.add_argument("--last", type=int, default=1099, help="the last seed, included")
    parser.add_argument("--step", type=int, default=1)
    parser.add_argument("--regimes", default="|".join(REGIMES), help="names joined by '|'")
    parser.add_argument("--skip", type=Path, nargs="*", default=[], help="CSVs of done fits")
    args = parser.parse_args(argv)
    regimes = args.regimes.split("|")
    unknown = [name for name in regimes if name not in REGIMES]
    if unknown:
        parser.error(f"unknown regime(s) {unknown}; known: {', '.join(REGIMES)}")
    for seed in range(args.first, args.last + 1, args.step):
        for regime in regimes:
            if (regime, seed) in _done([args.out, *args.skip]):
                continue
            start = time.perf_counter()
            rows = run_coverage(
                1, regimes={regime: REGIMES[regime]}, first_seed=seed, max_workers=1
            )
            header = not args.out.exists() or args.out.stat().st_size == 0
            rows.to_csv(args.out, mode="a", header=header, index=False)
            print(f"{regime}, seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":  # pragma: no cover
    main()
