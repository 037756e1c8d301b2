"""Exact outcome tables and deterministic channels without a registry (qstack.engine.exact)."""

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import random_density_matrix
from qiskit_aer.noise import amplitude_damping_error, depolarizing_error

from qstack.engine import Operation, StateRegistry, evolve, noisy, outcomes


def _measure_after_cnot() -> Operation:
    """CNOT, a noisy measurement of the control, which is then dropped: two outcomes."""
    qc = QuantumCircuit(2, 1)
    qc.h(0)
    qc.cx(0, 1)
    qc.append(noisy(amplitude_damping_error(0.2)), [0])
    qc.measure(0, 0)
    return Operation(qc, discard=(0,), name="measure_after_cnot")


def _channel(num_qubits: int) -> Operation:
    qc = QuantumCircuit(num_qubits)
    qc.ry(0.3, 0)
    if num_qubits > 1:
        qc.cx(0, 1)
    qc.append(noisy(depolarizing_error(0.1, num_qubits)), list(range(num_qubits)))
    return Operation(qc, name="channel")


def _registry_and_qubits(rho, n):
    registry = StateRegistry(np.random.default_rng(0), bell_diagonal=False)
    return registry, registry.new_qubits([f"q{i}" for i in range(n)], rho=rho)


@pytest.mark.parametrize("positions", [(0, 1), (2, 0), (1, 2)])
def test_outcomes_equal_the_registrys_outcome_table_bit_for_bit(positions):
    rho = random_density_matrix(8, seed=3).data
    operation = _measure_after_cnot()
    registry, qubits = _registry_and_qubits(rho, 3)
    table = registry.outcome_table(operation, [qubits[i] for i in positions])
    exact = outcomes(operation, rho, positions)
    assert [o.outcome for o in exact] == [t[0] for t in table] == [(0,), (1,)]
    for o, (_, probability, state) in zip(exact, table):
        assert o.probability == probability
        assert np.array_equal(o.rho, state)
    assert sum(o.probability for o in exact) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("num_qubits,positions", [(2, (0, 1)), (2, (1, 0)), (1, (2,)), (2, (2, 0))])
def test_evolve_equals_the_registrys_apply_bit_for_bit(num_qubits, positions):
    n = 2 if positions in ((0, 1), (1, 0)) else 3
    rho = random_density_matrix(2**n, seed=5).data
    operation = _channel(num_qubits)
    registry, qubits = _registry_and_qubits(rho, n)
    registry.apply(operation, [qubits[i] for i in positions])
    # The registry's group now lists the operation's qubits first, then the others.
    order = [qubits[i] for i in positions] + [q for i, q in enumerate(qubits) if i not in positions]
    assert np.array_equal(evolve(operation, rho, positions), registry.density_matrix(order))


def test_evolve_refuses_an_operation_with_several_outcomes_and_bad_positions():
    rho = random_density_matrix(4, seed=1).data
    with pytest.raises(ValueError, match="outcomes"):
        evolve(_measure_after_cnot(), rho)
    with pytest.raises(ValueError, match="distinct positions"):
        evolve(_channel(2), rho, (0, 0))
    with pytest.raises(ValueError, match="acts on 2 qubits"):
        outcomes(_channel(2), rho, (0,))
    with pytest.raises(ValueError, match="density matrix"):
        outcomes(_channel(1), np.eye(3) / 3)
