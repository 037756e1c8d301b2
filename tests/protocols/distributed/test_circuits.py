"""The compiler's circuit pieces: pair preparation, deferred measurements, protocol blocks."""

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import UnitaryGate
from qiskit.quantum_info import DensityMatrix, Statevector, partial_trace, random_density_matrix, random_statevector

from qstack.physics import PHI_PLUS, werner_state
from qstack.protocols import GateNoise
from qstack.protocols.distributed.circuits import defer_measurements, preparation, register_name, swap_halves
from qstack.protocols.teleportation import teleportation_circuit


def _prepared(instruction) -> np.ndarray:
    circuit = QuantumCircuit(2)
    circuit.append(instruction, [0, 1])
    if isinstance(instruction, UnitaryGate):
        return DensityMatrix(circuit).data
    return DensityMatrix.from_label("00").evolve(instruction.to_quantumchannel()).data


@pytest.mark.parametrize("rho", [werner_state(0.8), random_density_matrix(4, seed=3).data], ids=["werner", "random"])
def test_a_mixed_pair_is_prepared_exactly_by_a_unitary_mixture(rho):
    instruction, mixed = preparation(rho)
    assert mixed
    np.testing.assert_allclose(_prepared(instruction), rho, atol=1e-12)


def test_a_pure_pair_is_prepared_by_one_unitary():
    instruction, mixed = preparation(PHI_PLUS)
    assert not mixed and isinstance(instruction, UnitaryGate)
    np.testing.assert_allclose(_prepared(instruction), PHI_PLUS, atol=1e-12)


def test_swap_halves_exchanges_the_qubits():
    rho = random_density_matrix(4, seed=1)
    swapped = DensityMatrix(swap_halves(rho.data))
    np.testing.assert_allclose(partial_trace(swapped, [0]).data, partial_trace(rho, [1]).data, atol=1e-12)
    np.testing.assert_allclose(swap_halves(swap_halves(rho.data)), rho.data, atol=0)


def test_deferred_teleportation_leaves_the_input_on_the_receivers_half():
    psi = random_statevector(2, seed=4)
    deferred = defer_measurements(teleportation_circuit(GateNoise()))
    assert deferred.num_clbits == 0
    prepared = QuantumCircuit(3)
    prepared.initialize(psi, [0])
    prepared.h(1)
    prepared.cx(1, 2)
    state = Statevector(prepared.compose(deferred))
    received = partial_trace(state, [0, 1])
    assert np.real(psi.data.conj() @ received.data @ psi.data) == pytest.approx(1.0, abs=1e-12)


def test_register_names_are_identifiers_avoiding_the_classical_registers():
    assert register_name("alice", {}) == "alice"
    assert register_name("7", {}) == "n_7"
    assert register_name("c", {}) == "c_1"
    assert register_name("", {}) == "node"
