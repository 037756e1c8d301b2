"""Exact results of an operation on a given state, without a registry or a random draw.

The link layer tabulates heralded states, the planner predicts stored states, and tests check
circuits: they need every outcome of an operation with its probability and post-outcome state,
or the state after a deterministic channel. These functions give them with the very arithmetic
of the fast engine (:class:`~qstack.engine.StateRegistry`), so a table computed here and a
simulated run agree to the last bit.

Qubit order (as in the registry): ``rho`` is an n-qubit density matrix in Qiskit's
little-endian order; circuit qubit ``i`` acts on qubit ``qubits[i]`` of ``rho`` (default: the
lowest qubits in order). The result is on the operation's kept qubits (circuit order, lowest
first) followed by the other qubits of ``rho`` in their order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .operation import Operation, permute_qubits

#: Outcomes at or below this probability are left out of a table (rounding of exact zeros).
NEGLIGIBLE_PROBABILITY = 1e-15


@dataclass(frozen=True)
class Outcome:
    """One outcome of an instrument on a state: its classical bits, its probability
    ``p_k = Tr E_k(rho)`` and the normalised state ``E_k(rho) / p_k``."""

    outcome: tuple[int, ...]
    probability: float
    rho: np.ndarray


def outcomes(operation: Operation, rho: np.ndarray, qubits: Sequence[int] | None = None) -> tuple[Outcome, ...]:
    """Every outcome of ``operation`` on ``rho`` with probability above
    :data:`NEGLIGIBLE_PROBABILITY`, in branch order (see the module docstring for qubit order).
    """
    rho4 = _operation_first(operation, rho, qubits)
    table = []
    for branch, matrix in zip(operation.branches, operation.maps):
        out = apply_map(matrix, rho4)
        probability = float(np.real(np.trace(out)))
        if probability > NEGLIGIBLE_PROBABILITY:
            table.append(Outcome(branch.outcome, probability, out / probability))
    return tuple(table)


def evolve(operation: Operation, rho: np.ndarray, qubits: Sequence[int] | None = None) -> np.ndarray:
    """The state after a deterministic ``operation`` (one branch: a channel, no measurement
    record) on ``rho``, as the fast engine applies it (not renormalised: the channel keeps the
    trace). A ``ValueError`` for an operation with several outcomes (use :func:`outcomes`)."""
    if len(operation.branches) != 1:
        raise ValueError(f"evolve: {operation.name or 'operation'} has {len(operation.branches)} outcomes; use outcomes()")
    n = _num_qubits(rho)
    positions = _positions(operation, n, qubits)
    flat = operation.flat
    if flat is not None and len(positions) == n:  # the whole state: one matrix-vector product
        d = 2 ** len(operation.kept)
        return (flat.maps[0] @ permute_qubits(rho, positions).reshape(-1)).reshape(d, d)
    return apply_map(operation.maps[0], _operation_first(operation, rho, positions))


def apply_map(matrix: np.ndarray, rho4: np.ndarray) -> np.ndarray:
    """``rho'[r i, s j] = sum_kl L[i, j, k, l] rho[r k, s l]`` as a matrix (operation qubits
    lowest); ``rho4`` is the state as ``rho[r, k, s, l]`` (see :func:`operation_first`)."""
    # einsum's own loops, not BLAS: for these small products a threaded BLAS call costs
    # milliseconds when the other core is busy (measured here: 35 us against 6.8 ms).
    rest, d_out = rho4.shape[0], matrix.shape[0]
    if rest == 1:
        return np.einsum("ijkl,kl->ij", matrix, rho4[0, :, 0, :])
    out = np.einsum("ijkl,rksl->risj", matrix, rho4)
    return out.reshape(rest * d_out, rest * d_out)


def operation_first(rho: np.ndarray, n: int, positions: Sequence[int]) -> np.ndarray:
    """An n-qubit ``rho`` with qubits ``positions`` lowest (in that order), as the 4-index
    ``rho[r, k, s, l]``: ``k, l`` over those qubits, ``r, s`` over the others in their order."""
    rest_positions = [i for i in range(n) if i not in positions]
    permuted = permute_qubits(rho, list(positions) + rest_positions)
    d = 2 ** len(positions)
    rest = 2 ** (n - len(positions))
    return permuted.reshape(rest, d, rest, d)


def _operation_first(operation: Operation, rho: np.ndarray, qubits: Sequence[int] | None) -> np.ndarray:
    n = _num_qubits(rho)
    return operation_first(rho, n, _positions(operation, n, qubits))


def _num_qubits(rho: np.ndarray) -> int:
    dim = rho.shape[0]
    n = int(round(math.log2(dim))) if dim > 0 else -1
    if rho.ndim != 2 or rho.shape[1] != dim or n < 0 or 2**n != dim:
        raise ValueError(f"a 2^n x 2^n density matrix is needed, got shape {rho.shape}")
    return n


def _positions(operation: Operation, n: int, qubits: Sequence[int] | None) -> list[int]:
    positions = list(range(operation.num_qubits)) if qubits is None else [int(q) for q in qubits]
    if len(positions) != operation.num_qubits:
        raise ValueError(f"{operation.name or 'operation'} acts on {operation.num_qubits} qubits, got {len(positions)}")
    if len(set(positions)) != len(positions) or any(not 0 <= q < n for q in positions):
        raise ValueError(f"qubits must be distinct positions in [0, {n}), got {positions}")
    return positions
