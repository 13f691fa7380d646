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
        saved = " (saved)" if save else ""
        print(f"ran {path.name} in {time.perf_counter() - start:.0f} s{saved}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
