"""The logical circuit: a Qiskit circuit as one- and two-qubit gates, two-qubit ones in controlled form.

A two-qubit gate is in *controlled form* when it is the identity while its first qubit is
``|0>`` (``cx``, ``cz``, ``cp``, ``crz``, ...): exactly the gates a telegate can make across
nodes. Other gates (``swap``, ``rzz``, ``iswap``, unitaries, three-qubit gates) are expanded by
their Qiskit definitions until they are. Measurements must be terminal.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction, ControlledGate, Gate, Instruction
from qiskit.quantum_info import Statevector

from ..nonlocal_gates import is_controlled_on_first_qubit

#: Instructions without effect on the state, dropped.
_SKIPPED = {"barrier", "delay"}


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
        names = sorted(p.name for p in circuit.parameters)
        raise ValueError(f"circuit has unbound parameters {names}; bind them first")
    flattener = _Flattener(circuit)
    flattener.visit(circuit, list(range(circuit.num_qubits)), 0)
    unitary = QuantumCircuit(circuit.num_qubits, name=circuit.name)
    for gate in flattener.gates:
        unitary.append(gate.operation, list(gate.qubits))
    return LogicalCircuit(
        num_qubits=circuit.num_qubits,
        num_clbits=circuit.num_clbits,
        gates=tuple(flattener.gates),
        measurements=tuple(sorted(flattener.measured.items())),
        unitary=unitary,
    )


def interaction_graph(logical: LogicalCircuit) -> nx.Graph:
    """Qubits as vertices; an edge weighted by the number of two-qubit gates between them."""
    graph = nx.Graph()
    graph.add_nodes_from(range(logical.num_qubits))
    for gate in logical.two_qubit_gates:
        a, b = gate.qubits
        weight = graph.get_edge_data(a, b, {"weight": 0})["weight"]
        graph.add_edge(a, b, weight=weight + 1)
    return graph


def ideal_output(logical: LogicalCircuit) -> Statevector:
    """``unitary |0...0>``: the monolithic circuit's output before its measurements."""
    return Statevector.from_instruction(logical.unitary)


class _Flattener:
    """Walks a circuit and the definitions of its composite gates, collecting logical gates and
    the terminal measurements ``{qubit: clbit}`` of the top circuit."""

    def __init__(self, top: QuantumCircuit):
        self.top = top
        self.gates: list[LogicalGate] = []
        self.measured: dict[int, int] = {}

    def visit(self, body: QuantumCircuit, qubit_map: list[int], depth: int) -> None:
        """Collect ``body``'s instructions, its qubit ``i`` being logical qubit ``qubit_map[i]``."""
        for instruction in body.data:
            operation = instruction.operation
            qubits = [qubit_map[body.find_bit(q).index] for q in instruction.qubits]
            if operation.name in _SKIPPED or not qubits:  # zero-qubit gates only carry a global phase
                continue
            if operation.name == "measure":
                self._measure(instruction, qubits[0], depth)
                continue
            self._check_unitary(operation, qubits)
            gate = _as_logical_gate(operation, qubits)
            if gate is not None:
                self.gates.append(gate)
                continue
            if operation.definition is None:
                raise ValueError(f"instruction {operation.name!r} on {len(qubits)} qubits has no definition to expand")
            self.visit(operation.definition, qubits, depth + 1)

    def _measure(self, instruction: CircuitInstruction, qubit: int, depth: int) -> None:
        if depth:
            raise ValueError("measurements inside composite gates are not supported")
        if qubit in self.measured:
            raise ValueError(f"qubit {qubit} is measured twice; only terminal measurements are supported")
        self.measured[qubit] = self.top.find_bit(instruction.clbits[0]).index

    def _check_unitary(self, operation: Instruction, qubits: list[int]) -> None:
        name = operation.name
        if getattr(operation, "blocks", ()) or name in ("reset", "initialize") or name.startswith("save_"):
            raise ValueError(
                f"instruction {name!r} is not supported in a distributed circuit "
                "(only unitary gates and terminal measurements)"
            )
        late = [q for q in qubits if q in self.measured]
        if late:
            raise ValueError(
                f"gate {name!r} acts on qubit {late[0]} after its measurement; only terminal measurements are supported"
            )


def _as_logical_gate(operation: Instruction, qubits: list[int]) -> LogicalGate | None:
    """A one-qubit gate, or a two-qubit gate in controlled form (either way round); else None."""
    if not isinstance(operation, Gate) or len(qubits) > 2:
        return None
    if len(qubits) == 1:
        return LogicalGate(operation, (qubits[0],))
    if _controlled_on_first(operation):
        return LogicalGate(operation, (qubits[0], qubits[1]))
    reversed_gate = _reversed(operation)
    if _controlled_on_first(reversed_gate):
        return LogicalGate(reversed_gate, (qubits[1], qubits[0]))
    return None


def _controlled_on_first(gate: Gate) -> bool:
    if isinstance(gate, ControlledGate) and gate.num_ctrl_qubits == 1 and gate.num_qubits == 2:
        return gate.ctrl_state == 1
    return is_controlled_on_first_qubit(gate)


def _reversed(gate: Gate) -> Gate:
    """The same two-qubit gate with its qubits exchanged."""
    body = QuantumCircuit(2, name=f"{gate.name}_r")
    body.append(gate, [1, 0])
    return body.to_gate()


__all__ = ["LogicalCircuit", "LogicalGate", "ideal_output", "interaction_graph", "logical_circuit"]
