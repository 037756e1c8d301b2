"""Non-local gates: the telegate equals the local gate on a perfect pair, degrades to the pair's
fidelity on Werner pairs, and the two engines agree."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from qiskit.circuit.library import CPhaseGate, CUGate, CYGate, CXGate, CZGate, RZZGate, SwapGate
from qiskit.quantum_info import DensityMatrix, Operator, Statevector, random_statevector

from qstack.engine import StateRegistry
from qstack.protocols import GateNoise, telegate, telegate_circuit, telegate_operation
from qstack.protocols.nonlocal_gates import PARITY_BIT, PHASE_BIT, is_controlled_on_first_qubit

from protocol_states import PHI_PLUS, bell_diagonal, projector, random_rho, registry_mean, seeds, werner_of_fidelity

GATES = [CXGate(), CZGate(), CPhaseGate(0.7), CUGate(0.4, 1.1, -0.3, 0.9)]
GATE_IDS = ["cx", "cz", "cp", "cu"]


def _choi_input() -> np.ndarray:
    """|Phi+> on (c, rc) and on (t, rt); qubit order (c, t, rc, rt)."""
    state = np.zeros(16, dtype=complex)
    for c in (0, 1):
        for t in (0, 1):
            state[c + 2 * t + 4 * c + 8 * t] = 0.5
    return np.outer(state, state.conj())


def _ideal_choi(gate) -> Statevector:
    rho = DensityMatrix(_choi_input())
    vector = Statevector(np.linalg.eigh(rho.data)[1][:, -1])
    return vector.evolve(Operator(gate), qargs=[0, 1])


def _telegate_choi(operation, pair: np.ndarray, engine: str = "fast") -> np.ndarray:
    """The outcome-averaged Choi state of the telegate, each branch run through the engine."""

    def fresh():
        registry = StateRegistry(np.random.default_rng(0), engine=engine)
        c, t, rc, rt = registry.new_qubits(["c", "t", "rc", "rt"], rho=_choi_input())
        a, b = registry.new_qubits(["a", "b"], rho=pair)
        return registry, (c, a, b, t), (c, t, rc, rt)

    registry, order, _ = fresh()
    total = np.zeros((16, 16), dtype=complex)
    for outcome, probability, _ in registry.outcome_table(operation, list(order)):
        registry, order, kept = fresh()
        registry.apply(operation, list(order), outcome=outcome)
        total += probability * registry.density_matrix(list(kept))
    return total


def _process_fidelity(gate, choi: np.ndarray) -> float:
    ideal = _ideal_choi(gate).data
    return float(np.real(ideal.conj() @ choi @ ideal))


# --------------------------------------------------------------------------- ideal pair
@pytest.mark.parametrize("gate", GATES, ids=GATE_IDS)
def test_a_perfect_pair_makes_the_telegate_equal_to_the_local_gate(gate):
    choi = _telegate_choi(telegate_operation(gate=gate), projector(PHI_PLUS))
    assert _process_fidelity(gate, choi) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("gate", GATES, ids=GATE_IDS)
def test_every_outcome_is_equally_likely_and_corrected(gate):
    psi = random_statevector(4, seed=5)
    registry = StateRegistry(np.random.default_rng(0))
    c, t = registry.new_qubits(["c", "t"], rho=DensityMatrix(psi))
    a, b = registry.new_qubits(["a", "b"], rho=projector(PHI_PLUS))
    table = registry.outcome_table(telegate_operation(gate=gate), [c, a, b, t])
    assert sorted(outcome for outcome, _, _ in table) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    expected = DensityMatrix(psi.evolve(Operator(gate))).data
    for _, probability, rho in table:
        assert probability == pytest.approx(0.25, abs=1e-12)
        np.testing.assert_allclose(rho, expected, atol=1e-12)
    assert (PARITY_BIT, PHASE_BIT) == (0, 1)


@settings(max_examples=25, deadline=None)
@given(seeds)
def test_the_state_helper_applies_the_gate_to_any_input(seed):
    psi = random_statevector(4, seed=seed)
    gate = GATES[seed % len(GATES)]
    out = telegate(psi, DensityMatrix(projector(PHI_PLUS)), gate=gate)
    np.testing.assert_allclose(out.data, DensityMatrix(psi.evolve(Operator(gate))).data, atol=1e-10)


# --------------------------------------------------------------------------- noisy pairs and gates
@pytest.mark.parametrize("fidelity", [1.0, 0.95, 0.9, 0.75, 0.5, 0.25])
@pytest.mark.parametrize("gate", [CXGate(), CZGate()], ids=["cx", "cz"])
def test_a_werner_pair_of_fidelity_f_gives_process_fidelity_f(fidelity, gate):
    choi = _telegate_choi(telegate_operation(gate=gate), werner_of_fidelity(fidelity))
    assert _process_fidelity(gate, choi) == pytest.approx(fidelity, abs=1e-12)


@pytest.mark.parametrize("fidelity", [0.95, 0.75])
@pytest.mark.parametrize("gate", [CPhaseGate(0.7), CUGate(0.4, 1.1, -0.3, 0.9)], ids=["cp", "cu"])
def test_a_werner_pair_gives_f_plus_the_overlap_of_the_wrong_branch(fidelity, gate):
    # An X or Y error of the pair applies U on the wrong branch, which overlaps the ideal gate
    # by Tr U: F_pro = F + (1 - F) |Tr U|^2 / 12 (0 extra for a traceless U such as X or Z).
    u = Operator(gate).data[np.ix_([1, 3], [1, 3])]
    expected = fidelity + (1 - fidelity) * abs(np.trace(u)) ** 2 / 12
    choi = _telegate_choi(telegate_operation(gate=gate), werner_of_fidelity(fidelity))
    assert _process_fidelity(gate, choi) == pytest.approx(expected, abs=1e-12)


def test_each_bell_error_of_the_pair_is_a_distinct_error_of_the_gate():
    # A Bell-diagonal pair (A, B, C, D): only its Phi+ weight survives as the ideal gate.
    coefficients = (0.7, 0.1, 0.15, 0.05)
    choi = _telegate_choi(telegate_operation(), bell_diagonal(coefficients))
    assert _process_fidelity(CXGate(), choi) == pytest.approx(coefficients[0], abs=1e-12)


@pytest.mark.parametrize("flip", [0.01, 0.1, 0.3])
def test_readout_flips_on_both_sides_multiply_the_process_fidelity_of_a_cnot(flip):
    # A parity flip applies X on the wrong branch, a phase flip Z on the control: both are
    # orthogonal to CNOT, so only the no-flip branch counts.
    noise = GateNoise(measurement_flip=flip)
    choi = _telegate_choi(telegate_operation(noise), projector(PHI_PLUS))
    assert _process_fidelity(CXGate(), choi) == pytest.approx((1 - flip) ** 2, abs=1e-12)


def test_gate_noise_on_either_side_lowers_the_process_fidelity():
    pair = projector(PHI_PLUS)
    ideal = _process_fidelity(CXGate(), _telegate_choi(telegate_operation(), pair))
    alice = _process_fidelity(CXGate(), _telegate_choi(telegate_operation(GateNoise(0.05)), pair))
    bob = _process_fidelity(
        CXGate(), _telegate_choi(telegate_operation(GateNoise(), target_noise=GateNoise(0.0, 0.05)), pair)
    )
    assert ideal == pytest.approx(1.0, abs=1e-12)
    assert alice < 1 - 1e-3 and bob < 1 - 1e-3


# --------------------------------------------------------------------------- engines
@pytest.mark.parametrize("seed", range(4))
def test_fast_and_aer_engines_agree_on_the_telegate(seed):
    gate = [CXGate(), CZGate(), CPhaseGate(0.7), CYGate()][seed]  # gates Aer runs untranspiled
    operation = telegate_operation(GateNoise(0.04, 0.02, 0.03), gate, GateNoise(0.02, 0.01, 0.05))
    data, pair = random_rho(seed), random_rho(100 + seed)
    aer = StateRegistry(np.random.default_rng(seed), engine="aer")
    c, t = aer.new_qubits(["c", "t"], rho=data)
    a, b = aer.new_qubits(["a", "b"], rho=pair)
    outcome = aer.apply(operation, [c, a, b, t])
    fast = StateRegistry(np.random.default_rng(seed), engine="fast")
    fc, ft = fast.new_qubits(["c", "t"], rho=data)
    fa, fb = fast.new_qubits(["a", "b"], rho=pair)
    assert fast.apply(operation, [fc, fa, fb, ft], outcome=outcome) == outcome
    np.testing.assert_allclose(fast.density_matrix([fc, ft]), aer.density_matrix([c, t]), atol=1e-9)


def test_outcome_averaged_choi_states_agree_between_engines():
    operation = telegate_operation(GateNoise(0.03, 0.01, 0.02), CPhaseGate(0.7))
    pair = werner_of_fidelity(0.9)
    fast = _telegate_choi(operation, pair, engine="fast")
    aer = _telegate_choi(operation, pair, engine="aer")
    np.testing.assert_allclose(fast, aer, atol=1e-9)


# --------------------------------------------------------------------------- structure and bad input
def test_the_circuit_is_a_copy_of_the_cached_operation_circuit():
    noise = GateNoise(0.01, 0.0, 0.02)
    circuit = telegate_circuit(noise)
    assert circuit == telegate_operation(noise).circuit
    assert circuit is not telegate_operation(noise).circuit
    assert telegate_operation(noise) is telegate_operation(noise, CXGate())
    assert (circuit.num_qubits, circuit.num_clbits) == (4, 2)
    assert telegate_operation(noise).discard == (1, 2)
    # One pair, one readout on each side.
    assert circuit.count_ops()["measure"] == 2


def test_controlled_form_is_recognised():
    assert all(is_controlled_on_first_qubit(g) for g in GATES)
    assert not is_controlled_on_first_qubit(RZZGate(0.3))
    assert not is_controlled_on_first_qubit(SwapGate())


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"gate": RZZGate(0.3)}, "identity when its first qubit"),
        ({"gate": SwapGate()}, "identity when its first qubit"),
        ({"state": np.eye(2) / 2}, "state"),
        ({"state": np.array([1.0, 1.0, 0, 0])}, "state.*unit"),
        ({"pair": np.eye(2) / 2}, "pair"),
        ({"pair": np.diag([1.5, -0.5, 0, 0])}, "pair.*positive"),
        ({"measurement_flip": 1.2}, "measurement_flip"),
        ({"noise": 0.1}, "noise"),
        ({"target_noise": 0.1}, "target_noise"),
    ],
)
def test_bad_input_is_refused_naming_it(kwargs, match):
    arguments = {"state": random_statevector(4, seed=1), "pair": werner_of_fidelity(0.9)} | kwargs
    with pytest.raises(ValueError, match=match):
        telegate(**arguments)


@pytest.mark.parametrize("fidelity", [0.9, 0.6])
def test_a_cnot_telegate_on_plus_zero_makes_phi_plus_with_the_pair_fidelity(fidelity):
    # Each Bell error of the pair (Psi+, Phi-, Psi-) turns the output Phi+ into an orthogonal
    # Bell state, so the output fidelity is the pair's.
    plus_zero = np.kron([1, 0], [1, 1]) / math.sqrt(2)  # control |+> is qubit 0
    out = telegate(plus_zero, werner_of_fidelity(fidelity)).data
    phi = PHI_PLUS.data
    assert np.real(phi.conj() @ out @ phi) == pytest.approx(fidelity, abs=1e-12)


# --------------------------------------------------------------------------- exact outcomes
NOISY = GateNoise(0.02, 0.01, 0.015)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("gate", [CXGate(), CUGate(0.4, 1.1, -0.3, 0.9)], ids=["cx", "cu"])
def test_telegate_is_the_outcome_average_of_its_operation_on_state_and_pair(seed, gate):
    """telegate() feeds (c, t, a, b) to its operation's circuit qubits (c, a, b, t) through
    qstack.engine.outcomes: the numbers of a registry holding the two groups (random states)."""
    state, pair = random_rho(seed), random_rho(seed + 100)
    operation = telegate_operation(NOISY, gate, GateNoise(0.01, 0.0, 0.03))
    expected = registry_mean(operation, [(["c", "t"], state), (["a", "b"], pair)], ["c", "a", "b", "t"])
    result = telegate(state, pair, NOISY, gate=gate, target_noise=GateNoise(0.01, 0.0, 0.03))
    np.testing.assert_allclose(result.data, expected, atol=1e-12, rtol=0)


def test_bell_diagonal_inputs_agree_with_a_registry_holding_them_as_bell_weights():
    """The old scratch registry held Bell-diagonal pairs as four weights (and rebuilt them): the
    direct outcomes differ from it by rounding only (~1e-17)."""
    state, pair = werner_of_fidelity(0.9), bell_diagonal([0.7, 0.1, 0.1, 0.1])
    groups = [(["c", "t"], state), (["a", "b"], pair)]
    expected = registry_mean(telegate_operation(NOISY), groups, ["c", "a", "b", "t"], bell_diagonal=True)
    np.testing.assert_allclose(telegate(state, pair, NOISY).data, expected, atol=1e-12, rtol=0)
