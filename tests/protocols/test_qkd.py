"""BBM92: error rates of Werner and Bell pairs, Shor-Preskill key, sampling and sifting."""

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit.quantum_info import DensityMatrix

from qstack.protocols import GateNoise, bbm92, bbm92_operation, qber, secret_key_fraction
from qstack.protocols.qkd import ALICE_BIT, BOB_BIT, binary_entropy

from protocol_states import (
    PHI_MINUS,
    PHI_PLUS,
    PSI_MINUS,
    PSI_PLUS,
    bell_diagonal,
    bell_diagonal_coefficients,
    projector,
    random_rho,
    registry_outcomes,
    werner_of_fidelity,
)


def h(p):
    return 0.0 if p in (0.0, 1.0) else -p * math.log2(p) - (1 - p) * math.log2(1 - p)


# --------------------------------------------------------------------------- exact closed forms
@pytest.mark.parametrize("fidelity", [1.0, 0.97, 0.9, 0.8, 0.5, 0.25])
def test_werner_pairs_have_qber_two_thirds_of_their_infidelity_in_both_bases(fidelity):
    result = bbm92(werner_of_fidelity(fidelity))
    expected = 2 * (1 - fidelity) / 3
    assert result.qber_z == pytest.approx(expected, abs=1e-12)
    assert result.qber_x == pytest.approx(expected, abs=1e-12)
    assert result.key_fraction == pytest.approx(max(0.0, 1 - 2 * h(expected)), abs=1e-12)
    assert result.exact and result.counts is None


@settings(max_examples=30, deadline=None)
@given(bell_diagonal_coefficients())
def test_bell_diagonal_pairs_err_in_z_for_psi_and_in_x_for_minus_states(c):
    # DEJMPS order (Phi+, Psi-, Psi+, Phi-): Z errors from Psi states, X errors from minus states.
    rho = bell_diagonal(c)
    assert qber(rho, "Z") == pytest.approx(c[1] + c[2], abs=1e-12)
    assert qber(rho, "X") == pytest.approx(c[1] + c[3], abs=1e-12)


@pytest.mark.parametrize(
    "bell,e_z,e_x", [(PHI_PLUS, 0, 0), (PSI_PLUS, 1, 0), (PHI_MINUS, 0, 1), (PSI_MINUS, 1, 1)]
)
def test_bell_states_are_perfectly_correlated_or_anticorrelated(bell, e_z, e_x):
    result = bbm92(DensityMatrix(bell))
    assert (result.qber_z, result.qber_x) == pytest.approx((e_z, e_x), abs=1e-12)
    assert result.key_fraction == pytest.approx(1.0, abs=1e-12)  # a known flip is no secret lost


def test_key_fraction_vanishes_at_the_shor_preskill_threshold_of_eleven_percent():
    threshold = 0.1100278644
    assert secret_key_fraction(threshold, threshold) == pytest.approx(0.0, abs=1e-9)
    assert secret_key_fraction(0.10, 0.10) > 0.0
    assert secret_key_fraction(0.12, 0.12) == 0.0
    assert secret_key_fraction(0.02, 0.07) == pytest.approx(1 - h(0.02) - h(0.07), abs=1e-12)
    assert binary_entropy(0.5) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="qber_x"):
        secret_key_fraction(0.1, 1.5)


@pytest.mark.parametrize("z_probability", [0.5, 0.9, 1.0])
def test_sifted_fraction_and_key_rate_follow_the_basis_bias(z_probability):
    result = bbm92(werner_of_fidelity(0.95), z_probability=z_probability)
    sifted = z_probability**2 + (1 - z_probability) ** 2
    assert result.sifted_fraction == pytest.approx(sifted, abs=1e-12)
    assert result.key_rate_hz(1000.0) == pytest.approx(1000.0 * sifted * result.key_fraction, abs=1e-9)


def test_exact_rates_of_a_list_are_those_of_the_average_state():
    states = [random_rho(s) for s in range(5)]
    result = bbm92(states)
    mean = sum(states) / 5
    assert result.pairs == 5
    assert result.qber_z == pytest.approx(np.mean([qber(s, "Z") for s in states]), abs=1e-12)
    assert result.qber_x == pytest.approx(qber(mean, "X"), abs=1e-12)
    assert bbm92(np.array(states)).qber_x == pytest.approx(result.qber_x, abs=1e-14)


# --------------------------------------------------------------------------- measurement noise
def test_readout_flips_on_both_sides_give_qber_two_f_one_minus_f():
    f = 0.03
    result = bbm92(projector(PHI_PLUS), measurement_flip=f)
    assert result.qber_z == pytest.approx(2 * f * (1 - f), abs=1e-12)
    assert result.qber_x == pytest.approx(2 * f * (1 - f), abs=1e-12)


def test_depolarizing_after_the_x_basis_hadamard_raises_only_the_x_error():
    p = 0.1
    result = bbm92(projector(PHI_PLUS), single_qubit_depolarizing=p)
    assert result.qber_z == pytest.approx(0.0, abs=1e-12)
    assert result.qber_x == pytest.approx(2 * (p / 2) * (1 - p / 2), abs=1e-12)


def test_alice_and_bob_may_have_different_readouts():
    f = 0.05
    result = bbm92(projector(PHI_PLUS), noise=GateNoise(measurement_flip=f), noise_b=GateNoise())
    assert result.qber_z == pytest.approx(f, abs=1e-12)


def test_operation_outcome_bits_are_alice_then_bob_and_both_qubits_are_discarded():
    operation = bbm92_operation("Z", "X")
    assert operation.kept == ()
    assert operation.circuit.num_clbits == 2
    # |1> for Alice, |+> for Bob: Alice reads 1, Bob 0.
    plus = np.full((2, 2), 0.5)
    assert qber(np.kron(plus, np.diag([0.0, 1.0])), "Z") == pytest.approx(0.5, abs=1e-12)
    with pytest.raises(ValueError, match="basis_a"):
        bbm92_operation("Y", "Z")


# --------------------------------------------------------------------------- sampling
@pytest.mark.parametrize("fidelity,z_probability", [(0.9, 0.5), (0.95, 0.8)])
def test_sampled_qber_is_within_binomial_error_of_the_exact_one(fidelity, z_probability):
    n = 6000
    pair = werner_of_fidelity(fidelity)
    exact = bbm92(pair, z_probability=z_probability)
    sampled = bbm92([pair] * n, np.random.default_rng(7), z_probability=z_probability)
    counts = sampled.counts
    assert counts.rounds == n and not sampled.exact
    sifted = exact.sifted_fraction
    assert abs(sampled.sifted_fraction - sifted) < 4 * math.sqrt(sifted * (1 - sifted) / n)
    for e, rounds, exact_e in ((sampled.qber_z, counts.sifted_z, exact.qber_z), (sampled.qber_x, counts.sifted_x, exact.qber_x)):
        assert abs(e - exact_e) < 4 * math.sqrt(exact_e * (1 - exact_e) / rounds)
    assert sampled.key_fraction == pytest.approx(secret_key_fraction(sampled.qber_z, sampled.qber_x))


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_sampling_is_reproducible_from_the_generator(seed):
    pairs = [werner_of_fidelity(0.8)] * 50
    first = bbm92(pairs, np.random.default_rng(seed))
    assert first == bbm92(pairs, np.random.default_rng(seed))


def test_aer_engine_samples_the_same_deterministic_correlations():
    # Psi+: Z bits always differ, X bits always agree, whatever the engine draws.
    result = bbm92([projector(PSI_PLUS)] * 60, np.random.default_rng(3), engine="aer")
    assert result.counts.errors_z == result.counts.sifted_z > 0
    assert result.counts.errors_x == 0 and result.counts.sifted_x > 0


def test_a_basis_never_sifted_has_unknown_qber_and_no_key():
    result = bbm92([werner_of_fidelity(0.9)] * 20, np.random.default_rng(1), z_probability=1.0)
    assert result.counts.sifted_x == 0 and math.isnan(result.qber_x)
    assert result.key_fraction == 0.0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"pairs": np.eye(2) / 2}, "pairs"),
        ({"pairs": []}, "pairs"),
        ({"z_probability": 1.5}, "z_probability"),
        ({"measurement_flip": -0.1}, "measurement_flip"),
        ({"engine": "slow", "rng": np.random.default_rng(0)}, "engine"),
    ],
)
def test_bad_input_is_refused_naming_it(kwargs, match):
    arguments = {"pairs": werner_of_fidelity(0.9)} | kwargs
    with pytest.raises(ValueError, match=match):
        bbm92(**arguments)


# --------------------------------------------------------------------------- exact outcomes
def _registry_qber(pair, basis, noise, noise_b, bell_diagonal=False):
    table = registry_outcomes(bbm92_operation(basis, basis, noise, noise_b), [(["a", "b"], pair)], ["a", "b"], bell_diagonal)
    return sum(p for outcome, p, _ in table if outcome[ALICE_BIT] != outcome[BOB_BIT])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_qber_is_the_probability_of_unequal_bits_in_the_outcome_table(seed):
    pair, alice, bob = random_rho(seed), GateNoise(0.02, 0.01, 0.015), GateNoise(0.0, 0.03, 0.05)
    result = bbm92(pair, noise=alice, noise_b=bob)
    assert result.qber_z == pytest.approx(_registry_qber(pair, "Z", alice, bob), abs=1e-12, rel=0)
    assert result.qber_x == pytest.approx(_registry_qber(pair, "X", alice, bob), abs=1e-12, rel=0)


def test_exact_qber_of_a_bell_diagonal_pair_matches_a_registry_holding_bell_weights():
    """The old scratch registry held it as four Bell weights: rounding-level (~1e-17) differences only."""
    pair, noise = bell_diagonal([0.8, 0.1, 0.06, 0.04]), GateNoise(0.02, 0.01, 0.015)
    result = bbm92(pair, noise=noise)
    assert result.qber_z == pytest.approx(_registry_qber(pair, "Z", noise, noise, True), abs=1e-12, rel=0)
    assert result.qber_x == pytest.approx(_registry_qber(pair, "X", noise, noise, True), abs=1e-12, rel=0)
