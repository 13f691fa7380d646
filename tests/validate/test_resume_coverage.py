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
