"""GHZ states over a star: a hub fuses the halves of its Bell pairs with its leaves.

The hub shares ``k - 1`` pairs, ideally ``|Phi+>``, one with each leaf: pair ``j`` is
``(h_j, l_j)``. It keeps ``h_1`` and *fuses* every further pair into it: ``CNOT h_1 -> h_j``,
a Z readout ``m_j`` of ``h_j`` (``h_1 xor h_j``), and ``X^{m_j}`` on leaf ``l_j``. The result on
``(h_1, l_1, ..., l_{k-1})`` is the ``k``-qubit GHZ state ``(|0...0> + |1...1>)/sqrt2``, for every
outcome.

One fusion is :func:`ghz_fusion_operation` on circuit qubits ``(h, h_j, l_j) = (0, 1, 2)``: one
clbit (0, the readout of ``h_j``, 1: X correction on ``l_j``); ``h_j`` is discarded. The whole
star for ``k`` nodes is :func:`ghz_operation` on circuit qubits ``(h_1, l_1, h_2, l_2, ...)``
(pair ``j`` on ``(2j - 2, 2j - 1)``, the hub's half first), clbit ``j - 2`` the readout of
``h_j``; it keeps ``(h_1, l_1, l_2, ...)`` in that order. Its compiled instrument grows as
``16^(2k - 2)``, so :func:`distribute_ghz` applies fusions one at a time instead.

Noise (:class:`~qstack.protocols.GateNoise`): the two-qubit depolarizing channel after every
CNOT and the bit flip before every readout; the corrections are Pauli-frame updates.

Through ``k - 1`` Werner pairs ``w |Phi+><Phi+| + (1 - w) I/4`` with ideal gates the GHZ
fidelity is ``F = (w^(k-1) + ((1 + w)/2)^(k-1)) / 2``: every depolarized pair leaves its leaf
uniformly random and destroys the coherence between ``|0...0>`` and ``|1...1>``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix

from qstack.engine import Operation, outcomes, permute_qubits

from ._common import NoisyCircuit, pair_state
from .noise import GateNoise, resolve_noise

def ghz_fusion_operation(noise: GateNoise = GateNoise()) -> Operation:
    """One fusion on ``(h, h_j, l_j)``: discards ``h_j``; outcome ``(readout of h_j,)``. Cached."""
    if not isinstance(noise, GateNoise):
        raise ValueError(f"noise must be a GateNoise, got {type(noise).__name__}")
    return _fusion_operation(noise)


def ghz_operation(nodes: int, noise: GateNoise = GateNoise()) -> Operation:
    """The whole star for ``nodes`` nodes (``nodes - 1`` pairs, ``2 nodes - 2`` circuit qubits).

    Keeps ``(h_1, l_1, ..., l_{nodes-1})``; see the module docstring for the layout. Cached.
    For Aer and for embedding: the fast engine compiles it lazily, on first use, into an
    instrument of ``16^(2 nodes - 2)`` entries per outcome (3 nodes: instant; 4 nodes: tens of
    seconds; more: impractical, use Aer).
    """
    if not isinstance(noise, GateNoise):
        raise ValueError(f"noise must be a GateNoise, got {type(noise).__name__}")
    if isinstance(nodes, bool) or not isinstance(nodes, (int, np.integer)) or nodes < 2:
        raise ValueError(f"nodes must be an integer >= 2, got {nodes!r}")
    return _star_operation(int(nodes), noise)


def ghz_state(nodes: int) -> DensityMatrix:
    """``|GHZ_k><GHZ_k|``, ``|GHZ_k> = (|0...0> + |1...1>)/sqrt2`` on ``nodes`` qubits."""
    if isinstance(nodes, bool) or not isinstance(nodes, (int, np.integer)) or nodes < 1:
        raise ValueError(f"nodes must be an integer >= 1, got {nodes!r}")
    vector = np.zeros(2**nodes, dtype=complex)
    vector[0] = vector[-1] = 1 / np.sqrt(2)
    return DensityMatrix(np.outer(vector, vector.conj()))


def ghz_fidelity(rho: object) -> float:
    """``<GHZ_k|rho|GHZ_k> = (rho[0,0] + rho[-1,-1]) / 2 + Re rho[0,-1]`` for a ``k``-qubit ``rho``."""
    data = np.asarray(rho.data if isinstance(rho, DensityMatrix) else rho)
    if data.ndim != 2 or data.shape[0] != data.shape[1] or data.shape[0] < 2 or data.shape[0] & (data.shape[0] - 1):
        raise ValueError(f"rho must be a density matrix on whole qubits, got shape {data.shape}")
    return float(np.real(data[0, 0] + data[-1, -1]) / 2 + np.real(data[0, -1]))


def distribute_ghz(pairs: Sequence[object], noise: GateNoise | None = None, **noise_kwargs: float) -> DensityMatrix:
    """The ``k``-qubit state a star of ``k - 1`` pairs fuses into, averaged over the readouts.

    ``pairs[j]`` is a 2-qubit density matrix with the hub's half as qubit 0. The result has the
    hub as qubit 0 and leaf ``j`` as qubit ``j`` (Qiskit order). Fusions
    (:func:`ghz_fusion_operation`) run one at a time through the engine's exact outcomes
    (:func:`qstack.engine.outcomes`); averaging after each is exact because the later fusions
    do not depend on earlier readouts.
    """
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence) or len(pairs) < 1:
        raise ValueError("pairs must be a non-empty sequence of 2-qubit states")
    states = [pair_state(p, f"pairs[{i}]") for i, p in enumerate(pairs)]
    fusion = ghz_fusion_operation(resolve_noise(noise, noise_kwargs))
    rho = states[0]
    for index, pair in enumerate(states[1:], start=2):
        # Qubits: (hub, leaf_1 .. leaf_{index-1}, h_index, l_index); the fusion acts on the hub
        # and the new pair's two qubits.
        branches = outcomes(fusion, np.kron(pair, rho), [0, index, index + 1])
        total = sum(b.probability * b.rho for b in branches)
        # The outcomes' states list the operation's kept qubits (hub, new leaf) first, then the old leaves.
        rho = _move_qubit(total, index + 1, source=1, target=index)
    return DensityMatrix((rho + rho.conj().T) / 2)


def _move_qubit(rho: np.ndarray, n: int, source: int, target: int) -> np.ndarray:
    """Move qubit ``source`` of an n-qubit state to position ``target``, keeping the others' order."""
    order = list(range(n))
    order.insert(target, order.pop(source))  # qubit j of the result is qubit order[j]
    return permute_qubits(rho, order)


@lru_cache(maxsize=64)
def _fusion_operation(noise: GateNoise) -> Operation:
    circuit = QuantumCircuit(3, 1, name="ghz_fusion")
    _fuse(circuit, NoisyCircuit(circuit, noise), half=1, leaf=2, clbit=0)
    return Operation(circuit, discard=(1,), name="ghz fusion")


@lru_cache(maxsize=64)
def _star_operation(nodes: int, noise: GateNoise) -> Operation:
    circuit = QuantumCircuit(2 * nodes - 2, nodes - 2, name=f"ghz_star_{nodes}")
    gates = NoisyCircuit(circuit, noise)
    halves = []
    for j in range(2, nodes):
        _fuse(circuit, gates, half=2 * j - 2, leaf=2 * j - 1, clbit=j - 2)
        halves.append(2 * j - 2)
    return Operation(circuit, discard=tuple(halves), name=f"ghz star ({nodes} nodes)")


def _fuse(circuit: QuantumCircuit, gates: NoisyCircuit, half: int, leaf: int, clbit: int) -> None:
    """Fuse the pair (half, leaf) into the hub's qubit 0."""
    circuit.cx(0, half)
    gates.after_two(0, half)
    gates.measure(half, clbit)
    with circuit.if_test((circuit.clbits[clbit], 1)):
        circuit.x(leaf)


__all__ = [
    "distribute_ghz",
    "ghz_fidelity",
    "ghz_fusion_operation",
    "ghz_operation",
    "ghz_state",
]
