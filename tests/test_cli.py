"""The command line: exit status and messages, without a traceback for bad input."""

from __future__ import annotations

import subprocess
import sys

from nkest.cli import main


def test_check_summarises_the_bundled_dataset(capsys):
    assert main(["check", "--dataset", "dprk"]) == 0
    out = capsys.readouterr().out
    assert "<Reports 'dprk': 94 reports" in out
    assert "killed" in out
    assert "NIS" in out


def test_check_refuses_a_bad_file_with_exit_2_and_the_problems(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("published,source,quantity,value\n2024-12-19,NIS,dead,100\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 2, column 'quantity': got 'dead'" in err
    assert "Traceback" not in err


def test_installed_command_exits_2_without_traceback(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\x00\x01binary")
    result = subprocess.run(
        [sys.executable, "-m", "nkest.cli", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "binary data" in result.stderr
    assert "Traceback" not in result.stderr
