"""A node's noise as an Aer NoiseModel, checked on Aer's density-matrix simulator against the
engine; a user's NoiseModel read back as gate noise."""

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import random_density_matrix
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, ReadoutError, amplitude_damping_error, depolarizing_error, pauli_error

from qstack.engine import Operation, StateRegistry, outcomes
from qstack.hardware import Memory
from qstack.physical import NodeHardware
from qstack.protocols import GateNoise, swap, swap_operation
from qstack.protocols._common import NoisyCircuit
from qstack.protocols.aer_noise import gate_noise_from_model
from qstack.protocols.noise import GateErrors

GATE_TIMES = {"single_qubit_gate_time_s": 1e-6, "two_qubit_gate_time_s": 2e-5, "measurement_time_s": 5e-6}
NODE = NodeHardware(memory=Memory(
    t1_s=1e-3, t2_s=5e-4, capacity=4, single_qubit_gate_fidelity=0.995, two_qubit_gate_fidelity=0.97,
    measurement_fidelity=0.96, **GATE_TIMES))
RHO = random_density_matrix(16, seed=7).data  # four qubits (a1, b1, a2, b2), Qiskit order


def _dejmps_layers(noise: GateNoise):
    """The DEJMPS gates in two layers that touch every qubit: the rotations, then the bilateral CNOT."""
    rotations = QuantumCircuit(4)
    for qubit, angle in ((0, math.pi / 2), (2, math.pi / 2), (1, -math.pi / 2), (3, -math.pi / 2)):
        rotations.rx(angle, qubit)
        NoisyCircuit(rotations, noise).after_one(qubit)
    cnots = QuantumCircuit(4)
    for control, target in ((0, 2), (1, 3)):
        cnots.cx(control, target)
        NoisyCircuit(cnots, noise).after_two(control, target)
    return [(rotations, GATE_TIMES["single_qubit_gate_time_s"]), (cnots, GATE_TIMES["two_qubit_gate_time_s"])]


def _engine(idle: bool) -> np.ndarray:
    """The engine's own operations, layer by layer; its lazy idle ages every stored qubit for the
    layer's duration (all four are in each layer, as on Aer)."""
    now = [0.0]
    registry = StateRegistry(np.random.default_rng(1), clock=lambda: now[0], bell_diagonal=False)
    qubits = registry.new_qubits(["a1", "b1", "a2", "b2"], idle=NODE.storage.storage if idle else None, rho=RHO)
    for circuit, duration_s in _dejmps_layers(NODE.gate_noise):
        registry.apply(Operation(circuit), qubits)
        now[0] += duration_s
    return registry.density_matrix(qubits)


def _aer(noise_model: NoiseModel) -> np.ndarray:
    circuit = QuantumCircuit(4)
    circuit.set_density_matrix(RHO)
    for layer, _ in _dejmps_layers(GateNoise()):  # ideal gates: the noise model adds the noise
        circuit.compose(layer, inplace=True)
    circuit.save_density_matrix()
    result = AerSimulator(method="density_matrix", noise_model=noise_model).run(circuit, shots=1).result()
    return np.asarray(result.data()["density_matrix"])


@pytest.mark.parametrize("idle", [False, True])
def test_node_noise_model_on_aer_gives_the_engines_state(idle):
    expected = _engine(idle)
    assert np.abs(_aer(NODE.noise_model(idle=idle)) - expected).max() < 1e-9
    if idle:  # the idle part is there and matters at this size
        assert np.abs(_engine(False) - expected).max() > 1e-4


def test_node_noise_model_puts_noise_on_the_protocols_gates_and_readout():
    model = NODE.noise_model()
    assert set(model.noise_instructions) == {"cx", "h", "rx", "measure"}
    assert {"cx", "h", "rx", "x", "z"} <= set(model.basis_gates)  # corrections kept as written
    readout = [e for e in model.to_dict()["errors"] if e["type"] == "roerror"]
    assert np.allclose(readout[0]["probabilities"], [[0.96, 0.04], [0.04, 0.96]])


def test_readout_of_the_noise_model_gives_the_engines_swap_outcome_probabilities():
    """Aer's exact pre-readout probabilities of the Bell measurement, through the model's
    confusion matrix, are the engine's outcome probabilities (its readout is a bit flip)."""
    model = NODE.noise_model(idle=False)
    circuit = QuantumCircuit(4)
    circuit.set_density_matrix(RHO)
    circuit.cx(1, 2)
    circuit.h(1)
    circuit.save_probabilities([1, 2])  # (phase, parity) as clbits (0, 1)
    raw = AerSimulator(method="density_matrix", noise_model=model).run(circuit, shots=1).result().data()["probabilities"]
    confusion = np.array([e for e in model.to_dict()["errors"] if e["type"] == "roerror"][0]["probabilities"])
    reported = np.kron(confusion, confusion).T @ np.asarray(raw)  # index: parity * 2 + phase
    engine = {o.outcome: o.probability for o in outcomes(swap_operation(NODE.gate_noise), RHO)}
    for index, p in enumerate(reported):
        assert engine[(index & 1, index >> 1)] == pytest.approx(p, abs=1e-9)


def test_a_model_read_back_gives_the_same_swap_as_the_nodes_own_noise():
    read_back = gate_noise_from_model(NODE.noise_model(idle=False))
    assert read_back.errors is not None and read_back.two_qubit_depolarizing == 0.0
    rho_ab, rho_cd = random_density_matrix(4, seed=3), random_density_matrix(4, seed=4)
    assert np.abs(swap(rho_ab, rho_cd, read_back).data - swap(rho_ab, rho_cd, NODE.gate_noise).data).max() < 1e-12


def test_user_errors_replace_the_depolarizing_channels_of_their_kind():
    z_on_first = pauli_error([("IZ", 0.1), ("II", 0.9)])
    noise = GateNoise.from_memory(NODE.memory).with_errors(GateErrors(two_qubit=z_on_first))
    assert noise.two_qubit_error() is z_on_first and noise.two_qubit_depolarizing == 0.0
    assert noise.single_qubit_depolarizing == pytest.approx(0.01)  # kept from the memory
    assert noise == GateNoise.from_memory(NODE.memory).with_errors(GateErrors(two_qubit=pauli_error([("IZ", 0.1), ("II", 0.9)])))
    assert hash(noise) == hash(GateNoise.from_memory(NODE.memory).with_errors(GateErrors(two_qubit=z_on_first)))
    with pytest.raises(ValueError, match="two_qubit_depolarizing must be 0"):
        GateNoise(two_qubit_depolarizing=0.1, errors=GateErrors(two_qubit=z_on_first))
    with pytest.raises(ValueError, match="must act on 2 qubit"):
        GateErrors(two_qubit=depolarizing_error(0.1, 1))


def test_a_user_readout_error_acts_as_its_confusion_matrix():
    readout = ReadoutError([[0.9, 0.1], [0.3, 0.7]])
    operation = Operation(_measure_one(GateNoise(errors=GateErrors(readout=readout))))
    for prepared, row in ((np.diag([1.0, 0.0]), [0.9, 0.1]), (np.diag([0.0, 1.0]), [0.3, 0.7])):
        probabilities = {o.outcome: o.probability for o in outcomes(operation, prepared.astype(complex))}
        assert [probabilities[(0,)], probabilities[(1,)]] == pytest.approx(row, abs=1e-12)


def _measure_one(noise: GateNoise) -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1)
    NoisyCircuit(circuit, noise).measure(0, 0)
    return circuit


@pytest.mark.parametrize("build, match", [
    (lambda m: m.add_quantum_error(depolarizing_error(0.1, 2), ["cx"], [0, 1]), "particular qubits"),
    (lambda m: m.add_all_qubit_quantum_error(depolarizing_error(0.1, 1), ["sx"]), "'sx'"),
    (lambda m: m.add_all_qubit_quantum_error(depolarizing_error(0.1, 1), ["x"]), "Pauli-frame"),
    (lambda m: m.add_all_qubit_quantum_error(depolarizing_error(0.1, 1), ["h"]), "same error"),
])
def test_a_noise_model_the_protocols_cannot_honour_is_refused(build, match):
    model = NoiseModel()
    build(model)
    with pytest.raises(ValueError, match=match):
        gate_noise_from_model(model)


def test_a_user_model_with_the_same_one_qubit_error_on_h_and_rx_is_read():
    model = NoiseModel()
    damping = amplitude_damping_error(0.2)
    model.add_all_qubit_quantum_error(damping, ["h", "rx"])
    noise = gate_noise_from_model(model)
    assert noise.single_qubit_error().to_quantumchannel() == damping.to_quantumchannel()
    assert noise.two_qubit_error() is None and noise.measurement_error() is None
    assert gate_noise_from_model(NoiseModel()) == GateNoise()
