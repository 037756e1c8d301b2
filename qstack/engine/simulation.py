"""One run: a SimPy environment, the run's random generator and the state registry."""

from __future__ import annotations

import numpy as np
import simpy

from .state import StateRegistry


class Simulation:
    """Everything that belongs to one run and nothing shared between runs.

    ``env.now`` is simulated time in SI seconds; ``rng`` is the only source of randomness.
    ``bell_diagonal``: see :class:`StateRegistry` (False to compare against full matrices).
    """

    def __init__(self, seed: int, engine: str = "fast", bell_diagonal: bool = True):
        self.seed = int(seed)
        self.env = simpy.Environment()
        self.rng = np.random.default_rng(self.seed)
        self.registry = StateRegistry(self.rng, engine=engine, clock=lambda: self.env.now, bell_diagonal=bell_diagonal)

    @property
    def now_s(self) -> float:
        return float(self.env.now)
