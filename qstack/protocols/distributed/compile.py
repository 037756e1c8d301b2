"""Compiling a distribution plan into circuits, with the pairs' states and the nodes' hardware.

Two circuits of one plan:

* ``circuit``: the protocol as a user runs it anywhere: one register per node (its data and
  communication qubits), each pair made by an ideal ``bell_pair`` gate (``h``, ``cx``),
  mid-circuit measurements and classically controlled corrections (``if_test``); it exports
  with ``qiskit.qasm3.dumps``.
* ``noisy_circuit``: what is simulated. Each pair is *prepared* in its actual state (see
  :func:`.circuits.preparation`); measurements are deferred (each classically controlled Pauli
  becomes the same gate quantum-controlled by the measured qubit, which is never used again),
  so one density-matrix run gives the outcome-averaged channel exactly. Wires are reused (a
  pair's wires are reset), so the width is the logical qubits plus two.

Timing is as soon as possible: a gate starts when its qubits (and its pair) are ready; every
qubit relaxes (T1/T2 of its node, :class:`qstack.physics.Relaxation`) while it waits, pair
halves from their arrival on. A telegate takes Alice's CNOT and readout, one classical message,
Bob's controlled gate, H and readout, and a message back before the control is free again;
teledata takes the sender's Bell measurement and one message. Corrections are applied when the
qubit is next used (Pauli frame), so a pair half relaxes until then before its correction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Qubit
from qiskit_aer.noise import QuantumError

from qstack.engine import Operation
from qstack.physics import PHI_PLUS, Relaxation

from .._common import pair_state
from ..noise import GateNoise
from ..nonlocal_gates import telegate_operation
from ..teleportation import teleportation_operation
from .circuits import append_protocol, bell_pair_gate, defer_measurements, preparation, register_name, swap_halves
from .plan import DistributionPlan, LocalGate, Readout, Telegate, Teleport, step_nodes


@dataclass(frozen=True)
class NodeModel:
    """What the compiler needs of one node's hardware: gate noise, relaxation, durations [s].

    ``t1_s``/``t2_s`` (``math.inf``: no relaxation) give the idle channel of a qubit waiting
    ``t`` seconds: T1/T2 relaxation, ``qstack.physics.Relaxation(t1_s, t2_s)``.
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
    def relaxation(self) -> Relaxation:
        """The node's idle channel: T1/T2 relaxation."""
        return Relaxation(self.t1_s, self.t2_s)

    @property
    def relaxes(self) -> bool:
        return not (math.isinf(self.t1_s) and math.isinf(self.t2_s))

    def idle(self, duration_s: float) -> QuantumError | None:
        """The relaxation channel for ``duration_s`` [s], or ``None`` when it is the identity."""
        if not self.relaxes or duration_s <= 0.0:
            return None
        return self.relaxation.quantum_error(duration_s)


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
    one-way message time between nodes [s] (none: 0).
    """
    nodes = dict(nodes or {})
    delay = classical_delay_s or (lambda a, b: 0.0)
    supplied: dict[tuple[str, str], list[SuppliedPair]] = {}
    for link, count in plan.pairs_needed.items():
        given = list((pairs or {}).get(link, [])) if pairs is not None else [SuppliedPair(PHI_PLUS)] * count
        if len(given) < count:
            raise ValueError(f"link {link[0]}-{link[1]} needs {count} pairs, {len(given)} supplied")
        supplied[link] = sorted(given, key=lambda p: p.ready_s)[:count]
    return _Writer(plan, nodes, delay, supplied).write()


Wire = tuple[object, int]  # (register key, index): the key is a node, or None for the shared pool


class _Wires:
    """Wire allocation: per node (registers of the protocol circuit) or one shared pool."""

    def __init__(self, per_node: bool):
        self.per_node = per_node
        self.free: dict[object, list[int]] = {}
        self.size: dict[object, int] = {}

    def take(self, node: str) -> Wire:
        """The lowest free wire of ``node`` (or of the pool), a new one when none is free."""
        key = node if self.per_node else None
        free = self.free.setdefault(key, [])
        if free:
            index = min(free)
            free.remove(index)
        else:
            index = self.size.get(key, 0)
            self.size[key] = index + 1
        return (key, index)

    def give(self, wire: Wire) -> None:
        self.free.setdefault(wire[0], []).append(wire[1])


def _assign(plan: DistributionPlan, per_node: bool) -> tuple[list[tuple[Wire, ...]], dict[int, Wire], _Wires]:
    """The wires of every step, the final wire of each logical qubit, and the allocation.

    A telegate's step wires are ``(control, Alice's half, Bob's half, target)``; a
    teleportation's ``(qubit, sender's half, receiver's half)``, the receiver's half then
    holding the qubit.
    """
    wires = _Wires(per_node)
    home = {q: wires.take(plan.partition[q]) for q in range(plan.logical.num_qubits)}
    assigned: list[tuple[Wire, ...]] = []
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


def _node_order(plan: DistributionPlan, sizes: Mapping[object, int]) -> list[str]:
    """Nodes with wires, in order of first appearance (initial partition, then the steps)."""
    order = []
    for node in list(plan.partition.values()) + [n for s in plan.steps for n in step_nodes(s)]:
        if node not in order and sizes.get(node):
            order.append(node)
    return order


class _Writer:
    """Walks the plan once: times, and both circuits (``proto``: the protocol, ``sim``: simulated).

    ``free_s[q]``: when logical qubit ``q`` may next be used; ``last_s[q]``: up to when its
    relaxation is already written.
    """

    def __init__(self, plan: DistributionPlan, nodes, delay, supplied):
        self.plan = plan
        self.nodes = nodes
        self.delay = delay
        self.supplied = supplied
        self.ideal = NodeModel()
        self.pure = True
        self._deferred: dict[Operation, QuantumCircuit] = {}
        self._channels: dict[tuple[GateNoise, str], QuantumError | None] = {}
        self.free_s = [0.0] * plan.logical.num_qubits
        self.last_s = [0.0] * plan.logical.num_qubits
        self.used_pairs: list[SuppliedPair] = []
        # Wires that held something: a fresh pair there needs a reset first.
        self.proto_used: set[Wire] = set()
        self.sim_used: set[int] = set()

    def model(self, node: str) -> NodeModel:
        return self.nodes.get(node, self.ideal)

    def write(self) -> CompiledCircuit:
        plan = self.plan
        proto_wires, proto_home, proto_alloc = _assign(plan, per_node=True)
        sim_wires, sim_home, sim_alloc = _assign(plan, per_node=False)
        self._open(proto_alloc, sim_alloc)
        write_step = {
            LocalGate: self._local, Telegate: self._telegate, Teleport: self._teleport, Readout: self._readout
        }
        for step, pw, sw in zip(plan.steps, proto_wires, sim_wires):
            write_step[type(step)](step, pw, [w[1] for w in sw])
        end_s = max(self.free_s, default=0.0)
        # Unmeasured qubits are read at the end: they wait for the last operation.
        measured = {q for q, _ in plan.logical.measurements}
        for q in range(plan.logical.num_qubits):
            if q not in measured:
                self._idle_qubit(q, plan.final_partition[q], sim_home[q][1], end_s)
        return CompiledCircuit(
            plan=plan,
            circuit=self.proto,
            noisy_circuit=self.sim,
            logical_wires=tuple(sim_home[q][1] for q in range(plan.logical.num_qubits)),
            logical_qubits=tuple(self.qp(proto_home[q]) for q in range(plan.logical.num_qubits)),
            latency_s=float(end_s),
            pure=self.pure,
            pairs=tuple(self.used_pairs),
        )

    def _open(self, proto_alloc: _Wires, sim_alloc: _Wires) -> None:
        """The empty circuits: the protocol's with one register per node, the user's clbits and
        two outcome bits; the simulated one with the pool's wires."""
        logical = self.plan.logical
        self.registers: dict[str, QuantumRegister] = {}
        for node in _node_order(self.plan, proto_alloc.size):
            self.registers[node] = QuantumRegister(proto_alloc.size[node], register_name(node, self.registers))
        self.user_bits = ClassicalRegister(logical.num_clbits, "c") if logical.num_clbits else None
        self.outcome_bits = ClassicalRegister(2, "bell") if self.plan.pairs_used else None
        classical = [r for r in (self.user_bits, self.outcome_bits) if r is not None]
        self.proto = QuantumCircuit(*self.registers.values(), *classical, name="distributed")
        self.sim = QuantumCircuit(sim_alloc.size.get(None, 0), name="distributed_noisy")

    def qp(self, wire: Wire) -> Qubit:
        """The protocol circuit's qubit of ``wire``."""
        return self.registers[wire[0]][wire[1]]

    # ------------------------------------------------------------------ steps
    def _local(self, step: LocalGate, pw: Sequence[Wire], sw: list[int]) -> None:
        gate = step.gate
        model = self.model(step.node)
        start = max(self.free_s[q] for q in gate.qubits)
        for q, w in zip(gate.qubits, sw):
            self._idle_qubit(q, step.node, w, start)
        self.proto_used.update(pw)
        self.proto.append(gate.operation, [self.qp(w) for w in pw])
        self.sim.append(gate.operation, sw)
        self.sim_used.update(sw)
        kind = "one" if len(gate.qubits) == 1 else "two"
        duration = model.single_qubit_gate_s if kind == "one" else model.two_qubit_gate_s
        self._append_channel(self.channel(model.noise, kind), sw)
        for q in gate.qubits:
            self.free_s[q] = self.last_s[q] = start + duration

    def _telegate(self, step: Telegate, pw: Sequence[Wire], sw: list[int]) -> None:
        control, target = step.gate.qubits
        alice, bob = self.model(step.control_node), self.model(step.target_node)
        pair = self._prepare_pair(step, pw, sw, step.control_node)
        start_a = max(self.free_s[control], pair.ready_s)
        self._idle(step.control_node, sw[1], start_a - pair.ready_s)
        self._idle_qubit(control, step.control_node, sw[0], start_a)
        sent_s = start_a + alice.two_qubit_gate_s + alice.measurement_s
        start_b = max(sent_s + self.delay(step.control_node, step.target_node), self.free_s[target])
        self._idle(step.target_node, sw[2], start_b - pair.ready_s)
        self._idle_qubit(target, step.target_node, sw[3], start_b)
        self._mark_noise(alice.noise, bob.noise)
        self._append_protocol_pair(
            telegate_operation(alice.noise, step.gate.operation, bob.noise),
            telegate_operation(GateNoise(), step.gate.operation), pw, sw,
        )
        done_b = start_b + bob.two_qubit_gate_s + bob.single_qubit_gate_s + bob.measurement_s
        self.last_s[control] = start_a + alice.two_qubit_gate_s
        self.free_s[control] = done_b + self.delay(step.target_node, step.control_node)
        self.free_s[target] = self.last_s[target] = start_b + bob.two_qubit_gate_s

    def _teleport(self, step: Teleport, pw: Sequence[Wire], sw: list[int]) -> None:
        q = step.qubit
        sender = self.model(step.source)
        pair = self._prepare_pair(step, pw, sw, step.source)
        start = max(self.free_s[q], pair.ready_s)
        self._idle(step.source, sw[1], start - pair.ready_s)
        self._idle_qubit(q, step.source, sw[0], start)
        bell_measurement_s = sender.two_qubit_gate_s + sender.single_qubit_gate_s + sender.measurement_s
        arrival = start + bell_measurement_s + self.delay(step.source, step.destination)
        self._idle(step.destination, sw[2], arrival - pair.ready_s)
        self._mark_noise(sender.noise)
        self._append_protocol_pair(teleportation_operation(sender.noise), teleportation_operation(GateNoise()), pw, sw)
        self.free_s[q] = self.last_s[q] = arrival

    def _readout(self, step: Readout, pw: Sequence[Wire], sw: list[int]) -> None:
        q = step.qubit
        model = self.model(step.node)
        self._idle_qubit(q, step.node, sw[0], self.free_s[q])
        self._append_channel(self.channel(model.noise, "flip"), [sw[0]])
        self.proto.measure(self.qp(pw[0]), self.user_bits[step.clbit])
        self.free_s[q] = self.last_s[q] = self.free_s[q] + model.measurement_s

    # ------------------------------------------------------------------ pieces of steps
    def _prepare_pair(
        self, step: Telegate | Teleport, pw: Sequence[Wire], sw: list[int], first_node: str
    ) -> SuppliedPair:
        """The step's pair on wires 1 and 2: its actual state in ``sim``, an ideal
        ``bell_pair`` in ``proto``; a wire that held something is reset first."""
        pair = self.supplied[step.link][step.pair_index]
        self.used_pairs.append(pair)
        rho = pair.rho if step.link[0] == first_node else swap_halves(pair.rho)
        instruction, mixed = preparation(rho)
        for wire in (sw[1], sw[2]):
            if wire in self.sim_used:  # a fresh wire is |0> already (and a reset is costly in Aer)
                self.sim.reset(wire)
            self.sim_used.add(wire)
        self.sim.append(instruction, [sw[1], sw[2]])
        self.pure = self.pure and not mixed
        for wire in (pw[1], pw[2]):
            if wire in self.proto_used:
                self.proto.reset(self.qp(wire))
            self.proto_used.add(wire)
        self.proto.append(bell_pair_gate(), [self.qp(pw[1]), self.qp(pw[2])])
        return pair

    def _append_protocol_pair(self, noisy: Operation, ideal: Operation, pw: Sequence[Wire], sw: list[int]) -> None:
        """A two-party protocol: ``noisy`` deferred into ``sim``, ``ideal`` as is into ``proto``."""
        self.sim.compose(self.deferred(noisy), qubits=sw, inplace=True)
        self.sim_used.update(sw)
        append_protocol(self.proto, ideal.circuit, [self.qp(w) for w in pw], list(self.outcome_bits))
        self.proto_used.update(pw)

    def _idle(self, node: str, wire: int, duration_s: float) -> None:
        """Relaxation of ``wire`` at ``node`` for ``duration_s`` [s]."""
        self._append_channel(self.model(node).idle(duration_s), [wire])

    def _idle_qubit(self, q: int, node: str, wire: int, until_s: float) -> None:
        """Logical qubit ``q`` relaxes from where its relaxation was written up to ``until_s``."""
        self._idle(node, wire, until_s - self.last_s[q])
        self.last_s[q] = max(self.last_s[q], until_s)

    def _append_channel(self, channel: QuantumError | None, wires: list[int]) -> None:
        if channel is not None:
            self.sim.append(channel, wires)
            self.pure = False

    def _mark_noise(self, *noises: GateNoise) -> None:
        if not all(n.is_ideal for n in noises):
            self.pure = False

    def deferred(self, operation: Operation) -> QuantumCircuit:
        """``operation``'s circuit with deferred measurements, built once per operation."""
        circuit = self._deferred.get(operation)
        if circuit is None:
            circuit = defer_measurements(operation.circuit)
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


__all__ = ["CompiledCircuit", "NodeModel", "SuppliedPair", "compile_distributed"]
