"""Fitting: sample the posterior of a design, and what the draws say of each report.

``sampling`` compiles and samples the model (one compiled model per model
structure, reused with new data), under ``compiling``'s settings, so that a
seed fixes the draws; ``prior`` draws from the prior; ``per_report`` computes
each report's likelihood, predicted figure and leave-one-out check from the
draws. ``nkest.fit`` (the function) is ``nkest.results.estimate.fit``: it
returns the ``Estimate`` that wraps these draws.
"""

from nkest.fit.sampling import (
    DEFAULT_CHAINS,
    DEFAULT_DRAWS,
    DEFAULT_TUNE,
    SamplingInfo,
    clear_cache,
    sample_design,
)

__all__ = [
    "DEFAULT_CHAINS",
    "DEFAULT_DRAWS",
    "DEFAULT_TUNE",
    "SamplingInfo",
    "clear_cache",
    "sample_design",
]
