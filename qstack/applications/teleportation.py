"""Teleportation of random qubit states through the pairs a network delivers.

:class:`TeleportationApplication` (scenario ``kind = "teleportation"``) teleports a Haar-random
qubit ``|psi>`` through every pair of one request, with the sender's gate noise, and reports the
fidelity ``<psi|rho_out|psi>`` of each received state. Through a Werner pair of fidelity ``F``
with ideal gates the mean over Haar-random inputs is ``(2F + 1)/3``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qstack import registry
from qstack.protocols.teleportation import teleport

from .base import Application, ApplicationResult, FidelityStats, NoPairsResult


@dataclass(frozen=True)
class TeleportationResult(ApplicationResult):
    """Teleportation through one request's delivered pairs: one input state per pair."""

    request: str
    pairs_used: int
    teleportation_fidelity: FidelityStats

    def to_dict(self) -> dict:
        return {
            "kind": "teleportation",
            "request": self.request,
            "pairs_used": self.pairs_used,
            "teleportation_fidelity": self.teleportation_fidelity.to_dict(),
        }


@registry.register("application", "teleportation")
class TeleportationApplication(Application):
    """Teleports one Haar-random state (drawn from ``self.rng``) through each pair of the
    request ``spec.request``, from its ``src`` to its ``dst``."""

    def result(self, sim_time_s: float) -> TeleportationResult | NoPairsResult:
        request = self.requests[0]
        states = self.pairs.states[request.label]
        if not states:
            return NoPairsResult("teleportation", request.label)
        noise = self.gate_noise(request.src)
        fidelities = []
        for rho in states:
            # A Haar-random qubit: a normalised vector of complex Gaussians.
            vector = self.rng.normal(size=2) + 1j * self.rng.normal(size=2)
            vector /= np.linalg.norm(vector)
            received = teleport(vector, rho, noise).data
            fidelities.append(float(np.real(vector.conj() @ received @ vector)))
        return TeleportationResult(request.label, len(states), FidelityStats.of(fidelities))


__all__ = ["TeleportationApplication", "TeleportationResult"]
