"""What the two-pair protocols share: input checks, circuit noise, running an operation exactly."""

from __future__ import annotations

from typing import Callable

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix

from qstack.engine import Operation, noisy, outcomes

from .noise import GateNoise

_TOLERANCE = 1e-9


def pair_state(rho: object, name: str) -> np.ndarray:
    """``rho`` as a 4x4 complex array (qubit 0 first), checked to be a density matrix."""
    if isinstance(rho, DensityMatrix):
        rho = rho.data
    try:
        array = np.array(rho, dtype=complex)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 2-qubit density matrix (4x4), got {type(rho).__name__}") from exc
    if array.shape != (4, 4):
        raise ValueError(f"{name} must be a 2-qubit density matrix (4x4), got shape {array.shape}")
    return check_density_matrix(array, name)


def check_density_matrix(array: np.ndarray, name: str) -> np.ndarray:
    """Refuse a matrix that is not a density matrix: finite, Hermitian, trace 1, PSD."""
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has non-finite entries")
    if not np.allclose(array, array.conj().T, atol=_TOLERANCE):
        raise ValueError(f"{name} must be Hermitian")
    trace = np.trace(array).real
    if abs(trace - 1.0) > _TOLERANCE:
        raise ValueError(f"{name} must have trace 1, got {trace:.12g}")
    lowest = np.linalg.eigvalsh((array + array.conj().T) / 2)[0]
    if lowest < -_TOLERANCE:
        raise ValueError(f"{name} must be positive semidefinite, has eigenvalue {lowest:.3g}")
    return array


def check_rounds(rounds: object) -> int:
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 0:
        raise ValueError(f"rounds must be an integer >= 0, got {rounds!r}")
    return int(rounds)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value  # type: ignore[return-value]


class NoisyCircuit:
    """Writes gates to a circuit followed by the noise of :class:`GateNoise`."""

    def __init__(self, circuit: QuantumCircuit, noise: GateNoise):
        self.circuit = circuit
        self._one = noise.single_qubit_error()
        self._two = noise.two_qubit_error()
        self._flip = noise.measurement_error()

    def after_one(self, *qubits: int) -> None:
        """One-qubit gate noise on each of ``qubits``."""
        if self._one is not None:
            for q in qubits:
                self.circuit.append(noisy(self._one), [q])

    def after_two(self, first: int, second: int) -> None:
        if self._two is not None:
            self.circuit.append(noisy(self._two), [first, second])

    def measure(self, qubit: int, clbit: int) -> None:
        """A readout: the flip error, then an ideal Z measurement."""
        if self._flip is not None:
            self.circuit.append(noisy(self._flip), [qubit])
        self.circuit.measure(qubit, clbit)


def postselect(
    operation: Operation,
    rho_first: np.ndarray,
    rho_second: np.ndarray,
    accept: Callable[[tuple[int, ...]], bool],
) -> tuple[DensityMatrix, float]:
    """Run ``operation`` on two pairs exactly and average its kept state over accepted outcomes.

    Circuit qubits (0, 1) hold ``rho_first``, (2, 3) ``rho_second``. Uses the engine's exact
    outcomes (:func:`qstack.engine.outcomes`): returns ``(sum_k p_k rho_k / P, P)`` over
    accepted outcomes ``k``, with ``P = sum_k p_k`` the acceptance probability. Raises
    ``ValueError`` when ``P = 0``.
    """
    total = np.zeros((4, 4), dtype=complex)
    probability = 0.0
    for branch in outcomes(operation, np.kron(rho_second, rho_first)):
        if accept(branch.outcome):
            total += branch.probability * branch.rho
            probability += branch.probability
    if probability <= 1e-15:
        raise ValueError(f"{operation.name}: no accepted outcome has nonzero probability for these inputs")
    total /= probability
    return DensityMatrix((total + total.conj().T) / 2), float(probability)
