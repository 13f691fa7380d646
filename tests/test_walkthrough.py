"""The walkthrough page of the documentation is the notebook CI runs, output for output."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).parent.parent


def test_the_walkthrough_page_is_written_from_its_notebook():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from run_notebooks import PAGES, notebook_page
    finally:
        sys.path.remove(str(ROOT / "examples"))
    for name, page in PAGES.items():
        notebook = nbformat.read(ROOT / "examples" / name, as_version=4)
        rerun = f"python examples/run_notebooks.py --save {name}"
        assert page.read_text(encoding="utf-8") == notebook_page(notebook), rerun
        # the steps the issue names are all there
        text = page.read_text(encoding="utf-8")
        for step in (".xlsx", ".short", "Reports.add", "nkest.compare", "previous="):
            assert step in text, step
