"""Quantum teleportation of one qubit over a shared pair, as a noisy circuit.

Circuit qubits ``(s, a, b) = (0, 1, 2)``: ``s`` holds the state to send, ``(a, b)`` the pair,
``a`` the sender's half and ``b`` the receiver's. The sender Bell-measures ``(s, a)`` with
``CNOT s->a``, ``H`` on ``s`` and Z readouts; the receiver applies ``X^parity`` then ``Z^phase``
on ``b``. With the pair in ``|Phi+> = (|00> + |11>)/sqrt2`` and ideal gates, ``b`` ends in the
input state for every outcome.

Outcome bits (the ``outcome`` tuple of :meth:`qstack.engine.StateRegistry.apply`, clbit 0 first),
the same convention as :mod:`qstack.protocols.swapping`:

==========  ============  ==========================================================
clbit       name          meaning
==========  ============  ==========================================================
0           ``phase``     readout of ``s`` (1: Z correction on ``b``)
1           ``parity``    readout of ``a`` (1: X correction on ``b``)
==========  ============  ==========================================================

Each of the four outcomes has probability 1/4 whatever the input, when the sender's half of the
pair is maximally mixed (any Bell-diagonal pair). The corrections are Pauli-frame updates and
carry no gate noise; the CNOT carries the two-qubit depolarizing channel, the H the one-qubit
one, and each readout the bit flip of :class:`~qstack.protocols.GateNoise`. ``s`` and ``a`` are
discarded by the operation.

Through a Werner pair of fidelity ``F`` (about ``|Phi+>``) with ideal gates, teleportation is the
depolarizing channel ``rho -> w rho + (1 - w) I/2`` with ``w = (4F - 1)/3``, whose fidelity
averaged over pure inputs is ``(2F + 1)/3``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, Statevector

from qstack.engine import Operation, outcomes

from ._common import NoisyCircuit, check_density_matrix, pair_state
from .noise import GateNoise, resolve_noise

PHASE_BIT = 0
PARITY_BIT = 1
_TOLERANCE = 1e-9


def teleportation_operation(noise: GateNoise = GateNoise()) -> Operation:
    """Teleportation as an :class:`~qstack.engine.Operation` on ``(s, a, b)``; discards ``(s, a)``.

    Built once per ``noise`` and cached. See the module docstring for the outcome bits.
    """
    if not isinstance(noise, GateNoise):
        raise ValueError(f"noise must be a GateNoise, got {type(noise).__name__}")
    return _teleportation_operation(noise)


def teleportation_circuit(noise: GateNoise = GateNoise()) -> QuantumCircuit:
    """The circuit of :func:`teleportation_operation` (3 qubits, 2 clbits), to embed elsewhere.

    A fresh copy each call: editing it leaves the cached operation untouched.
    """
    return teleportation_operation(noise).circuit.copy()


def teleport(
    state: object,
    pair: object,
    noise: GateNoise | None = None,
    **noise_kwargs: float,
) -> DensityMatrix:
    """The receiver's qubit after teleporting ``state`` through ``pair``.

    ``state`` is one qubit (``Statevector``, ``DensityMatrix``, a 2-vector or a 2x2 array);
    ``pair`` a 2-qubit density matrix (``DensityMatrix`` or 4x4, the sender's half as qubit 0).
    The result is averaged over the Bell-measurement outcomes after their corrections,
    ``sum_k p_k rho_k``. Noise is a :class:`GateNoise` or its fields as keywords; none means
    ideal gates. Runs :func:`teleportation_operation` through the engine's exact outcome table.
    """
    single = qubit_state(state, "state")
    shared = pair_state(pair, "pair")
    operation = teleportation_operation(resolve_noise(noise, noise_kwargs))
    total = np.zeros((2, 2), dtype=complex)
    for branch in outcomes(operation, np.kron(shared, single)):  # qubits (s, a, b)
        total += branch.probability * branch.rho
    return DensityMatrix((total + total.conj().T) / 2)


def qubit_state(state: object, name: str) -> np.ndarray:
    """A one-qubit state (vector or density matrix) as a checked 2x2 complex array."""
    if isinstance(state, Statevector):
        state = state.data
    if isinstance(state, DensityMatrix):
        state = state.data
    try:
        array = np.array(state, dtype=complex)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-qubit state (2-vector or 2x2), got {type(state).__name__}") from exc
    if array.shape == (2,):
        norm = np.linalg.norm(array)
        if not np.isfinite(norm) or abs(norm - 1.0) > _TOLERANCE:
            raise ValueError(f"{name} must be a unit vector, got norm {norm:.12g}")
        array = np.outer(array, array.conj())
    if array.shape != (2, 2):
        raise ValueError(f"{name} must be a 1-qubit state (2-vector or 2x2), got shape {array.shape}")
    return check_density_matrix(array, name)


@lru_cache(maxsize=256)
def _teleportation_operation(noise: GateNoise) -> Operation:
    s, a, b = range(3)
    circuit = QuantumCircuit(3, 2, name="teleportation")
    gates = NoisyCircuit(circuit, noise)
    phase, parity = circuit.clbits[PHASE_BIT], circuit.clbits[PARITY_BIT]
    circuit.cx(s, a)
    gates.after_two(s, a)
    circuit.h(s)
    gates.after_one(s)
    gates.measure(a, PARITY_BIT)
    gates.measure(s, PHASE_BIT)
    with circuit.if_test((parity, 1)):
        circuit.x(b)
    with circuit.if_test((phase, 1)):
        circuit.z(b)
    return Operation(circuit, discard=(s, a), name="teleportation")


__all__ = [
    "PARITY_BIT",
    "PHASE_BIT",
    "qubit_state",
    "teleport",
    "teleportation_circuit",
    "teleportation_operation",
]
