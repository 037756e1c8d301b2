"""Teleportation: closed forms through Bell-diagonal pairs, gate noise, the two engines agreeing."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from qiskit.quantum_info import DensityMatrix, Statevector, random_density_matrix, random_statevector, state_fidelity

from qstack.engine import StateRegistry
from qstack.protocols import GateNoise, teleport, teleportation_circuit, teleportation_operation
from qstack.protocols.teleportation import PARITY_BIT, PHASE_BIT

from protocol_states import (
    DEJMPS_ORDER,
    PHI_MINUS,
    PHI_PLUS,
    PSI_MINUS,
    PSI_PLUS,
    bell_diagonal,
    bell_diagonal_coefficients,
    gate_noise,
    projector,
    random_rho,
    registry_mean,
    seeds,
    werner,
    werner_of_fidelity,
)

I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
Z = np.diag([1.0, -1.0]).astype(complex)
_S = 1 / math.sqrt(2)
# The six Pauli eigenstates: a 2-design, so averaging over them is averaging over Haar-random states.
PAULI_EIGENSTATES = [
    Statevector(v)
    for v in ([1, 0], [0, 1], [_S, _S], [_S, -_S], [_S, 1j * _S], [_S, -1j * _S])
]


def pauli(rho, p):
    return p @ rho @ p.conj().T


def _table(state, pair, noise=GateNoise()):
    registry = StateRegistry(np.random.default_rng(0))
    qubits = registry.new_qubits(["s", "a", "b"], rho=np.kron(pair, state))
    return registry.outcome_table(teleportation_operation(noise), qubits)


# --------------------------------------------------------------------------- ideal closed forms
@settings(max_examples=40, deadline=None)
@given(seeds)
def test_an_ideal_pair_teleports_any_state_exactly(seed):
    pure = random_statevector(2, seed=seed)
    mixed = random_density_matrix(2, seed=seed)
    np.testing.assert_allclose(teleport(pure, DensityMatrix(PHI_PLUS)).data, DensityMatrix(pure).data, atol=1e-12)
    np.testing.assert_allclose(teleport(mixed, projector(PHI_PLUS)).data, mixed.data, atol=1e-12)


def test_every_outcome_has_probability_one_quarter_and_is_corrected_to_the_input():
    state = random_density_matrix(2, seed=3).data
    table = _table(state, projector(PHI_PLUS))
    assert sorted(outcome for outcome, _, _ in table) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for _, probability, rho in table:
        assert probability == pytest.approx(0.25, abs=1e-12)
        np.testing.assert_allclose(rho, state, atol=1e-12)


def test_outcome_bits_name_the_bell_state_of_the_measured_qubits():
    expected = {(0, 0): PHI_PLUS, (1, 0): PHI_MINUS, (0, 1): PSI_PLUS, (1, 1): PSI_MINUS}
    registry = StateRegistry(np.random.default_rng(0))
    for (phase, parity), bell in expected.items():
        # s and a hold the Bell state; b is a spectator in |0>.
        state = np.kron(np.diag([1.0, 0.0]), projector(bell))
        table = registry.outcome_table(teleportation_operation(), registry.new_qubits(["s", "a", "b"], rho=state))
        assert [(o, round(p, 12)) for o, p, _ in table] == [((phase, parity), 1.0)]
    assert (PHASE_BIT, PARITY_BIT) == (0, 1)


@pytest.mark.parametrize("fidelity", [1.0, 0.95, 0.8, 0.5, 0.25])
def test_average_fidelity_through_a_werner_pair_is_two_f_plus_one_over_three(fidelity):
    pair = werner_of_fidelity(fidelity)
    average = np.mean([state_fidelity(teleport(v, pair), v) for v in PAULI_EIGENSTATES])
    assert average == pytest.approx((2 * fidelity + 1) / 3, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(seeds)
def test_a_werner_pair_makes_teleportation_a_depolarizing_channel(seed):
    w = 0.37 + 0.6 * (seed % 1000) / 1000
    state = random_density_matrix(2, seed=seed).data
    np.testing.assert_allclose(teleport(state, werner(w)).data, w * state + (1 - w) * I2 / 2, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(bell_diagonal_coefficients(), seeds)
def test_a_bell_diagonal_pair_applies_its_pauli_errors_to_the_teleported_state(c, seed):
    # DEJMPS order (Phi+, Psi-, Psi+, Phi-) = (I, Y, X, Z) applied to the receiver's half of Phi+.
    state = random_density_matrix(2, seed=seed).data
    expected = c[0] * state + c[1] * pauli(state, Y) + c[2] * pauli(state, X) + c[3] * pauli(state, Z)
    np.testing.assert_allclose(teleport(state, bell_diagonal(c)).data, expected, atol=1e-12)


def test_pair_given_as_density_matrix_or_array_or_statevector_input_agree():
    v = random_statevector(2, seed=7)
    a = teleport(v, werner(0.8))
    b = teleport(DensityMatrix(v), DensityMatrix(werner(0.8)))
    c = teleport(v.data, werner(0.8))
    np.testing.assert_allclose(a.data, b.data, atol=1e-14)
    np.testing.assert_allclose(a.data, c.data, atol=1e-14)
    assert a.num_qubits == 1


# --------------------------------------------------------------------------- noise
@settings(max_examples=20, deadline=None)
@given(gate_noise())
def test_noisy_gates_lower_the_average_fidelity(noise):
    for pair in (projector(PHI_PLUS), werner_of_fidelity(0.9)):
        ideal = np.mean([state_fidelity(teleport(v, pair), v) for v in PAULI_EIGENSTATES])
        noisy = np.mean([state_fidelity(teleport(v, pair, noise), v) for v in PAULI_EIGENSTATES])
        assert noisy < ideal - 1e-9


def test_measurement_flips_apply_the_wrong_pauli_correction():
    f = 0.1
    state = random_density_matrix(2, seed=11).data
    out = teleport(state, projector(PHI_PLUS), measurement_flip=f)
    expected = (1 - f) ** 2 * state + f * (1 - f) * (pauli(state, X) + pauli(state, Z)) + f**2 * pauli(state, Y)
    np.testing.assert_allclose(out.data, expected, atol=1e-12)


def test_two_qubit_depolarizing_on_the_bell_measurement_depolarizes_the_output():
    # With probability p the measured pair is replaced by I/4: the outcome says nothing, b is I/2.
    p = 0.15
    state = random_density_matrix(2, seed=12).data
    out = teleport(state, projector(PHI_PLUS), two_qubit_depolarizing=p)
    np.testing.assert_allclose(out.data, (1 - p) * state + p * I2 / 2, atol=1e-12)


def test_one_qubit_depolarizing_after_the_hadamard_randomises_the_phase_correction():
    p = 0.2
    state = random_density_matrix(2, seed=13).data
    out = teleport(state, projector(PHI_PLUS), single_qubit_depolarizing=p)
    np.testing.assert_allclose(out.data, (1 - p / 2) * state + p / 2 * pauli(state, Z), atol=1e-12)


# --------------------------------------------------------------------------- engines
@pytest.mark.parametrize("seed", range(4))
def test_fast_and_aer_engines_agree_on_teleportation(seed):
    operation = teleportation_operation(GateNoise(0.04, 0.02, 0.03))
    rho = np.kron(random_rho(seed), random_density_matrix(2, seed=100 + seed).data)
    aer = StateRegistry(np.random.default_rng(seed), engine="aer")
    qa = aer.new_qubits(["s", "a", "b"], rho=rho)
    outcome = aer.apply(operation, qa)
    fast = StateRegistry(np.random.default_rng(seed), engine="fast")
    qf = fast.new_qubits(["s", "a", "b"], rho=rho)
    assert fast.apply(operation, qf, outcome=outcome) == outcome
    np.testing.assert_allclose(fast.density_matrix([qf[2]]), aer.density_matrix([qa[2]]), atol=1e-9)


def test_the_circuit_is_a_copy_of_the_cached_operation_circuit():
    noise = GateNoise(0.01, 0.0, 0.02)
    circuit = teleportation_circuit(noise)
    assert circuit == teleportation_operation(noise).circuit
    assert circuit is not teleportation_operation(noise).circuit
    assert teleportation_operation(noise) is teleportation_operation(noise)
    assert (circuit.num_qubits, circuit.num_clbits) == (3, 2)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"state": np.eye(4) / 4}, "state"),
        ({"state": np.array([1.0, 1.0])}, "state.*unit"),
        ({"state": np.eye(2)}, "state.*trace"),
        ({"state": np.diag([1.5, -0.5])}, "state.*positive"),
        ({"pair": np.eye(2) / 2}, "pair"),
        ({"pair": np.diag([1.5, -0.5, 0, 0])}, "pair.*positive"),
        ({"measurement_flip": 1.2}, "measurement_flip"),
        ({"noise": 0.1}, "noise"),
    ],
)
def test_bad_input_is_refused_naming_it(kwargs, match):
    arguments = {"state": PAULI_EIGENSTATES[2], "pair": werner(0.9)} | kwargs
    with pytest.raises(ValueError, match=match):
        teleport(**arguments)


def test_teleportation_operation_refuses_noise_that_is_not_gate_noise():
    with pytest.raises(ValueError, match="noise"):
        teleportation_operation(0.1)


def test_dejmps_order_matches_the_pauli_frames_used_above():
    for bell, p in zip(DEJMPS_ORDER, (I2, Y, X, Z)):
        framed = np.kron(p, I2) @ PHI_PLUS.data  # receiver's half is qubit 1 (the high factor)
        assert abs(np.vdot(bell.data, framed)) == pytest.approx(1.0, abs=1e-12)


# --------------------------------------------------------------------------- exact outcomes
NOISY = GateNoise(0.02, 0.01, 0.015)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_teleport_is_the_outcome_average_of_its_operation_on_input_and_pair(seed):
    """teleport() runs its operation through qstack.engine.outcomes on (s, a, b): the numbers of a
    registry holding the input and the pair as two groups (random states: any mix-up of the
    qubits shows)."""
    state, pair = random_density_matrix(2, seed=seed).data, random_rho(seed + 100)
    expected = registry_mean(teleportation_operation(NOISY), [(["s"], state), (["a", "b"], pair)], ["s", "a", "b"])
    np.testing.assert_allclose(teleport(state, pair, NOISY).data, expected, atol=1e-12, rtol=0)
