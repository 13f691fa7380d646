"""Execute every example notebook; fail on the first error.

The committed notebooks keep their outputs from full runs (``--save``, with
the notebooks' default draws). CI executes them with few draws
(``NKEST_DRAWS``, read by the notebooks) to check they still run against the
current code, and throws the executed copies away.

    python examples/run_notebooks.py          # check (CI)
    python examples/run_notebooks.py --save   # rerun and save the outputs
    python examples/run_notebooks.py --save 03_identification.ipynb   # only some
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).parent
PAGES = {"04_update_walkthrough.ipynb": HERE.parent / "docs" / "walkthrough.md"}
"""Notebooks that are also a page of the documentation, written from their saved run."""


def notebook_page(notebook: nbformat.NotebookNode) -> str:
    """Return a notebook as a Markdown page: its text, its code, and what the code printed."""
    parts = [
        "<!-- Written by `python examples/run_notebooks.py --save` from "
        "examples/04_update_walkthrough.ipynb: edit the notebook, not this page. -->"
    ]
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        parts.append(f"```python\n{cell.source}\n```")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/markdown" in data:
                parts.append(data["text/markdown"])
            elif output.get("text") or "text/plain" in data:
                text = (output.get("text") or data["text/plain"]).rstrip()
                parts.append(f"```text\n{text}\n```")
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the notebooks; return 0 when every one ran cleanly."""
    args = sys.argv[1:] if argv is None else argv
    save = "--save" in args
    names = [a for a in args if a != "--save"]
    notebooks = sorted(HERE.glob("*.ipynb"))
    if names:
        unknown = sorted(set(names) - {path.name for path in notebooks})
        if unknown:
            print(f"no such notebooks: {', '.join(unknown)}", file=sys.stderr)
            return 2
        notebooks = [path for path in notebooks if path.name in names]
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    # The kernel make installs in .venv must win over any user-wide "python3" kernel,
    # which may point at another interpreter.
    os.environ["JUPYTER_PREFER_ENV_PATH"] = "1"
    for path in notebooks:
        start = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(
            notebook,
            timeout=900,
            kernel_name="python3",
            record_timing=False,  # saved notebooks differ only where their outputs do
            resources={"metadata": {"path": str(HERE)}},
        )
        client.execute()
        if save:
            nbformat.write(notebook, path)
            if path.name in PAGES:
                PAGES[path.name].write_text(notebook_page(notebook), encoding="utf-8")
        saved = " (saved)" if save else ""
        print(f"ran {path.name} in {time.perf_counter() - start:.0f} s{saved}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
