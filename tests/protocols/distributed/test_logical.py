"""The logical circuit: one- and two-qubit gates in controlled form, terminal measurements."""

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import CXGate, UnitaryGate
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import Operator, Statevector, state_fidelity

from distributed_circuits import parametric, with_reset
from qstack.protocols.distributed import ideal_output, interaction_graph, logical_circuit
from qstack.protocols.nonlocal_gates import is_controlled_on_first_qubit


@pytest.mark.parametrize("seed", range(3))
def test_any_circuit_becomes_one_and_two_qubit_gates_in_controlled_form_with_the_same_unitary(seed):
    qc = random_circuit(5, 4, max_operands=3, seed=seed)
    logical = logical_circuit(qc)
    assert all(len(g.qubits) in (1, 2) for g in logical.gates)
    for gate in logical.two_qubit_gates:
        assert gate.operation.name.startswith("c") or is_controlled_on_first_qubit(gate.operation)
    assert Operator(logical.unitary).equiv(Operator(qc))


def test_a_gate_controlled_by_its_second_qubit_is_turned_round():
    # CNOT controlled by the gate's qubit 1, as a plain unitary: not in controlled form as given.
    reversed_cx = UnitaryGate(Operator(CXGate()).reverse_qargs().data)
    qc = QuantumCircuit(2)
    qc.append(reversed_cx, [0, 1])
    (gate,) = logical_circuit(qc).gates
    assert gate.qubits == (1, 0)
    assert Operator(logical_circuit(qc).unitary).equiv(Operator(qc))


def test_a_swap_is_expanded_into_three_cnots():
    qc = QuantumCircuit(2)
    qc.swap(0, 1)
    logical = logical_circuit(qc)
    assert [g.operation.name for g in logical.gates] == ["cx", "cx", "cx"]
    assert [g.qubits for g in logical.gates] == [(0, 1), (1, 0), (0, 1)]


def test_terminal_measurements_are_kept_as_qubit_clbit_pairs_and_barriers_dropped():
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.barrier()
    qc.cx(0, 2)
    qc.measure(2, 0)
    qc.measure(0, 1)
    logical = logical_circuit(qc)
    assert logical.measurements == ((0, 1), (2, 0))
    assert logical.num_clbits == 3
    assert [g.operation.name for g in logical.gates] == ["h", "cx"]


def test_the_interaction_graph_weighs_edges_by_the_gates_between_two_qubits():
    qc = QuantumCircuit(4)
    qc.cx(0, 1)
    qc.cz(1, 0)
    qc.cp(0.3, 1, 2)
    graph = interaction_graph(logical_circuit(qc))
    assert sorted(graph.nodes) == [0, 1, 2, 3]
    assert {tuple(sorted(e)): w for *e, w in graph.edges(data="weight")} == {(0, 1): 2, (1, 2): 1}


def test_the_ideal_output_is_the_monolithic_state():
    qc = random_circuit(4, 3, seed=7)
    assert state_fidelity(ideal_output(logical_circuit(qc)), Statevector(qc)) == pytest.approx(1.0, abs=1e-12)


def _mid_measure() -> QuantumCircuit:
    qc = QuantumCircuit(2, 1)
    qc.measure(0, 0)
    qc.x(0)
    return qc


def _twice_measured() -> QuantumCircuit:
    qc = QuantumCircuit(1, 2)
    qc.measure(0, 0)
    qc.measure(0, 1)
    return qc


@pytest.mark.parametrize(
    "circuit,match",
    [
        (_mid_measure(), "after its measurement"),
        (_twice_measured(), "measured twice"),
        (with_reset(), "not supported"),
        (parametric(), "unbound parameters \\['theta'\\]"),
        (np.eye(2), "QuantumCircuit"),
    ],
)
def test_what_cannot_be_distributed_is_refused_naming_it(circuit, match):
    with pytest.raises(ValueError, match=match):
        logical_circuit(circuit)
