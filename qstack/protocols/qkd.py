"""Entanglement-based quantum key distribution (BBM92) on pairs, measured as noisy circuits.

BBM92 (Bennett, Brassard, Mermin, PRL 68, 557 (1992)): Alice and Bob share pairs ideally in
``|Phi+> = (|00> + |11>)/sqrt2``; each measures her or his half in the Z or the X basis, chosen
at random (Z with probability ``z_probability``). ``|Phi+>`` gives equal bits whenever the bases
agree; the rounds with different bases are dropped (*sifting*). The **quantum bit error rate**
of a basis is the probability that the two bits differ when both measured in it:

* ``e_z = <01|rho|01> + <10|rho|10>``, ``e_x`` the same after ``H (x) H``;
* for a Werner pair of fidelity ``F``, ``e_z = e_x = 2(1 - F)/3``.

The asymptotic secret-key fraction is Shor and Preskill's (PRL 85, 441 (2000)),

    r = max(0, 1 - h(e_x) - h(e_z)),    h(e) = -e log2 e - (1-e) log2(1-e),

(``1 - 2 h(e)`` for symmetric errors; zero from ``e ~ 11 %``), and the secret key rate is the
sifted pair rate times ``r``: ``R = R_pairs * (pz^2 + (1 - pz)^2) * r``. A strong bias toward Z
(``pz -> 1``) brings the sifting fraction toward 1 and costs nothing asymptotically (Lo, Chau,
Ardehali, J. Cryptology 18, 133 (2005)); finite-size effects are not modelled.

The measurement is a circuit, :func:`bbm92_operation`, on circuit qubits ``(a, b) = (0, 1)``
(Alice's half first): ``H`` before the readout in X, carrying the one-qubit depolarizing channel
of that side's :class:`~qstack.protocols.GateNoise`; each readout the bit flip. Both qubits are
discarded. Outcome bits: clbit 0 Alice's bit, clbit 1 Bob's. Exact error rates come from the
engine's outcome table; sampled ones from applying the operation, one pair at a time, in a
registry drawing outcomes from the caller's generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from qiskit import QuantumCircuit

from qstack.engine import Operation, StateRegistry, outcomes

from ._common import NoisyCircuit, check_choice, pair_state
from .noise import GateNoise, resolve_noise

BASES = ("Z", "X")
ALICE_BIT = 0
BOB_BIT = 1


def binary_entropy(p: float) -> float:
    """``h(p) = -p log2 p - (1 - p) log2 (1 - p)`` [bits], with ``h(0) = h(1) = 0``."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"binary_entropy needs p in [0, 1], got {p!r}")
    if p in (0.0, 1.0):
        return 0.0
    return -p * math.log2(p) - (1.0 - p) * math.log2(1.0 - p)


def secret_key_fraction(qber_z: float, qber_x: float) -> float:
    """Shor-Preskill asymptotic key fraction ``max(0, 1 - h(e_x) - h(e_z))`` [bits per sifted pair].

    Error rates above 1/2 are counted as their complement (Bob flips all his bits).
    """
    for name, e in (("qber_z", qber_z), ("qber_x", qber_x)):
        if not 0.0 <= e <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {e!r}")
    return max(0.0, 1.0 - binary_entropy(qber_x) - binary_entropy(qber_z))


def bbm92_operation(
    basis_a: str, basis_b: str, noise: GateNoise = GateNoise(), noise_b: GateNoise | None = None
) -> Operation:
    """Alice measures qubit 0 in ``basis_a``, Bob qubit 1 in ``basis_b`` (``"Z"`` or ``"X"``).

    ``noise`` is Alice's gates and readout, ``noise_b`` Bob's (default: the same). Outcome
    ``(Alice's bit, Bob's bit)``; both qubits are discarded. Built once per arguments, cached.
    """
    noise_b = noise if noise_b is None else noise_b
    for name, value in (("noise", noise), ("noise_b", noise_b)):
        if not isinstance(value, GateNoise):
            raise ValueError(f"{name} must be a GateNoise, got {type(value).__name__}")
    return _bbm92_operation(check_choice("basis_a", basis_a, BASES), check_choice("basis_b", basis_b, BASES), noise, noise_b)


def qber(pair: object, basis: str, noise: GateNoise | None = None, noise_b: GateNoise | None = None) -> float:
    """Exact probability that Alice's and Bob's bits differ when both measure ``pair`` in ``basis``.

    ``pair`` is a 2-qubit density matrix (Alice's half as qubit 0). Runs
    :func:`bbm92_operation` through the engine's outcome table.
    """
    rho = pair_state(pair, "pair")
    operation = bbm92_operation(basis, basis, noise or GateNoise(), noise_b)
    return _error_probability(operation, rho)


@dataclass(frozen=True)
class SiftCounts:
    """What Alice and Bob count over sampled rounds: sifted rounds and errors per basis."""

    rounds: int
    sifted_z: int
    errors_z: int
    sifted_x: int
    errors_x: int


@dataclass(frozen=True)
class BBM92Result:
    """Error rates and key of BBM92 on a set of pairs.

    Attributes
    ----------
    pairs:
        Number of pairs.
    z_probability:
        Probability with which each side measures in Z.
    qber_z, qber_x:
        Error rates: exact (outcome tables, averaged over the pairs) or sampled
        (errors / sifted rounds; ``nan`` when a basis was never sifted).
    sifted_fraction:
        Fraction of pairs whose bases agree: ``pz^2 + (1 - pz)^2`` exactly, or counted.
    key_fraction:
        Shor-Preskill ``r`` [secret bits per sifted pair] from ``qber_z, qber_x`` (0 if unknown).
    counts:
        The sampled counts, or ``None`` for exact results.
    """

    pairs: int
    z_probability: float
    qber_z: float
    qber_x: float
    sifted_fraction: float
    key_fraction: float
    counts: SiftCounts | None = None

    @property
    def exact(self) -> bool:
        return self.counts is None

    @property
    def secret_bits_per_pair(self) -> float:
        """Secret bits per distributed pair: ``sifted_fraction * key_fraction``."""
        return self.sifted_fraction * self.key_fraction

    def key_rate_hz(self, pair_rate_hz: float) -> float:
        """Secret key rate [bit/s] for pairs delivered at ``pair_rate_hz`` [Hz]."""
        if not pair_rate_hz >= 0:
            raise ValueError(f"pair_rate_hz must be >= 0, got {pair_rate_hz!r}")
        return pair_rate_hz * self.secret_bits_per_pair


def bbm92(
    pairs: object,
    rng: np.random.Generator | None = None,
    z_probability: float = 0.5,
    noise: GateNoise | None = None,
    noise_b: GateNoise | None = None,
    engine: str = "fast",
    **noise_kwargs: float,
) -> BBM92Result:
    """BBM92 on ``pairs``: one 2-qubit state or a sequence of them (Alice's half as qubit 0).

    Without ``rng`` the result is **exact**: each basis's error probability from the outcome
    tables, averaged over the pairs, and the expected sifting fraction. With ``rng`` each pair
    is one **sampled** round: both bases drawn (Z with ``z_probability``), the operation applied
    in a registry (``engine`` ``"fast"`` or ``"aer"``) whose outcomes come from ``rng``, and the
    sifted rounds counted. Noise: Alice's (``noise`` or its fields as keywords) and Bob's
    (``noise_b``, default Alice's).
    """
    if not isinstance(z_probability, (int, float)) or not 0.0 <= z_probability <= 1.0:
        raise ValueError(f"z_probability must be in [0, 1], got {z_probability!r}")
    noise = resolve_noise(noise, noise_kwargs)
    states = _pair_list(pairs)
    z, x = float(z_probability), 1.0 - float(z_probability)
    if rng is None:
        average = sum(states) / len(states)
        e_z = _error_probability(bbm92_operation("Z", "Z", noise, noise_b), average)
        e_x = _error_probability(bbm92_operation("X", "X", noise, noise_b), average)
        return BBM92Result(len(states), z, e_z, e_x, z * z + x * x, secret_key_fraction(e_z, e_x))
    return _sample(states, rng, z, noise, noise_b, engine)


# --------------------------------------------------------------------------- internals
def _pair_list(pairs: object) -> list[np.ndarray]:
    if isinstance(pairs, (list, tuple)):
        if not pairs:
            raise ValueError("pairs must hold at least one pair")
        return [pair_state(p, f"pairs[{i}]") for i, p in enumerate(pairs)]
    array = np.asarray(pairs.data if hasattr(pairs, "data") else pairs)
    if array.ndim == 3:
        if array.shape[0] == 0:
            raise ValueError("pairs must hold at least one pair")
        return [pair_state(p, f"pairs[{i}]") for i, p in enumerate(array)]
    return [pair_state(pairs, "pairs")]


def _error_probability(operation: Operation, rho: np.ndarray) -> float:
    """``sum_k p_k`` over the outcomes ``k`` of ``operation`` on ``rho`` where Alice's and Bob's bits differ."""
    return float(sum(b.probability for b in outcomes(operation, rho) if b.outcome[ALICE_BIT] != b.outcome[BOB_BIT]))


def _sample(states, rng, z, noise, noise_b, engine) -> BBM92Result:
    registry = StateRegistry(rng, engine=engine)
    sifted = {"Z": 0, "X": 0}
    errors = {"Z": 0, "X": 0}
    for rho in states:
        basis_a = "Z" if rng.random() < z else "X"
        basis_b = "Z" if rng.random() < z else "X"
        qubits = registry.new_qubits(["alice", "bob"], rho=rho)
        outcome = registry.apply(bbm92_operation(basis_a, basis_b, noise, noise_b), qubits)
        if basis_a == basis_b:
            sifted[basis_a] += 1
            errors[basis_a] += outcome[ALICE_BIT] != outcome[BOB_BIT]
    counts = SiftCounts(len(states), sifted["Z"], errors["Z"], sifted["X"], errors["X"])
    e_z = errors["Z"] / sifted["Z"] if sifted["Z"] else math.nan
    e_x = errors["X"] / sifted["X"] if sifted["X"] else math.nan
    known = not (math.isnan(e_z) or math.isnan(e_x))
    r = secret_key_fraction(e_z, e_x) if known else 0.0
    return BBM92Result(len(states), z, e_z, e_x, (sifted["Z"] + sifted["X"]) / len(states), r, counts)


@lru_cache(maxsize=256)
def _bbm92_operation(basis_a: str, basis_b: str, noise_a: GateNoise, noise_b: GateNoise) -> Operation:
    circuit = QuantumCircuit(2, 2, name=f"bbm92_{basis_a}{basis_b}")
    for qubit, basis, noise in ((0, basis_a, noise_a), (1, basis_b, noise_b)):
        gates = NoisyCircuit(circuit, noise)
        if basis == "X":
            circuit.h(qubit)
            gates.after_one(qubit)
        gates.measure(qubit, qubit)
    return Operation(circuit, discard=(0, 1), name=f"bbm92 ({basis_a}{basis_b})")


__all__ = [
    "ALICE_BIT",
    "BASES",
    "BBM92Result",
    "BOB_BIT",
    "SiftCounts",
    "bbm92",
    "bbm92_operation",
    "binary_entropy",
    "qber",
    "secret_key_fraction",
]
