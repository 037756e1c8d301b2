"""The two-pair protocols' shared exact run: postselect averages the accepted outcomes of
qstack.engine.outcomes on rho_second (x) rho_first."""

import numpy as np
import pytest

from qstack.protocols import GateNoise, purification_operation, swap_operation, swap_succeeded
from qstack.protocols._common import postselect
from qstack.protocols.purification import purification_succeeded

from protocol_states import PHI_PLUS, projector, random_rho, registry_outcomes

NOISY = GateNoise(0.02, 0.01, 0.015)
CASES = [
    (lambda: purification_operation("dejmps", NOISY), purification_succeeded),
    (lambda: purification_operation("bbpssw", NOISY), purification_succeeded),
    (lambda: swap_operation(NOISY, "linear_optics"), lambda outcome: swap_succeeded(outcome, "linear_optics")),
]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("case", range(len(CASES)), ids=["dejmps", "bbpssw", "linear_optics_swap"])
def test_postselect_averages_the_accepted_outcomes_of_a_registry_holding_both_pairs(seed, case):
    """Reference: the operation's table in a registry holding (a1, b1) and (a2, b2) as two groups
    (it merges them itself); random pairs, so exchanging them or their qubits shows."""
    make, accept = CASES[case]
    operation = make()
    first, second = random_rho(seed), random_rho(seed + 100)
    table = registry_outcomes(operation, [(["a1", "b1"], first), (["a2", "b2"], second)], ["a1", "b1", "a2", "b2"])
    accepted = [(p, rho) for outcome, p, rho in table if accept(outcome)]
    probability = sum(p for p, _ in accepted)
    rho, p = postselect(operation, first, second, accept)
    assert p == pytest.approx(probability, abs=1e-12, rel=0)
    np.testing.assert_allclose(rho.data, sum(q * r for q, r in accepted) / probability, atol=1e-12, rtol=0)


def test_no_accepted_outcome_is_refused_naming_the_operation():
    zero = np.zeros((4, 4), dtype=complex)
    zero[0, 0] = 1.0  # |00>: linear optics cannot herald equal inner bits
    with pytest.raises(ValueError, match="no accepted outcome"):
        postselect(swap_operation(GateNoise(), "linear_optics"), zero, zero, lambda o: swap_succeeded(o, "linear_optics"))


def test_ideal_purification_of_perfect_pairs_always_succeeds_and_keeps_phi_plus():
    phi = projector(PHI_PLUS)
    rho, p = postselect(purification_operation("dejmps", GateNoise()), phi, phi, purification_succeeded)
    assert p == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(rho.data, phi, atol=1e-12)
