"""``python -m nkest``: the same command line as the ``nkest`` script."""

from nkest.cli import run

if __name__ == "__main__":
    run()
