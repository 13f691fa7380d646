"""What a fit shows while it runs: "compiling…", then a progress bar or log lines.

In a terminal or a notebook the sampler's own progress bar shows the chains.
Where there is neither (CI, a batch job on a cluster, output piped to a file)
a bar would be invisible or garbled, so a fit writes a plain line every few
seconds instead: how far the chains are, the divergences so far, and the time
left.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["LOG_SECONDS", "ProgressLog", "announce", "interactive"]

LOG_SECONDS = 5.0
"""Seconds between two progress lines where there is no terminal."""


def interactive(stream: TextIO | None = None) -> bool:
    """Return whether a progress bar can be seen: a terminal, or a Jupyter notebook."""
    stream = stream or sys.stderr
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        return type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"
    except AttributeError:
        return False


def announce(message: str, stream: TextIO | None = None) -> None:
    """Write one line of what the fit is doing ("compiling the model…")."""
    print(f"nkest: {message}", file=stream or sys.stderr, flush=True)


class ProgressLog:
    """A sampler progress callback that writes a line every ``LOG_SECONDS`` seconds.

    nutpie calls it with the chains' progress (``finished_draws``,
    ``total_draws``, ``divergences``, ``tuning``) several times a second.
    """

    def __init__(self, chains: int, stream: TextIO | None = None) -> None:
        self.chains = chains
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.last = -float("inf")
        self.lines = 0

    def __call__(self, progress: list[Any]) -> None:
        """Write a line when ``LOG_SECONDS`` have passed since the last, or at the end."""
        now = time.perf_counter()
        done = sum(int(chain.finished_draws) for chain in progress)
        total = sum(int(chain.total_draws) for chain in progress) or 1
        finished = done >= total
        if now - self.last < LOG_SECONDS and not finished:
            return
        if finished and self.lines == 0 and now - self.start < LOG_SECONDS:
            return  # a fit this quick needs no log
        self.last = now
        self.lines += 1
        elapsed = now - self.start
        share = done / total
        tuning = any(bool(chain.tuning) for chain in progress)
        divergences = sum(int(chain.divergences) for chain in progress)
        left = f", about {elapsed * (1 - share) / share:.0f} s left" if 0 < share < 1 else ""
        stage = "tuning" if tuning else ("done" if finished else "drawing")
        print(
            f"nkest: sampling {self.chains} chains: {done:,} of {total:,} iterations "
            f"({share:.0%}, {stage}), {divergences} divergences, {elapsed:.0f} s{left}",
            file=self.stream,
            flush=True,
        )
