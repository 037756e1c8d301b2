"""One run: a SimPy environment, the run's random generator and the state registry."""

from __future__ import annotations

import numpy as np
import simpy

from .state import StateRegistry


class Simulation:
    """Everything that belongs to one run and nothing shared between runs.

    ``env.now`` is simulated time in SI seconds; ``rng`` is the only source of randomness of the
    run (the Aer engine seeds its simulator from a child stream, :class:`StateRegistry`).
    ``bell_diagonal``: see :class:`StateRegistry` (False to compare against full matrices).
    ``recorder``: a :class:`~qstack.engine.trace.Recorder` the layers tell what happens (None:
    nothing is recorded, and each place that would record pays one attribute check).
    """

    def __init__(self, seed: int, engine: str = "fast", bell_diagonal: bool = True, recorder=None):
        self.seed = int(seed)
        self.env = simpy.Environment()
        self.rng = np.random.default_rng(self.seed)
        # Aer's own seeds come from a child stream, so ``rng`` draws the same with either engine.
        aer_rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(1)[0]) if engine == "aer" else None
        self.registry = StateRegistry(self.rng, engine=engine, clock=lambda: self.env.now, bell_diagonal=bell_diagonal,
                                      aer_rng=aer_rng)
        self.recorder = recorder
        if recorder is not None:
            recorder.attach(self.env)

    @property
    def now_s(self) -> float:
        return float(self.env.now)
