"""The installed version of nkest, recorded in every saved fit, report and citation."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("nkest")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
