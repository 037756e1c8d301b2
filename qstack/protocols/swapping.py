"""Entanglement swapping as a noisy circuit: a Bell measurement on the two inner qubits.

Circuit qubits ``(a, b, c, d) = (0, 1, 2, 3)``: pair 1 is ``(a, b)``, pair 2 is ``(c, d)``; ``b``
and ``c`` sit at the repeater and are Bell-measured, ``a`` and ``d`` are the outer qubits that end
up entangled. The Bell measurement is ``CNOT b->c``, ``H`` on ``b``, then Z readouts::

    parity = readout(c)   (1: a Psi state,  X correction on d)
    phase  = readout(b)   (1: a minus state, Z correction on d)

Outcome bits (the ``outcome`` tuple of :meth:`qstack.engine.StateRegistry.apply`, clbit 0 first):

==========  ============  ==========================================================
clbit       name          meaning
==========  ============  ==========================================================
0           ``phase``     readout of ``b``; Bell state ``(phase, parity)`` is
                          ``(0,0) Phi+``, ``(1,0) Phi-``, ``(0,1) Psi+``, ``(1,1) Psi-``
1           ``parity``    readout of ``c``; for ``bsm="linear_optics"`` this is the
                          ``success`` bit (1: a Psi state was heralded)
==========  ============  ==========================================================

The corrections ``X^parity`` then ``Z^phase`` on ``d`` make two ``|Phi+>`` pairs into ``|Phi+>`` on
``(a, d)``. They are Pauli-frame updates and carry no gate noise; the CNOT carries the two-qubit
depolarizing channel, the H the one-qubit one, and each readout the bit flip of :class:`GateNoise`.

``bsm="linear_optics"`` models a Bell measurement with linear optics, which tells apart only the
two Psi states (success probability 1/2 for Bell-diagonal inputs): the parity is read first; only
when it says Psi is ``b`` rotated and read. On failure (``parity = 0``) ``b`` is not read, so the
outer qubits are left, uncorrected, in the state the physics gives: the inner pair projected on
the Phi subspace, i.e. the sum of the uncorrected Phi+ and Phi- branches, renormalised. ``phase`` is then 0 (a
bookkeeping reset of the discarded ``b``, which changes nothing on ``a`` and ``d``). The caller
frees the outer qubits.
"""

from __future__ import annotations

from functools import lru_cache

from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix

from qstack.engine import Operation

from ._common import NoisyCircuit, check_choice, pair_state, postselect
from .noise import GateNoise, resolve_noise

BELL_MEASUREMENTS = ("deterministic", "linear_optics")
PHASE_BIT = 0
PARITY_BIT = 1
SUCCESS_BIT = PARITY_BIT  # linear optics only


def swap_operation(noise: GateNoise = GateNoise(), bsm: str = "deterministic") -> Operation:
    """The swap as an :class:`~qstack.engine.Operation` on ``(a, b, c, d)``; discards ``(b, c)``.

    Built once per ``(noise, bsm)`` and cached. See the module docstring for the outcome bits.
    """
    if not isinstance(noise, GateNoise):
        raise ValueError(f"noise must be a GateNoise, got {type(noise).__name__}")
    return _swap_operation(noise, check_choice("bsm", bsm, BELL_MEASUREMENTS))


def swap_succeeded(outcome: tuple[int, ...], bsm: str = "deterministic") -> bool:
    """Whether a swap outcome heralds the outer pair (always, for a deterministic measurement)."""
    check_choice("bsm", bsm, BELL_MEASUREMENTS)
    return bsm == "deterministic" or outcome[SUCCESS_BIT] == 1


def swap(
    rho_ab: object,
    rho_cd: object,
    noise: GateNoise | None = None,
    bsm: str = "deterministic",
    **noise_kwargs: float,
) -> DensityMatrix:
    """The state of ``(a, d)`` after swapping pair ``(a, b)`` with pair ``(c, d)``.

    Averaged over the Bell outcomes after their corrections (for ``"linear_optics"``:
    conditioned on success). Inputs are 2-qubit density matrices (``DensityMatrix`` or 4x4
    arrays, qubit 0 first: ``a`` of ``rho_ab``, ``c`` of ``rho_cd``); the result has ``a`` as
    qubit 0. Noise is a :class:`GateNoise` or its fields as keywords; none means ideal gates.

    Runs :func:`swap_operation` through the engine's exact outcome table.
    """
    return swap_with_probability(rho_ab, rho_cd, noise, bsm, **noise_kwargs)[0]


def swap_with_probability(
    rho_ab: object,
    rho_cd: object,
    noise: GateNoise | None = None,
    bsm: str = "deterministic",
    **noise_kwargs: float,
) -> tuple[DensityMatrix, float]:
    """As :func:`swap`, also returning the success probability (1 for ``"deterministic"``).

    Raises ``ValueError`` when success is impossible (linear optics on inner qubits that are
    certainly equal in Z, e.g. both in ``|0>``).
    """
    first = pair_state(rho_ab, "rho_ab")
    second = pair_state(rho_cd, "rho_cd")
    operation = swap_operation(resolve_noise(noise, noise_kwargs), bsm)
    return postselect(operation, first, second, lambda outcome: swap_succeeded(outcome, bsm))


@lru_cache(maxsize=256)
def _swap_operation(noise: GateNoise, bsm: str) -> Operation:
    a, b, c, d = range(4)
    circuit = QuantumCircuit(4, 2, name=f"swap_{bsm}")
    gates = NoisyCircuit(circuit, noise)
    phase, parity = circuit.clbits[PHASE_BIT], circuit.clbits[PARITY_BIT]
    circuit.cx(b, c)
    gates.after_two(b, c)
    if bsm == "deterministic":
        circuit.h(b)
        gates.after_one(b)
        gates.measure(c, PARITY_BIT)
        gates.measure(b, PHASE_BIT)
    else:
        gates.measure(c, PARITY_BIT)
        with circuit.if_test((parity, 1)) as otherwise:
            circuit.h(b)
            gates.after_one(b)
            gates.measure(b, PHASE_BIT)
        with otherwise:
            # Nothing is read: fix the unread phase bit to 0 so that each outcome is one branch.
            circuit.reset(b)
            circuit.measure(b, PHASE_BIT)
    with circuit.if_test((parity, 1)):
        circuit.x(d)
    with circuit.if_test((phase, 1)):
        circuit.z(d)
    return Operation(circuit, discard=(b, c), name=f"swap ({bsm})")


__all__ = [
    "BELL_MEASUREMENTS",
    "PARITY_BIT",
    "PHASE_BIT",
    "SUCCESS_BIT",
    "swap",
    "swap_operation",
    "swap_succeeded",
    "swap_with_probability",
]
