"""The one place where a fidelity becomes a depolarizing channel.

Convention used throughout ``qstack.hardware``: ``depolarizing_error(p, n)`` (Aer) maps
``rho -> (1 - p) rho + p I/d`` with ``d = 2**n``. For every pure input ``|psi>`` the output has
fidelity ``F = <psi| E(psi) |psi> = 1 - p (d - 1)/d`` [dimensionless]; because this is the same
for every pure input it is also the channel's average gate fidelity (it is *not* the process /
entanglement fidelity ``1 - p (d**2 - 1)/d**2``). Hence

    p = (1 - F) d / (d - 1),   1 qubit: p = 2 (1 - F),   2 qubits: p = 4 (1 - F) / 3,

and ``F`` ranges from ``1/d`` (fully depolarized, p = 1) to 1 (ideal).
"""

from __future__ import annotations

from qiskit_aer.noise import QuantumError, depolarizing_error

from ._validation import in_closed_range


def minimum_fidelity(num_qubits: int) -> float:
    """Fidelity of the fully depolarized output, ``1/d`` with ``d = 2**num_qubits``."""
    return 1.0 / 2**num_qubits


def check_fidelity(owner: str, field: str, value: object, num_qubits: int) -> float:
    """Validated fidelity in ``[1/d, 1]``."""
    return in_closed_range(owner, field, value, minimum_fidelity(num_qubits), 1.0)


def depolarizing_parameter(fidelity: float, num_qubits: int) -> float:
    """``p = (1 - F) d / (d - 1)`` [dimensionless] for ``d = 2**num_qubits``."""
    dim = 2**num_qubits
    return float((1.0 - fidelity) * dim / (dim - 1))


def depolarizing_error_for_fidelity(fidelity: float, num_qubits: int) -> QuantumError:
    """Aer depolarizing error whose pure-state (= average gate) fidelity is ``fidelity``."""
    # min() guards the F = 1/d corner against rounding just above Aer's bound p <= 1 + 1/(d^2-1).
    param = min(depolarizing_parameter(fidelity, num_qubits), 1.0)
    return depolarizing_error(param, num_qubits)
