"""Purification (BBPSSW, DEJMPS), recurrence and pumping: closed forms, noise, engines."""

import numpy as np
import pytest
from hypothesis import given, settings
from qiskit.quantum_info import DensityMatrix, state_fidelity

from qstack.engine import StateRegistry
from qstack.protocols import GateNoise, pump, purification_operation, purify, purify_rounds
from qstack.protocols.purification import purification_succeeded, werner_twirl

from protocol_states import (
    PHI_PLUS,
    PSI_PLUS,
    assert_physical,
    bell_coefficients,
    bell_diagonal,
    bell_diagonal_coefficients,
    gate_noise,
    off_bell_diagonal,
    projector,
    random_rho,
    seeds,
    werner_of_fidelity,
)

METHODS = ("bbpssw", "dejmps")


def dejmps_map(c1, c2):
    """DEJMPS on two Bell-diagonal pairs, coefficients (A, B, C, D) on (Phi+, Psi-, Psi+, Phi-).

    For equal inputs this is the paper's A' = (A^2+B^2)/N, B' = 2CD/N, C' = (C^2+D^2)/N,
    D' = 2AB/N, N = (A+B)^2 + (C+D)^2.
    """
    a1, b1, c1_, d1 = c1
    a2, b2, c2_, d2 = c2
    n = (a1 + b1) * (a2 + b2) + (c1_ + d1) * (c2_ + d2)
    return np.array([a1 * a2 + b1 * b2, c1_ * d2 + d1 * c2_, c1_ * c2_ + d1 * d2, a1 * b2 + b1 * a2]) / n, n


def bbpssw_fidelity(f):
    """One BBPSSW round on two Werner pairs of fidelity f: (F', success probability)."""
    q = (1 - f) / 3
    n = f**2 + 2 * f * (1 - f) / 3 + 5 * q**2
    return (f**2 + q**2) / n, n


def bbpssw_map(f1, f2):
    """BBPSSW on Werner pairs of fidelities f1, f2: output coefficients in DEJMPS order, N."""
    q1, q2 = (1 - f1) / 3, (1 - f2) / 3
    n = (f1 + q1) * (f2 + q2) + 4 * q1 * q2
    return np.array([f1 * f2 + q1 * q2, 2 * q1 * q2, 2 * q1 * q2, f1 * q2 + q1 * f2]) / n, n


# --------------------------------------------------------------------------- the twirl
@pytest.mark.parametrize("seed", range(5))
def test_bilateral_twirl_brings_any_pair_to_werner_form_about_phi_plus(seed):
    rho = random_rho(seed)
    fidelity = state_fidelity(DensityMatrix(rho), PHI_PLUS)
    twirled = DensityMatrix(rho).evolve(werner_twirl())
    expected = fidelity * projector(PHI_PLUS) + (1 - fidelity) * (np.eye(4) - projector(PHI_PLUS)) / 3
    np.testing.assert_allclose(twirled.data, expected, atol=1e-12)


def test_twirl_averages_twelve_bilateral_rotations_that_fix_phi_plus():
    operators = werner_twirl().data
    assert len(operators) == 12
    for k in operators:
        unitary = np.sqrt(12) * k
        np.testing.assert_allclose(unitary @ unitary.conj().T, np.eye(4), atol=1e-12)
        assert abs(PHI_PLUS.data.conj() @ unitary @ PHI_PLUS.data) == pytest.approx(1.0, abs=1e-12)


# --------------------------------------------------------------------------- BBPSSW
@pytest.mark.parametrize("f", [0.3, 0.5, 0.6, 0.75, 0.9, 0.99, 1.0])
def test_bbpssw_on_werner_pairs_follows_the_bennett_recurrence(f):
    out, probability = purify(werner_of_fidelity(f), werner_of_fidelity(f), "bbpssw")
    expected_f, expected_p = bbpssw_fidelity(f)
    assert state_fidelity(out, PHI_PLUS) == pytest.approx(expected_f, abs=1e-12)
    assert probability == pytest.approx(expected_p, abs=1e-12)
    q = (1 - f) / 3  # the rest of the output: Phi- from one phase flip, Psi's from bit flips
    np.testing.assert_allclose(
        bell_coefficients(out), np.array([f**2 + q**2, 2 * q**2, 2 * q**2, 2 * f * q]) / expected_p, atol=1e-12
    )


@settings(max_examples=30, deadline=None)
@given(bell_diagonal_coefficients(), seeds)
def test_bbpssw_twirls_first_so_only_the_input_fidelity_matters(coefficients, seed):
    f = coefficients[0]
    reference, p_reference = purify(werner_of_fidelity(f), werner_of_fidelity(f), "bbpssw")
    out, probability = purify(bell_diagonal(coefficients), bell_diagonal(coefficients), "bbpssw")
    np.testing.assert_allclose(out.data, reference.data, atol=1e-12)
    assert probability == pytest.approx(p_reference, abs=1e-12)
    rho = random_rho(seed)
    f_rho = state_fidelity(DensityMatrix(rho), PHI_PLUS)
    out_rho, _ = purify(rho, rho, "bbpssw")
    assert state_fidelity(out_rho, PHI_PLUS) == pytest.approx(bbpssw_fidelity(f_rho)[0], abs=1e-12)


@pytest.mark.parametrize("f", [0.6, 0.8])
def test_bbpssw_recurrence_iterates_the_werner_map(f):
    out, total = purify_rounds(werner_of_fidelity(f), 3, "bbpssw")
    expected_f, expected_total = f, 1.0
    for _ in range(3):
        expected_f, p = bbpssw_fidelity(expected_f)
        expected_total = expected_total**2 * p
    assert state_fidelity(out, PHI_PLUS) == pytest.approx(expected_f, abs=1e-12)
    assert total == pytest.approx(expected_total, abs=1e-12)


# --------------------------------------------------------------------------- DEJMPS
@settings(max_examples=30, deadline=None)
@given(bell_diagonal_coefficients())
def test_dejmps_on_bell_diagonal_pairs_follows_the_deutsch_recurrence(coefficients):
    out, probability = purify(bell_diagonal(coefficients), bell_diagonal(coefficients), "dejmps")
    expected, n = dejmps_map(coefficients, coefficients)
    np.testing.assert_allclose(bell_coefficients(out), expected, atol=1e-12)
    assert probability == pytest.approx(n, abs=1e-12)
    assert off_bell_diagonal(out) < 1e-12


def test_dejmps_labels_b_and_d_are_psi_minus_and_phi_minus():
    # A Phi+/Psi- mixture (A = B = 1/2) is purified with certainty into Phi+/Phi- (D' = 2AB/N):
    # with these rotations the paper's B is Psi- and its D is Phi-. Without the rotations the
    # Psi- halves would make the readouts disagree half of the time.
    out, probability = purify(bell_diagonal([0.5, 0.5, 0, 0]), bell_diagonal([0.5, 0.5, 0, 0]), "dejmps")
    np.testing.assert_allclose(bell_coefficients(out), [0.5, 0, 0, 0.5], atol=1e-12)
    assert probability == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_dejmps_recurrence_iterates_the_deutsch_map(seed):
    rng = np.random.default_rng(seed)
    coefficients = np.concatenate([[0.7], 0.3 * rng.dirichlet(np.ones(3))])
    expected, expected_total = coefficients, 1.0
    for rounds in range(1, 5):
        expected, n = dejmps_map(expected, expected)
        expected_total = expected_total**2 * n
        out, total = purify_rounds(bell_diagonal(coefficients), rounds, "dejmps")
        np.testing.assert_allclose(bell_coefficients(out), expected, atol=1e-10)
        assert total == pytest.approx(expected_total, rel=1e-10)


@pytest.mark.parametrize("method", METHODS)
def test_pumping_purifies_the_kept_pair_with_one_fresh_pair_per_round(method):
    kept = np.array([0.8, 0.1, 0.06, 0.04])
    fresh = np.array([0.75, 0.05, 0.12, 0.08])
    expected, expected_total = kept, 1.0
    for _ in range(4):
        if method == "bbpssw":
            expected, n = bbpssw_map(expected[0], fresh[0])
        else:
            expected, n = dejmps_map(expected, fresh)
        expected_total *= n
    out, total = pump(bell_diagonal(kept), bell_diagonal(fresh), 4, method)
    np.testing.assert_allclose(bell_coefficients(out), expected, atol=1e-12)
    assert total == pytest.approx(expected_total, abs=1e-12)


def test_zero_rounds_return_the_input_with_certainty():
    rho = bell_diagonal([0.8, 0.1, 0.06, 0.04])
    for out, total in (purify_rounds(rho, 0), pump(rho, rho, 0)):
        np.testing.assert_allclose(out.data, rho, atol=1e-15)
        assert total == 1.0


# --------------------------------------------------------------------------- success and failure
@pytest.mark.parametrize("method", METHODS)
def test_success_is_decided_by_agreeing_readouts(method):
    assert purification_succeeded((0, 0)) and purification_succeeded((1, 1))
    assert not purification_succeeded((0, 1)) and not purification_succeeded((1, 0))
    phi = projector(PHI_PLUS)
    assert purify(phi, phi, method)[1] == pytest.approx(1.0, abs=1e-12)
    if method == "dejmps":
        # a bit-flipped sacrificial pair always makes the readouts disagree: both pairs are lost
        with pytest.raises(ValueError, match="no accepted outcome"):
            purify(phi, projector(PSI_PLUS), method)


# --------------------------------------------------------------------------- noise
@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=30, deadline=None)
@given(bell_diagonal_coefficients(min_phi_plus=0.75), gate_noise(depolarizing=True), seeds)
def test_noisy_purification_has_lower_fidelity_and_stays_physical(method, coefficients, noise, seed):
    # Two copies of one pair, as in the recurrence. Readout flips alone can *raise* the output
    # fidelity of two different pairs (a wrongly accepted branch may be better than the ideal
    # output), so the strict decrease is claimed for depolarizing gates on equal pairs.
    rho = bell_diagonal(coefficients)
    ideal, _ = purify(rho, rho, method)
    noisy, probability = purify(rho, rho, method, noise)
    assert state_fidelity(noisy, PHI_PLUS) < state_fidelity(ideal, PHI_PLUS) - 1e-9
    assert 0 < probability <= 1
    assert_physical(noisy)
    out, probability = purify(random_rho(seed), random_rho(seed + 1), method, noise)
    assert_physical(out)
    assert 0 < probability <= 1


def test_readout_flips_can_raise_the_fidelity_of_two_different_pairs():
    # Kept pair perfect; the sacrificial pair has a phase error (B) and a little parity error (C).
    # Ideal: F = A2/(A2+B2). A flip accepts the parity-error branch, whose kept pair is perfect.
    perfect, other = bell_diagonal([1, 0, 0, 0]), bell_diagonal([0.75, 0.2, 0.05, 0])
    ideal, _ = purify(perfect, other, "dejmps")
    flipped, _ = purify(perfect, other, "dejmps", measurement_flip=0.1)
    assert state_fidelity(ideal, PHI_PLUS) == pytest.approx(0.75 / 0.95, abs=1e-12)
    assert state_fidelity(flipped, PHI_PLUS) > state_fidelity(ideal, PHI_PLUS)


@pytest.mark.parametrize("method", METHODS)
def test_depolarized_cnots_purifying_perfect_pairs_mix_in_the_identity(method):
    # Each bilateral CNOT is followed, with probability p, by its two qubits replaced by I/4;
    # then all four qubits are maximally mixed: readouts agree half of the time, output I/4.
    p = 0.1
    phi = projector(PHI_PLUS)
    out, probability = purify(phi, phi, method, two_qubit_depolarizing=p)
    clean = (1 - p) ** 2
    expected_probability = clean + (1 - clean) / 2
    assert probability == pytest.approx(expected_probability, abs=1e-12)
    np.testing.assert_allclose(out.data, (clean * phi + (1 - clean) / 2 * np.eye(4) / 4) / expected_probability, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_readout_flips_reject_perfect_pairs_without_harming_the_kept_one(method):
    f = 0.07
    phi = projector(PHI_PLUS)
    out, probability = purify(phi, phi, method, measurement_flip=f)
    assert probability == pytest.approx((1 - f) ** 2 + f**2, abs=1e-12)
    np.testing.assert_allclose(out.data, phi, atol=1e-12)


# --------------------------------------------------------------------------- engines
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", range(4))
def test_fast_and_aer_engines_agree_on_purification(method, seed):
    operation = purification_operation(method, GateNoise(0.04, 0.02, 0.03))
    rho = np.kron(random_rho(200 + seed), random_rho(300 + seed))
    aer = StateRegistry(np.random.default_rng(seed), engine="aer")
    qa = list(aer.new_qubits(["a1", "b1", "a2", "b2"], rho=rho))
    outcome = aer.apply(operation, qa)
    fast = StateRegistry(np.random.default_rng(seed), engine="fast")
    qf = list(fast.new_qubits(["a1", "b1", "a2", "b2"], rho=rho))
    assert fast.apply(operation, qf, outcome=outcome) == outcome
    np.testing.assert_allclose(fast.density_matrix(qf[:2]), aer.density_matrix(qa[:2]), atol=1e-9)
    assert fast.live_qubits == aer.live_qubits == 2


# --------------------------------------------------------------------------- bad input
GOOD = bell_diagonal([0.8, 0.1, 0.06, 0.04])


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: purify(GOOD, GOOD, "bogus"), "method"),
        (lambda: purification_operation("DEJMPS"), "method"),
        (lambda: purify(np.eye(2) / 2, GOOD), "rho_1"),
        (lambda: purify(GOOD, np.eye(4)), "rho_2.*trace"),
        (lambda: purify(GOOD, GOOD, single_qubit_depolarizing=1.01), "single_qubit_depolarizing"),
        (lambda: purify_rounds(GOOD, -1), "rounds"),
        (lambda: purify_rounds(GOOD, 1.5), "rounds"),
        (lambda: purify_rounds(np.diag([1.5, -0.5, 0, 0]), 1), "rho.*positive"),
        (lambda: pump(GOOD, GOOD, True), "rounds"),
        (lambda: pump(GOOD, np.zeros((3, 3)), 1), "rho_fresh"),
        (lambda: pump(GOOD, GOOD, 1, "dejmps", GateNoise(), measurement_flip=0.1), "not both"),
    ],
)
def test_bad_input_is_refused_naming_it(call, match):
    with pytest.raises(ValueError, match=match):
        call()
