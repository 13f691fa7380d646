"""Fixtures of the fitting tests: a script run in a new interpreter with its own caches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def fresh_process() -> Callable[[str, Path], dict]:
    """Run a script in a new interpreter whose compile caches live in ``cache_dir``.

    PyTensor's cache (which also holds nkest's callbacks) goes to
    ``cache_dir / "pytensor"``, numba's own to ``cache_dir / "numba"``. Returns
    the JSON object the script printed last.
    """

    def run(script: str, cache_dir: Path) -> dict:
        env = {
            **os.environ,
            "PYTENSOR_FLAGS": f"base_compiledir={cache_dir / 'pytensor'}",
            "NUMBA_CACHE_DIR": str(cache_dir / "numba"),
        }
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run
