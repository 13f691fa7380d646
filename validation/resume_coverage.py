"""Run the coverage study one fit at a time, appending to a CSV, so that it can resume.

A full rerun of every regime takes core-days; this runs it in pieces, beside
other work or across sessions. Each (regime, seed) fit's rows are appended to
``OUT`` as soon as the fit ends, and pairs already in ``OUT`` or in any
``--skip`` file are not fitted again. Two processes can share the work by
seed parity (``--first 1000`` and ``--first 1001``, both with ``--step 2``).

    python -m validation.resume_coverage OUT.csv --first 1001 --step 2 --regimes "few reports"

The rows are those of ``run_coverage``. ``--merge-into`` puts the seeds that
every regime of a run has finished into a published results file, in place of
those regimes' rows there (the other regimes' rows are kept, so merging twice
changes nothing); ``python -m validation.publish --only none`` then rebuilds
the page from it.

    python -m validation.resume_coverage RUN.csv --merge-into docs/validation-data/coverage.csv
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


def finished(run: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of ``run`` whose seed every regime of the run has finished.

    The run's seeds, in order, up to the first that some regime lacks (so that
    each regime is summarised over the same conflicts, and a seed that one
    process is still fitting does not hold back nor enter the others' count).
    A run of every other seed (``--step 2``) is taken as it is.
    """
    run = run.drop_duplicates(["regime", "seed", "quantity", "prob"])
    regimes = run.groupby("seed")["regime"].nunique().sort_index()
    incomplete = regimes.index[regimes < run["regime"].nunique()]
    return run[run["seed"] < incomplete.min()] if len(incomplete) else run


def merge(published: pd.DataFrame, run: pd.DataFrame) -> pd.DataFrame:
    """Replace the run's regimes in ``published`` by the run's finished seeds.

    The run is the whole rerun of its regimes (processes that share the work
    append to one file): their published rows are replaced, not added to.
    Regimes the run does not have are kept as they are. Rows are ordered as
    ``REGIMES`` lists the regimes, then by seed, quantity and interval.
    """
    done = finished(run)
    kept = published[~published["regime"].isin(set(run["regime"]))]
    merged = pd.concat([kept, done], ignore_index=True)
    order = {regime: i for i, regime in enumerate(REGIMES)}
    rank = merged["regime"].map(order).fillna(len(order))
    return (
        merged.assign(_rank=rank)
        .sort_values(["_rank", "seed", "quantity", "prob"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def main(argv: list[str] | None = None) -> None:
    """Fit the missing (regime, seed) pairs, appending each fit's rows to ``OUT``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--first", type=int, default=1000)
    parser.add_argument("--last", type=int, default=1099, help="the last seed, included")
    parser.add_argument("--step", type=int, default=1)
    parser.add_argument("--regimes", default="|".join(REGIMES), help="names joined by '|'")
    parser.add_argument("--skip", type=Path, nargs="*", default=[], help="CSVs of done fits")
    parser.add_argument(
        "--merge-into",
        type=Path,
        help="a published results CSV: put the run's finished seeds into it and stop",
    )
    args = parser.parse_args(argv)
    if args.merge_into is not None:
        merged = merge(pd.read_csv(args.merge_into), pd.read_csv(args.out))
        merged.to_csv(args.merge_into, index=False)
        counts = merged.groupby("regime", sort=False)["seed"].agg(["nunique", "min", "max"])
        print(counts.to_string())
        return
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
