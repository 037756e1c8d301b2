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
    ):
        if cutoff_s <= 0:
            raise ValueError(f"cutoff_s must be > 0, got {cutoff_s}")
        self.sim = sim
        self.graph = graph
        self.cutoff_s = cutoff_s
        self.banks = {
            node: MemoryBank(sim.env, data["hardware"], str(node), decoherence=decoherence)
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
        if not self.graph.has_edge(request.src, request.dst):
            raise ValueError(
                f"request {request.label}: {request.src} and {request.dst} are not neighbours; "
                "end-to-end requests over repeaters need the network layer's swapping"
            )
        stats = RequestStats(request, [])
        self.stats.append(stats)
        return self.sim.env.process(self._serve_link_request(stats))

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
