"""Non-local controlled gates over one shared pair: the cat-entangler and cat-disentangler.

Eisert, Jacobs, Papadopoulos and Plenio, Phys. Rev. A 62, 052317 (2000): a controlled-``U``
between a control held by Alice and a target held by Bob costs one Bell pair, one measurement
on each side and one classical bit each way.

Circuit qubits ``(c, a, b, t) = (0, 1, 2, 3)``: ``c`` is the control (Alice), ``(a, b)`` the pair,
``a`` Alice's half and ``b`` Bob's, ``t`` the target (Bob).

1. *Cat-entangler* (Alice): ``CNOT c->a``, Z readout of ``a`` (``parity``); Bob applies
   ``X^parity`` on ``b``. With the pair in ``|Phi+>`` this leaves
   ``alpha |0>_c |0>_b + beta |1>_c |1>_b``: ``b`` is a copy of ``c`` in the Z basis.
2. Bob applies the gate with ``b`` as its control: ``CU(b, t)``.
3. *Cat-disentangler* (Bob): ``H`` on ``b``, Z readout (``phase``, an X-basis readout); Alice
   applies ``Z^phase`` on ``c``. ``c`` and ``t`` are left in ``CU (c, t)`` of their input.

Outcome bits (the ``outcome`` tuple of :meth:`qstack.engine.StateRegistry.apply`, clbit 0 first):

==========  ============  ==========================================================
clbit       name          meaning
==========  ============  ==========================================================
0           ``parity``    readout of ``a`` (1: X correction on ``b``)
1           ``phase``     X-basis readout of ``b`` (1: Z correction on ``c``)
==========  ============  ==========================================================

The gate may be any two-qubit gate that acts as the identity when its first qubit is ``|0>``
(``|0><0| (x) I + |1><1| (x) U``: ``cx``, ``cz``, ``cp``, ``crz``, ``cu``, ...). Noise
(:class:`~qstack.protocols.GateNoise`): Alice's ``noise`` on her ``CNOT`` and readout, Bob's
``target_noise`` (default: the same) on ``CU``, ``H`` and his readout. The corrections are
Pauli-frame updates and carry no noise. ``a`` and ``b`` are discarded by the operation.

Through a Werner pair of fidelity ``F`` with ideal gates the process fidelity of the telegate to
the ideal gate is ``F + (1 - F) |Tr U|^2 / 12``: a ``Z`` error of the pair puts a wrong phase on
the control (orthogonal to the gate), an ``X`` or ``Y`` error applies ``U`` on the wrong branch,
which overlaps the gate by ``Tr U``. For a CNOT or CZ (``U`` traceless) it is ``F``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Gate
from qiskit.circuit.library import CXGate
from qiskit.quantum_info import DensityMatrix, Operator

from qstack.engine import Operation, outcomes

from ._common import NoisyCircuit, pair_state
from .noise import GateNoise, resolve_noise

PARITY_BIT = 0
PHASE_BIT = 1
_TOLERANCE = 1e-9


def is_controlled_on_first_qubit(gate: Gate) -> bool:
    """Whether a two-qubit ``gate`` is the identity when its qubit 0 is ``|0>`` (telegate-able).

    That is, ``gate = |0><0| (x) I + |1><1| (x) U`` with qubit 0 the control (Qiskit order).
    """
    if getattr(gate, "num_qubits", None) != 2:
        return False
    try:
        matrix = Operator(gate).data
    except Exception:  # noqa: BLE001 - no matrix (unbound parameters, non-unitary): not a gate here
        return False
    # Qiskit index = q0 + 2 q1: control |0> is indices 0 and 2.
    block = matrix[np.ix_([0, 2], [0, 2])]
    off = matrix[np.ix_([1, 3], [0, 2])]
    return bool(np.allclose(block, np.eye(2), atol=_TOLERANCE) and np.allclose(off, 0.0, atol=_TOLERANCE))


def telegate_circuit(
    noise: GateNoise = GateNoise(),
    gate: Gate | None = None,
    target_noise: GateNoise | None = None,
) -> QuantumCircuit:
    """The telegate circuit on ``(c, a, b, t)`` with 2 clbits (see the module docstring).

    ``gate`` is the two-qubit controlled gate (default ``CXGate``), applied on ``(b, t)``;
    ``noise`` is Alice's (control side), ``target_noise`` Bob's (default ``noise``). A fresh copy
    each call: editing it leaves the cached operation untouched.
    """
    return telegate_operation(noise, gate, target_noise).circuit.copy()


def telegate_operation(
    noise: GateNoise = GateNoise(),
    gate: Gate | None = None,
    target_noise: GateNoise | None = None,
) -> Operation:
    """The telegate as an :class:`~qstack.engine.Operation` on ``(c, a, b, t)``; discards ``(a, b)``.

    Built once per ``(noise, gate, target_noise)`` and cached.
    """
    target_noise = noise if target_noise is None else target_noise
    for name, value in (("noise", noise), ("target_noise", target_noise)):
        if not isinstance(value, GateNoise):
            raise ValueError(f"{name} must be a GateNoise, got {type(value).__name__}")
    gate = CXGate() if gate is None else gate
    if not is_controlled_on_first_qubit(gate):
        raise ValueError(
            f"gate {getattr(gate, 'name', gate)!r} must be a two-qubit gate that is the identity when its "
            "first qubit is |0> (a controlled-U with the control first)"
        )
    return _telegate_operation(noise, target_noise, _GateKey(gate))


def telegate(
    state: object,
    pair: object,
    noise: GateNoise | None = None,
    gate: Gate | None = None,
    target_noise: GateNoise | None = None,
    **noise_kwargs: float,
) -> DensityMatrix:
    """The control and target after a telegate through ``pair``, averaged over the outcomes.

    ``state`` is the 2-qubit state of ``(c, t)`` (``DensityMatrix``, ``Statevector`` or a 4x4
    array or 4-vector, the control as qubit 0); ``pair`` the 2-qubit state of ``(a, b)``
    (Alice's half as qubit 0). Returns ``sum_k p_k rho_k`` on ``(c, t)``, control as qubit 0.
    Noise is a :class:`GateNoise` or its fields as keywords (Alice's; Bob's is ``target_noise``,
    default the same); none means ideal gates. Runs :func:`telegate_operation` through the
    engine's exact outcome table.
    """
    data = _two_qubit_state(state)
    shared = pair_state(pair, "pair")
    operation = telegate_operation(resolve_noise(noise, noise_kwargs), gate, target_noise)
    total = np.zeros((4, 4), dtype=complex)
    # The joint state holds (c, t, a, b) as qubits 0..3; the circuit's qubits are (c, a, b, t).
    for branch in outcomes(operation, np.kron(shared, data), [0, 2, 3, 1]):
        total += branch.probability * branch.rho
    # The kept qubits come out in circuit order (c, t): already the requested order.
    return DensityMatrix((total + total.conj().T) / 2)


def _two_qubit_state(state: object) -> np.ndarray:
    data = getattr(state, "data", state)
    array = np.asarray(data, dtype=complex)
    if array.shape == (4,):
        norm = np.linalg.norm(array)
        if not np.isfinite(norm) or abs(norm - 1.0) > _TOLERANCE:
            raise ValueError(f"state must be a unit vector, got norm {norm:.12g}")
        array = np.outer(array, array.conj())
    return pair_state(array, "state")


@dataclass(frozen=True, eq=False)
class _GateKey:
    """A gate, hashed and compared by its matrix (for the operation cache)."""

    gate: Gate

    def _matrix_bytes(self) -> bytes:
        return np.round(Operator(self.gate).data, 12).tobytes()

    def __hash__(self) -> int:
        return hash(self._matrix_bytes())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _GateKey) and self._matrix_bytes() == other._matrix_bytes()


@lru_cache(maxsize=256)
def _telegate_operation(noise: GateNoise, target_noise: GateNoise, key: _GateKey) -> Operation:
    c, a, b, t = range(4)
    circuit = QuantumCircuit(4, 2, name=f"telegate_{key.gate.name}")
    alice = NoisyCircuit(circuit, noise)
    bob = NoisyCircuit(circuit, target_noise)
    parity, phase = circuit.clbits[PARITY_BIT], circuit.clbits[PHASE_BIT]
    # Cat-entangler: b becomes a Z-basis copy of c.
    circuit.cx(c, a)
    alice.after_two(c, a)
    alice.measure(a, PARITY_BIT)
    with circuit.if_test((parity, 1)):
        circuit.x(b)
    circuit.append(key.gate, [b, t])
    bob.after_two(b, t)
    # Cat-disentangler: an X-basis readout of b, its phase kicked back onto c.
    circuit.h(b)
    bob.after_one(b)
    bob.measure(b, PHASE_BIT)
    with circuit.if_test((phase, 1)):
        circuit.z(c)
    return Operation(circuit, discard=(a, b), name=f"telegate ({key.gate.name})")


__all__ = [
    "PARITY_BIT",
    "PHASE_BIT",
    "is_controlled_on_first_qubit",
    "telegate",
    "telegate_circuit",
    "telegate_operation",
]
