"""Two-qubit states every layer shares: |Phi+>, the Bell basis, Werner states, fidelity.

Conventions: Qiskit's little-endian order (qubit 0 is bit 0 of the basis index). The Bell basis
is ordered ``(Phi+, Phi-, Psi+, Psi-)`` with ``|Phi+-> = (|00> +- |11>)/sqrt 2`` and
``|Psi+-> = (|01> +- |10>)/sqrt 2``.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

_BELL_UNNORMALISED = np.array(
    [[1, 0, 0, 1], [1, 0, 0, -1], [0, 1, 1, 0], [0, 1, -1, 0]], dtype=complex
)

#: ``BELL_PROJECTORS[k] = |B_k><B_k|`` for ``(Phi+, Phi-, Psi+, Psi-)``; exact (entries 0, +-1/2).
BELL_PROJECTORS = np.einsum("ki,kj->kij", _BELL_UNNORMALISED, _BELL_UNNORMALISED) / 2
BELL_PROJECTORS.flags.writeable = False

#: ``|Phi+><Phi+|``, read-only.
PHI_PLUS = BELL_PROJECTORS[0]


def bell_fidelity(rho: np.ndarray) -> float:
    """Fidelity ``<Phi+| rho |Phi+>`` of a two-qubit density matrix (4x4) [dimensionless]."""
    rho = np.asarray(rho)
    if rho.shape != (4, 4):
        raise ValueError(f"bell_fidelity needs a 4x4 density matrix, got shape {rho.shape}")
    return float(np.real(rho[0, 0] + rho[3, 3] + rho[0, 3] + rho[3, 0]) / 2)


def werner_parameter(fidelity: float) -> float:
    """``w = (4F - 1)/3`` of the Werner state with fidelity ``F`` in [0, 1] to |Phi+>."""
    if not 0.0 <= fidelity <= 1.0:
        raise ValueError(f"fidelity must be in [0, 1], got {fidelity}")
    return (4.0 * fidelity - 1.0) / 3.0


def werner_state(fidelity: float) -> np.ndarray:
    """``w |Phi+><Phi+| + (1 - w) I/4`` with ``w = (4F - 1)/3``: fidelity ``F`` to |Phi+>."""
    w = werner_parameter(fidelity)
    return w * PHI_PLUS + (1.0 - w) * np.eye(4) / 4


def mean_heralded_state(outcomes: Iterable) -> np.ndarray:
    """The heralded state averaged over heralding outcomes, ``sum_k p_k rho_k / sum_k p_k``.

    ``outcomes``: objects with ``probability`` (of that outcome per attempt) and ``rho`` (its
    normalised post-herald state), such as a link's ``heralded_states``.
    """
    total = 0.0
    rho = np.zeros((4, 4), dtype=complex)
    for outcome in outcomes:
        total += outcome.probability
        rho = rho + outcome.probability * outcome.rho
    if not total > 0:
        raise ValueError("mean_heralded_state needs at least one outcome of positive probability")
    return rho / total
