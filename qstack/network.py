"""Network layer: topology, link services on every edge, and the requests they serve.

A topology is a ``networkx.Graph`` whose nodes carry a :class:`~qstack.physical.NodeHardware`
under ``"hardware"`` and whose edges carry a :class:`~qstack.physical.HeraldedLink` under
``"link"``. Each node gets one :class:`~qstack.link.MemoryBank` shared by all its links; each
edge one :class:`~qstack.link.LinkService`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import networkx as nx

from qstack.engine import Simulation
from qstack.link import LinkPair, LinkService, MemoryBank
from qstack.metrics import DelayBreakdown, PairRecord, bell_fidelity
from qstack.protocols import GateNoise, purification_operation, purification_succeeded, swap_operation, swap_succeeded
from qstack.protocols.swapping import BELL_MEASUREMENTS

ROUTING_COSTS = ("hops", "expected_rate", "expected_fidelity")
SWAPPING_POLICIES = ("asap", "nested")
PURIFICATION_SCOPES = ("none", "link", "end_to_end")
PURIFICATION_SCHEMES = ("recurrence", "pumping")
PURIFICATION_METHODS = ("dejmps", "bbpssw")


@dataclass(frozen=True)
class PurificationPolicy:
    """Where and how pairs are purified.

    scope: ``"none"``, ``"link"`` (every elementary pair before swapping) or ``"end_to_end"``.
    method: ``"dejmps"`` or ``"bbpssw"``.
    scheme: ``"recurrence"`` (pairs of equal rounds purified together; holds ``rounds + 1`` pairs)
        or ``"pumping"`` (the kept pair purified with each fresh pair; holds 2 pairs).
    rounds: rounds each delivered pair has survived.
    """

    scope: str = "none"
    method: str = "dejmps"
    scheme: str = "recurrence"
    rounds: int = 0

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("scope", self.scope, PURIFICATION_SCOPES),
            ("method", self.method, PURIFICATION_METHODS),
            ("scheme", self.scheme, PURIFICATION_SCHEMES),
        ):
            if value not in allowed:
                raise ValueError(f"purification.{name} must be one of {', '.join(allowed)}, got {value!r}")
        if isinstance(self.rounds, bool) or not isinstance(self.rounds, int) or not 0 <= self.rounds <= 10:
            raise ValueError(f"purification.rounds must be an integer in [0, 10], got {self.rounds!r}")
        if self.scope == "none" and self.rounds:
            raise ValueError("purification.rounds needs purification.scope 'link' or 'end_to_end'")

    @property
    def held_pairs(self) -> int:
        """Pairs held at once while purifying (slots per pair end)."""
        if self.rounds == 0:
            return 1
        return self.rounds + 1 if self.scheme == "recurrence" else 2


def link_cost(metric: str):
    """Edge weight for ``networkx`` routing: hop count, or expected time per link pair."""
    if metric == "hops":
        return lambda u, v, data: 1.0
    if metric == "expected_rate":
        return lambda u, v, data: data["link"].attempt_time_s / data["link"].success_probability
    if metric == "expected_fidelity":
        # Werner parameters multiply under swapping: minimise -sum log w of the link states.
        return lambda u, v, data: -math.log(max(_werner_parameter(data["link"]), 1e-300))
    raise ValueError(f"routing must be one of {', '.join(ROUTING_COSTS)}, got {metric!r}")


def _werner_parameter(link) -> float:
    """``w = (4F - 1)/3`` of a link's heralded state (mean over heralding outcomes)."""
    fidelity = sum(h.probability * bell_fidelity(h.rho) for h in link.heralded_states) / link.success_probability_per_mode
    return (4 * fidelity - 1) / 3


@dataclass(slots=True)
class _Segment:
    """Entanglement between path positions ``left`` and ``right`` (a link pair or swapped)."""

    left: int
    right: int
    qubits: tuple
    left_pair: LinkPair  # the link pair holding the left end's qubit, at index left_index
    right_pair: LinkPair
    oldest_s: float
    attempts: int
    left_index: int = 0
    right_index: int = 1
    failed: bool = False

    @classmethod
    def of_link(cls, position: int, pair: LinkPair, left_node: str) -> "_Segment":
        """A link pair as a segment, oriented along the path (its qubit 0 at ``left_node``)."""
        a = 0 if pair.stored_at[0].name == left_node else 1
        return cls(position, position + 1, (pair.qubits[a], pair.qubits[1 - a]), pair, pair,
                   pair.heralded_s - pair.heralding_s, pair.attempts, left_index=a, right_index=1 - a)


@dataclass(frozen=True)
class Request:
    """A user's demand: ``pairs`` Bell pairs between ``src`` and ``dst``.

    ``storage_time_s`` is how long the application keeps each pair in memory before using it
    (waiting for its own classical inputs); ``min_fidelity`` is the fidelity the user needs,
    counted in the report. For schedulers: the request arrives at ``arrival_s``, wants all its
    pairs within ``deadline_s`` after that, and weighs ``priority`` in fair sharing;
    ``min_rate_hz`` is the throughput the user needs (a QKD link), counted in the report.
    """

    src: str
    dst: str
    pairs: int = 1
    min_fidelity: float = 0.0
    storage_time_s: float = 0.0
    name: str = ""
    arrival_s: float = 0.0
    deadline_s: float = math.inf
    priority: float = 1.0
    min_rate_hz: float = 0.0

    def __post_init__(self) -> None:
        if self.pairs < 1:
            raise ValueError(f"Request.pairs must be >= 1, got {self.pairs}")
        if not self.arrival_s >= 0:
            raise ValueError(f"Request.arrival_s must be >= 0, got {self.arrival_s}")
        if not self.deadline_s > 0:
            raise ValueError(f"Request.deadline_s must be > 0 (time after arrival), got {self.deadline_s}")
        if not (self.min_rate_hz >= 0 and math.isfinite(self.min_rate_hz)):
            raise ValueError(f"Request.min_rate_hz must be a finite number >= 0, got {self.min_rate_hz}")
        if not (self.priority > 0 and math.isfinite(self.priority)):
            raise ValueError(f"Request.priority must be a finite number > 0, got {self.priority}")
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
    cutoff_s: float = math.inf  # this request's storage cut-off (the network's, or a scheduler's choice)
    modes: int | None = None  # multiplexed modes per link generation (None: all of the link's)


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
        swapping: str = "asap",
        purification: PurificationPolicy = PurificationPolicy(),
    ):
        if bsm not in BELL_MEASUREMENTS:
            raise ValueError(f"bsm must be one of {', '.join(BELL_MEASUREMENTS)}, got {bsm!r}")
        if swapping not in SWAPPING_POLICIES:
            raise ValueError(f"swapping must be one of {', '.join(SWAPPING_POLICIES)}, got {swapping!r}")
        self.bsm = bsm
        self.gate_noise = gate_noise
        self.swapping = swapping
        self.purification = purification
        self.purifications = 0
        self.purification_failures = 0
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
        self._noise = {
            node: GateNoise.from_memory(data["hardware"].memory) if gate_noise else GateNoise()
            for node, data in graph.nodes(data=True)
        }
        self.services: list[LinkService] = []  # one per edge, in the graph's edge order
        self._by_ends: dict[tuple, LinkService] = {}  # both orders of the ends, for lookups
        for u, v, data in graph.edges(data=True):
            self._by_ends[u, v] = self._by_ends[v, u] = LinkService(
                sim,
                data["link"],
                self.banks[u],
                self.banks[v],
                probabilistic=probabilistic,
                gate_noise=gate_noise,
                name=f"{u}-{v}",
            )
            self.services.append(self._by_ends[u, v])
        self.stats: list[RequestStats] = []
        # Called as hook(request, record, rho) for every delivered pair, with the pair's real
        # two-qubit state at the moment of use (qubit 0 at request.src): applications consume
        # delivered pairs through these.
        self.delivery_hooks: list = []
        self._reserved: dict[str, int] = {}
        self._path_delays: dict[tuple, list[float]] = {}
        self._plans: dict[tuple, PathPlan] = {}

    @property
    def gate_noise_at(self) -> dict:
        """Each node's gate noise (ideal where the network runs without gate noise)."""
        return self._noise

    def swap_operation(self, node: str):
        """The Bell measurement at ``node``, with its gate noise (built once, cached)."""
        return swap_operation(self._noise[node], self.bsm)

    def purification_operation(self, a: str, b: str):
        """A purification round between nodes ``a`` and ``b``: each gate noise parameter is the
        larger of the two nodes' (one circuit carries one noise model)."""
        noise_a, noise_b = self._noise[a], self._noise[b]
        noise = GateNoise(
            two_qubit_depolarizing=max(noise_a.two_qubit_depolarizing, noise_b.two_qubit_depolarizing),
            single_qubit_depolarizing=max(noise_a.single_qubit_depolarizing, noise_b.single_qubit_depolarizing),
            measurement_flip=max(noise_a.measurement_flip, noise_b.measurement_flip),
        )
        return purification_operation(self.purification.method, noise)

    def service(self, u: str, v: str) -> LinkService:
        try:
            return self._by_ends[u, v]
        except KeyError:
            raise ValueError(f"no link between {u!r} and {v!r}") from None

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
        """Start serving ``request``; returns the SimPy process (an event)."""
        self.check_request(request)
        path = self.route(request.src, request.dst)
        reserved = self._reserve(request, path)
        stats = RequestStats(request, [], cutoff_s=self.cutoff_s)
        self.stats.append(stats)
        if len(path) == 2 and self.purification.rounds == 0:
            serving = self._serve_link_request(stats)
        else:
            serving = self._serve_path_request(stats, path)
        return self.sim.env.process(self._until_served(serving, reserved))

    def _until_served(self, serving, reserved: dict[str, int]):
        """Serve a request, then give its reserved slots back to later requests."""
        try:
            yield from serving
        finally:
            for node, slots in reserved.items():
                self._reserved[node] -= slots

    def _reserve(self, request: Request, path: list[str]) -> dict[str, int]:
        """Reserve memory slots on the route: one per multiplexed mode for each link end.

        A request that would need more slots at a node than its memory has, together with the
        requests being served, is refused (over-subscription) and nothing is reserved. Returns
        what was reserved; it is released when the request has been served.
        """
        need = self.slots_needed(path)
        for node, slots in need.items():
            have = self.banks[node].capacity
            if self._reserved.get(node, 0) + slots > have:
                raise ValueError(
                    f"request {request.label}: node {node} over-subscribed: needs {slots} memory slots with "
                    f"{self._reserved.get(node, 0)} already reserved, capacity {have}"
                )
        for node, slots in need.items():
            self._reserved[node] = self._reserved.get(node, 0) + slots
        return need

    def slots_needed(self, path: list[str], modes: int | None = None) -> dict[str, int]:
        """Memory slots one end-to-end pair on ``path`` may hold at once, per node: ``modes`` per
        link end (all the link's multiplexed modes by default), times the pairs link
        purification holds, plus the extra pairs end-to-end purification holds at the ends."""
        need: dict[str, int] = {}
        per_link = self.purification.held_pairs if self.purification.scope == "link" else 1
        for u, v in zip(path, path[1:]):
            link_modes = self.service(u, v).link.multiplexing
            used = (link_modes if modes is None else min(modes, link_modes)) * per_link
            need[u] = need.get(u, 0) + used
            need[v] = need.get(v, 0) + used
        if self.purification.scope == "end_to_end":
            for end in (path[0], path[-1]):
                need[end] += self.purification.held_pairs - 1
        return need

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
            pair = yield env.process(service.generate(stats.modes))
            hold = request.storage_time_s
            emitted = pair.heralded_s - pair.heralding_s
            if env.now + hold >= emitted + stats.cutoff_s:
                yield env.timeout(max(emitted + stats.cutoff_s - env.now, 0.0))
                service.release(pair)
                stats.cutoff_discards += 1
                continue
            if hold > 0:
                yield env.timeout(hold)
            extraction = pair.stored_at[0].node.memory.read_efficiency * pair.stored_at[1].node.memory.read_efficiency
            if rng.random() >= extraction:
                service.release(pair)
                stats.extraction_failures += 1
                continue
            break
        rho = self.sim.registry.density_matrix(self._oriented(request, pair.qubits, service.banks[0].name))
        fidelity = bell_fidelity(rho)
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
                oldest_age_s=env.now - emitted,
            )
        )
        self._notify(request, stats.records[-1], rho)

    # ---------------------------------------------------------------- repeater paths
    def _serve_path_request(self, stats: RequestStats, path: list[str]):
        """End-to-end pairs over a path, one at a time: links, purification, swaps, delivery."""
        while len(stats.records) < stats.request.pairs:
            yield from self.serve_one(stats, path)
        stats.finished_s = self.sim.env.now

    def serve_one(self, stats: RequestStats, path: list[str]):
        """Deliver one end-to-end pair of ``stats.request`` over ``path`` (a generator to run
        inside a SimPy process), retrying after cut-off discards, failed swaps or purification
        and extraction losses. ``stats.cutoff_s`` and ``stats.modes`` apply. Schedulers call it.
        """
        if len(path) == 2 and self.purification.rounds == 0:
            yield from self._deliver_one(stats, self.service(path[0], path[1]))
            return
        env = self.sim.env
        begun = env.now
        while True:
            timing = _Timing(started_s=env.now)
            whole = yield from self._purified(
                lambda: self._establish(stats, path, timing),
                release=lambda seg: self._discard_segment(path, seg),
                oldest=lambda seg: seg.oldest_s,
                nodes=(path[0], path[-1]),
                delay_s=self.classical_delay_s(path, 0, len(path) - 1),
                rounds=self.purification.rounds if self.purification.scope == "end_to_end" else 0,
                stats=stats,
                timing=timing,
            )
            delivered = yield from self._deliver(stats, path, whole, begun, timing)
            if delivered:
                return

    @staticmethod
    def _oriented(request: Request, qubits, first_node: str) -> list:
        """The pair's qubits with the one at ``request.src`` first."""
        return list(qubits) if first_node == request.src else list(reversed(qubits))

    def _notify(self, request: Request, record: PairRecord, rho) -> None:
        for hook in self.delivery_hooks:
            hook(request, record, rho)

    def swap_time_s(self, node: str) -> float:
        """Duration of a Bell measurement at ``node``: a two-qubit gate, a one-qubit gate and a
        readout of its memory [s]."""
        memory = self.graph.nodes[node]["hardware"].memory
        return memory.two_qubit_gate_time_s + memory.single_qubit_gate_time_s + memory.measurement_time_s

    def classical_delay_s(self, path: list[str], i: int, j: int) -> float:
        """Classical message time along the path between positions i and j."""
        key = tuple(path)
        cumulative = self._path_delays.get(key)
        if cumulative is None:
            cumulative = [0.0]
            for u, v in zip(path, path[1:]):
                link = self.service(u, v).link
                cumulative.append(cumulative[-1] + link.channel_a.delay_s + link.channel_b.delay_s)
            self._path_delays[key] = cumulative
        return abs(cumulative[j] - cumulative[i])

    def _discard_segment(self, path, segment: _Segment) -> None:
        # Both ends at once: a pair's group is dropped whole, without a partial trace.
        alive = [qubit for qubit in segment.qubits if qubit.group is not None]
        if alive:
            self.sim.registry.discard(alive)
        services = self.path_plan(path).services
        services[segment.left].release(segment.left_pair, segment.left_index)
        services[segment.right - 1].release(segment.right_pair, segment.right_index)

    def _link_pair(self, stats: RequestStats, path: list[str], i: int, timing: "_Timing"):
        """SimPy process: one (optionally purified) pair on link ``i`` of the path."""
        service = self.service(path[i], path[i + 1])
        rounds = self.purification.rounds if self.purification.scope == "link" else 0
        pair = yield from self._purified(
            lambda: service.generate(stats.modes),
            release=service.release,
            oldest=lambda pair: pair.heralded_s - pair.heralding_s,
            nodes=(path[i], path[i + 1]),
            delay_s=self.classical_delay_s(path, i, i + 1),
            rounds=rounds,
            stats=stats,
            timing=timing,
        )
        return pair

    def _purified(self, source, release, oldest, nodes, delay_s, rounds, stats, timing):
        """Draw pairs from ``source`` and purify them ``rounds`` times (recurrence or pumping).

        Recurrence: two pairs that have survived the same number of rounds are purified
        together (a binary counter over levels, so ``rounds + 1`` pairs are held at most).
        Pumping: the kept pair is purified with each fresh pair. A failed round frees both pairs;
        a stored pair older than the cut-off is freed before use. ``delay_s`` is the one-way
        classical delay between the two nodes, paid to compare the measurement outcomes.
        """
        env = self.sim.env
        if rounds == 0:
            while True:
                pair = yield from source()
                if pair is not None:
                    return pair
        operation = self.purification_operation(*nodes)
        gate_time = max(self.swap_time_s(nodes[0]), self.swap_time_s(nodes[1]))
        held: dict[int, object] = {}
        first_ready = None
        while True:
            pair = yield from source()
            if pair is None:
                continue
            if first_ready is None:
                first_ready = env.now
            level = 0
            while level < rounds:
                partner_level = level if self.purification.scheme == "recurrence" else None
                if partner_level is None:  # pumping: the kept pair, whatever its level
                    partner_level = next(iter(held), None)
                    if partner_level is None:
                        break
                kept = held.pop(partner_level, None)
                if kept is None:
                    break
                if env.now >= oldest(kept) + stats.cutoff_s:
                    release(kept)
                    stats.cutoff_discards += 1
                    if self.purification.scheme == "pumping":
                        break
                    continue
                yield env.timeout(gate_time)
                outcome = self.sim.registry.apply(operation, [kept.qubits[0], kept.qubits[1], pair.qubits[0], pair.qubits[1]])
                release(pair)  # the sacrificed pair's slots
                yield env.timeout(delay_s)  # the two sides compare outcomes; the kept pair waits
                self.purifications += 1
                if not purification_succeeded(outcome):
                    self.purification_failures += 1
                    release(kept)
                    pair = None
                    break
                pair = kept
                level = (partner_level if self.purification.scheme == "pumping" else level) + 1
            if pair is None:
                continue
            if level >= rounds:
                timing.purification_s = max(timing.purification_s, env.now - first_ready)
                return pair
            held[level] = pair

    def _establish(self, stats: RequestStats, path: list[str], timing: "_Timing"):
        """SimPy process: one end-to-end pair over ``path`` by swapping, or None if lost."""
        env, registry = self.sim.env, self.sim.registry
        plan = self.path_plan(path)
        k = len(path) - 1
        cutoff_s = stats.cutoff_s
        # Link pairs arrive through one mailbox and one wake-up event, so a wait costs the same
        # whatever the number of links (a condition over every pending link would not).
        mailbox = _Mailbox(env)
        generating = {i: self._start_link(mailbox, stats, path, i, timing) for i in range(k)}
        segments: dict[int, _Segment] = {}  # by left position
        swapped = False
        alarm_at = math.inf  # the cut-off alarm set last (it pokes the mailbox when it rings)
        alarms = []  # every alarm set, to be disarmed when the pair is done

        def arm(expiry: float) -> None:
            """Make sure the mailbox is poked by ``expiry`` (a segment reaches the cut-off)."""
            nonlocal alarm_at
            if expiry < alarm_at or alarm_at <= env.now:
                alarm = env.timeout(max(expiry - env.now, 0.0))
                alarm.callbacks.append(mailbox.poke)
                alarms.append(alarm)
                alarm_at = expiry

        def needed(item) -> bool:
            """Whether an arriving link pair may let something happen now (else it waits in the
            mailbox, unread, until a pair that does, a swap or a cut-off alarm wakes the reader)."""
            i, _, pair, _ = item
            if k == 1:
                return True  # the path is done
            if cutoff_s < math.inf:
                arm(pair.heralded_s - pair.heralding_s + cutoff_s)
            if i + 1 in segments or self._ends_at(segments, i) is not None:
                return True
            for other in mailbox.items:  # a neighbour that arrived unread
                if other[0] == i - 1 or other[0] == i + 1:
                    return True
            return False

        mailbox.needed = needed
        while True:
            if not swapped and not mailbox.items:  # after swaps or arrivals, look again first
                if segments and cutoff_s < math.inf:
                    arm(min([s.oldest_s for s in segments.values()]) + cutoff_s)
                yield mailbox.wake
            now = env.now
            for i, token, pair, posted_s in mailbox.drain():
                if generating.get(i) is not token:
                    continue  # a link restarted meanwhile; cannot happen while it is generating
                del generating[i]
                segments[i] = _Segment.of_link(i, pair, path[i])
                timing.last_herald_s = posted_s
                timing.heralding_s = pair.heralding_s
            # Cut-off: drop segments holding a qubit as old as the cut-off, regenerate their links.
            if segments and now >= min([s.oldest_s for s in segments.values()]) + cutoff_s:
                for left, segment in list(segments.items()):
                    if now >= segment.oldest_s + cutoff_s:
                        self._drop(stats, path, segments, segment, generating, timing, mailbox)
                        stats.cutoff_discards += 1
            # Swap what the policy allows. Nodes swap in parallel: one batch costs the slowest
            # node's Bell-measurement time; outcomes are known only after it.
            if len(segments) > 1:
                ending = {segment.right: segment for segment in segments.values()}
                allowed = plan.allowed
                batch = [
                    m for m in sorted(segments)
                    if m in ending and (allowed is None or (ending[m].left, m, segments[m].right) in allowed)
                ]
            else:
                batch = ()
            if batch:
                swap_time = max([plan.swap_time_s[m] for m in batch])
                if swap_time > 0:
                    yield env.timeout(swap_time)
                failed = []
                for m in batch:
                    first, second = self._ends_at(segments, m), segments[m]
                    outcome = registry.apply(
                        plan.swaps[m], [first.qubits[0], first.qubits[1], second.qubits[0], second.qubits[1]]
                    )
                    self.swaps += 1
                    plan.services[m - 1].release(first.right_pair, first.right_index)
                    plan.services[m].release(second.left_pair, second.left_index)
                    del segments[first.left], segments[second.left]
                    merged = _Segment(
                        first.left, second.right, (first.qubits[0], second.qubits[1]), first.left_pair,
                        second.right_pair, min(first.oldest_s, second.oldest_s), first.attempts + second.attempts,
                        first.left_index, second.right_index,
                    )
                    segments[merged.left] = merged
                    if failed:
                        failed = [seg for seg in failed if seg is not first and seg is not second]
                    succeeded = swap_succeeded(outcome, self.bsm)
                    if not succeeded or first.failed or second.failed:
                        if not succeeded:
                            self.swap_failures += 1
                        merged.failed = True
                        failed.append(merged)
                for segment in failed:
                    self._drop(stats, path, segments, segment, generating, timing, mailbox)
            swapped = bool(batch)
            whole = segments.get(0)
            if whole is not None and whole.right == k:
                break
        # Pending alarms would keep this mailbox (and through it the segments) alive until they
        # ring, long after the pair is delivered: disarm them and break the mailbox's cycle.
        for alarm in alarms:
            if alarm.callbacks:
                alarm.callbacks.remove(mailbox.poke)
        mailbox.needed = None
        # Every swap result must reach both ends: the farthest is one hop from the other end.
        yield env.timeout(plan.messaging_s)
        timing.swapping_s = env.now - timing.last_herald_s
        if env.now >= whole.oldest_s + stats.cutoff_s:
            self._discard_segment(path, whole)
            stats.cutoff_discards += 1
            return None
        return whole

    @staticmethod
    def _ends_at(segments: dict[int, "_Segment"], position: int) -> "_Segment | None":
        """The segment whose right end is ``position`` (segments never overlap)."""
        for left in range(position - 1, -1, -1):
            segment = segments.get(left)
            if segment is not None:
                return segment if segment.right == position else None
        return None

    def _drop(self, stats, path, segments, segment, generating, timing, mailbox) -> None:
        """Discard a segment and start its links again."""
        self._discard_segment(path, segment)
        segments.pop(segment.left, None)
        for i in range(segment.left, segment.right):
            generating[i] = self._start_link(mailbox, stats, path, i, timing)

    def _start_link(self, mailbox: "_Mailbox", stats, path, i, timing):
        """Start generating link ``i``'s pair; it is posted to ``mailbox`` when ready.

        Returns a token identifying this generation. Without link purification, a link whose
        interface and slots are free starts at once and posts its pair from a timer callback
        (no process: the common case costs two simulation events fewer).
        """
        env = self.sim.env
        if not (self.purification.scope == "link" and self.purification.rounds):
            service = self.path_plan(path).services[i]
            attempt = service.try_start(stats.modes)
            if attempt is not None:
                token = object()
                timer = env.timeout(attempt.duration_s)
                timer.callbacks.append(lambda _event: mailbox.post((i, token, service.finish(attempt), env.now)))
                return token

        def job():
            pair = yield from self._link_pair(stats, path, i, timing)
            mailbox.post((i, process, pair, env.now))

        process = env.process(job())
        return process

    def path_plan(self, path: list[str]) -> "PathPlan":
        """What the hot path needs about ``path``, looked up once per path."""
        key = tuple(path)
        plan = self._plans.get(key)
        if plan is None:
            k = len(path) - 1
            plan = PathPlan(
                services=tuple(self.service(u, v) for u, v in zip(path, path[1:])),
                swaps=(None,) + tuple(self.swap_operation(node) for node in path[1:-1]) + (None,),
                swap_time_s=(0.0,) + tuple(self.swap_time_s(node) for node in path[1:-1]) + (0.0,),
                allowed=None if self.swapping == "asap" else _nested_triples(k),
                messaging_s=max(self.classical_delay_s(path, 0, k - 1), self.classical_delay_s(path, 1, k)) if k > 1 else 0.0,
                extraction=self.banks[path[0]].node.memory.read_efficiency * self.banks[path[-1]].node.memory.read_efficiency,
            )
            self._plans[key] = plan
        return plan

    def _deliver(self, stats: RequestStats, path: list[str], whole: _Segment, begun: float, timing: "_Timing"):
        """Hold the end-to-end pair for the application, then use it (or lose it)."""
        env, registry = self.sim.env, self.sim.registry
        request = stats.request
        ready = env.now
        hold = request.storage_time_s
        if whole is None:
            return False
        if env.now + hold >= whole.oldest_s + stats.cutoff_s:
            yield env.timeout(max(whole.oldest_s + stats.cutoff_s - env.now, 0.0))
            self._discard_segment(path, whole)
            stats.cutoff_discards += 1
            return False
        if hold > 0:
            yield env.timeout(hold)
        if self.sim.rng.random() >= self.path_plan(path).extraction:
            self._discard_segment(path, whole)
            stats.extraction_failures += 1
            return False
        rho = registry.density_matrix(self._oriented(request, whole.qubits, path[0]))
        fidelity = bell_fidelity(rho)
        self._discard_segment(path, whole)
        # Attribute the latency: swapping and purification as measured, storage after ready,
        # heralding of the last link, the rest is waiting for emission successes.
        this_try = ready - timing.started_s
        purification = min(timing.purification_s, this_try)
        swapping = min(timing.swapping_s, this_try - purification)
        heralding = min(timing.heralding_s, this_try - purification - swapping)
        breakdown = DelayBreakdown(
            emission_wait_s=this_try - purification - swapping - heralding,
            heralding_s=heralding,
            swapping_s=swapping,
            purification_s=purification,
            storage_s=env.now - ready,
            cutoff_retries_s=timing.started_s - begun,
        )
        stats.records.append(
            PairRecord(request.label, begun, env.now, fidelity, whole.attempts, breakdown, oldest_age_s=env.now - whole.oldest_s)
        )
        self._notify(request, stats.records[-1], rho)
        return True


class _Mailbox:
    """Items posted by processes, and one event that fires when the first of them arrives.

    ``needed(item)``, when set, says whether an item must wake the reader; one that need not
    waits in ``items`` for the next wake.
    """

    def __init__(self, env):
        self.env = env
        self.items: list = []
        self.wake = env.event()
        self.needed = None

    def post(self, item) -> None:
        self.items.append(item)
        if self.needed is None or self.needed(item):
            self.poke()

    def poke(self, _event=None) -> None:
        """Wake the reader without an item (a timer rang); it looks again."""
        if not self.wake.triggered:
            self.wake.succeed()

    def drain(self) -> list:
        items, self.items = self.items, []
        if self.wake.triggered:
            self.wake = self.env.event()
        return items


@dataclass(frozen=True)
class PathPlan:
    """Per path: link services (link ``i`` joins positions ``i, i+1``), the Bell measurement and
    its duration at each position (None at the ends), the allowed swaps ``(left, middle, right)``
    (None: any), the time for swap results to reach both ends, and the product of the two ends'
    read efficiencies."""

    services: tuple
    swaps: tuple
    swap_time_s: tuple
    allowed: frozenset | None
    messaging_s: float
    extraction: float


@dataclass
class _Timing:
    """Where the time of one end-to-end pair went, as it happens."""

    started_s: float = 0.0
    last_herald_s: float = 0.0
    heralding_s: float = 0.0
    swapping_s: float = 0.0
    purification_s: float = 0.0


@functools.lru_cache(maxsize=64)
def _nested_triples(k: int) -> frozenset:
    """Swaps of the nested (doubling) policy on a path of ``k`` links: ``(left, middle, right)``.

    The path is split recursively at its middle; only the two halves of a split are swapped.
    """
    triples = set()

    def split(a: int, b: int) -> None:
        if b - a >= 2:
            m = (a + b) // 2
            triples.add((a, m, b))
            split(a, m)
            split(m, b)

    split(0, k)
    return frozenset(triples)
