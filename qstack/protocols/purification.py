"""Entanglement purification (BBPSSW, DEJMPS) and pumping as noisy circuits.

Circuit qubits ``(a1, b1, a2, b2) = (0, 1, 2, 3)``: pair 1 ``(a1, b1)`` is kept, pair 2
``(a2, b2)`` is sacrificed; Alice holds ``a1, a2``, Bob ``b1, b2``. Both protocols end with the
bilateral CNOT ``a1 -> a2``, ``b1 -> b2`` and Z readouts of ``a2`` and ``b2``:

=====  ==============================================
clbit  meaning
=====  ==============================================
0      readout of ``a2`` (Alice)
1      readout of ``b2`` (Bob)
=====  ==============================================

The round succeeds when the two readouts agree (:func:`purification_succeeded`). The readouts
are the only herald, so a readout flip can accept a bad pair or reject a good one. On failure
the kept pair is left in the state the physics gives and the caller frees it: both pairs are
lost. Pair 2 is always discarded by the operation.

* **BBPSSW** (Bennett et al., PRL 76, 722 (1996)): each pair is first twirled to Werner form
  about ``|Phi+>``, ``rho -> F |Phi+><Phi+| + (1 - F)(I - |Phi+><Phi+|)/3`` with
  ``F = <Phi+|rho|Phi+>``. The twirl is exactly the average over the 12 random bilateral rotations
  ``U (x) U*`` with ``U = P C^m`` (``P`` a Pauli, ``C`` the Clifford cycling ``X -> Z -> Y``,
  ``m = 0, 1, 2``); ``U (x) U*`` leaves ``|Phi+>`` invariant (the paper twirls about the singlet
  with ``U (x) U``; twirling about ``|Phi+>`` saves its final unilateral ``sigma_y``). The
  average is inserted as one 12-term Kraus channel per pair; the rotations themselves are
  one-qubit gates and carry one-qubit noise on each of the four qubits. On a Werner input of
  fidelity ``F`` one round gives
  ``F' = (F^2 + ((1-F)/3)^2) / (F^2 + 2F(1-F)/3 + 5((1-F)/3)^2)``, the denominator being the
  success probability.
* **DEJMPS** (Deutsch et al., PRL 77, 2818 (1996)): ``Rx(pi/2)`` on Alice's qubits and
  ``Rx(-pi/2)`` on Bob's (Qiskit's ``Rx(t) = exp(-i t X / 2)``, i.e. the paper's
  ``(1 -+ i sigma_x)/sqrt2``), then the bilateral CNOT. With Bell-diagonal coefficients
  ``(A, B, C, D)`` on ``(Phi+, Psi-, Psi+, Phi-)`` (the paper's labels map to exactly these
  states with this rotation convention) one round gives ``A' = (A^2 + B^2)/N``,
  ``B' = 2CD/N``, ``C' = (C^2 + D^2)/N``, ``D' = 2AB/N``, ``N = (A + B)^2 + (C + D)^2``.

Noise (:class:`~qstack.protocols.GateNoise`): the one-qubit channel after each rotation, the
two-qubit channel after each CNOT, the readout flip before each measurement.

Fidelity everywhere is the squared overlap with ``|Phi+> = (|00> + |11>)/sqrt2``, as
``qiskit.quantum_info.state_fidelity``.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, Kraus

from qstack.engine import Operation

from ._common import NoisyCircuit, check_choice, check_rounds, pair_state, postselect
from .noise import GateNoise, resolve_noise

METHODS = ("bbpssw", "dejmps")


def purification_operation(method: str = "dejmps", noise: GateNoise = GateNoise(),
                           noise_b: GateNoise | None = None) -> Operation:
    """One purification round as an :class:`~qstack.engine.Operation` on ``(a1, b1, a2, b2)``.

    Keeps ``(a1, b1)``, discards ``(a2, b2)``; outcome ``(readout a2, readout b2)``. ``noise``
    is on Alice's gates and readout, ``noise_b`` on Bob's (default: ``noise`` on both). Built
    once per ``(method, noise, noise_b)`` and cached.
    """
    for name, value in (("noise", noise), ("noise_b", noise if noise_b is None else noise_b)):
        if not isinstance(value, GateNoise):
            raise ValueError(f"{name} must be a GateNoise, got {type(value).__name__}")
    return _purification_operation(check_choice("method", method, METHODS), noise,
                                   noise if noise_b is None else noise_b)


def purification_succeeded(outcome: tuple[int, ...]) -> bool:
    """A round succeeds when Alice's and Bob's readouts agree."""
    return outcome[0] == outcome[1]


def purify(
    rho_1: object,
    rho_2: object,
    method: str = "dejmps",
    noise: GateNoise | None = None,
    **noise_kwargs: float,
) -> tuple[DensityMatrix, float]:
    """One round on pairs ``rho_1`` (kept) and ``rho_2`` (sacrificed).

    Returns the kept pair's state conditioned on success, and the success probability. Inputs
    are 2-qubit density matrices (``DensityMatrix`` or 4x4 arrays, Alice's qubit first).
    Runs :func:`purification_operation` through the engine's exact outcome table. Raises
    ``ValueError`` when success is impossible (e.g. a bit-flipped sacrificial pair, ideal gates).
    """
    kept = pair_state(rho_1, "rho_1")
    sacrificed = pair_state(rho_2, "rho_2")
    operation = purification_operation(method, resolve_noise(noise, noise_kwargs))
    return postselect(operation, kept, sacrificed, purification_succeeded)


def purify_rounds(
    rho: object,
    rounds: int,
    method: str = "dejmps",
    noise: GateNoise | None = None,
    **noise_kwargs: float,
) -> tuple[DensityMatrix, float]:
    """Recurrence purification: round ``k`` purifies two copies of round ``k - 1``'s output.

    Consumes ``2**rounds`` pairs in state ``rho``. The returned probability is that of the
    whole tree succeeding, ``P_k = P_{k-1}^2 p_k`` with ``P_0 = 1`` and ``p_k`` the success
    probability of round ``k``.
    """
    rounds = check_rounds(rounds)
    noise = resolve_noise(noise, noise_kwargs)
    state = DensityMatrix(pair_state(rho, "rho"))
    total = 1.0
    for _ in range(rounds):
        state, p = purify(state, state, method, noise)
        total = total * total * p
    return state, total


def pump(
    rho_kept: object,
    rho_fresh: object,
    rounds: int,
    method: str = "dejmps",
    noise: GateNoise | None = None,
    **noise_kwargs: float,
) -> tuple[DensityMatrix, float]:
    """Entanglement pumping: the kept pair is purified ``rounds`` times, each with a fresh pair.

    Returns the kept pair after the last round, conditioned on every round succeeding, and the
    probability of that, the product of the rounds' success probabilities.
    """
    rounds = check_rounds(rounds)
    noise = resolve_noise(noise, noise_kwargs)
    state = DensityMatrix(pair_state(rho_kept, "rho_kept"))
    fresh = pair_state(rho_fresh, "rho_fresh")
    total = 1.0
    for _ in range(rounds):
        state, p = purify(state, fresh, method, noise)
        total *= p
    return state, total


def werner_twirl() -> Kraus:
    """The 12-term bilateral-rotation channel that twirls a pair to Werner form about |Phi+>.

    Kraus operators ``(U (x) U*)/sqrt(12)`` on (Alice, Bob) for ``U = P C^m``; see the module
    docstring. As a matrix on Qiskit qubits (Alice = 0, Bob = 1) an operator is ``kron(U*, U)``.
    """
    return _werner_twirl()


@lru_cache(maxsize=1)
def _werner_twirl() -> Kraus:
    paulis = [
        np.eye(2, dtype=complex),
        np.array([[0, 1], [1, 0]], dtype=complex),
        np.array([[0, -1j], [1j, 0]], dtype=complex),
        np.array([[1, 0], [0, -1]], dtype=complex),
    ]
    hadamard = np.array([[1, 1], [1, -1]], dtype=complex) / math.sqrt(2)
    phase = np.diag([1, 1j])
    cycle = phase @ hadamard  # X -> Z -> Y -> X under conjugation
    operators = []
    for pauli, power in itertools.product(paulis, range(3)):
        u = pauli @ np.linalg.matrix_power(cycle, power)
        operators.append(np.kron(u.conj(), u) / math.sqrt(12))
    return Kraus(operators)


@lru_cache(maxsize=256)
def _purification_operation(method: str, noise: GateNoise, noise_b: GateNoise) -> Operation:
    a1, b1, a2, b2 = range(4)
    circuit = QuantumCircuit(4, 2, name=method)
    alice_gates = NoisyCircuit(circuit, noise)
    bob_gates = alice_gates if noise_b == noise else NoisyCircuit(circuit, noise_b)
    if method == "bbpssw":
        circuit.append(werner_twirl(), [a1, b1])
        circuit.append(werner_twirl(), [a2, b2])
    else:
        for alice in (a1, a2):
            circuit.rx(math.pi / 2, alice)
        for bob in (b1, b2):
            circuit.rx(-math.pi / 2, bob)
    if bob_gates is alice_gates:  # the one-qubit noise in the order the circuits have always had
        alice_gates.after_one(a1, b1, a2, b2)
    else:
        alice_gates.after_one(a1, a2)
        bob_gates.after_one(b1, b2)
    circuit.cx(a1, a2)
    alice_gates.after_two(a1, a2)
    circuit.cx(b1, b2)
    bob_gates.after_two(b1, b2)
    alice_gates.measure(a2, 0)
    bob_gates.measure(b2, 1)
    return Operation(circuit, discard=(a2, b2), name=f"purification ({method})")


__all__ = [
    "METHODS",
    "pump",
    "purification_operation",
    "purification_succeeded",
    "purify",
    "purify_rounds",
    "werner_twirl",
]
