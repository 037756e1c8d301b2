"""A monolithic circuit run over several nodes: partition, non-local gates, the compiled circuit.

The circuit level of distributed quantum computing; the application layer
(:mod:`qstack.application`) brings the pairs, their arrival times and the nodes' hardware.

1. :func:`logical_circuit` rewrites a Qiskit circuit into one- and two-qubit gates, every
   two-qubit gate in *controlled form* (the identity when its first qubit is ``|0>``: ``cx``,
   ``cz``, ``cp``, ``crz``, ...). Other gates (``swap``, ``rzz``, ``iswap``, unitaries, three-qubit
   gates) are expanded by their Qiskit definitions until they are. Measurements must be terminal.
2. :func:`partition_qubits` places qubits on nodes minimising the two-qubit gates across nodes:
   recursive Kernighan-Lin bisection of the interaction graph (edge weight: gates between two
   qubits), part sizes proportional to the nodes' capacities.
3. :func:`plan_distribution` turns each two-qubit gate across nodes into a **telegate**
   (:mod:`~qstack.protocols.nonlocal_gates`, the qubits stay) or **teledata** (teleport one
   operand to the other's node, :mod:`~qstack.protocols.teleportation`; it stays there). Both
   cost one pair. ``method="auto"`` picks, gate by gate, what needs the fewest pairs over the next
   ``lookahead`` two-qubit gates of the two operands.
4. :func:`compile_distributed` writes two circuits of the plan:

   * ``circuit``: the protocol as a user runs it anywhere: one register per node (its data and
     communication qubits), each pair made by an ideal ``bell_pair`` gate (``h``, ``cx``),
     mid-circuit measurements and classically controlled corrections (``if_test``); it exports
     with ``qiskit.qasm3.dumps``.
   * ``noisy_circuit``: what is simulated. Each pair is *prepared* in its actual state
     ``rho = sum_i l_i |psi_i><psi_i|``: its two wires are reset, then the unitary mixture
     ``sum_i l_i V_i . V_i^dag`` is applied, ``V_i`` a unitary with first column ``psi_i`` (a
     single unitary for a pure pair). Measurements are deferred (each classically controlled
     Pauli becomes the same gate quantum-controlled by the measured qubit, which is never used
     again), so one density-matrix run gives the outcome-averaged channel exactly. Noise is
     Aer's own ``QuantumError`` instructions (``thermal_relaxation_error`` for idling, the
     protocols' depolarizing and readout channels as ``pauli_error``): the density-matrix
     method applies them exactly, and trajectories sample a mixture in one step where a
     ``kraus`` instruction would cost a pass over the state per operator. Wires are reused (a
     pair's wires are reset), so the width is the logical qubits plus two.

   Timing is as soon as possible: a gate starts when its qubits (and its pair) are ready; every
   qubit relaxes (T1/T2 of its node) while it waits, pair halves from their arrival on. A
   telegate takes Alice's CNOT and readout, one classical message, Bob's controlled gate, H and
   readout, and a message back before the control is free again; teledata takes the sender's
   Bell measurement and one message. Corrections are applied when the qubit is next used
   (Pauli frame), so a pair half relaxes until then before its correction.
5. :func:`simulate_distributed` runs ``noisy_circuit`` on Aer: a single statevector run when
   nothing is mixed (exact), the density-matrix method up to ``max_density_qubits`` wires
   (exact), statevector trajectories beyond (``shots`` trajectories; the fidelity is the mean of
   each trajectory's exact overlap with the ideal output, found by undoing the ideal circuit and
   reading the all-zero amplitude, with its standard error).

Fidelity against the ideal monolithic circuit: the state fidelity ``<psi|rho|psi>`` of the
logical qubits, or, when the circuit measures, the Hellinger fidelity (Qiskit's
``hellinger_fidelity``) of the output distribution.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Mapping, Sequence

import networkx as nx
import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit import Clbit, ControlledGate, Gate, Instruction, Qubit
from qiskit.circuit.library import UnitaryGate
from qiskit.quantum_info import DensityMatrix, Pauli, Statevector, hellinger_fidelity, state_fidelity
from qiskit_aer.noise import QuantumError, pauli_error, thermal_relaxation_error

from qstack.engine import Operation

from ._common import pair_state
from .noise import GateNoise
from .nonlocal_gates import is_controlled_on_first_qubit, telegate_operation
from .teleportation import teleportation_operation

METHODS = ("telegate", "teledata", "auto")
SIMULATIONS = ("auto", "statevector", "density_matrix", "trajectories")
_SKIPPED = {"barrier", "delay"}


# =========================================================================== the logical circuit
@dataclass(frozen=True)
class LogicalGate:
    """A gate of the logical circuit: one qubit, or two in controlled form ``(control, target)``."""

    operation: Instruction
    qubits: tuple[int, ...]


@dataclass(frozen=True)
class LogicalCircuit:
    """A circuit as one- and two-qubit gates (two-qubit ones in controlled form).

    ``measurements`` are the terminal readouts ``(qubit, clbit)``; ``unitary`` is the gates alone
    as a circuit (the ideal reference, ``|psi> = unitary |0...0>``).
    """

    num_qubits: int
    num_clbits: int
    gates: tuple[LogicalGate, ...]
    measurements: tuple[tuple[int, int], ...]
    unitary: QuantumCircuit

    @property
    def two_qubit_gates(self) -> tuple[LogicalGate, ...]:
        return tuple(g for g in self.gates if len(g.qubits) == 2)


def logical_circuit(circuit: QuantumCircuit) -> LogicalCircuit:
    """Rewrite ``circuit`` into one- and two-qubit gates, the latter in controlled form.

    Raises ``ValueError`` for what cannot be distributed here: unbound parameters, resets,
    classical control, gates on a qubit after its measurement, instructions without a
    definition.
    """
    if not isinstance(circuit, QuantumCircuit):
        raise ValueError(f"circuit must be a qiskit QuantumCircuit, got {type(circuit).__name__}")
    if circuit.parameters:
        raise ValueError(f"circuit has unbound parameters {sorted(p.name for p in circuit.parameters)}; bind them first")
    gates: list[LogicalGate] = []
    measured: dict[int, int] = {}

    def visit(instruction_circuit: QuantumCircuit, qubit_map: list[int], depth: int) -> None:
        for instruction in instruction_circuit.data:
            operation = instruction.operation
            qubits = [qubit_map[instruction_circuit.find_bit(q).index] for q in instruction.qubits]
            name = operation.name
            if name in _SKIPPED or not qubits:  # zero-qubit gates only carry a global phase
                continue
            if name == "measure":
                if depth:
                    raise ValueError("measurements inside composite gates are not supported")
                clbit = circuit.find_bit(instruction.clbits[0]).index
                if qubits[0] in measured:
                    raise ValueError(f"qubit {qubits[0]} is measured twice; only terminal measurements are supported")
                measured[qubits[0]] = clbit
                continue
            if getattr(operation, "blocks", ()) or name in ("reset", "initialize") or name.startswith("save_"):
                raise ValueError(
                    f"instruction {name!r} is not supported in a distributed circuit "
                    "(only unitary gates and terminal measurements)"
                )
            late = [q for q in qubits if q in measured]
            if late:
                raise ValueError(
                    f"gate {name!r} acts on qubit {late[0]} after its measurement; "
                    "only terminal measurements are supported"
                )
            if len(qubits) == 1 and isinstance(operation, Gate):
                gates.append(LogicalGate(operation, (qubits[0],)))
                continue
            if len(qubits) == 2 and isinstance(operation, Gate):
                if _controlled_on_first(operation):
                    gates.append(LogicalGate(operation, (qubits[0], qubits[1])))
                    continue
                if _controlled_on_first(_reversed(operation)):
                    gates.append(LogicalGate(_reversed(operation), (qubits[1], qubits[0])))
                    continue
            definition = operation.definition
            if definition is None:
                raise ValueError(f"instruction {name!r} on {len(qubits)} qubits has no definition to expand")
            visit(definition, qubits, depth + 1)

    visit(circuit, list(range(circuit.num_qubits)), 0)
    unitary = QuantumCircuit(circuit.num_qubits, name=circuit.name)
    for gate in gates:
        unitary.append(gate.operation, list(gate.qubits))
    return LogicalCircuit(
        num_qubits=circuit.num_qubits,
        num_clbits=circuit.num_clbits,
        gates=tuple(gates),
        measurements=tuple(sorted(measured.items())),
        unitary=unitary,
    )


def _controlled_on_first(gate: Gate) -> bool:
    if isinstance(gate, ControlledGate) and gate.num_ctrl_qubits == 1 and gate.num_qubits == 2:
        return gate.ctrl_state == 1
    return is_controlled_on_first_qubit(gate)


def _reversed(gate: Gate) -> Gate:
    """The same two-qubit gate with its qubits exchanged."""
    body = QuantumCircuit(2, name=f"{gate.name}_r")
    body.append(gate, [1, 0])
    return body.to_gate()


# =========================================================================== partition
def interaction_graph(logical: LogicalCircuit) -> nx.Graph:
    """Qubits as vertices; an edge weighted by the number of two-qubit gates between them."""
    graph = nx.Graph()
    graph.add_nodes_from(range(logical.num_qubits))
    for gate in logical.two_qubit_gates:
        a, b = gate.qubits
        weight = graph.get_edge_data(a, b, {"weight": 0})["weight"]
        graph.add_edge(a, b, weight=weight + 1)
    return graph


def cut_gates(logical: LogicalCircuit, partition: Mapping[int, str]) -> int:
    """Two-qubit gates whose qubits sit on different nodes (with no qubit moving)."""
    return sum(partition[g.qubits[0]] != partition[g.qubits[1]] for g in logical.two_qubit_gates)


def partition_qubits(
    logical: LogicalCircuit,
    nodes: Sequence[str],
    capacities: Mapping[str, int | None] | None = None,
    seed: int = 0,
) -> dict[int, str]:
    """Place every qubit on one of ``nodes``, few two-qubit gates across nodes, sizes balanced.

    Recursive bisection: the node list is halved (first half, second half), the qubits are split
    in proportion to the halves' capacities (equal shares when some capacity is unbounded,
    ``None``) and the split refined by ``networkx.community.kernighan_lin_bisection`` on the
    interaction graph, which keeps the sizes. Starts from a depth-first order of the graph, so
    that neighbours begin together. Raises ``ValueError`` when the qubits do not fit.
    """
    nodes = list(nodes)
    if not nodes:
        raise ValueError("partition needs at least one node")
    if len(set(nodes)) != len(nodes):
        raise ValueError(f"nodes must be distinct, got {nodes}")
    capacities = dict(capacities or {})
    caps = [capacities.get(n) for n in nodes]
    bounded = all(c is not None for c in caps)
    total = sum(caps) if bounded else math.inf
    if logical.num_qubits > total:
        raise ValueError(f"{logical.num_qubits} qubits do not fit on nodes {nodes} with capacities {caps}")
    graph = interaction_graph(logical)
    order = []
    for component in sorted(nx.connected_components(graph), key=min):
        order.extend(nx.dfs_preorder_nodes(graph.subgraph(component), source=min(component)))
    result: dict[int, str] = {}

    def capacity(group: list[str]) -> float:
        values = [capacities.get(n) for n in group]
        return math.inf if any(v is None for v in values) else float(sum(values))

    def split(qubits: list[int], group: list[str]) -> None:
        if len(group) == 1:
            for q in qubits:
                result[q] = group[0]
            return
        left_nodes, right_nodes = group[: len(group) // 2], group[len(group) // 2:]
        cap_left, cap_right = capacity(left_nodes), capacity(right_nodes)
        share = cap_left / (cap_left + cap_right) if bounded else len(left_nodes) / len(group)
        size = int(round(len(qubits) * share))
        size = int(min(max(size, len(qubits) - cap_right, 0), cap_left, len(qubits)))
        left, right = qubits[:size], qubits[size:]
        if left and right:
            first, second = nx.community.kernighan_lin_bisection(
                graph.subgraph(qubits), partition=(set(left), set(right)), weight="weight", seed=seed
            )
            if len(first) != size:  # the sides come back in no promised order; sizes are kept
                first, second = second, first
            left, right = sorted(first, key=order.index), sorted(second, key=order.index)
        split(left, left_nodes)
        split(right, right_nodes)

    split(order, nodes)
    return dict(sorted(result.items()))


def check_partition(
    logical: LogicalCircuit, partition: Mapping[int, str], capacities: Mapping[str, int | None] | None = None
) -> dict[int, str]:
    """``partition`` checked: every qubit on one node, no node above its capacity."""
    if not isinstance(partition, Mapping):
        raise ValueError(f"partition must map qubit index -> node name (or be 'auto'), got {type(partition).__name__}")
    expected = set(range(logical.num_qubits))
    given = set(partition)
    if given != expected:
        missing, extra = sorted(expected - given), sorted(given - expected)
        raise ValueError(
            f"partition must place each qubit 0..{logical.num_qubits - 1} once (missing {missing}, unknown {extra})"
        )
    capacities = capacities or {}
    load: dict[str, int] = {}
    for node in partition.values():
        load[node] = load.get(node, 0) + 1
    for node, count in load.items():
        cap = capacities.get(node)
        if cap is not None and count > cap:
            raise ValueError(f"partition puts {count} qubits on node {node!r}, whose capacity is {cap}")
    return {q: partition[q] for q in sorted(partition)}


# =========================================================================== the plan
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
    pairs: dict[tuple[str, str], int] = {}
    steps: list[Step] = []

    def take_pair(a: str, b: str) -> tuple[tuple[str, str], int]:
        link = link_of(a, b)
        index = pairs.get(link, 0)
        pairs[link] = index + 1
        return link, index

    rank = 0  # two-qubit gates seen so far
    for i, gate in enumerate(logical.gates):
        nodes = [placement.location[q] for q in gate.qubits]
        if len(gate.qubits) == 2:
            rank += 1
        if len(set(nodes)) == 1:
            steps.append(LocalGate(gate, nodes[0]))
            continue
        if method == "telegate":
            move = None
        elif method == "teledata":
            move = planner.teledata_move(i, placement)
        else:
            move = planner.best_move(i, rank, placement)
        if move is None:
            link, index = take_pair(*nodes)
            steps.append(Telegate(gate, nodes[0], nodes[1], link, index))
            continue
        mover, destination = move
        source = placement.location[mover]
        link, index = take_pair(source, destination)
        steps.append(Teleport(mover, source, destination, link, index))
        placement.move(mover, destination)
        steps.append(LocalGate(gate, destination))
    for qubit, clbit in logical.measurements:
        steps.append(Readout(qubit, clbit, placement.location[qubit]))
    return DistributionPlan(
        logical=logical,
        partition=dict(partition),
        final_partition=dict(sorted(placement.location.items())),
        steps=tuple(steps),
        pairs_needed=dict(sorted(pairs.items())),
        method=method,
    )


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


# =========================================================================== hardware and pairs
@dataclass(frozen=True)
class NodeModel:
    """What the compiler needs of one node's hardware: gate noise, relaxation, durations [s].

    ``t1_s``/``t2_s`` (``math.inf``: no relaxation) give the idle channel
    ``thermal_relaxation_error(t1_s, t2_s, t)`` of a qubit waiting ``t`` seconds.
    """

    noise: GateNoise = GateNoise()
    t1_s: float = math.inf
    t2_s: float = math.inf
    single_qubit_gate_s: float = 0.0
    two_qubit_gate_s: float = 0.0
    measurement_s: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.noise, GateNoise):
            raise ValueError(f"NodeModel.noise must be a GateNoise, got {type(self.noise).__name__}")
        for name in ("single_qubit_gate_s", "two_qubit_gate_s", "measurement_s"):
            value = getattr(self, name)
            if not value >= 0 or math.isinf(value):
                raise ValueError(f"NodeModel.{name} must be finite and >= 0, got {value}")
        if not self.t1_s > 0 or not 0 < self.t2_s <= 2 * self.t1_s:
            raise ValueError(f"NodeModel needs t1_s > 0 and 0 < t2_s <= 2 t1_s, got {self.t1_s}, {self.t2_s}")

    @property
    def relaxes(self) -> bool:
        return not (math.isinf(self.t1_s) and math.isinf(self.t2_s))

    def idle(self, duration_s: float) -> QuantumError | None:
        """The relaxation channel for ``duration_s``, or ``None`` when it is the identity."""
        if not self.relaxes or duration_s <= 0.0:
            return None
        return thermal_relaxation_error(self.t1_s, self.t2_s, duration_s)


@dataclass(frozen=True)
class SuppliedPair:
    """A pair given to the application: its state when ready and when that is [s].

    ``rho`` is 4x4 with qubit 0 at ``link[0]`` (the first of the two sorted node names).
    """

    rho: np.ndarray
    ready_s: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "rho", pair_state(self.rho, "pair state"))
        if not math.isfinite(self.ready_s):
            raise ValueError(f"SuppliedPair.ready_s must be finite, got {self.ready_s}")


PHI_PLUS = np.outer([1, 0, 0, 1], [1, 0, 0, 1]).astype(complex) / 2


def werner_state(fidelity: float) -> np.ndarray:
    """``w |Phi+><Phi+| + (1 - w) I/4`` with ``w = (4F - 1)/3``: fidelity ``F`` to ``|Phi+>``."""
    if not 0.0 <= fidelity <= 1.0:
        raise ValueError(f"fidelity must be in [0, 1], got {fidelity}")
    w = (4.0 * fidelity - 1.0) / 3.0
    return w * PHI_PLUS + (1.0 - w) * np.eye(4) / 4


@dataclass(frozen=True)
class CompiledCircuit:
    """The plan written as circuits, with its timing.

    ``circuit``: the protocol to draw, export or run (ideal pairs, mid-circuit measurements).
    ``noisy_circuit``: the simulated one (actual pairs, deferred measurements, noise).
    ``logical_wires[i]``: the ``noisy_circuit`` wire holding logical qubit ``i`` at the end.
    ``logical_qubits[i]``: the ``circuit`` qubit holding logical qubit ``i`` at the end.
    ``latency_s``: when the last operation ends (0 is when the application starts).
    ``pure``: nothing mixes the state, so one statevector run is exact.
    """

    plan: DistributionPlan
    circuit: QuantumCircuit
    noisy_circuit: QuantumCircuit
    logical_wires: tuple[int, ...]
    logical_qubits: tuple[Qubit, ...]
    latency_s: float
    pure: bool
    pairs: tuple[SuppliedPair, ...] = field(default=())


def compile_distributed(
    plan: DistributionPlan,
    pairs: Mapping[tuple[str, str], Sequence[SuppliedPair]] | None = None,
    nodes: Mapping[str, NodeModel] | None = None,
    classical_delay_s: Callable[[str, str], float] | None = None,
) -> CompiledCircuit:
    """Write ``plan`` as circuits, with the pairs' states and the nodes' noise and timing.

    ``pairs[link]`` lists the pairs shared on ``link`` (at least ``plan.pairs_needed[link]``),
    used in order of ``ready_s``; none: ideal ``|Phi+>`` ready at 0. ``nodes`` maps node names
    to :class:`NodeModel` (missing: ideal and instantaneous). ``classical_delay_s(a, b)`` is a
    one-way message time between nodes (none: 0).
    """
    nodes = dict(nodes or {})
    delay = classical_delay_s or (lambda a, b: 0.0)
    supplied: dict[tuple[str, str], list[SuppliedPair]] = {}
    for link, count in plan.pairs_needed.items():
        given = list((pairs or {}).get(link, [])) if pairs is not None else [SuppliedPair(PHI_PLUS)] * count
        if len(given) < count:
            raise ValueError(f"link {link[0]}-{link[1]} needs {count} pairs, {len(given)} supplied")
        supplied[link] = sorted(given, key=lambda p: p.ready_s)[:count]
    writer = _Writer(plan, nodes, delay, supplied)
    return writer.write()


class _Wires:
    """Wire allocation: per node (registers of the protocol circuit) or one shared pool."""

    def __init__(self, per_node: bool):
        self.per_node = per_node
        self.free: dict[object, list[int]] = {}
        self.size: dict[object, int] = {}

    def take(self, node: str) -> tuple[object, int]:
        key = node if self.per_node else None
        free = self.free.setdefault(key, [])
        if free:
            index = min(free)
            free.remove(index)
        else:
            index = self.size.get(key, 0)
            self.size[key] = index + 1
        return (key, index)

    def give(self, wire: tuple[object, int]) -> None:
        self.free.setdefault(wire[0], []).append(wire[1])


class _Writer:
    """Walks the plan once: wires, times, and both circuits."""

    def __init__(self, plan, nodes, delay, supplied):
        self.plan = plan
        self.nodes = nodes
        self.delay = delay
        self.supplied = supplied
        self.ideal = NodeModel()
        self.pure = True
        self._deferred: dict[Operation, QuantumCircuit] = {}
        self._channels: dict[tuple[GateNoise, str], QuantumError | None] = {}

    def model(self, node: str) -> NodeModel:
        return self.nodes.get(node, self.ideal)

    # ------------------------------------------------------------------ assignment of wires
    def _assign(self, per_node: bool):
        wires = _Wires(per_node)
        plan = self.plan
        home = {q: wires.take(plan.partition[q]) for q in range(plan.logical.num_qubits)}
        assigned = []
        for step in plan.steps:
            if isinstance(step, LocalGate):
                assigned.append(tuple(home[q] for q in step.gate.qubits))
            elif isinstance(step, Readout):
                assigned.append((home[step.qubit],))
            elif isinstance(step, Telegate):
                a, b = wires.take(step.control_node), wires.take(step.target_node)
                control, target = step.gate.qubits
                assigned.append((home[control], a, b, home[target]))
                wires.give(a)
                wires.give(b)
            else:
                a, b = wires.take(step.source), wires.take(step.destination)
                assigned.append((home[step.qubit], a, b))
                wires.give(home[step.qubit])
                wires.give(a)
                home[step.qubit] = b
        return assigned, home, wires

    # ------------------------------------------------------------------ writing
    def write(self) -> CompiledCircuit:
        plan = self.plan
        logical = plan.logical
        proto_wires, proto_home, proto_alloc = self._assign(per_node=True)
        sim_wires, sim_home, sim_alloc = self._assign(per_node=False)
        # The protocol circuit: one register per node, the user's clbits, two outcome bits.
        registers = {}
        for node in _node_order(plan, proto_alloc.size):
            registers[node] = QuantumRegister(proto_alloc.size[node], _register_name(node, registers))
        user_bits = ClassicalRegister(logical.num_clbits, "c") if logical.num_clbits else None
        outcome_bits = ClassicalRegister(2, "bell") if plan.pairs_used else None
        classical = [r for r in (user_bits, outcome_bits) if r is not None]
        proto = QuantumCircuit(*registers.values(), *classical, name="distributed")
        width = sim_alloc.size.get(None, 0)
        sim = QuantumCircuit(width, name="distributed_noisy")
        qp = lambda wire: registers[wire[0]][wire[1]]  # noqa: E731
        qs = lambda wire: wire[1]  # noqa: E731
        free_s = [0.0] * logical.num_qubits
        last_s = [0.0] * logical.num_qubits
        used_pairs: list[SuppliedPair] = []
        proto_used: set = set()  # protocol wires that held something: a fresh pair there needs a reset
        sim_used: set[int] = set()  # the same for the simulated circuit

        def idle(node: str, wire: int, duration_s: float) -> None:
            channel = self.model(node).idle(duration_s)
            if channel is not None:
                sim.append(channel, [wire])
                self.pure = False

        def idle_qubit(q: int, node: str, wire: int, until_s: float) -> None:
            idle(node, wire, until_s - last_s[q])
            last_s[q] = max(last_s[q], until_s)

        def prepare_pair(step, proto_a, proto_b, sim_a, sim_b, first_node) -> SuppliedPair:
            pair = self.supplied[step.link][step.pair_index]
            used_pairs.append(pair)
            rho = pair.rho if step.link[0] == first_node else _swap_halves(pair.rho)
            preparation, mixed = _preparation(rho)
            for wire in (sim_a, sim_b):
                if wire in sim_used:  # a fresh wire is |0> already (and a reset is costly in Aer)
                    sim.reset(wire)
                sim_used.add(wire)
            sim.append(preparation, [sim_a, sim_b])
            self.pure = self.pure and not mixed
            for wire in (proto_a, proto_b):
                if wire in proto_used:
                    proto.reset(qp(wire))
                proto_used.add(wire)
            proto.append(_bell_pair_gate(), [qp(proto_a), qp(proto_b)])
            return pair

        for step, pw, sw in zip(plan.steps, proto_wires, sim_wires):
            if isinstance(step, LocalGate):
                gate = step.gate
                model = self.model(step.node)
                start = max(free_s[q] for q in gate.qubits)
                for q, w in zip(gate.qubits, sw):
                    idle_qubit(q, step.node, qs(w), start)
                for w in pw:
                    proto_used.add(w)
                proto.append(gate.operation, [qp(w) for w in pw])
                sim.append(gate.operation, [qs(w) for w in sw])
                sim_used.update(qs(w) for w in sw)
                kind = "one" if len(gate.qubits) == 1 else "two"
                duration = model.single_qubit_gate_s if kind == "one" else model.two_qubit_gate_s
                channel = self.channel(model.noise, kind)
                if channel is not None:
                    sim.append(channel, [qs(w) for w in sw])
                    self.pure = False
                for q in gate.qubits:
                    free_s[q] = last_s[q] = start + duration
            elif isinstance(step, Telegate):
                control, target = step.gate.qubits
                alice, bob = self.model(step.control_node), self.model(step.target_node)
                pair = prepare_pair(step, pw[1], pw[2], qs(sw[1]), qs(sw[2]), step.control_node)
                start_a = max(free_s[control], pair.ready_s)
                idle(step.control_node, qs(sw[1]), start_a - pair.ready_s)
                idle_qubit(control, step.control_node, qs(sw[0]), start_a)
                sent_s = start_a + alice.two_qubit_gate_s + alice.measurement_s
                start_b = max(sent_s + self.delay(step.control_node, step.target_node), free_s[target])
                idle(step.target_node, qs(sw[2]), start_b - pair.ready_s)
                idle_qubit(target, step.target_node, qs(sw[3]), start_b)
                operation = telegate_operation(alice.noise, step.gate.operation, bob.noise)
                self._mark_noise(alice.noise, bob.noise)
                sim.compose(self.deferred(operation), qubits=[qs(w) for w in sw], inplace=True)
                sim_used.update(qs(w) for w in sw)
                ideal = telegate_operation(GateNoise(), step.gate.operation)
                _append_protocol(proto, ideal.circuit, [qp(w) for w in pw], list(outcome_bits))
                for w in pw:
                    proto_used.add(w)
                done_b = start_b + bob.two_qubit_gate_s + bob.single_qubit_gate_s + bob.measurement_s
                last_s[control] = start_a + alice.two_qubit_gate_s
                free_s[control] = done_b + self.delay(step.target_node, step.control_node)
                free_s[target] = last_s[target] = start_b + bob.two_qubit_gate_s
            elif isinstance(step, Teleport):
                q = step.qubit
                sender = self.model(step.source)
                pair = prepare_pair(step, pw[1], pw[2], qs(sw[1]), qs(sw[2]), step.source)
                start = max(free_s[q], pair.ready_s)
                idle(step.source, qs(sw[1]), start - pair.ready_s)
                idle_qubit(q, step.source, qs(sw[0]), start)
                arrival = (
                    start + sender.two_qubit_gate_s + sender.single_qubit_gate_s + sender.measurement_s
                    + self.delay(step.source, step.destination)
                )
                idle(step.destination, qs(sw[2]), arrival - pair.ready_s)
                operation = teleportation_operation(sender.noise)
                self._mark_noise(sender.noise)
                sim.compose(self.deferred(operation), qubits=[qs(w) for w in sw], inplace=True)
                sim_used.update(qs(w) for w in sw)
                ideal = teleportation_operation(GateNoise())
                _append_protocol(proto, ideal.circuit, [qp(w) for w in pw], list(outcome_bits))
                for w in pw:
                    proto_used.add(w)
                free_s[q] = last_s[q] = arrival
            else:  # Readout
                q = step.qubit
                model = self.model(step.node)
                idle_qubit(q, step.node, qs(sw[0]), free_s[q])
                flip = self.channel(model.noise, "flip")
                if flip is not None:
                    sim.append(flip, [qs(sw[0])])
                    self.pure = False
                proto.measure(qp(pw[0]), user_bits[step.clbit])
                free_s[q] = last_s[q] = free_s[q] + model.measurement_s
        end_s = max(free_s, default=0.0)
        # Unmeasured qubits are read at the end: they wait for the last operation.
        measured = {q for q, _ in logical.measurements}
        for q in range(logical.num_qubits):
            if q not in measured:
                idle_qubit(q, self.plan.final_partition[q], qs(sim_home[q]), end_s)
        return CompiledCircuit(
            plan=plan,
            circuit=proto,
            noisy_circuit=sim,
            logical_wires=tuple(qs(sim_home[q]) for q in range(logical.num_qubits)),
            logical_qubits=tuple(qp(proto_home[q]) for q in range(logical.num_qubits)),
            latency_s=float(end_s),
            pure=self.pure,
            pairs=tuple(used_pairs),
        )

    def _mark_noise(self, *noises: GateNoise) -> None:
        if not all(n.is_ideal for n in noises):
            self.pure = False

    def deferred(self, operation: Operation) -> QuantumCircuit:
        circuit = self._deferred.get(operation)
        if circuit is None:
            circuit = _defer_measurements(operation.circuit)
            self._deferred[operation] = circuit
        return circuit

    def channel(self, noise: GateNoise, kind: str) -> QuantumError | None:
        """``noise``'s one-qubit (``"one"``), two-qubit (``"two"``) or readout (``"flip"``) error,
        built once; ``None`` when ideal."""
        key = (noise, kind)
        if key not in self._channels:
            errors = {"one": noise.single_qubit_error, "two": noise.two_qubit_error, "flip": noise.measurement_error}
            self._channels[key] = errors[kind]()
        return self._channels[key]


def _node_order(plan: DistributionPlan, sizes: Mapping[object, int]) -> list[str]:
    order = []
    for node in list(plan.partition.values()) + [n for s in plan.steps for n in _step_nodes(s)]:
        if node not in order and sizes.get(node):
            order.append(node)
    return order


def _step_nodes(step: Step) -> tuple[str, ...]:
    if isinstance(step, Telegate):
        return (step.control_node, step.target_node)
    if isinstance(step, Teleport):
        return (step.source, step.destination)
    return (step.node,)


def _register_name(node: str, taken: Mapping[str, QuantumRegister]) -> str:
    name = re.sub(r"\W", "_", str(node)) or "node"
    if not re.match(r"[A-Za-z_]", name):
        name = f"n_{name}"
    base, k = name, 1
    names = {r.name for r in taken.values()}
    while name in names or name in ("c", "bell"):
        name = f"{base}_{k}"
        k += 1
    return name


def _swap_halves(rho: np.ndarray) -> np.ndarray:
    return np.asarray(rho).reshape(2, 2, 2, 2).transpose(1, 0, 3, 2).reshape(4, 4)


def _preparation(rho: np.ndarray) -> tuple[Instruction, bool]:
    """What takes two wires from ``|00>`` to ``rho`` (wire 0 = qubit 0 of ``rho``), and whether
    ``rho`` is mixed: the unitary mixture ``sum_i l_i V_i . V_i^dag`` over the eigenpairs
    ``(l_i, psi_i)`` of ``rho``, ``V_i`` a unitary whose first column is ``psi_i``."""
    rho = np.asarray(rho, dtype=complex)
    values, vectors = np.linalg.eigh((rho + rho.conj().T) / 2)
    keep = values > 1e-12
    values, vectors = values[keep] / values[keep].sum(), vectors[:, keep]
    unitaries = [UnitaryGate(_unitary_from_column(v), label="pair") for v in vectors.T]
    if len(unitaries) == 1:
        return unitaries[0], False
    return QuantumError([(u, float(p)) for u, p in zip(unitaries, values)]), True


def _unitary_from_column(vector: np.ndarray) -> np.ndarray:
    """A unitary whose first column is the unit ``vector`` (the rest completes a basis)."""
    basis, _ = np.linalg.qr(np.column_stack([vector, np.eye(len(vector))]))
    basis[:, 0] = vector
    return basis


def _sampled_form(channel: Instruction) -> Instruction:
    """A ``kraus`` instruction of a Pauli channel as Aer's ``pauli_error`` (sampled in one step
    by trajectories; a ``kraus`` instruction costs one pass over the state per operator); any
    other instruction unchanged."""
    operators = [np.asarray(k, dtype=complex) for k in channel.params]
    n = channel.num_qubits
    if n > 2:
        return channel
    labels = ["".join(p) for p in itertools.product("IXYZ", repeat=n)]
    paulis = [Pauli(label).to_matrix() for label in labels]
    d = 2**n
    coefficients = np.array([[np.trace(p.conj().T @ k) / d for p in paulis] for k in operators])
    chi = coefficients.T @ coefficients.conj()
    if np.max(np.abs(chi - np.diag(np.diag(chi)))) > 1e-12:
        return channel
    probabilities = np.clip(np.real(np.diag(chi)), 0.0, None)
    terms = [(label, float(p)) for label, p in zip(labels, probabilities) if p > 1e-15]
    total = sum(p for _, p in terms)
    return pauli_error([(label, p / total) for label, p in terms])


@lru_cache(maxsize=1)
def _bell_pair_gate() -> Gate:
    """``h`` then ``cx``: an ideal ``|Phi+>`` from ``|00>`` (stands for the network's pair)."""
    body = QuantumCircuit(2, name="bell_pair")
    body.h(0)
    body.cx(0, 1)
    return body.to_gate()


def _append_protocol(target: QuantumCircuit, block: QuantumCircuit, qubits: list, clbits: list) -> None:
    """Append ``block`` onto ``qubits``/``clbits`` of ``target``, rebuilding its ``if_test`` blocks.

    ``QuantumCircuit.compose`` maps an ``if_else`` condition but leaves the block's own clbits
    pointing at the source circuit, which ``draw()`` then cannot find; rebuilding the blocks with
    the builder interface maps everything.
    """
    qubit_map = dict(zip(block.qubits, qubits))
    clbit_map = dict(zip(block.clbits, clbits))
    for instruction in block.data:
        operation = instruction.operation
        if operation.name == "if_else":
            bit, value = operation.condition
            if not isinstance(bit, Clbit) or len(operation.blocks) != 1:
                raise ValueError(f"{block.name}: only single-bit 'if' blocks are supported")
            body = operation.blocks[0]
            inner = dict(zip(body.qubits, (qubit_map[q] for q in instruction.qubits)))
            with target.if_test((clbit_map[bit], value)):
                for item in body.data:
                    target.append(item.operation, [inner[q] for q in item.qubits])
            continue
        target.append(operation, [qubit_map[q] for q in instruction.qubits], [clbit_map[c] for c in instruction.clbits])


def _defer_measurements(circuit: QuantumCircuit) -> QuantumCircuit:
    """The circuit with measurements deferred: each classically controlled gate becomes the
    same gate controlled by the measured qubit. Valid because a measured qubit is never used
    again except as such a control (checked); the result has no clbits."""
    out = QuantumCircuit(circuit.num_qubits, name=f"{circuit.name}_deferred")
    holder: dict[Clbit, int] = {}
    for instruction in circuit.data:
        operation = instruction.operation
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if operation.name == "measure":
            holder[instruction.clbits[0]] = qubits[0]
            continue
        if operation.name == "if_else":
            bit, value = operation.condition
            if not isinstance(bit, Clbit) or int(value) != 1 or len(operation.blocks) != 1 or bit not in holder:
                raise ValueError(f"{circuit.name}: only 'if measured bit == 1' blocks can be deferred")
            body = operation.blocks[0]
            inner = dict(zip(body.qubits, qubits))
            for item in body.data:
                targets = [inner[q] for q in item.qubits]
                out.append(item.operation.control(1), [holder[bit], *targets])
            continue
        if set(qubits) & set(holder.values()):
            raise ValueError(f"{circuit.name}: a measured qubit is used again; cannot defer")
        out.append(_sampled_form(operation) if operation.name == "kraus" else operation, qubits)
    return out


# =========================================================================== simulation
@dataclass(frozen=True)
class SimulationOutcome:
    """What the simulation of a compiled circuit gives.

    ``fidelity`` (state or Hellinger, see the module docstring) with ``fidelity_stderr`` (0 when
    exact); ``final_state`` of the logical qubits (``Statevector`` or ``DensityMatrix``, qubit
    ``i`` = logical qubit ``i``; ``None`` for trajectories); ``counts`` when the circuit measures;
    ``simulation`` the method that ran.
    """

    fidelity: float
    fidelity_stderr: float
    final_state: Statevector | DensityMatrix | None
    counts: dict[str, int] | None
    simulation: str
    shots: int


def ideal_output(logical: LogicalCircuit) -> Statevector:
    """``unitary |0...0>``: the monolithic circuit's output before its measurements."""
    return Statevector.from_instruction(logical.unitary)


def simulate_distributed(
    compiled: CompiledCircuit,
    simulation: str = "auto",
    shots: int = 1024,
    trajectories: int = 100,
    seed: int | np.random.Generator = 0,
    max_density_qubits: int = 10,
    ideal: Statevector | None = None,
) -> SimulationOutcome:
    """Run ``compiled.noisy_circuit`` on Aer and compare with the monolithic circuit.

    ``simulation``: ``"auto"`` (statevector when the compiled circuit is pure, density matrix up
    to ``max_density_qubits`` wires, trajectories beyond), or one of ``"statevector"`` (exact only
    for a pure circuit: refused otherwise), ``"density_matrix"``, ``"trajectories"``.
    ``trajectories``: statevector runs for ``"trajectories"``; ``shots``: samples of the counts
    (drawn from the exact distribution, or one per trajectory). ``ideal``: the monolithic output
    if already known.
    """
    if simulation not in SIMULATIONS:
        raise ValueError(f"simulation must be one of {SIMULATIONS}, got {simulation!r}")
    for name, value in (("shots", shots), ("trajectories", trajectories), ("max_density_qubits", max_density_qubits)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    logical = compiled.plan.logical
    width = compiled.noisy_circuit.num_qubits
    if simulation == "auto":
        if compiled.pure:
            simulation = "statevector"
        else:
            simulation = "density_matrix" if width <= max_density_qubits else "trajectories"
    if simulation == "statevector" and not compiled.pure:
        raise ValueError(
            "simulation 'statevector' is exact only without noise or mixed pairs; "
            "use 'density_matrix' or 'trajectories'"
        )
    ideal = ideal_output(logical) if ideal is None else ideal
    wires = list(compiled.logical_wires)
    free = [w for w in range(width) if w not in wires]
    measured = logical.measurements
    circuit = compiled.noisy_circuit.copy()
    seed_simulator = int(rng.integers(2**31 - 1))

    if simulation in ("statevector", "density_matrix"):
        if simulation == "statevector":
            for w in free:
                circuit.reset(w)
            circuit.save_statevector(label="out")
        else:
            circuit.save_density_matrix(qubits=wires, label="out")
        result = _run_aer(circuit, simulation, 1, seed_simulator)
        data = np.asarray(result.data(0)["out"])
        if simulation == "statevector":
            state: Statevector | DensityMatrix = Statevector(_logical_amplitudes(data, width, wires))
        else:
            state = DensityMatrix(data)
        if not measured:
            return SimulationOutcome(float(state_fidelity(state, ideal, validate=False)), 0.0, state, None, simulation, 0)
        exact = _clbit_distribution(state, measured, logical.num_clbits)
        reference = _clbit_distribution(ideal, measured, logical.num_clbits)
        counts = _sample(exact, shots, rng)
        return SimulationOutcome(float(hellinger_fidelity(reference, exact)), 0.0, state, counts, simulation, shots)

    if measured:
        circuit.add_register(ClassicalRegister(logical.num_clbits, "c"))
        for qubit, clbit in measured:
            circuit.measure(wires[qubit], clbit)
        result = _run_aer(circuit, "statevector", shots, seed_simulator)
        counts = {key.replace(" ", ""): int(n) for key, n in result.get_counts(0).items()}
        reference = _clbit_distribution(ideal, measured, logical.num_clbits)
        fidelity = float(hellinger_fidelity(reference, counts))
        return SimulationOutcome(fidelity, _hellinger_stderr(reference, counts), None, counts, "trajectories", shots)
    for w in free:
        circuit.reset(w)
    circuit.compose(logical.unitary.inverse(), qubits=wires, inplace=True)
    circuit.save_amplitudes_squared([0], label="overlap", pershot=True)
    result = _run_aer(circuit, "statevector", trajectories, seed_simulator)
    overlaps = np.array([float(np.ravel(v)[0]) for v in result.data(0)["overlap"]])
    stderr = float(overlaps.std(ddof=1) / math.sqrt(len(overlaps))) if len(overlaps) > 1 else 0.0
    return SimulationOutcome(float(overlaps.mean()), stderr, None, None, "trajectories", trajectories)


def _run_aer(circuit: QuantumCircuit, method: str, shots: int, seed: int):
    """Run on ``AerSimulator(method=method)``; transpiled at level 0 (no gate or noise removed).

    Gate fusion is off for density matrices: with noise instructions it made runs slower here
    (8-12 wires) and Aer 0.18's fusion fails on some chains of channels with tiny probabilities
    ("heevx ... Check that input matrix is really hermitian"). A statevector run that meets that
    failure is repeated without fusion (same result), and Aer's warning about it is not shown.
    """
    from qiskit_aer import AerSimulator

    backend = AerSimulator(method=method)
    compiled = transpile(circuit, backend, optimization_level=0)
    options = {"fusion_enable": False} if method == "density_matrix" else {}
    logger = logging.getLogger("qiskit_aer.backends.aerbackend")
    quiet = _DropFusionFailure()
    logger.addFilter(quiet)
    try:
        result = backend.run(compiled, shots=shots, seed_simulator=seed, **options).result()
    finally:
        logger.removeFilter(quiet)
    if not result.success and _FUSION_FAILURE in str(result.status) + "".join(str(r.status) for r in result.results):
        result = backend.run(compiled, shots=shots, seed_simulator=seed, fusion_enable=False).result()
    if not result.success:
        raise RuntimeError(f"Aer ({method}) failed: {result.status}")
    return result


_FUSION_FAILURE = "heevx"


class _DropFusionFailure(logging.Filter):
    """Drops Aer's warning about the fusion failure that :func:`_run_aer` recovers from."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _FUSION_FAILURE not in record.getMessage()


def _logical_amplitudes(vector: np.ndarray, width: int, wires: Sequence[int]) -> np.ndarray:
    """The logical qubits' state from a product of it with ``|0>`` on every other wire.

    Axis ``k`` of the reshaped vector is wire ``width - 1 - k``; the result has logical qubit
    ``i`` as its qubit ``i``.
    """
    tensor = np.asarray(vector).reshape((2,) * width)
    index = [0] * width
    for w in wires:
        index[width - 1 - w] = slice(None)
    reduced = tensor[tuple(index)]
    # Remaining axes are the logical wires in decreasing wire order; reorder to logical order.
    kept = sorted(wires, reverse=True)
    n = len(wires)
    axes = [kept.index(wires[i]) for i in range(n - 1, -1, -1)]
    out = reduced.transpose(axes).reshape(-1)
    norm = np.linalg.norm(out)
    return out / norm if norm > 0 else out


def _clbit_distribution(state, measured, num_clbits: int) -> dict[str, float]:
    """Probabilities of the classical register (``num_clbits`` bits, clbit 0 rightmost)."""
    qubits = [q for q, _ in measured]
    probabilities = state.probabilities(qubits)
    out: dict[str, float] = {}
    for index, p in enumerate(probabilities):
        if p <= 1e-15:
            continue
        bits = ["0"] * num_clbits
        for k, (_, clbit) in enumerate(measured):
            if (index >> k) & 1:
                bits[num_clbits - 1 - clbit] = "1"
        key = "".join(bits)
        out[key] = out.get(key, 0.0) + float(p)
    return out


def _sample(distribution: Mapping[str, float], shots: int, rng: np.random.Generator) -> dict[str, int]:
    keys = sorted(distribution)
    p = np.array([distribution[k] for k in keys])
    drawn = rng.multinomial(shots, p / p.sum())
    return {k: int(n) for k, n in zip(keys, drawn) if n}


def _hellinger_stderr(reference: Mapping[str, float], counts: Mapping[str, int]) -> float:
    """Rough standard error of a Hellinger fidelity estimated from ``counts`` (delta method)."""
    shots = sum(counts.values())
    if shots < 2:
        return 0.0
    total = sum(reference.values())
    bc = sum(math.sqrt(reference.get(k, 0.0) / total * n / shots) for k, n in counts.items())
    # Var of the Bhattacharyya coefficient ~ (1 - BC^2) / (4 shots); fidelity = BC^2.
    return float(2 * bc * math.sqrt(max(1 - bc * bc, 0.0) / (4 * shots)))


__all__ = [
    "METHODS",
    "PHI_PLUS",
    "SIMULATIONS",
    "CompiledCircuit",
    "DistributionPlan",
    "LocalGate",
    "LogicalCircuit",
    "LogicalGate",
    "NodeModel",
    "Readout",
    "SimulationOutcome",
    "SuppliedPair",
    "Telegate",
    "Teleport",
    "check_partition",
    "compile_distributed",
    "cut_gates",
    "ideal_output",
    "interaction_graph",
    "link_of",
    "logical_circuit",
    "partition_qubits",
    "plan_distribution",
    "simulate_distributed",
    "werner_state",
]
