"""The DPRK-specific settings of the validation page: which assumptions it compares.

Run ``python validation/dprk.py`` to print the identification comparison of
the bundled DPRK data as Markdown.
"""

from __future__ import annotations

from typing import Any

from nkest.datasets import load_dataset
from nkest.model.design import default_end
from nkest.validate.sensitivity import compare_fits, identification_markdown

IDENTIFICATION_VARIANTS_DPRK: dict[str, dict[str, Any]] = {
    "most source groups roughly unbiased (default)": {},
    "source groups unbiased on average (the previous default)": {"identification": "groups"},
    "NIS unbiased": {"identification": {"reference": ["NIS"]}},
    "UK Defence Intelligence unbiased": {
        "identification": {"reference": ["UK Defence Intelligence"]}
    },
    "Ukraine's president unbiased": {"identification": {"reference": ["Ukraine President"]}},
    "informative group priors (South Korea x0.8, Ukraine x1.5)": {
        "identification": {
            "group_priors": {"South Korea government": (0.8, 0.2), "Ukraine government": (1.5, 0.2)}
        }
    },
}
"""Identification assumptions compared in the docs for the DPRK data."""


def main() -> None:
    """Print the identification comparison for the DPRK data as Markdown."""
    reports = load_dataset("dprk")
    table = compare_fits(
        reports,
        IDENTIFICATION_VARIANTS_DPRK,
        dates=["2025-04-30", default_end(reports).isoformat()],
        quantities=("killed", "casualties"),
        random_seed=1,
    )
    print(identification_markdown(table))


if __name__ == "__main__":
    main()
