"""Entanglement swapping: closed forms, linear optics, noise, and the two engines agreeing."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from qiskit.quantum_info import DensityMatrix, state_fidelity

from qstack.engine import StateRegistry
from qstack.protocols import GateNoise, swap, swap_operation, swap_succeeded, swap_with_probability
from qstack.protocols.swapping import PARITY_BIT, PHASE_BIT

from protocol_states import (
    DEJMPS_ORDER,
    PHI_MINUS,
    PHI_PLUS,
    PSI_MINUS,
    PSI_PLUS,
    assert_physical,
    bell_diagonal,
    bell_diagonal_coefficients,
    gate_noise,
    projector,
    random_rho,
    seeds,
    werner,
)

BSMS = ("deterministic", "linear_optics")


def _table(operation, rho_ab, rho_cd):
    registry = StateRegistry(np.random.default_rng(0))
    qubits = registry.new_qubits(list("abcd"), rho=np.kron(rho_cd, rho_ab))
    return registry.outcome_table(operation, qubits)


# --------------------------------------------------------------------------- ideal closed forms
@pytest.mark.parametrize("w1,w2", [(1.0, 1.0), (0.9, 0.8), (0.5, 0.3), (0.0, 0.7), (0.95, 0.0)])
def test_swap_of_werner_pairs_multiplies_werner_parameters(w1, w2):
    out = swap(werner(w1), werner(w2))
    np.testing.assert_allclose(out.data, werner(w1 * w2), atol=1e-12)


def test_swap_of_two_phi_plus_gives_phi_plus_on_the_outer_qubits():
    out = swap(DensityMatrix(PHI_PLUS), DensityMatrix(PHI_PLUS))
    assert state_fidelity(out, PHI_PLUS) == pytest.approx(1.0, abs=1e-12)


def test_every_bell_outcome_is_equally_likely_and_corrected_to_phi_plus():
    table = _table(swap_operation(), projector(PHI_PLUS), projector(PHI_PLUS))
    assert sorted(outcome for outcome, _, _ in table) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for _, probability, rho in table:
        assert probability == pytest.approx(0.25, abs=1e-12)
        np.testing.assert_allclose(rho, projector(PHI_PLUS), atol=1e-12)


def test_outcome_bits_name_the_bell_state_of_the_inner_qubits():
    registry = StateRegistry(np.random.default_rng(0))
    expected = {(0, 0): PHI_PLUS, (1, 0): PHI_MINUS, (0, 1): PSI_PLUS, (1, 1): PSI_MINUS}
    for (phase, parity), bell in expected.items():
        # b and c hold the Bell state; a and d are spectators in |0>.
        state = np.kron(np.kron(np.diag([1.0, 0.0]), projector(bell)), np.diag([1.0, 0.0]))
        table = registry.outcome_table(swap_operation(), registry.new_qubits(list("abcd"), rho=state))
        assert [(o, round(p, 12)) for o, p, _ in table] == [((phase, parity), 1.0)]
    assert (PHASE_BIT, PARITY_BIT) == (0, 1)


@pytest.mark.parametrize("links", [2, 3, 5, 8])
def test_chain_of_werner_links_has_fidelity_quarter_plus_three_quarters_w_to_the_n(links):
    w = 0.93
    state = werner(w)
    for _ in range(links - 1):
        state = swap(state, werner(w))
    assert state_fidelity(state, PHI_PLUS) == pytest.approx(0.25 + 0.75 * w**links, abs=1e-12)


@pytest.mark.parametrize("i,j", list(itertools.product(range(4), repeat=2)))
def test_swap_of_bell_states_composes_their_paulis(i, j):
    # Bell states are Pauli frames of Phi+: B = (P (x) I) Phi+; swapping multiplies the Paulis.
    paulis = {0: "I", 1: "XZ", 2: "X", 3: "Z"}  # DEJMPS order: Phi+, Psi-, Psi+, Phi-
    flips = {"I": (0, 0), "XZ": (1, 1), "X": (1, 0), "Z": (0, 1)}
    x, z = (a ^ b for a, b in zip(flips[paulis[i]], flips[paulis[j]]))
    expected = {(0, 0): PHI_PLUS, (1, 1): PSI_MINUS, (1, 0): PSI_PLUS, (0, 1): PHI_MINUS}[(x, z)]
    out = swap(projector(DEJMPS_ORDER[i]), projector(DEJMPS_ORDER[j]))
    assert state_fidelity(out, expected) == pytest.approx(1.0, abs=1e-12)


# --------------------------------------------------------------------------- linear optics
def test_linear_optics_distinguishes_only_the_psi_states():
    table = _table(swap_operation(bsm="linear_optics"), projector(PHI_PLUS), projector(PHI_PLUS))
    outcomes = {outcome: (p, rho) for outcome, p, rho in table}
    assert set(outcomes) == {(0, 0), (0, 1), (1, 1)}
    assert not swap_succeeded((0, 0), "linear_optics")
    assert swap_succeeded((0, 1), "linear_optics") and swap_succeeded((1, 1), "linear_optics")
    assert all(swap_succeeded(o) for o in itertools.product((0, 1), repeat=2))
    for success in ((0, 1), (1, 1)):
        assert outcomes[success][0] == pytest.approx(0.25, abs=1e-12)
        np.testing.assert_allclose(outcomes[success][1], projector(PHI_PLUS), atol=1e-12)
    # Failure: the inner pair was Phi+ or Phi-, unresolved; the outer pair keeps that mixture.
    failure_p, failure_rho = outcomes[(0, 0)]
    assert failure_p == pytest.approx(0.5, abs=1e-12)
    np.testing.assert_allclose(failure_rho, (projector(PHI_PLUS) + projector(PHI_MINUS)) / 2, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(bell_diagonal_coefficients(), bell_diagonal_coefficients(), gate_noise())
def test_linear_optics_succeeds_with_probability_one_half_on_bell_diagonal_inputs(c1, c2, noise):
    for gates in (GateNoise(), noise):
        _, probability = swap_with_probability(bell_diagonal(c1), bell_diagonal(c2), gates, bsm="linear_optics")
        assert probability == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_linear_optics_success_probability_on_any_input_is_that_of_unequal_inner_bits(seed):
    # Success = the inner qubits b and c (independent, one from each pair) read different bits.
    rho_ab, rho_cd = random_rho(seed), random_rho(50 + seed)
    b_one = np.real(rho_ab[2, 2] + rho_ab[3, 3])  # qubit 1 of (a, b) in |1>
    c_one = np.real(rho_cd[1, 1] + rho_cd[3, 3])  # qubit 0 of (c, d) in |1>
    _, probability = swap_with_probability(rho_ab, rho_cd, bsm="linear_optics")
    assert probability == pytest.approx(b_one * (1 - c_one) + (1 - b_one) * c_one, abs=1e-12)


@pytest.mark.parametrize("w1,w2", [(1.0, 1.0), (0.9, 0.8), (0.4, 0.6)])
def test_linear_optics_swap_on_success_equals_the_deterministic_swap_for_werner_pairs(w1, w2):
    lo = swap(werner(w1), werner(w2), bsm="linear_optics")
    np.testing.assert_allclose(lo.data, swap(werner(w1), werner(w2)).data, atol=1e-12)
    np.testing.assert_allclose(lo.data, werner(w1 * w2), atol=1e-12)


# --------------------------------------------------------------------------- noise
@settings(max_examples=30, deadline=None)
@given(bell_diagonal_coefficients(min_phi_plus=0.75), bell_diagonal_coefficients(min_phi_plus=0.75), gate_noise(), seeds)
def test_noisy_swap_has_lower_fidelity_and_stays_physical(c1, c2, noise, seed):
    for bsm in BSMS:
        ideal = swap(bell_diagonal(c1), bell_diagonal(c2), bsm=bsm)
        noisy = swap(bell_diagonal(c1), bell_diagonal(c2), noise, bsm=bsm)
        assert state_fidelity(noisy, PHI_PLUS) < state_fidelity(ideal, PHI_PLUS) - 1e-9
        assert_physical(noisy)
        assert_physical(swap(random_rho(seed), random_rho(seed + 1), noise, bsm=bsm))


def test_two_qubit_depolarizing_on_the_bell_measurement_shrinks_the_werner_parameter():
    # With probability p the inner pair is replaced by I/4: the outer pair ends maximally mixed.
    p = 0.12
    out = swap(werner(0.9), werner(0.8), two_qubit_depolarizing=p)
    np.testing.assert_allclose(out.data, werner((1 - p) * 0.72), atol=1e-12)


@pytest.mark.parametrize("bsm", BSMS)
def test_measurement_flips_apply_the_wrong_pauli_correction(bsm):
    # Linear optics: a flipped parity heralds a Phi state as Psi; success stays 1/2.
    f = 0.1
    out, probability = swap_with_probability(projector(PHI_PLUS), projector(PHI_PLUS), bsm=bsm, measurement_flip=f)
    expected = (
        (1 - f) ** 2 * projector(PHI_PLUS)
        + f * (1 - f) * (projector(PSI_PLUS) + projector(PHI_MINUS))
        + f**2 * projector(PSI_MINUS)
    )
    np.testing.assert_allclose(out.data, expected, atol=1e-12)
    assert probability == pytest.approx(1.0 if bsm == "deterministic" else 0.5, abs=1e-12)


@pytest.mark.parametrize("bsm", BSMS)
def test_one_qubit_depolarizing_after_the_hadamard_randomises_the_phase_bit(bsm):
    # With probability p the phase qubit is replaced by I/2: its readout is wrong half the time.
    p = 0.2
    out = swap(projector(PHI_PLUS), projector(PHI_PLUS), bsm=bsm, single_qubit_depolarizing=p)
    np.testing.assert_allclose(out.data, (1 - p / 2) * projector(PHI_PLUS) + p / 2 * projector(PHI_MINUS), atol=1e-12)


# --------------------------------------------------------------------------- engines
@pytest.mark.parametrize("bsm", BSMS)
@pytest.mark.parametrize("seed", range(4))
def test_fast_and_aer_engines_agree_on_the_swap(bsm, seed):
    operation = swap_operation(GateNoise(0.04, 0.02, 0.03), bsm)
    rho = np.kron(random_rho(100 + seed), random_rho(seed))
    aer = StateRegistry(np.random.default_rng(seed), engine="aer")
    qa = list(aer.new_qubits(list("abcd"), rho=rho))
    outcome = aer.apply(operation, qa)
    fast = StateRegistry(np.random.default_rng(seed), engine="fast")
    qf = list(fast.new_qubits(list("abcd"), rho=rho))
    assert fast.apply(operation, qf, outcome=outcome) == outcome
    np.testing.assert_allclose(fast.density_matrix([qf[0], qf[3]]), aer.density_matrix([qa[0], qa[3]]), atol=1e-9)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"rho_ab": np.eye(2) / 2}, "rho_ab"),
        ({"rho_cd": np.eye(8) / 8}, "rho_cd"),
        ({"rho_ab": np.eye(4)}, "rho_ab.*trace"),
        ({"rho_cd": np.diag([1.5, -0.5, 0, 0])}, "rho_cd.*positive"),
        ({"rho_ab": np.triu(np.ones((4, 4))) / 4}, "rho_ab.*Hermitian"),
        ({"bsm": "hom"}, "bsm"),
        ({"measurement_flip": 1.2}, "measurement_flip"),
        ({"two_qubit_depolarizing": -0.1}, "two_qubit_depolarizing"),
        ({"noise": 0.1}, "noise"),
    ],
)
def test_bad_input_is_refused_naming_it(kwargs, match):
    arguments = {"rho_ab": werner(0.9), "rho_cd": werner(0.9)} | kwargs
    with pytest.raises(ValueError, match=match):
        swap(**arguments)


def test_swap_operation_refuses_an_unknown_bell_measurement():
    with pytest.raises(ValueError, match="bsm"):
        swap_operation(bsm="bogus")
