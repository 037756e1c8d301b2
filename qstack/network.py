"""Network layer: topology, link services on every edge, and the requests they serve.

A topology is a ``networkx.Graph`` whose nodes carry a :class:`~qstack.physical.NodeHardware`
under ``"hardware"`` and whose edges carry a :class:`~qstack.physical.HeraldedLink` under
``"link"``. Each node gets one :class:`~qstack.link.MemoryBank` shared by all its links; each
edge one :class:`~qstack.link.LinkService`.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from qstack.engine import Simulation
from qstack.link import LinkPair, LinkService, MemoryBank
from qstack.metrics import DelayBreakdown, PairRecord, bell_fidelity
from qstack.protocols import GateNoise, swap_operation, swap_succeeded

ROUTING_COSTS = ("hops", "expected_rate")
BELL_MEASUREMENTS = ("deterministic", "linear_optics")


def link_cost(metric: str):
    """Edge weight for ``networkx`` routing: hop count, or expected time per link pair."""
    if metric == "hops":
        return lambda u, v, data: 1.0
    if metric == "expected_rate":
        return lambda u, v, data: data["link"].attempt_time_s / data["link"].success_probability
    raise ValueError(f"routing must be one of {', '.join(ROUTING_COSTS)}, got {metric!r}")


@dataclass
class _Segment:
    """Entanglement between path positions ``left`` and ``right`` (a link pair or swapped)."""

    left: int
    right: int
    qubits: tuple
    left_pair: LinkPair
    right_pair: LinkPair
    oldest_s: float
    attempts: int


@dataclass(frozen=True)
class Request:
    """A user's demand: ``pairs`` Bell pairs between ``src`` and ``dst``.

    ``storage_time_s`` is how long the application keeps each pair in memory before using it
    (waiting for its own classical inputs); ``min_fidelity`` is the fidelity the user needs,
    counted in the report.
    """

    src: str
    dst: str
    pairs: int = 1
    min_fidelity: float = 0.0
    storage_time_s: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        if self.pairs < 1:
            raise ValueError(f"Request.pairs must be >= 1, got {self.pairs}")
        if not 0.0 <= self.min_fidelity <= 1.0:
            raise ValueError(f"Request.min_fidelity must be in [0, 1], got {self.min_fidelity}")
        if self.storage_time_s < 0:
            raise ValueError(f"Request.storage_time_s must be >= 0, got {self.storage_time_s}")

    @property
    def label(self) -> str:
        return self.name or f"{self.src}->{self.dst}"


@dataclass
class RequestStats:
    """Counters of one request, for the report."""

    request: Request
    records: list
    cutoff_discards: int = 0
    extraction_failures: int = 0
    finished_s: float | None = None


class Network:
    """The network's quantum devices inside one simulation.

    Parameters
    ----------
    sim:
        The run.
    graph:
        Topology with ``hardware`` on nodes and ``link`` on edges.
    cutoff_s:
        A stored qubit older than this is discarded (``inf``: never).
    decoherence, probabilistic, gate_noise:
        False switches that physics off for the physics-uninformed baseline.
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
        routing: str = "hops",
    ):
        if bsm not in BELL_MEASUREMENTS:
            raise ValueError(f"bsm must be one of {', '.join(BELL_MEASUREMENTS)}, got {bsm!r}")
        self.bsm = bsm
        self.routing = routing
        self._cost = link_cost(routing)
        self.swaps = 0
        self.swap_failures = 0
        if cutoff_s <= 0:
            raise ValueError(f"cutoff_s must be > 0, got {cutoff_s}")
        self.sim = sim
        self.graph = graph
        self.cutoff_s = cutoff_s
        self.banks = {
            node: MemoryBank(sim.env, data["hardware"], str(node), decoherence=decoherence)
            for node, data in graph.nodes(data=True)
        }
        self._swap_ops = {
            node: swap_operation(GateNoise.from_memory(data["hardware"].memory) if gate_noise else GateNoise(), bsm)
            for node, data in graph.nodes(data=True)
        }
        self.services: dict[frozenset, LinkService] = {}
        for u, v, data in graph.edges(data=True):
            self.services[frozenset((u, v))] = LinkService(
                sim,
                data["link"],
                self.banks[u],
                self.banks[v],
                probabilistic=probabilistic,
                gate_noise=gate_noise,
                name=f"{u}-{v}",
            )
        self.stats: list[RequestStats] = []
        self._reserved: dict[str, int] = {}

    def service(self, u: str, v: str) -> LinkService:
        try:
            return self.services[frozenset((u, v))]
        except KeyError:
            raise ValueError(f"no link between {u!r} and {v!r}") from None

    def submit(self, request: Request):
        """Start serving ``request``; returns the SimPy process (an event)."""
        for end in (request.src, request.dst):
            if end not in self.graph:
                raise ValueError(f"request {request.label}: unknown node {end!r}")
        if not nx.has_path(self.graph, request.src, request.dst):
            raise ValueError(f"request {request.label}: no route between {request.src} and {request.dst} (disconnected)")
        path = self.route(request.src, request.dst)
        self._reserve(request, path)
        stats = RequestStats(request, [])
        self.stats.append(stats)
        if len(path) == 2:
            return self.sim.env.process(self._serve_link_request(stats))
        return self.sim.env.process(self._serve_path_request(stats, path))

    def _reserve(self, request: Request, path: list[str]) -> None:
        """Reserve memory slots on the route: one per multiplexed mode for each link end.

        A request that would need more slots at a node than its memory has, together with the
        requests already admitted, is refused (over-subscription) and nothing is reserved.
        """
        need: dict[str, int] = {}
        for u, v in zip(path, path[1:]):
            modes = self.service(u, v).link.multiplexing
            need[u] = need.get(u, 0) + modes
            need[v] = need.get(v, 0) + modes
        for node, slots in need.items():
            have = self.banks[node].capacity
            if self._reserved.get(node, 0) + slots > have:
                raise ValueError(
                    f"request {request.label}: node {node} over-subscribed: needs {slots} memory slots with "
                    f"{self._reserved.get(node, 0)} already reserved, capacity {have}"
                )
        for node, slots in need.items():
            self._reserved[node] = self._reserved.get(node, 0) + slots

    def route(self, src: str, dst: str) -> list[str]:
        """Cheapest path under the routing cost (``networkx.shortest_path``)."""
        return nx.shortest_path(self.graph, src, dst, weight=self._cost)

    # ---------------------------------------------------------------- direct links
    def _serve_link_request(self, stats: RequestStats):
        """Workers, one per storage slot the pair can occupy, each producing pairs in turn."""
        env = self.sim.env
        request = stats.request
        service = self.service(request.src, request.dst)
        workers = min(request.pairs, min(bank.capacity // service.link.multiplexing for bank in service.banks))
        quota = [request.pairs]
        yield env.all_of([env.process(self._link_worker(stats, service, quota)) for _ in range(max(workers, 1))])
        stats.finished_s = env.now

    def _link_worker(self, stats: RequestStats, service: LinkService, quota: list[int]):
        while quota[0] > 0:
            quota[0] -= 1
            yield from self._deliver_one(stats, service)

    def _deliver_one(self, stats: RequestStats, service: LinkService):
        """Generate pairs until one survives storage and extraction; record it."""
        env, rng = self.sim.env, self.sim.rng
        request = stats.request
        begun = env.now
        while True:
            requested = env.now
            pair = yield env.process(service.generate())
            hold = request.storage_time_s
            if hold > self.cutoff_s:
                yield env.timeout(self.cutoff_s)
                service.release(pair)
                stats.cutoff_discards += 1
                continue
            yield env.timeout(hold)
            extraction = pair.stored_at[0].node.memory.read_efficiency * pair.stored_at[1].node.memory.read_efficiency
            if rng.random() >= extraction:
                service.release(pair)
                stats.extraction_failures += 1
                continue
            break
        fidelity = bell_fidelity(self.sim.registry.density_matrix(list(pair.qubits)))
        service.release(pair)
        breakdown = DelayBreakdown(
            emission_wait_s=pair.emission_wait_s,
            heralding_s=pair.heralding_s,
            storage_s=env.now - pair.heralded_s,
            cutoff_retries_s=requested - begun,
        )
        stats.records.append(
            PairRecord(
                request=request.label,
                started_s=begun,
                delivered_s=env.now,
                fidelity=fidelity,
                attempts=pair.attempts,
                breakdown=breakdown,
            )
        )

    # ---------------------------------------------------------------- repeater paths
    def _serve_path_request(self, stats: RequestStats, path: list[str]):
        """End-to-end pairs over a repeater path, one at a time, swapping as soon as possible."""
        while len(stats.records) < stats.request.pairs:
            yield from self._deliver_end_to_end(stats, path)
        stats.finished_s = self.sim.env.now

    def _swap_time_s(self, node: str) -> float:
        memory = self.graph.nodes[node]["hardware"].memory
        return memory.two_qubit_gate_time_s + memory.single_qubit_gate_time_s + memory.measurement_time_s

    def _delay_s(self, path: list[str], i: int, j: int) -> float:
        """Classical message time along the path between positions i and j."""
        lo, hi = min(i, j), max(i, j)
        total = 0.0
        for k in range(lo, hi):
            link = self.service(path[k], path[k + 1]).link
            total += link.channel_a.delay_s + link.channel_b.delay_s
        return total

    def _discard_segment(self, path, segment: _Segment) -> None:
        self.service(path[segment.left], path[segment.left + 1]).release(segment.left_pair, 0)
        self.service(path[segment.right - 1], path[segment.right]).release(segment.right_pair, 1)
        for qubit in segment.qubits:
            if qubit.alive:
                self.sim.registry.discard([qubit])

    def _deliver_end_to_end(self, stats: RequestStats, path: list[str]):
        env, registry = self.sim.env, self.sim.registry
        request = stats.request
        k = len(path) - 1
        begun = env.now
        generating = {i: env.process(self.service(path[i], path[i + 1]).generate()) for i in range(k)}
        segments: dict[int, _Segment] = {}  # by left position
        last_herald = begun
        heralding = 0.0
        swap_wait = 0.0
        while True:
            waits = list(generating.values())
            expiry = min((s.oldest_s + self.cutoff_s for s in segments.values()), default=float("inf"))
            if expiry < float("inf"):
                waits.append(env.timeout(max(expiry - env.now, 0.0)))
            yield env.any_of(waits)
            for i, process in list(generating.items()):
                if process.triggered:
                    pair = process.value
                    del generating[i]
                    segments[i] = _Segment(i, i + 1, pair.qubits, pair, pair, pair.heralded_s - pair.heralding_s, pair.attempts)
                    last_herald = env.now
                    heralding = pair.heralding_s
            # Cut-off: drop segments holding a qubit older than the cut-off, regenerate their links.
            for left, segment in list(segments.items()):
                if env.now - segment.oldest_s > self.cutoff_s:
                    self._discard_segment(path, segment)
                    del segments[left]
                    stats.cutoff_discards += 1
                    for i in range(segment.left, segment.right):
                        generating[i] = env.process(self.service(path[i], path[i + 1]).generate())
            # Swap as soon as possible: any two segments meeting at a node.
            swapped = True
            while swapped:
                swapped = False
                for left, first in sorted(segments.items()):
                    second = segments.get(first.right)
                    if second is None:
                        continue
                    node = path[first.right]
                    started = env.now
                    yield env.timeout(self._swap_time_s(node))
                    outcome = registry.apply(
                        self._swap_ops[node], [first.qubits[0], first.qubits[1], second.qubits[0], second.qubits[1]]
                    )
                    self.swaps += 1
                    self.service(path[first.right - 1], node).release(first.right_pair, 1)
                    self.service(node, path[first.right + 1]).release(second.left_pair, 0)
                    del segments[first.left], segments[second.left]
                    merged = _Segment(
                        first.left, second.right, (first.qubits[0], second.qubits[1]), first.left_pair,
                        second.right_pair, min(first.oldest_s, second.oldest_s), first.attempts + second.attempts,
                    )
                    swap_wait += env.now - started
                    if not swap_succeeded(outcome, self.bsm):
                        self.swap_failures += 1
                        self._discard_segment(path, merged)
                        for i in range(merged.left, merged.right):
                            generating[i] = env.process(self.service(path[i], path[i + 1]).generate())
                    else:
                        segments[merged.left] = merged
                    swapped = True
                    break
            whole = segments.get(0)
            if whole is not None and whole.right == k:
                break
        # The Bell-measurement results travel to both ends before the pair can be used.
        messaging = max(self._delay_s(path, 0, j) for j in range(k + 1))
        yield env.timeout(messaging)
        hold = request.storage_time_s
        if env.now + hold - whole.oldest_s > self.cutoff_s:
            yield env.timeout(max(whole.oldest_s + self.cutoff_s - env.now, 0.0))
            self._discard_segment(path, whole)
            stats.cutoff_discards += 1
            return
        yield env.timeout(hold)
        ends = (self.graph.nodes[path[0]]["hardware"].memory, self.graph.nodes[path[-1]]["hardware"].memory)
        if self.sim.rng.random() >= ends[0].read_efficiency * ends[1].read_efficiency:
            self._discard_segment(path, whole)
            stats.extraction_failures += 1
            return
        fidelity = bell_fidelity(registry.density_matrix(list(whole.qubits)))
        self._discard_segment(path, whole)
        swapped_at = last_herald + swap_wait + messaging
        breakdown = DelayBreakdown(
            emission_wait_s=last_herald - begun - heralding,
            heralding_s=heralding,
            swapping_s=swapped_at - last_herald,
            storage_s=env.now - swapped_at,
        )
        stats.records.append(
            PairRecord(request.label, begun, env.now, fidelity, whole.attempts, breakdown)
        )
