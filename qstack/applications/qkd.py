"""BBM92 quantum key distribution on the pairs a network delivers.

:class:`QKDApplication` (scenario ``kind = "qkd"``) measures every pair of one request, each side
with its node's readout noise, and reports the sampled and exact QBER in Z and X, the
Shor-Preskill key fraction and the key rate ``R = R_pairs * (pz^2 + (1 - pz)^2) * r``
(:mod:`qstack.protocols.qkd` has the protocol and its equations).
:func:`qkd_over_network` does the same in code: it serves one request itself and returns a
:class:`NetworkQKD`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from qiskit.quantum_info import DensityMatrix

from qstack import registry
from qstack.network import Network, Request
from qstack.protocols import GateNoise
from qstack.protocols.qkd import BBM92Result, bbm92

from .base import Application, ApplicationResult, NoPairsResult, PairCollector, node_gate_noise


@dataclass(frozen=True)
class QKDResult(ApplicationResult):
    """BBM92 on one request's delivered pairs.

    qber_z, qber_x: error rates Alice and Bob counted (``nan`` for a basis never sifted).
    qber_z_exact, qber_x_exact: error rates of the delivered states themselves.
    sifted: rounds whose bases agreed.
    key_fraction: Shor-Preskill ``r`` [secret bits per sifted pair] from the exact rates.
    secret_key_rate_hz: ``pairs_used / sim_time_s * sifted fraction * r`` [bit/s].
    """

    request: str
    pairs_used: int
    z_probability: float
    qber_z: float
    qber_x: float
    qber_z_exact: float
    qber_x_exact: float
    sifted: int
    key_fraction: float
    secret_key_rate_hz: float

    def to_dict(self) -> dict:
        return {
            "kind": "qkd",
            "protocol": "BBM92",
            "request": self.request,
            "pairs_used": self.pairs_used,
            "z_probability": self.z_probability,
            "qber_z": self.qber_z,
            "qber_x": self.qber_x,
            "qber_z_exact": self.qber_z_exact,
            "qber_x_exact": self.qber_x_exact,
            "sifted": self.sifted,
            "key_fraction": self.key_fraction,
            "secret_key_rate_hz": self.secret_key_rate_hz,
        }


@registry.register("application", "qkd")
class QKDApplication(Application):
    """BBM92 on every pair of the request ``spec.request``, with basis bias ``spec.z_probability``.

    Bases and sampled outcomes are drawn from ``self.rng``; exact rates from outcome tables.
    """

    def result(self, sim_time_s: float) -> QKDResult | NoPairsResult:
        request = self.requests[0]
        states = self.pairs.states[request.label]
        if not states:
            return NoPairsResult("qkd", request.label)
        noise_a, noise_b = self.gate_noise(request.src), self.gate_noise(request.dst)
        z_probability = self.spec.z_probability
        sampled = bbm92(states, self.rng, z_probability, noise_a, noise_b)
        exact = bbm92(states, None, z_probability, noise_a, noise_b)
        pair_rate_hz = len(states) / sim_time_s if sim_time_s > 0 else 0.0
        return QKDResult(
            request=request.label,
            pairs_used=len(states),
            z_probability=z_probability,
            qber_z=sampled.qber_z,
            qber_x=sampled.qber_x,
            qber_z_exact=exact.qber_z,
            qber_x_exact=exact.qber_x,
            sifted=sampled.counts.sifted_z + sampled.counts.sifted_x,
            key_fraction=exact.key_fraction,
            secret_key_rate_hz=exact.key_rate_hz(pair_rate_hz),
        )


@dataclass(frozen=True)
class NetworkQKD:
    """BBM92 over a network's delivered pairs.

    ``exact`` holds the error rates of the delivered states themselves (what an infinitely long
    run would estimate); ``sampled`` what Alice and Bob counted on these pairs.
    """

    delivered: int
    duration_s: float
    exact: BBM92Result
    sampled: BBM92Result

    @property
    def pair_rate_hz(self) -> float:
        """Delivered pairs per second of simulated time."""
        return self.delivered / self.duration_s if self.duration_s > 0 else math.inf

    @property
    def key_rate_hz(self) -> float:
        """Asymptotic secret key rate [bit/s] from the exact error rates."""
        return self.exact.key_rate_hz(self.pair_rate_hz)


def qkd_over_network(
    network: Network | Any,
    src: str,
    dst: str,
    pairs: int,
    rng: np.random.Generator,
    z_probability: float = 0.5,
    noise: GateNoise | None = None,
    noise_b: GateNoise | None = None,
) -> NetworkQKD:
    """Serve a request for ``pairs`` pairs from ``src`` to ``dst`` and run BBM92 on them.

    Each pair is measured in the state the network's registry holds at delivery, as passed to
    ``network.delivery_hooks`` (see :class:`qstack.network.Network`). Runs the network's
    simulation until the request is served. Measurement noise defaults to the end nodes'
    memories (:meth:`GateNoise.from_memory`; none on a network built with ``gate_noise=False``);
    ``noise`` and ``noise_b`` override Alice's and Bob's. ``rng`` draws the basis choices and
    outcomes (keep it apart from the simulation's generator, so that measuring does not change
    the network's run).
    """
    request = Request(src, dst, pairs=pairs, name=f"bbm92 {src}->{dst}")
    with PairCollector(network, [request.label]) as collector:
        noise = node_gate_noise(network, src) if noise is None else noise
        noise_b = node_gate_noise(network, dst) if noise_b is None else noise_b
        started_s = network.sim.env.now
        network.sim.env.run(until=network.submit(request))
        duration_s = network.sim.env.now - started_s
    delivered: Sequence[DensityMatrix] = collector.states[request.label]
    if not delivered:
        raise ValueError(f"no pair was delivered between {src} and {dst}")
    return NetworkQKD(
        delivered=len(delivered),
        duration_s=float(duration_s),
        exact=bbm92(delivered, None, z_probability, noise, noise_b),
        sampled=bbm92(delivered, rng, z_probability, noise, noise_b),
    )


__all__ = ["NetworkQKD", "QKDApplication", "QKDResult", "qkd_over_network"]
