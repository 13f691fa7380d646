"""The model: from reports to a PyMC graph of latent totals, biases and claims.

``design`` turns reports into arrays, ``grid`` lays out time, ``likelihood``
says what a claim means, ``build`` assembles the PyMC model, ``options``
holds identification and priors.
"""

from nkest.model.options import FitOptions, Identification, Priors, make_options

__all__ = ["FitOptions", "Identification", "Priors", "make_options"]
