"""The command line: exit status and messages, without a traceback for bad input."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import nkest
from nkest import cli
from nkest.cli import main
from nkest.model.design import make_design
from nkest.model.options import make_options

FIT_MODULE = cli
"""The module whose ``fit`` the command line calls."""


def installed_command() -> str:
    """The ``nkest`` script installed beside this Python (the package's entry point)."""
    found = shutil.which("nkest", path=str(Path(sys.executable).parent)) or shutil.which(
        "nkest", path=str(Path(sys.prefix) / "bin")
    )
    assert found, "the nkest entry point is not installed in this environment"
    return found


@pytest.fixture
def no_fitting(monkeypatch):
    """Make any attempt to fit fail the test: the checks must come before sampling."""

    def refuse(*args, **kwargs):
        raise AssertionError("the command line started fitting")

    monkeypatch.setattr(FIT_MODULE, "fit", refuse)


def test_check_summarises_the_bundled_dataset(capsys):
    assert main(["check", "--dataset", "dprk"]) == 0
    out = capsys.readouterr().out
    reports = nkest.load_dataset("dprk")
    assert repr(reports) in out
    assert "killed" in out
    assert "NIS" in out


def test_check_lists_what_the_table_and_what_the_model_exclude(capsys):
    assert main(["check", "--dataset", "dprk"]) == 0
    out = capsys.readouterr().out
    reports = nkest.load_dataset("dprk")
    design = make_design(reports, make_options())
    excluded = design.excluded
    by_model = excluded[excluded["excluded_by"] == "model"]
    by_table = excluded[excluded["excluded_by"] == "reports"]
    assert len(by_model)  # rows the table uses but the model cannot
    table_part = out.split("Excluded by the table")[1].split("Excluded by the model")[0]
    model_part = out.split("Excluded by the model")[1].split("The fit will use")[0]

    def listed(part: str) -> dict[str, str]:
        """Report id -> reason, from lines "  id[, id...]: reason"."""
        found = {}
        for line in part.splitlines():
            if line.startswith("  "):
                ids, _, reason = line.strip().partition(": ")
                found.update(dict.fromkeys(ids.split(", "), reason))
        return found

    assert listed(table_part) == dict(zip(by_table["report_id"], by_table["reason"], strict=True))
    assert listed(model_part) == dict(zip(by_model["report_id"], by_model["reason"], strict=True))
    assert f"The fit will use {len(design.rows)} of {len(reports)} reports" in out


def test_check_refuses_a_bad_file_with_exit_2_and_the_problems(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("published,source,quantity,value\n2024-12-19,NIS,dead,100\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 2, column 'quantity': got 'dead'" in err
    assert "Traceback" not in err


def test_the_installed_command_runs(tmp_path):
    command = installed_command()
    version = subprocess.run([command, "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0
    assert version.stdout.strip() == f"nkest {nkest.__version__}"
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\x00\x01binary")
    result = subprocess.run(
        [command, "check", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "binary data" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_gives_the_exit_statuses_and_the_sampling_options(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for status in ("0  success", "1  the fit fails", "2  bad input", "3  an unexpected error"):
        assert status in out
    assert main(["fit", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "posterior draws per chain" in out
    assert "tuning steps per chain" in out
    assert "independent chains" in out
    assert "--subject" in out
    assert "--title" in out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--prob", "1.5"], "argument --prob: must be a probability between 0 and 1"),
        (["--prob", "ninety"], "argument --prob: must be a probability between 0 and 1"),
        (["--draws", "0"], "argument --draws: must be at least 1"),
        (["--chains", "two"], "argument --chains: must be a whole number"),
        (["--seed", "-1"], "argument --seed: must be 0 or more"),
        (["--time-budget", "-5"], "argument --time-budget: must be 0 or more seconds"),
        (["--time-budget", "soon"], "argument --time-budget: must be a number of seconds"),
        (["--freq", "fortnightly"], "freq must be 'D', 'W'"),
        (["--end", "someday"], "end must be a date"),
        (["--origin", "the start"], "origin must be a date"),
        (["--identification", "reference:Nobody"], "reference source(s) 'Nobody'"),
        (["--identification", "everyone"], "identification"),
        (["--subject", " "], "--subject must not be empty"),
    ],
)
def test_bad_arguments_are_refused_before_fitting(options, message, tmp_path, capsys, no_fitting):
    out = tmp_path / "out"
    assert main(["report", "--dataset", "dprk", "--out", str(out), *options]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()  # nothing left behind


def test_an_out_that_cannot_be_written_is_refused_before_fitting(
    tmp_path, capsys, no_fitting, monkeypatch
):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for out, message in (
        (a_file, "is a file, not a directory"),
        (a_file / "sub", "cannot write to --out"),
    ):
        assert main(["report", "--dataset", "dprk", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert message in err
        assert str(out) in err
        assert "Traceback" not in err
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: refuse as the system would
            real = tempfile.TemporaryFile

            def denied(*args, dir=None, **kwargs):
                if dir is not None and Path(dir) == locked:
                    raise PermissionError(13, "Permission denied")
                return real(*args, dir=dir, **kwargs)

            monkeypatch.setattr(tempfile, "TemporaryFile", denied)
        assert main(["report", "--dataset", "dprk", "--out", str(locked)]) == 2
    finally:
        locked.chmod(0o700)
    err = capsys.readouterr().err
    assert f"cannot write to --out {locked}: Permission denied" in err


def _disk_full(estimate, directory, prob, previous=None):
    (directory / "report.md").write_text("half a report")
    raise OSError(28, "No space left on device", str(directory / "figures" / "totals.png"))


def test_a_results_directory_that_fails_while_writing_exits_2_and_leaves_nothing(
    tmp_path, capsys, monkeypatch
):
    from nkest.results import report as report_module

    monkeypatch.setattr(FIT_MODULE, "fit", lambda *args, **kwargs: object())
    monkeypatch.setattr(report_module, "write_report_files", _disk_full)
    out = tmp_path / "out"
    assert main(["report", "--dataset", "dprk", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "could not write the results" in err
    assert "No space left on device" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no half-written report, no temporary folder


def test_an_unexpected_error_is_not_called_bad_input(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("an internal inconsistency")

    monkeypatch.setattr(FIT_MODULE, "fit", broken)
    argv = ["report", "--dataset", "dprk", "--out", str(tmp_path / "out")]
    assert main(argv) == cli.EXIT_INTERNAL == 3
    err = capsys.readouterr().err
    assert "unexpected error inside nkest" in err
    assert "ValueError: an internal inconsistency" in err
    assert "--debug" in err
    assert "Traceback" not in err
    with pytest.raises(ValueError, match="an internal inconsistency"):
        main([*argv, "--debug"])


def test_subject_and_title_set_the_reports_metadata():
    dataset = nkest.load_dataset("dprk")

    def loaded(**given):
        names = {"dataset": "dprk", "reports": None, "subject": None, "title": None}
        return cli._load(argparse.Namespace(**{**names, **given}))

    assert dict(loaded().metadata) == dict(dataset.metadata)  # the dataset's by default
    mine = loaded(subject="Kestrian soldiers", title="Kestria")
    assert mine.metadata["subject"] == "Kestrian soldiers"
    assert mine.metadata["title"] == "Kestria"
    assert mine.metadata["origin"] == dataset.metadata["origin"]


def test_fit_exits_0_when_the_fit_passes(simulated, tmp_path, capsys, monkeypatch):
    from nkest.results import summaries

    # A fit this small cannot pass the real thresholds; lower them so that this one
    # counts as passing, to drive the command's successful path end to end.
    monkeypatch.setitem(summaries.THRESHOLDS, "max_rhat", 10.0)
    monkeypatch.setitem(summaries.THRESHOLDS, "ess_per_chain", 1.0)
    monkeypatch.setitem(summaries.THRESHOLDS, "divergences", 10**9)
    path = tmp_path / "reports.csv"
    simulated.reports.to_csv(path)
    end = simulated.daily.index[-1].date().isoformat()
    out = tmp_path / "out"
    argv = ["fit", str(path), "--end", end, "--out", str(out), "--draws", "100"]
    argv += ["--tune", "100", "--chains", "2", "--seed", "1", "--quiet"]
    argv += ["--subject", "Kestrian soldiers", "--title", "Losses of Kestria"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "fails its sampler diagnostics" not in captured.err
    headlines = [line for line in captured.out.splitlines() if line.startswith("An estimated")]
    assert len(headlines) == 3
    assert all("Kestrian soldiers" in line for line in headlines)
    assert not any("NOT RELIABLE" in line for line in headlines)
    report = (out / "report.md").read_text()
    assert report.startswith("# Losses of Kestria\n")
    assert "Warning" not in report
    loaded = nkest.load(out / "fit.nc")
    assert loaded.reports.metadata["subject"] == "Kestrian soldiers"
    for name in ("report.html", "figures/totals.png", "tables/summary.csv"):
        assert (out / name).exists()


def test_python_dash_m_nkest_is_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "nkest", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("nkest ")
