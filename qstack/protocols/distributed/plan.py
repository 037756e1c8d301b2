"""The distribution plan: which node does each gate, and the pairs each two nodes must share.

Each two-qubit gate across nodes becomes a **telegate** (:mod:`~qstack.protocols.nonlocal_gates`,
the qubits stay) or **teledata** (one operand teleported to the other's node,
:mod:`~qstack.protocols.teleportation`; it stays there). Both cost one pair. ``method="auto"``
picks, gate by gate, what needs the fewest pairs over the next ``lookahead`` two-qubit gates.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from .logical import LogicalCircuit, LogicalGate
from .partition import check_partition, cut_gates

METHODS = ("telegate", "teledata", "auto")


@dataclass(frozen=True)
class LocalGate:
    """A gate whose qubits sit on one node."""

    gate: LogicalGate
    node: str


@dataclass(frozen=True)
class Telegate:
    """A controlled gate across nodes by the cat-entangler and disentangler (one pair)."""

    gate: LogicalGate
    control_node: str
    target_node: str
    link: tuple[str, str]
    pair_index: int


@dataclass(frozen=True)
class Teleport:
    """Teledata: ``qubit`` teleported from ``source`` to ``destination`` (one pair); it stays."""

    qubit: int
    source: str
    destination: str
    link: tuple[str, str]
    pair_index: int


@dataclass(frozen=True)
class Readout:
    """A terminal measurement of ``qubit`` into ``clbit`` at ``node``."""

    qubit: int
    clbit: int
    node: str


Step = LocalGate | Telegate | Teleport | Readout


@dataclass(frozen=True)
class DistributionPlan:
    """Which node does what, and the pairs each pair of nodes must share.

    ``pairs_needed[link]`` counts the pairs on ``link`` (two node names, sorted); step
    ``pair_index`` says which of them (in order of arrival) a non-local step uses.
    """

    logical: LogicalCircuit
    partition: dict[int, str]
    final_partition: dict[int, str]
    steps: tuple[Step, ...]
    pairs_needed: dict[tuple[str, str], int]
    method: str

    @property
    def cut_gates(self) -> int:
        """Two-qubit gates across nodes under the initial partition."""
        return cut_gates(self.logical, self.partition)

    @property
    def telegates(self) -> int:
        return sum(isinstance(s, Telegate) for s in self.steps)

    @property
    def teleportations(self) -> int:
        return sum(isinstance(s, Teleport) for s in self.steps)

    @property
    def pairs_used(self) -> int:
        return sum(self.pairs_needed.values())


def link_of(a: str, b: str) -> tuple[str, str]:
    """The key of the pairs shared by nodes ``a`` and ``b``: the two names, sorted."""
    return (a, b) if str(a) <= str(b) else (b, a)


def step_nodes(step: Step) -> tuple[str, ...]:
    """The nodes that take part in ``step``."""
    if isinstance(step, Telegate):
        return (step.control_node, step.target_node)
    if isinstance(step, Teleport):
        return (step.source, step.destination)
    return (step.node,)


def plan_distribution(
    logical: LogicalCircuit,
    partition: Mapping[int, str],
    method: str = "telegate",
    capacities: Mapping[str, int | None] | None = None,
    lookahead: int = 16,
) -> DistributionPlan:
    """Every gate assigned to a node; every two-qubit gate across nodes made non-local.

    ``method``:

    * ``"telegate"``: qubits never move; one pair per cut gate.
    * ``"teledata"``: one operand is teleported to the other's node, the one whose move leaves
      fewer of the next ``lookahead`` two-qubit gates of the two qubits across nodes; a telegate
      only when neither destination has room.
    * ``"auto"``: per cut gate, the cheapest of the telegate and the two moves, each priced as
      one pair plus the pairs the next ``lookahead`` two-qubit gates of the circuit would need
      if then done all by telegate or all by teledata, whichever is fewer (a one-step rollout);
      ties keep the qubits where they are.

    A teleported qubit needs room at its destination (``capacities``, ``None``: unbounded).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if isinstance(lookahead, bool) or not isinstance(lookahead, int) or lookahead < 0:
        raise ValueError(f"lookahead must be an integer >= 0, got {lookahead!r}")
    capacities = dict(capacities or {})
    partition = check_partition(logical, partition, capacities)
    planner = _Planner(logical, capacities, lookahead)
    placement = _Placement.of(partition)
    book = _PairBook()
    steps: list[Step] = []
    rank = 0  # two-qubit gates seen so far
    for i, gate in enumerate(logical.gates):
        if len(gate.qubits) == 2:
            rank += 1
        steps.extend(_gate_steps(i, rank, gate, method, planner, placement, book))
    for qubit, clbit in logical.measurements:
        steps.append(Readout(qubit, clbit, placement.location[qubit]))
    return DistributionPlan(
        logical=logical,
        partition=dict(partition),
        final_partition=dict(sorted(placement.location.items())),
        steps=tuple(steps),
        pairs_needed=dict(sorted(book.pairs.items())),
        method=method,
    )


def _gate_steps(
    i: int, rank: int, gate: LogicalGate, method: str, planner: _Planner, placement: _Placement, book: _PairBook
) -> list[Step]:
    """The steps of gate ``i`` (the ``rank``-th two-qubit gate so far): local, a telegate, or a
    teleportation then the gate local; ``placement`` follows a teleported qubit."""
    nodes = [placement.location[q] for q in gate.qubits]
    if len(set(nodes)) == 1:
        return [LocalGate(gate, nodes[0])]
    if method == "telegate":
        move = None
    elif method == "teledata":
        move = planner.teledata_move(i, placement)
    else:
        move = planner.best_move(i, rank, placement)
    if move is None:
        return [Telegate(gate, nodes[0], nodes[1], *book.take(*nodes))]
    mover, destination = move
    source = placement.location[mover]
    teleport = Teleport(mover, source, destination, *book.take(source, destination))
    placement.move(mover, destination)
    return [teleport, LocalGate(gate, destination)]


@dataclass
class _PairBook:
    """The pairs taken so far on each link."""

    pairs: dict[tuple[str, str], int] = field(default_factory=dict)

    def take(self, a: str, b: str) -> tuple[tuple[str, str], int]:
        """One more pair between ``a`` and ``b``: its link and its index there."""
        link = link_of(a, b)
        index = self.pairs.get(link, 0)
        self.pairs[link] = index + 1
        return link, index


@dataclass
class _Placement:
    """Where each qubit is, and how many qubits each node holds."""

    location: dict[int, str]
    load: dict[str, int]

    @classmethod
    def of(cls, partition: Mapping[int, str]) -> "_Placement":
        load: dict[str, int] = {}
        for node in partition.values():
            load[node] = load.get(node, 0) + 1
        return cls(dict(partition), load)

    def copy(self) -> "_Placement":
        return _Placement(dict(self.location), dict(self.load))

    def move(self, qubit: int, destination: str) -> None:
        self.load[self.location[qubit]] -= 1
        self.load[destination] = self.load.get(destination, 0) + 1
        self.location[qubit] = destination


class _Planner:
    """The choices of :func:`plan_distribution` for one cut gate."""

    def __init__(self, logical: LogicalCircuit, capacities: Mapping[str, int | None], lookahead: int):
        self.gates = logical.gates
        self.capacities = capacities
        self.lookahead = lookahead
        self.two_qubit = [i for i, g in enumerate(self.gates) if len(g.qubits) == 2]
        self.positions: dict[int, list[int]] = {q: [] for q in range(logical.num_qubits)}
        for i in self.two_qubit:
            for q in self.gates[i].qubits:
                self.positions[q].append(i)

    def room(self, node: str, placement: _Placement) -> bool:
        cap = self.capacities.get(node)
        return cap is None or placement.load.get(node, 0) < cap

    def moves(self, i: int, placement: _Placement) -> list[tuple[int, str]]:
        """The teleportations that make gate ``i`` local and fit: control over, then target."""
        control, target = self.gates[i].qubits
        where = placement.location
        candidates = ((control, where[target]), (target, where[control]))
        return [(q, node) for q, node in candidates if self.room(node, placement)]

    def teledata_move(self, i: int, placement: _Placement) -> tuple[int, str] | None:
        """The move leaving fewer of the two qubits' next gates across nodes (None: no room)."""
        best = None
        for preference, (mover, destination) in enumerate(self.moves(i, placement)):
            cut = self._upcoming_cut(i, placement, mover, destination)
            if best is None or (cut, preference) < best[:2]:
                best = (cut, preference, (mover, destination))
        return None if best is None else best[2]

    def best_move(self, i: int, rank: int, placement: _Placement) -> tuple[int, str] | None:
        """``"auto"``: the telegate (None) or a move, whichever a rollout prices lowest."""
        options = [(self._rollout(rank, placement), 0, None)]
        for preference, move in enumerate(self.moves(i, placement), start=1):
            after = placement.copy()
            after.move(*move)
            options.append((self._rollout(rank, after), preference, move))
        return min(options, key=lambda option: option[:2])[2]

    def _rollout(self, rank: int, placement: _Placement) -> int:
        """Pairs for the next ``lookahead`` two-qubit gates (after the ``rank`` first), all by
        telegate or all by teledata from ``placement``, whichever is fewer."""
        window = self.two_qubit[rank:rank + self.lookahead]
        telegates = sum(
            placement.location[self.gates[j].qubits[0]] != placement.location[self.gates[j].qubits[1]] for j in window
        )
        moving = placement.copy()
        teleports = 0
        for j in window:
            a, b = (moving.location[q] for q in self.gates[j].qubits)
            if a != b:
                teleports += 1
                move = self.teledata_move(j, moving)
                if move is not None:
                    moving.move(*move)
        return min(telegates, teleports)

    def _upcoming_cut(self, i: int, placement: _Placement, mover: int, destination: str) -> int:
        """Of the next ``lookahead`` two-qubit gates of gate ``i``'s qubits, those across nodes
        once ``mover`` is at ``destination``."""
        where = lambda q: destination if q == mover else placement.location[q]  # noqa: E731
        upcoming = _upcoming(self.positions, self.gates[i].qubits, i, self.lookahead)
        return sum(where(self.gates[j].qubits[0]) != where(self.gates[j].qubits[1]) for j in upcoming)


def _upcoming(positions: Mapping[int, list[int]], qubits: Sequence[int], after: int, count: int) -> list[int]:
    """Positions of the first ``count`` two-qubit gates after ``after`` on any of ``qubits``."""
    found: set[int] = set()
    for q in qubits:
        start = bisect.bisect_right(positions[q], after)
        found.update(positions[q][start:start + count])
    return sorted(found)[:count]


__all__ = [
    "METHODS",
    "DistributionPlan",
    "LocalGate",
    "Readout",
    "Step",
    "Telegate",
    "Teleport",
    "link_of",
    "plan_distribution",
    "step_nodes",
]
