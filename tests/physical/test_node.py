"""A node's storage stages: which qubit holds a heralded pair when, with which noise."""

import math

import numpy as np
import pytest
from qiskit.quantum_info import random_density_matrix

from qstack.engine import evolve
from qstack.hardware import Emitter, Memory, NuclearSpinRegister
from qstack.physical import NodeHardware
from qstack.physics import Relaxation

MEMORY = Memory(t1_s=3600.0, t2_s=1.58, capacity=10, two_qubit_gate_fidelity=0.99)
REGISTER = NuclearSpinRegister(coupling_hz=80.0, reset_time_constant_s=12e-9, t1_s=math.inf, t2_s=75.0, capacity=9)


def test_without_a_register_the_memory_is_both_stages_and_nothing_moves():
    node = NodeHardware(memory=MEMORY, emitter=Emitter(emission_time_s=5e-6))
    storage = node.storage
    assert storage.communication == storage.storage == Relaxation(3600.0, 1.58)
    assert (storage.capacity, storage.move_time_s, storage.device) == (10, 0.0, "memory")
    assert not storage.moves and storage.move_operation() is None
    assert storage.attempt_dephasing(100, 0.5) is None
    assert (node.storage_t1_s, node.storage_t2_s, node.storage_capacity) == (3600.0, 1.58, 10)


def test_with_a_register_the_electron_holds_the_pair_until_the_move_into_a_nuclear_spin():
    node = NodeHardware(memory=MEMORY, emitter=Emitter(emission_time_s=5e-6), nuclear_spin=REGISTER)
    storage = node.storage
    assert storage.communication == Relaxation(3600.0, 1.58)  # the electron's own T1/T2
    assert storage.storage == Relaxation(math.inf, 75.0)
    assert (storage.capacity, storage.device) == (9, "nuclear_spin")
    assert storage.move_time_s == pytest.approx(3 / (2 * 80.0))  # three conditional rotations
    assert storage.moves and storage.move_gate_fidelity == 0.99
    assert (node.storage_t1_s, node.storage_t2_s, node.storage_capacity) == (math.inf, 75.0, 9)
    error = storage.attempt_dephasing(10, 0.5)
    assert error is not None and error.probabilities[0] > 0  # the Z branch of the phase flip


def test_an_ideal_move_carries_the_electrons_state_into_the_fresh_nuclear_spin():
    node = NodeHardware(memory=MEMORY, nuclear_spin=REGISTER)
    rho = random_density_matrix(4, seed=2).data  # (electron, partner)
    fresh = np.kron(np.diag([1.0, 0.0]), rho)  # the nuclear spin is qubit 2, in |0>
    moved = evolve(node.storage.move_operation(gate_noise=False), fresh, (0, 2))
    np.testing.assert_allclose(moved, rho, atol=1e-12)  # (nuclear spin, partner)
    noisy = evolve(node.storage.move_operation(), fresh, (0, 2))
    assert np.abs(noisy - rho).max() > 1e-3  # the gates' depolarizing errors act


def test_nodes_with_the_same_gates_share_one_compiled_move():
    a = NodeHardware(memory=MEMORY, nuclear_spin=REGISTER, name="a")
    b = NodeHardware(memory=MEMORY, nuclear_spin=REGISTER, name="b")
    assert a.storage.move_operation() is b.storage.move_operation()


def test_a_users_noise_model_is_the_nodes_gate_noise_and_the_moves_two_qubit_error():
    from qiskit_aer.noise import NoiseModel, pauli_error

    from qstack.protocols import GateNoise

    model = NoiseModel()
    model.add_all_qubit_quantum_error(pauli_error([("XX", 0.3), ("II", 0.7)]), ["cx"])
    node = NodeHardware(memory=MEMORY, nuclear_spin=REGISTER, noise=model)
    assert isinstance(node.noise, GateNoise) and node.gate_noise is node.noise
    assert node.gate_noise.two_qubit_error().probabilities == pytest.approx([0.3, 0.7])
    assert node.gate_noise.single_qubit_error() is None  # the model gives none: ideal, not the memory's
    # the move's three CNOTs carry the user's error: |1> on the electron moves with XX flips
    moved = evolve(node.storage.move_operation(), np.diag([0.0, 1.0, 0.0, 0.0]).astype(complex))
    default = evolve(NodeHardware(memory=MEMORY, nuclear_spin=REGISTER).storage.move_operation(),
                     np.diag([0.0, 1.0, 0.0, 0.0]).astype(complex))
    assert not np.allclose(moved, default)
    assert NodeHardware(memory=MEMORY).gate_noise == GateNoise.from_memory(MEMORY)
    with pytest.raises(ValueError, match="NodeHardware.noise"):
        NodeHardware(memory=MEMORY, noise=0.99)


def test_a_pair_kept_in_the_communication_qubit_never_moves_and_relaxes_with_the_electron():
    node = NodeHardware(memory=MEMORY, emitter=Emitter(emission_time_s=5e-6), nuclear_spin=REGISTER,
                        pair_storage="communication_qubit")
    storage = node.storage
    assert storage.communication == storage.storage == Relaxation(3600.0, 1.58)  # the electron's T1/T2
    assert not storage.moves and storage.move_operation() is None and storage.move_time_s == 0.0
    assert storage.register is None and storage.attempt_dephasing(100, 0.5) is None  # no stored nuclear spin
    assert (storage.capacity, storage.device) == (MEMORY.communication_qubits, "memory")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"pair_storage": "communication_qubit"}, "needs a nuclear-spin register"),
    ({"pair_storage": "carbon", "nuclear_spin": REGISTER}, "pair_storage must be one of register, communication_qubit"),
])
def test_a_pair_storage_that_cannot_apply_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NodeHardware(memory=MEMORY, **kwargs)
