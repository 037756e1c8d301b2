"""Fidelity checks of the hardware models; the depolarizing channel itself is in :mod:`qstack.physics.channels`.

Convention used throughout ``qstack.hardware``: ``depolarizing_error(p, n)`` (Aer) maps
``rho -> (1 - p) rho + p I/d`` with ``d = 2**n``. For every pure input ``|psi>`` the output has
fidelity ``F = <psi| E(psi) |psi> = 1 - p (d - 1)/d`` [dimensionless]; because this is the same
for every pure input it is also the channel's average gate fidelity (it is *not* the process /
entanglement fidelity ``1 - p (d**2 - 1)/d**2``). Hence

    p = (1 - F) d / (d - 1),   1 qubit: p = 2 (1 - F),   2 qubits: p = 4 (1 - F) / 3,

and ``F`` ranges from ``1/d`` (fully depolarized, p = 1) to 1 (ideal).
"""

from __future__ import annotations

from qstack.physics.channels import depolarizing_error_for_fidelity, depolarizing_parameter, minimum_fidelity

from ._validation import in_closed_range

__all__ = ["check_fidelity", "depolarizing_error_for_fidelity", "depolarizing_parameter", "minimum_fidelity"]


def check_fidelity(owner: str, field: str, value: object, num_qubits: int) -> float:
    """Validated fidelity in ``[1/d, 1]``."""
    return in_closed_range(owner, field, value, minimum_fidelity(num_qubits), 1.0)
