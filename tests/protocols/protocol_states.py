"""Closed-form two-qubit states and checks shared by the protocol tests."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from qiskit.quantum_info import DensityMatrix, Statevector, random_density_matrix

from qstack.protocols import GateNoise

_S = 1 / math.sqrt(2)
PHI_PLUS = Statevector([_S, 0, 0, _S])
PHI_MINUS = Statevector([_S, 0, 0, -_S])
PSI_PLUS = Statevector([0, _S, _S, 0])
PSI_MINUS = Statevector([0, _S, -_S, 0])
# The DEJMPS paper's order of its coefficients (A, B, C, D).
DEJMPS_ORDER = (PHI_PLUS, PSI_MINUS, PSI_PLUS, PHI_MINUS)


def projector(state: Statevector) -> np.ndarray:
    return np.outer(state.data, state.data.conj())


def bell_diagonal(coefficients) -> np.ndarray:
    """sum_k c_k |B_k><B_k| with the Bell states in DEJMPS order (Phi+, Psi-, Psi+, Phi-)."""
    return sum(c * projector(b) for c, b in zip(coefficients, DEJMPS_ORDER))


def bell_coefficients(rho) -> np.ndarray:
    """<B_k|rho|B_k> in DEJMPS order."""
    data = rho.data if isinstance(rho, DensityMatrix) else np.asarray(rho)
    return np.array([np.real(b.data.conj() @ data @ b.data) for b in DEJMPS_ORDER])


def off_bell_diagonal(rho) -> float:
    """Largest |<B_j|rho|B_k>|, j != k: zero for a Bell-diagonal state."""
    data = rho.data if isinstance(rho, DensityMatrix) else np.asarray(rho)
    basis = np.array([b.data for b in DEJMPS_ORDER]).T
    in_bell = basis.conj().T @ data @ basis
    return float(np.max(np.abs(in_bell - np.diag(np.diag(in_bell)))))


def werner(w: float) -> np.ndarray:
    """w |Phi+><Phi+| + (1 - w) I/4."""
    return w * projector(PHI_PLUS) + (1 - w) * np.eye(4) / 4


def werner_of_fidelity(fidelity: float) -> np.ndarray:
    return werner((4 * fidelity - 1) / 3)


def assert_physical(rho, atol: float = 1e-10) -> None:
    data = rho.data if isinstance(rho, DensityMatrix) else np.asarray(rho)
    assert data.shape == (4, 4)
    np.testing.assert_allclose(data, data.conj().T, atol=atol)
    assert abs(np.trace(data) - 1) < atol
    assert np.linalg.eigvalsh(data)[0] > -atol


def random_rho(seed: int) -> np.ndarray:
    return random_density_matrix(4, seed=seed).data


# --------------------------------------------------------------------------- strategies
NOISE_LEVELS = (0.0, 0.01, 0.1)  # few levels, so that compiled operations are reused


@st.composite
def gate_noise(draw, depolarizing: bool = False) -> GateNoise:
    """Noisy gates: some parameter nonzero (with ``depolarizing``, a depolarizing one)."""
    levels = st.sampled_from(NOISE_LEVELS)
    noise = GateNoise(draw(levels), draw(levels), draw(levels))
    if noise.two_qubit_depolarizing == noise.single_qubit_depolarizing == 0.0 and (
        depolarizing or noise.measurement_flip == 0.0
    ):
        noise = GateNoise(0.0, NOISE_LEVELS[1], noise.measurement_flip)
    return noise


@st.composite
def bell_diagonal_coefficients(draw, min_phi_plus: float = 0.0) -> np.ndarray:
    """Random (A, B, C, D), A >= min_phi_plus, summing to 1."""
    a = draw(st.floats(min_phi_plus, 1.0))
    rest = np.array([draw(st.floats(0.0, 1.0)) for _ in range(3)])
    rest = rest / rest.sum() if rest.sum() > 0 else np.full(3, 1 / 3)
    return np.concatenate([[a], (1 - a) * rest])


seeds = st.integers(0, 2**31 - 1)


# --------------------------------------------------------------------------- reference outcomes
def registry_outcomes(operation, groups, circuit_qubits, bell_diagonal: bool = False):
    """The outcome table of ``operation`` through a scratch :class:`StateRegistry` (the path the
    protocols took before they called :func:`qstack.engine.outcomes` directly): a reference for
    their qubit bookkeeping.

    ``groups``: ``(names, rho)`` created in this order, each its own group; ``circuit_qubits``
    names circuit qubit ``i``. Returns ``[(outcome, probability, rho)]``; ``rho`` lists the kept
    qubits first (circuit order), then the group's other qubits.
    """
    from qstack.engine import StateRegistry

    registry = StateRegistry(np.random.default_rng(0), bell_diagonal=bell_diagonal)
    qubits = {}
    for names, rho in groups:
        qubits.update(zip(names, registry.new_qubits(names, rho=rho)))
    return registry.outcome_table(operation, [qubits[name] for name in circuit_qubits])


def registry_mean(operation, groups, circuit_qubits, bell_diagonal: bool = False) -> np.ndarray:
    """``sum_k p_k rho_k`` over :func:`registry_outcomes`."""
    return sum(p * rho for _, p, rho in registry_outcomes(operation, groups, circuit_qubits, bell_diagonal))
