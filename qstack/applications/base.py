"""The application interface: what runs on the pairs a network delivers, and how it gets them.

An application is constructed as ``cls(network, requests, spec, seed)`` before the network runs,
subscribes to the pairs delivered for its requests through a :class:`PairCollector`, and after
the run turns those pairs' real two-qubit states into a typed result
(:meth:`Application.result`) whose ``to_dict()`` is the report's ``application`` object.

Registering a new application makes a scenario's ``[application] kind = "..."`` (and
``qstack.simulate(..., application="...")``) accept it::

    from dataclasses import dataclass

    import qstack
    from qstack.applications import Application, ApplicationResult
    from qstack.physics.states import bell_fidelity

    @dataclass(frozen=True)
    class MeanFidelity(ApplicationResult):
        request: str
        mean_fidelity: float | None

        def to_dict(self) -> dict:
            return {"kind": "mean_fidelity", "request": self.request, "mean_fidelity": self.mean_fidelity}

    @qstack.register("application", "mean_fidelity")
    class MeanFidelityApplication(Application):
        '''Mean Bell fidelity of the pairs of the request ``[application] request`` names.'''

        def result(self, sim_time_s):
            request = self.requests[0]
            states = self.pairs.states[request.label]
            mean = sum(map(bell_fidelity, states)) / len(states) if states else None
            return MeanFidelity(request.label, mean)

Random choices (measurement bases, input states) come from ``self.rng``, a generator of the
application's own seeded by ``[seed, 0xA9]``, so running an application never changes the
network's run.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from qiskit.quantum_info import DensityMatrix

from qstack.network import Network, Request
from qstack.protocols import GateNoise

#: Salt of the applications' generator: ``np.random.default_rng([seed, APPLICATION_SALT])``.
APPLICATION_SALT = 0xA9


@dataclass(frozen=True)
class ApplicationSpec:
    """A scenario's ``[application]`` table.

    kind: a registered application name, or ``"none"``.
    request: index of the request whose pairs a two-party application uses.
    z_probability: probability of measuring in Z (QKD's basis bias).
    """

    kind: str = "none"
    request: int = 0
    z_probability: float = 0.5

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not self.kind:
            raise ValueError(f"application.kind: must be a registered application name, got {self.kind!r}")
        if isinstance(self.request, bool) or not isinstance(self.request, (int, np.integer)) or self.request < 0:
            raise ValueError(f"application.request: must be an integer >= 0, got {self.request!r}")
        if not isinstance(self.z_probability, (int, float)) or not 0.0 <= self.z_probability <= 1.0:
            raise ValueError(f"application.z_probability: must be in [0, 1], got {self.z_probability!r}")


class ApplicationResult(abc.ABC):
    """A typed application result; ``to_dict()`` is its JSON form in the report."""

    @abc.abstractmethod
    def to_dict(self) -> dict:
        """The report's ``application`` object: plain keys and values, in report order."""


@dataclass(frozen=True)
class FidelityStats:
    """Mean and minimum of a set of fidelities (``None`` for an empty set)."""

    mean: float | None
    min: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> "FidelityStats":
        if not len(values):
            return cls(None, None)
        return cls(float(np.mean(values)), float(np.min(values)))

    def to_dict(self) -> dict:
        return {"mean": self.mean, "min": self.min}


@dataclass(frozen=True)
class NoPairsResult(ApplicationResult):
    """A two-party application whose request received no pair before the run ended."""

    kind: str
    request: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "request": self.request, "pairs_used": 0}


class PairCollector:
    """Keeps the pairs a network delivers to some requests: per request label, the delivered
    two-qubit states (qubit 0 at the request's ``src``) and their delivery times [s], in
    delivery order.

    It appends itself to ``network.delivery_hooks`` when made; :meth:`close` (or leaving a
    ``with`` block) removes it. Requests are matched by label, so the jobs a scheduler makes
    for one user all count for that user.
    """

    def __init__(self, network: Network | Any, labels: Sequence[str]):
        hooks = getattr(network, "delivery_hooks", None)
        if hooks is None:
            raise ValueError("a PairCollector needs a Network with delivery_hooks (the states at delivery)")
        self._hooks = hooks
        self.states: dict[str, list[DensityMatrix]] = {label: [] for label in labels}
        self.times: dict[str, list[float]] = {label: [] for label in labels}
        hooks.append(self)

    def __call__(self, request: Request, record, rho) -> None:
        states = self.states.get(request.label)
        if states is not None:
            states.append(rho if isinstance(rho, DensityMatrix) else DensityMatrix(np.array(rho, dtype=complex)))
            self.times[request.label].append(record.delivered_s)

    def close(self) -> None:
        """Stop collecting (the pairs kept so far stay)."""
        if self in self._hooks:
            self._hooks.remove(self)

    def __enter__(self) -> "PairCollector":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class Application(abc.ABC):
    """Runs on the pairs a network delivers; registered under ``kind`` with
    ``@qstack.register("application", kind)`` (see the module docstring).

    Constructed as ``cls(network, requests, spec, seed)`` before the network runs:

    network: the :class:`~qstack.network.Network` whose deliveries it consumes.
    requests: the run's requests, in scenario order.
    spec: the scenario's :class:`ApplicationSpec`.
    seed: the run's seed; the application's own generator ``self.rng`` is seeded from it.

    ``self.requests`` are the requests it uses (:meth:`uses`), ``self.pairs`` the
    :class:`PairCollector` of their pairs. Subclasses implement :meth:`result`; they may
    override :meth:`uses` and :meth:`check_spec`.
    """

    def __init__(self, network: Network, requests: Sequence[Request], spec: ApplicationSpec, seed: int):
        self.network = network
        self.spec = spec
        self.rng = np.random.default_rng([seed, APPLICATION_SALT])
        self.requests = list(self.uses(requests, spec))
        self.pairs = PairCollector(network, [r.label for r in self.requests])

    @classmethod
    def uses(cls, requests: Sequence[Request], spec: ApplicationSpec) -> list[Request]:
        """The requests whose pairs it consumes: by default the one ``spec.request`` indexes."""
        return [requests[spec.request]]

    @classmethod
    def check_spec(cls, spec: ApplicationSpec, requests: Sequence[Any]) -> None:
        """Refuse (``ValueError`` naming the key) a spec that cannot run on these requests (each
        with ``src`` and ``dst``), before anything is built. By default ``spec.request`` must
        index one of them."""
        if spec.request >= len(requests):
            raise ValueError(f"application.request: must index one of the {len(requests)} requests, got {spec.request}")

    @abc.abstractmethod
    def result(self, sim_time_s: float) -> ApplicationResult | None:
        """The result from the pairs collected in a run of ``sim_time_s`` simulated seconds."""

    def gate_noise(self, node: str) -> GateNoise:
        """The gate and readout noise of ``node``'s memory (none on a network built with
        ``gate_noise=False``)."""
        return node_gate_noise(self.network, node)


def node_gate_noise(network: Network | Any, node: str) -> GateNoise:
    """The gate noise of ``node``'s hardware (:attr:`NodeHardware.gate_noise`: a user's noise, else
    :meth:`GateNoise.from_memory` of its memory), or ideal gates when the network was built with
    ``gate_noise=False``."""
    if not getattr(network, "gate_noise", True):
        return GateNoise()
    return network.graph.nodes[node]["hardware"].gate_noise


def aged_pair(network: Network, request: Request, rho: DensityMatrix | np.ndarray, since_s: float,
              until_s: float) -> DensityMatrix:
    """A delivered pair (qubit 0 at ``request.src``) after waiting in its two memories from
    ``since_s`` to ``until_s`` [s].

    Each qubit relaxes under its node's memory channel (``network.banks[node].idle_model``, a
    :class:`qstack.physics.channels.Relaxation`, or ``None`` for no decoherence): coherences
    shrink by ``exp(-t/T2)``, the excited population by ``exp(-t/T1)``, ``t = until_s - since_s``.
    The same call, in the same qubit order, as the state engine's lazy idle catch-up.
    """
    duration_s = until_s - since_s
    rho = np.asarray(getattr(rho, "data", rho), dtype=complex)
    if duration_s > 0:
        for position, node in enumerate((request.src, request.dst)):
            relaxation = network.banks[node].idle_model
            if relaxation is not None:
                rho = relaxation.apply(rho, 2, position, duration_s)
    return DensityMatrix(rho)


__all__ = [
    "APPLICATION_SALT",
    "Application",
    "ApplicationResult",
    "ApplicationSpec",
    "FidelityStats",
    "NoPairsResult",
    "PairCollector",
    "aged_pair",
    "node_gate_noise",
]
