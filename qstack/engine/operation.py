"""Noisy circuits as operations, and their compilation to quantum instruments.

An :class:`Operation` is a Qiskit ``QuantumCircuit`` whose noise is carried inside the circuit as
``kraus`` instructions (see :func:`noisy`), so that the very same circuit runs on Aer's
density-matrix simulator and compiles to a numpy channel for the fast engine.

Compilation turns the circuit into an *instrument*: for every assignment ``k`` of its classical
bits a completely positive map ``E_k`` (a superoperator), with ``sum_k E_k`` trace preserving.
Given a state ``rho``, outcome ``k`` occurs with probability ``p_k = Tr E_k(rho)`` and leaves
``E_k(rho) / p_k``. Mid-circuit measurements become projectors and classically controlled
blocks are resolved per branch, so one compiled instrument serves every run of the circuit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Clbit, ClassicalRegister
from qiskit.quantum_info import Kraus, Operator, SuperOp
from qiskit_aer.noise import QuantumError

from qstack.physics import BELL_PROJECTORS

_SKIPPED = {"barrier"}
_PROJECTORS = (np.diag([1.0, 0.0]).astype(complex), np.diag([0.0, 1.0]).astype(complex))


def noisy(error: QuantumError | Kraus | SuperOp) -> Kraus:
    """Return a noise channel as a ``Kraus`` operation to append to a circuit.

    Aer applies a ``kraus`` instruction natively and without copying a noise model per run, and
    ``SuperOp`` understands it, so noise written this way is seen identically by both engines.
    """
    if isinstance(error, QuantumError):
        error = error.to_quantumchannel()
    return Kraus(error)


def _column_to_row(superop: np.ndarray, dim_out: int, dim_in: int) -> np.ndarray:
    """Convert Qiskit's column-stacking superoperator to the row-major one used here.

    Qiskit: ``vec_c(rho)[i + d*j] = rho[i, j]``; here ``rho'[i, j] = sum L[i, j, k, l] rho[k, l]``.
    """
    return superop.reshape(dim_out, dim_out, dim_in, dim_in).transpose(1, 0, 3, 2)


@dataclass(frozen=True)
class Branch:
    """One outcome of an instrument: the classical bits and its map (row-major tensor).

    ``tensor`` has shape ``(2,)*(2*k_out + 2*k_in)``: output row axes, output column axes, input
    row axes, input column axes, each ordered from the highest qubit to qubit 0 (Qiskit order).
    """

    outcome: tuple[int, ...]
    tensor: np.ndarray


@dataclass(frozen=True, eq=False)
class Operation:
    """A noisy circuit applied to qubits of the state registry.

    Parameters
    ----------
    circuit:
        The circuit; noise appears as ``kraus`` instructions, measurements as ``measure``,
        classical control as ``if_test`` blocks. ``delay`` is refused: Aer applies no noise on a
        delay, so an idle period must be written as an explicit relaxation channel.
    discard:
        Circuit qubits traced out after the circuit (measured photons, Bell-measured memories).
    name:
        For reports and errors.
    """

    circuit: QuantumCircuit
    discard: tuple[int, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        n = self.circuit.num_qubits
        if any(not 0 <= q < n for q in self.discard) or len(set(self.discard)) != len(self.discard):
            raise ValueError(f"Operation.discard must list distinct qubits in [0, {n}), got {self.discard}")
        for instruction in _flatten(self.circuit):
            if instruction.operation.name == "delay":
                raise ValueError(
                    f"Operation {self.name!r}: a 'delay' carries no noise in Aer; "
                    "append an explicit relaxation channel instead"
                )

    @cached_property
    def num_qubits(self) -> int:
        return self.circuit.num_qubits

    @cached_property
    def kept(self) -> tuple[int, ...]:
        """Circuit qubits that remain after the operation, in circuit order."""
        return tuple(q for q in range(self.num_qubits) if q not in self.discard)

    @cached_property
    def branches(self) -> tuple[Branch, ...]:
        """The compiled instrument: one :class:`Branch` per possible classical outcome."""
        return _compile(self)

    @cached_property
    def maps(self) -> tuple[np.ndarray, ...]:
        """Each branch as a 4-index array ``L[i, j, k, l]``: ``rho'[i, j] = sum L rho[k, l]``.

        Input indices run over the circuit's qubits, output indices over the kept ones.
        """
        d_in, d_out = 2**self.num_qubits, 2 ** len(self.kept)
        return tuple(b.tensor.reshape(d_out, d_out, d_in, d_in) for b in self.branches)

    @cached_property
    def trace_functionals(self) -> np.ndarray:
        """``T[b, k, l] = sum_i L_b[i, i, k, l]``: branch ``b`` occurs with ``sum T rho``."""
        return np.stack([np.einsum("iikl->kl", m) for m in self.maps])

    @cached_property
    def outcomes(self) -> tuple[tuple[int, ...], ...]:
        """Each branch's classical outcome, in branch order."""
        return tuple(b.outcome for b in self.branches)

    @cached_property
    def flat(self) -> "_FlatInstrument | None":
        """The instrument as matrices acting on ``rho.ravel()``, when small enough for a
        single-threaded BLAS matrix-vector product (else None: the einsum path is used)."""
        d_in, d_out = 2**self.num_qubits, 2 ** len(self.kept)
        if d_out * d_out * d_in * d_in > _FLAT_MAX_ELEMENTS:
            return None
        return _FlatInstrument(
            maps=tuple(_RowBlocks.of(m.reshape(d_out * d_out, d_in * d_in)) for m in self.maps),
            traces=_RowBlocks.of(self.trace_functionals.reshape(len(self.maps), d_in * d_in)),
            outcomes=self.outcomes,
        )

    def bell_table(self, partners: tuple[int, ...]) -> "BellTable | None":
        """The instrument on Bell-diagonal pairs, or None if it does not keep them Bell-diagonal.

        ``partners[i]`` is the circuit position of the qubit paired with circuit qubit ``i``,
        or ``-1`` when that partner is outside the circuit (it is then left untouched). See
        :class:`BellTable`. Computed once per pairing and cached.
        """
        cache = self._bell_tables
        if partners not in cache:
            cache[partners] = _bell_table(self, partners)
        return cache[partners]

    @cached_property
    def _bell_tables(self) -> dict:
        return {}


# Largest flattened map applied as matrix-vector products; larger maps use einsum's own loops.
_FLAT_MAX_ELEMENTS = 8192
# OpenBLAS (0.3.31 in numpy 2.4's wheels; 9216 in older releases) runs a complex matrix-vector
# product on one thread only below this many matrix elements, on every core from it on. A threaded
# call on these 2-core machines waits for a descheduled thread whenever the other core is busy:
# a 16 x 256 swap map took 2-24 ms per product under load against 2 us on one thread (issue 17),
# which made the dense engine 20x slower than its arithmetic. Maps are cut into row blocks below
# it; each output element is the same row-times-vector dot product either way.
_BLAS_ONE_THREAD_ELEMENTS = 4096


@dataclass(frozen=True, eq=False)
class _RowBlocks:
    """A matrix whose ``@ vec`` runs as single-threaded BLAS products of row blocks, each with
    fewer than :data:`_BLAS_ONE_THREAD_ELEMENTS` elements (a power-of-two number of rows)."""

    blocks: tuple[np.ndarray, ...]
    shape: tuple[int, int]
    # The blocks stacked as one ``(blocks, rows, cols)`` array when they are all alike: numpy's
    # stacked ``matmul`` runs the same single-threaded product per block, in one call.
    stack: np.ndarray | None = None

    @classmethod
    def of(cls, matrix: np.ndarray) -> "_RowBlocks":
        rows, cols = matrix.shape
        step = 1
        while 2 * step * cols < _BLAS_ONE_THREAD_ELEMENTS and step < rows:
            step *= 2
        blocks = tuple(np.ascontiguousarray(matrix[start:start + step]) for start in range(0, rows, step))
        stack = np.stack(blocks) if len(blocks) > 1 and rows % step == 0 else None
        return cls(blocks, (rows, cols), stack)

    def __matmul__(self, vec: np.ndarray) -> np.ndarray:
        stack = self.stack
        if stack is not None:
            return np.matmul(stack, vec).reshape(-1)
        blocks = self.blocks
        if len(blocks) == 1:
            return blocks[0] @ vec
        return np.concatenate([block @ vec for block in blocks])

    def toarray(self) -> np.ndarray:
        return np.concatenate(self.blocks)


@dataclass(frozen=True)
class _FlatInstrument:
    """``maps[b] @ rho.ravel()`` is branch ``b``'s output, ``traces @ rho.ravel()`` the
    unnormalised branch probabilities (row-major ``ravel`` of the input density matrix)."""

    maps: tuple[np.ndarray, ...]
    traces: np.ndarray
    outcomes: tuple[tuple[int, ...], ...]


# The Bell states in the order (Phi+, Phi-, Psi+, Psi-): |Phi+> with the Pauli I, Z, X, Y on one
# qubit. Index k of the Bell-diagonal weights ``p[k] = <B_k| rho |B_k>``.
_BELL_UNNORMALISED = np.array([[1, 0, 0, 1], [1, 0, 0, -1], [0, 1, 1, 0], [0, 1, -1, 0]], dtype=complex)
BELL_BASIS = _BELL_UNNORMALISED / np.sqrt(2)
# Off-diagonal Bell-basis elements at or below this (relative to the trace) count as zero:
# rounding of the exact zeros, many orders below the ~1e-9 at which the engines are compared.
BELL_TOLERANCE = 1e-12


@dataclass(frozen=True)
class BellTable:
    """An instrument restricted to Bell-diagonal pairs: exact, linear in the input weights.

    The inputs are ``m`` Bell-diagonal pairs (in the order of their first circuit qubit), with
    weights ``p_1 ... p_m`` (4 each, Bell order Phi+, Phi-, Psi+, Psi-). The output is one
    Bell-diagonal pair (``out_qubits == 2``: the kept circuit qubits in circuit order, then the
    untouched partners) or nothing (``out_qubits == 0``). For branch ``b``::

        q_b[o] = sum_{i_1..i_m} maps[b, o, (i_1 .. i_m)] p_1[i_1] ... p_m[i_m]

    is the unnormalised output weight, ``sum_o q_b[o]`` the branch probability.

    Laid out like the flattened instrument (``maps[b] @ p``, ``traces @ p``, ``outcomes``), so
    one branch draw serves both.
    """

    maps: np.ndarray  # (branches, 4 or 1, 4**m), real
    pairs: int
    out_qubits: int
    outcomes: tuple[tuple[int, ...], ...]
    partner_outside: tuple[int, ...]  # circuit qubits whose partner is outside the circuit

    @cached_property
    def traces(self) -> np.ndarray:
        """``(branches, 4**m)``: branch ``b`` occurs with ``traces[b] @ (p_1 x ... x p_m)``."""
        return np.ascontiguousarray(self.maps.sum(axis=1))


def _bell_table(operation: Operation, partners: tuple[int, ...]) -> BellTable | None:
    n = operation.num_qubits
    if len(partners) != n:
        raise ValueError(f"bell_table: one partner per circuit qubit ({n}), got {partners}")
    outside = tuple(i for i in range(n) if partners[i] == -1)
    kept = operation.kept
    if any(i not in kept for i in outside):
        return None  # a measured qubit whose partner stays: the partner is left alone, not a pair
    out_qubits = len(kept) + len(outside)
    if out_qubits not in (0, 2):
        return None
    # Pairs in the order of their first circuit qubit; outside partners become extra qubits
    # n, n+1, ... (the "rest" of the group, above the circuit's qubits).
    pairs: list[tuple[int, int]] = []
    seen: set[int] = set()
    for i in range(n):
        if i in seen:
            continue
        j = partners[i]
        if j == -1:
            j = n + len([p for p in pairs if p[1] >= n])
        elif not (0 <= j < n and partners[j] == i and j != i):
            raise ValueError(f"bell_table: inconsistent pairing {partners}")
        pairs.append((i, j))
        seen.update((i, j))
    m = len(pairs)
    if m > 3:
        return None
    n_ext = n + len(outside)
    rest = 2 ** len(outside)
    rows = []
    for indices in itertools.product(range(4), repeat=m):
        rho = np.ones((1, 1), dtype=complex)
        for k in indices:  # pair t on extended qubits (2t, 2t+1) before the permutation
            rho = np.kron(BELL_PROJECTORS[k], rho)
        order = [0] * n_ext  # qubit q of the input is qubit order[q] of the product state
        for t, (i, j) in enumerate(pairs):
            order[i], order[j] = 2 * t, 2 * t + 1
        rho = permute_qubits(rho, order)
        d = 2**n
        rho4 = rho.reshape(rest, d, rest, d)
        outputs = []
        for matrix in operation.maps:
            out = np.einsum("ijkl,rksl->risj", matrix, rho4).reshape(rest * matrix.shape[0], rest * matrix.shape[0])
            if out_qubits == 0:
                outputs.append([np.trace(out).real])
                continue
            bell = BELL_BASIS.conj() @ out @ BELL_BASIS.T
            scale = max(abs(np.trace(out)), 1.0)
            off = bell - np.diag(np.diag(bell))
            if np.max(np.abs(off)) > BELL_TOLERANCE * scale or np.max(np.abs(np.diag(bell).imag)) > BELL_TOLERANCE * scale:
                return None
            outputs.append(np.diag(bell).real)
        rows.append(outputs)
    table = np.ascontiguousarray(np.array(rows, dtype=float).transpose(1, 2, 0))  # (branch, out, inputs)
    return BellTable(table, m, out_qubits, operation.outcomes, outside)


def permute_qubits(rho: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """Reorder qubits: qubit ``j`` of the result is qubit ``order[j]`` of ``rho`` (little-endian)."""
    n = len(order)
    if list(order) == list(range(n)):
        return rho
    tensor = rho.reshape((2,) * (2 * n))
    axes = [n - 1 - order[j] for j in range(n - 1, -1, -1)]
    axes += [2 * n - 1 - order[j] for j in range(n - 1, -1, -1)]
    return tensor.transpose(axes).reshape(2**n, 2**n)


def partial_trace(rho: np.ndarray, n: int, traced: Sequence[int]) -> np.ndarray:
    """Trace out qubits ``traced`` of an ``n``-qubit density matrix (little-endian); the kept
    qubits keep their order."""
    if not traced:
        return rho
    labels = list(range(2 * n))
    for q in traced:
        row_axis, col_axis = _axes(n, q)
        labels[col_axis] = labels[row_axis]
    kept = [q for q in range(n - 1, -1, -1) if q not in traced]
    out = [labels[_axes(n, q)[0]] for q in kept] + [labels[_axes(n, q)[1]] for q in kept]
    m = len(kept)
    return np.einsum(rho.reshape((2,) * (2 * n)), labels, out).reshape(2**m, 2**m)


def _axes(n: int, qubit: int) -> tuple[int, int]:
    """Row and column tensor axes of ``qubit`` in an n-qubit density tensor."""
    return n - 1 - qubit, 2 * n - 1 - qubit


def _flatten(circuit: QuantumCircuit):
    for instruction in circuit.data:
        yield instruction
        for block in getattr(instruction.operation, "blocks", ()):
            yield from _flatten(block)


def _condition_holds(condition, circuit: QuantumCircuit, bits: dict[Clbit, int]) -> bool:
    target, value = condition
    if isinstance(target, Clbit):
        return bits[target] == int(value)
    if isinstance(target, ClassicalRegister):
        register_value = sum(bits[bit] << i for i, bit in enumerate(target))
        return register_value == int(value)
    raise ValueError(f"unsupported classical condition {condition!r}")


def _small_map(operation) -> np.ndarray:
    """Row-major map tensor (2,)*4k of a k-qubit instruction (gate, Kraus, SuperOp, projector)."""
    superop = SuperOp(operation)
    d = 2 ** superop.num_qubits
    return _column_to_row(superop.data, d, d).reshape((2,) * (4 * superop.num_qubits))


def _compose(tensor: np.ndarray, n: int, small: np.ndarray, qargs: list[int]) -> np.ndarray:
    """Apply a small map after ``tensor`` (an n-qubit map) on qubits ``qargs``."""
    k = len(qargs)
    labels = list(range(4 * n))
    fresh = iter(range(4 * n, 4 * n + 2 * k))
    out = list(labels)
    small_out_row, small_out_col, small_in_row, small_in_col = [], [], [], []
    for q in reversed(qargs):  # small tensor axes run from its highest qubit down
        row, col = n - 1 - q, 2 * n - 1 - q
        small_in_row.append(labels[row])
        small_in_col.append(labels[col])
        new_row, new_col = next(fresh), next(fresh)
        small_out_row.append(new_row)
        small_out_col.append(new_col)
        out[row], out[col] = new_row, new_col
    small_labels = small_out_row + small_out_col + small_in_row + small_in_col
    return np.einsum(small, small_labels, tensor, labels, out)


def _branch_map(
    circuit: QuantumCircuit, qubit_map: list[int], bits: dict[Clbit, int], tensor: np.ndarray, n: int
) -> np.ndarray:
    """Compose the map of one classical branch of ``circuit`` onto ``tensor``."""
    for instruction in circuit.data:
        operation = instruction.operation
        qargs = [qubit_map[circuit.find_bit(q).index] for q in instruction.qubits]
        name = operation.name
        if name in _SKIPPED:
            continue
        if name == "measure":
            small = _small_map(Kraus([_PROJECTORS[bits[instruction.clbits[0]]]]))
        elif name == "if_else":
            true_body = operation.blocks[0]
            false_body = operation.blocks[1] if len(operation.blocks) > 1 else None
            body = true_body if _condition_holds(operation.condition, circuit, bits) else false_body
            if body is None:
                continue
            # Block bits map positionally onto the instruction's bits.
            block_bits = {b: bits[o] for b, o in zip(body.clbits, instruction.clbits)}
            tensor = _branch_map(body, qargs, block_bits, tensor, n)
            continue
        elif name == "reset":
            small = _small_map(Kraus([np.array([[1, 0], [0, 0]]), np.array([[0, 1], [0, 0]])]))
        elif name in ("kraus", "superop"):
            small = _small_map(operation)
        else:
            try:
                small = _small_map(Operator(operation))
            except Exception as exc:  # noqa: BLE001 - re-raised with context
                raise ValueError(f"cannot compile instruction {name!r}: {exc}") from exc
        tensor = _compose(tensor, n, small, qargs)
    return tensor


def _compile(operation: Operation) -> tuple[Branch, ...]:
    circuit = operation.circuit
    n = circuit.num_qubits
    dim = 2**n
    identity = np.einsum("ik,jl->ijkl", np.eye(dim), np.eye(dim)).astype(complex).reshape((2,) * (4 * n))
    clbits = list(circuit.clbits)
    branches = []
    for values in itertools.product((0, 1), repeat=len(clbits)):
        bits = dict(zip(clbits, values))
        tensor = _branch_map(circuit, list(range(n)), bits, identity, n)
        if not np.any(np.abs(tensor) > 1e-15):
            continue
        if operation.discard:
            tensor = _trace_outputs(tensor, n, operation.discard)
        branches.append(Branch(outcome=tuple(values), tensor=tensor))
    return tuple(branches)


def _trace_outputs(tensor: np.ndarray, n: int, discard: tuple[int, ...]) -> np.ndarray:
    """Trace discarded qubits out of the output side of a row-major map tensor."""
    out_row = list(range(n))  # axis a is qubit n-1-a
    out_col = list(range(n, 2 * n))
    inputs = list(range(2 * n, 4 * n))
    for q in discard:
        out_col[n - 1 - q] = out_row[n - 1 - q]
    kept_axes = [n - 1 - q for q in range(n - 1, -1, -1) if q not in discard]
    result = [out_row[a] for a in kept_axes] + [out_col[a] for a in kept_axes] + inputs
    return np.einsum(tensor, out_row + out_col + inputs, result)
