"""The resumable coverage runner: each fit appended as it ends, done fits skipped."""

from __future__ import annotations

import pandas as pd
import pytest

from validation import resume_coverage


@pytest.fixture
def fake_fits(monkeypatch):
    """Replace the fits by rows naming their (regime, seed); record what was fitted."""
    fitted = []

    def fake(datasets, *, regimes, first_seed, max_workers):
        (regime,) = regimes
        fitted.append((regime, first_seed))
        return pd.DataFrame(
            {"regime": [regime] * 2, "seed": [first_seed] * 2, "quantity": ["killed", "wounded"]}
        )

    monkeypatch.setattr(resume_coverage, "run_coverage", fake)
    return fitted


def test_a_run_resumes_where_it_stopped_and_skips_other_files(tmp_path, fake_fits):
    out, other = tmp_path / "out.csv", tmp_path / "other.csv"
    pd.DataFrame({"regime": ["few reports"], "seed": [1002], "quantity": ["killed"]}).to_csv(
        other, index=False
    )
    args = [str(out), "--first", "1000", "--last", "1002", "--regimes", "few reports|mostly bounds"]
    resume_coverage.main([*args, "--skip", str(other)])
    assert fake_fits == [
        ("few reports", 1000),
        ("mostly bounds", 1000),
        ("few reports", 1001),
        ("mostly bounds", 1001),
        ("mostly bounds", 1002),
    ]
    rows = pd.read_csv(out)
    assert len(rows) == 10
    assert list(rows.columns) == ["regime", "seed", "quantity"]
    fake_fits.clear()
    resume_coverage.main([*args, "--last", "1003", "--step", "3"])
    # Seed 1000 is in the output already; 1003 is new. The other file is not skipped now.
    assert fake_fits == [("few reports", 1003), ("mostly bounds", 1003)]
    assert len(pd.read_csv(out)) == 14


def test_an_unknown_regime_is_refused_with_the_known_ones(tmp_path, fake_fits, capsys):
    with pytest.raises(SystemExit):
        resume_coverage.main([str(tmp_path / "out.csv"), "--regimes", "few report"])
    assert "unknown regime(s) ['few report']; known: few reports" in capsys.readouterr().err
    assert fake_fits == []


def _rows(regime: str, seeds: range) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"regime": regime, "seed": seed, "quantity": quantity, "prob": prob}
            for seed in seeds
            for quantity in ("killed", "wounded")
            for prob in (0.5, 0.9)
        ]
    )


def test_merging_a_run_replaces_its_regimes_by_their_finished_seeds_and_is_idempotent(tmp_path):
    published = pd.concat(
        [_rows("belligerent group", range(1000, 1004)), _rows("few reports", range(1000, 1002))]
    )
    # Seed 1003 is finished by one regime of two: it waits for the other.
    run = pd.concat(
        [
            _rows("few reports", range(1000, 1004)),
            _rows("mostly bounds", range(1000, 1003)),
            _rows("few reports", range(1001, 1002)),  # a fit appended twice
        ]
    )
    path, run_path = tmp_path / "coverage.csv", tmp_path / "run.csv"
    published.to_csv(path, index=False)
    run.to_csv(run_path, index=False)
    resume_coverage.main([str(run_path), "--merge-into", str(path)])
    once = pd.read_csv(path)
    seeds = once.groupby("regime", sort=False)["seed"].agg(["min", "max", "count"])
    assert list(seeds.index) == ["few reports", "mostly bounds", "belligerent group"]
    assert seeds.loc["belligerent group"].tolist() == [1000, 1003, 16]
    assert seeds.loc["few reports"].tolist() == [1000, 1002, 12]
    assert seeds.loc["mostly bounds"].tolist() == [1000, 1002, 12]
    resume_coverage.main([str(run_path), "--merge-into", str(path)])
    pd.testing.assert_frame_equal(pd.read_csv(path), once)


def test_a_run_of_every_other_seed_is_finished_up_to_its_first_incomplete_seed():
    run = pd.concat(
        [
            _rows("few reports", range(1001, 1011, 2)),
            _rows("mostly bounds", range(1001, 1007, 2)),
        ]
    )
    assert sorted(set(resume_coverage.finished(run)["seed"])) == [1001, 1003, 1005]
    both = _rows("few reports", range(1001, 1005, 2))
    assert sorted(set(resume_coverage.finished(both)["seed"])) == [1001, 1003]
