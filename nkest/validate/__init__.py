"""Evidence that the estimates are right: simulation, recovery, calibration, checks."""

from nkest.validate.simulate import SimulatedConflict, simulate_conflict

__all__ = ["SimulatedConflict", "simulate_conflict"]
