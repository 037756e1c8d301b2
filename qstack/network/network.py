"""The network: topology, a link service on every edge, and the requests they serve.

A topology is a ``networkx.Graph`` whose nodes carry a :class:`~qstack.physical.NodeHardware`
under ``"hardware"`` and whose edges carry a link model under ``"link"``. Each node gets one
:class:`~qstack.link.MemoryBank` shared by all its links; each edge one
:class:`~qstack.link.LinkService`. :class:`Network` is the facade; routing, reservation,
purification, path attempts and delivery live in their own modules of this package.
"""

from __future__ import annotations

import networkx as nx
from qiskit.quantum_info import DensityMatrix

from qstack.engine import Simulation
from qstack.link import LinkService, MemoryBank
from qstack.metrics import PairRecord
from qstack.protocols import GateNoise, purification_operation, swap_operation
from qstack.protocols.swapping import BELL_MEASUREMENTS

from . import delivery
from .path import SWAPPING_POLICIES, PathPlan
from .purification import PurificationPolicy
from .requests import Request, RequestStats
from .reservation import Reservations, slots_needed
from .routing import Weight, weight_of


class Network:
    """The network's quantum devices inside one simulation.

    Parameters
    ----------
    sim:
        The run.
    graph:
        Topology with ``hardware`` on nodes and ``link`` on edges.
    cutoff_s:
        A stored qubit older than this is discarded (``inf``: never) [s].
    decoherence, probabilistic, gate_noise:
        False switches that physics off for the physics-uninformed baseline.
    bsm:
        Bell measurement at the repeaters (``qstack.protocols.swapping.BELL_MEASUREMENTS``).
    routing:
        A registered route cost (``"hops"``, ``"expected_rate"``, ``"expected_fidelity"``, ...)
        or a callable ``weight(u, v, data) -> float``, as ``networkx`` takes a weight.
    swapping:
        ``"asap"`` or ``"nested"``.
    purification:
        Where and how pairs are purified (default: nowhere).
    """

    def __init__(
        self,
        sim: Simulation,
        graph: nx.Graph,
        cutoff_s: float = float("inf"),
        decoherence: bool = True,
        probabilistic: bool = True,
        gate_noise: bool = True,
        bsm: str = "deterministic",
        routing: str | Weight = "hops",
        swapping: str = "asap",
        purification: PurificationPolicy | None = None,
    ):
        if bsm not in BELL_MEASUREMENTS:
            raise ValueError(f"bsm must be one of {', '.join(BELL_MEASUREMENTS)}, got {bsm!r}")
        if swapping not in SWAPPING_POLICIES:
            raise ValueError(f"swapping must be one of {', '.join(SWAPPING_POLICIES)}, got {swapping!r}")
        if cutoff_s <= 0:
            raise ValueError(f"cutoff_s must be > 0, got {cutoff_s}")
        self.routing = routing
        self._weight = weight_of(routing, graph)
        self.sim, self.graph, self.cutoff_s = sim, graph, cutoff_s
        self.bsm, self.gate_noise, self.swapping = bsm, gate_noise, swapping
        self.purification = purification if purification is not None else PurificationPolicy()
        self.swaps = self.swap_failures = self.purifications = self.purification_failures = 0
        self.banks = {
            node: MemoryBank(sim.env, data["hardware"], str(node), decoherence=decoherence)
            for node, data in graph.nodes(data=True)
        }
        self._noise = {
            node: data["hardware"].gate_noise if gate_noise else GateNoise()
            for node, data in graph.nodes(data=True)
        }
        self.services: list[LinkService] = []  # one per edge, in the graph's edge order
        self._by_ends: dict[tuple, LinkService] = {}  # both orders of the ends, for lookups
        for u, v, data in graph.edges(data=True):
            service = LinkService(sim, data["link"], self.banks[u], self.banks[v], probabilistic=probabilistic,
                                  gate_noise=gate_noise, name=f"{u}-{v}")
            self._by_ends[u, v] = self._by_ends[v, u] = service
            self.services.append(service)
        self.stats: list[RequestStats] = []
        # Called as hook(request, record, rho) for every delivered pair, with the pair's real
        # two-qubit state (a qiskit DensityMatrix, qubit 0 at request.src) at the moment of use:
        # applications consume delivered pairs through these.
        self.delivery_hooks: list = []
        self.reservations = Reservations(self)
        self._path_delays: dict[tuple, list[float]] = {}
        self._plans: dict[tuple, PathPlan] = {}

    # ------------------------------------------------------------------ devices
    @property
    def gate_noise_at(self) -> dict:
        """Each node's gate noise (ideal where the network runs without gate noise)."""
        return self._noise

    def service(self, u: str, v: str) -> LinkService:
        """The link service between ``u`` and ``v`` (``ValueError`` if they share no link)."""
        try:
            return self._by_ends[u, v]
        except KeyError:
            raise ValueError(f"no link between {u!r} and {v!r}") from None

    def swap_operation(self, node: str):
        """The Bell measurement at ``node``, with its gate noise (built once, cached)."""
        return swap_operation(self._noise[node], self.bsm)

    def swap_time_s(self, node: str) -> float:
        """Duration of a Bell measurement at ``node``: a two-qubit gate, a one-qubit gate and a
        readout of its memory [s]."""
        memory = self.graph.nodes[node]["hardware"].memory
        return memory.two_qubit_gate_time_s + memory.single_qubit_gate_time_s + memory.measurement_time_s

    def purification_operation(self, a: str, b: str):
        """A purification round between nodes ``a`` and ``b``: each gate noise parameter is the
        larger of the two nodes' (one circuit carries one noise model); where a node has a
        user's channels (:class:`~qstack.protocols.noise.GateErrors`) and the two differ, each
        node's gates carry its own noise."""
        noise_a, noise_b = self._noise[a], self._noise[b]
        if noise_a == noise_b:
            return purification_operation(self.purification.method, noise_a)
        if noise_a.errors is not None or noise_b.errors is not None:
            return purification_operation(self.purification.method, noise_a, noise_b)
        noise = GateNoise(
            two_qubit_depolarizing=max(noise_a.two_qubit_depolarizing, noise_b.two_qubit_depolarizing),
            single_qubit_depolarizing=max(noise_a.single_qubit_depolarizing, noise_b.single_qubit_depolarizing),
            measurement_flip=max(noise_a.measurement_flip, noise_b.measurement_flip),
        )
        return purification_operation(self.purification.method, noise)

    # ------------------------------------------------------------------ paths
    def route(self, src: str, dst: str) -> list[str]:
        """Cheapest path under the routing cost (``networkx.shortest_path``)."""
        return nx.shortest_path(self.graph, src, dst, weight=self._weight)

    def classical_delay_s(self, path: list[str], i: int, j: int) -> float:
        """Classical message time along ``path`` between positions ``i`` and ``j``: the sum of
        the links' two channel delays between them [s]. (O(path) per call: it looks ``path``
        up; the hot path reads :attr:`PathPlan.delays_s` instead.)"""
        cumulative = self.path_delays_s(path)
        return abs(cumulative[j] - cumulative[i])

    def path_delays_s(self, path: list[str]) -> list[float]:
        """Classical message time from ``path[0]`` to each position of ``path`` (cumulative sums
        of the links' two channel delays) [s], computed once per path."""
        key = tuple(path)
        cumulative = self._path_delays.get(key)
        if cumulative is None:
            cumulative = [0.0]
            for u, v in zip(path, path[1:]):
                link = self.service(u, v).link
                cumulative.append(cumulative[-1] + link.channel_a.delay_s + link.channel_b.delay_s)
            self._path_delays[key] = cumulative
        return cumulative

    def path_plan(self, path: list[str]) -> PathPlan:
        """What the hot path needs about ``path``, looked up once per path."""
        key = tuple(path)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = PathPlan.of(self, path)
        return plan

    def slots_needed(self, path: list[str], modes: int | None = None) -> dict[str, int]:
        """Memory slots one end-to-end pair on ``path`` may hold at once, per node (see
        :func:`qstack.network.reservation.slots_needed`)."""
        return slots_needed(self, path, modes)

    # ------------------------------------------------------------------ requests
    def check_request(self, request: Request) -> None:
        """Refuse a request that cannot be served: unknown ends, no route, or a storage time
        the cut-off would never allow (``ValueError`` naming the request)."""
        for end in (request.src, request.dst):
            if end not in self.graph:
                raise ValueError(f"request {request.label}: unknown node {end!r}")
        if not nx.has_path(self.graph, request.src, request.dst):
            raise ValueError(f"request {request.label}: no route between {request.src} and {request.dst} (disconnected)")
        if request.storage_time_s > self.cutoff_s:
            raise ValueError(
                f"request {request.label}: storage_time_s ({request.storage_time_s}) exceeds the cut-off "
                f"({self.cutoff_s}); every pair would be discarded"
            )

    def submit(self, request: Request):
        """Start serving ``request`` on its route, with memory slots reserved for it (refused
        if a node would be over-subscribed); returns the SimPy process (an event)."""
        self.check_request(request)
        path = self.route(request.src, request.dst)
        reserved = self.reservations.reserve(request, path)
        stats = RequestStats(request, [], cutoff_s=self.cutoff_s)
        self.stats.append(stats)
        serving = delivery.serve_request(self, stats, path)
        return self.sim.env.process(self.reservations.held_for(serving, reserved))

    def serve_one(self, stats: RequestStats, path: list[str]):
        """Deliver one pair of ``stats.request`` over ``path`` (a generator to run inside a SimPy
        process), retrying after cut-off discards, failed swaps or purification and extraction
        losses. ``stats.cutoff_s`` and ``stats.modes`` apply. Schedulers call it."""
        return delivery.serve_one(self, stats, path)

    def notify(self, request: Request, record: PairRecord, rho) -> None:
        """Hand a delivered pair's state to every delivery hook (as a ``DensityMatrix``)."""
        state = DensityMatrix(rho)
        for hook in self.delivery_hooks:
            hook(request, record, state)
