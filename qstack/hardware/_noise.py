"""Fidelity checks of the hardware models, and the kernel's depolarizing conversion re-exported.

The convention (Aer's ``depolarizing_error(p, n)``, a gate of average fidelity ``F`` has
``p = (1 - F) d / (d - 1)``, ``F`` in ``[1/d, 1]``, ``d = 2**n``) and its one implementation are
in :mod:`qstack.physics.channels`; this module only validates fidelities against its range.
"""

from __future__ import annotations

from qstack.physics.channels import depolarizing_error_for_fidelity, depolarizing_parameter, minimum_fidelity

from ._validation import in_closed_range

__all__ = ["check_fidelity", "depolarizing_error_for_fidelity", "depolarizing_parameter", "minimum_fidelity"]


def check_fidelity(owner: str, field: str, value: object, num_qubits: int) -> float:
    """Validated fidelity in ``[1/d, 1]``."""
    return in_closed_range(owner, field, value, minimum_fidelity(num_qubits), 1.0)
