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
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Clbit, ClassicalRegister
from qiskit.quantum_info import Kraus, Operator, SuperOp
from qiskit_aer.noise import QuantumError

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

    @property
    def num_qubits(self) -> int:
        return self.circuit.num_qubits

    @property
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
