"""GHZ states fused at a hub from the pairs a network delivers to its leaves.

:class:`GHZApplication` (scenario ``kind = "ghz"``) takes one pair of each request (all from one
hub ``src``) per round and fuses them at the hub into an (n+1)-party GHZ state
(:func:`qstack.protocols.ghz.distribute_ghz`, with the hub's gate noise). The hub fuses when
the round's last pair arrives; until then the earlier pairs relax in their memories
(:func:`~qstack.applications.base.aged_pair`). Reports the GHZ fidelity per round and the rate
of GHZ states [Hz].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from qstack import registry
from qstack.network import Request
from qstack.protocols.ghz import distribute_ghz, ghz_fidelity

from .base import Application, ApplicationResult, ApplicationSpec, FidelityStats, aged_pair


@dataclass(frozen=True)
class GHZResult(ApplicationResult):
    """GHZ states made at ``hub`` with ``parties`` parties (the hub and one leaf per request).

    states: rounds completed (the fewest pairs any request received).
    rate_hz: ``states / sim_time_s`` [Hz] (``None`` for a run of no time).
    """

    hub: str
    parties: int
    states: int
    ghz_fidelity: FidelityStats
    rate_hz: float | None

    def to_dict(self) -> dict:
        return {
            "kind": "ghz",
            "hub": self.hub,
            "parties": self.parties,
            "states": self.states,
            "ghz_fidelity": self.ghz_fidelity.to_dict(),
            "rate_hz": self.rate_hz,
        }


@registry.register("application", "ghz")
class GHZApplication(Application):
    """One GHZ state per round from one pair of every request (all requests share the hub)."""

    @classmethod
    def uses(cls, requests: Sequence[Request], spec: ApplicationSpec) -> list[Request]:
        return list(requests)

    @classmethod
    def check_spec(cls, spec: ApplicationSpec, requests: Sequence[Any]) -> None:
        if len(requests) < 2 or len({r.src for r in requests}) != 1:
            raise ValueError("application.kind 'ghz': needs two or more requests from one hub (the same src)")

    def result(self, sim_time_s: float) -> GHZResult:
        hub = self.requests[0].src
        states, times = self.pairs.states, self.pairs.times
        rounds = min(len(v) for v in states.values())
        noise = self.gate_noise(hub)
        fidelities = []
        for i in range(rounds):
            fuse_at_s = max(times[r.label][i] for r in self.requests)
            pairs = [aged_pair(self.network, r, states[r.label][i], times[r.label][i], fuse_at_s) for r in self.requests]
            fidelities.append(ghz_fidelity(distribute_ghz(pairs, noise)))
        return GHZResult(
            hub=hub,
            parties=len(self.requests) + 1,
            states=rounds,
            ghz_fidelity=FidelityStats.of(fidelities),
            rate_hz=rounds / sim_time_s if sim_time_s > 0 else None,
        )


__all__ = ["GHZApplication", "GHZResult"]
