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


def _branch_superop(
    circuit: QuantumCircuit, qubit_map: list[int], bits: dict[Clbit, int], total: SuperOp
) -> SuperOp:
    """Compose the superoperator of one classical branch of ``circuit`` onto ``total``."""
    for instruction in circuit.data:
        operation = instruction.operation
        qargs = [qubit_map[circuit.find_bit(q).index] for q in instruction.qubits]
        name = operation.name
        if name in _SKIPPED:
            continue
        if name == "measure":
            value = bits[instruction.clbits[0]]
            total = total.compose(SuperOp(Kraus([_PROJECTORS[value]])), qargs=qargs)
        elif name == "if_else":
            true_body, false_body = operation.blocks[0], (operation.blocks[1] if len(operation.blocks) > 1 else None)
            holds = _condition_holds(operation.condition, circuit, bits)
            body = true_body if holds else false_body
            if body is None:
                continue
            # Block bits map positionally onto the instruction's bits.
            block_bits = {b: bits[o] for b, o in zip(body.clbits, instruction.clbits)}
            total = _branch_superop(body, qargs, block_bits, total)
        elif name == "reset":
            total = total.compose(SuperOp(Kraus([np.array([[1, 0], [0, 0]]), np.array([[0, 1], [0, 0]])])), qargs=qargs)
        elif name in ("kraus", "superop"):
            total = total.compose(SuperOp(operation), qargs=qargs)
        else:
            try:
                matrix = Operator(operation)
            except Exception as exc:  # noqa: BLE001 - re-raised with context
                raise ValueError(f"cannot compile instruction {name!r}: {exc}") from exc
            total = total.compose(SuperOp(matrix), qargs=qargs)
    return total


def _compile(operation: Operation) -> tuple[Branch, ...]:
    circuit = operation.circuit
    n = circuit.num_qubits
    kept = operation.kept
    dim_in = 2**n
    identity = SuperOp(np.eye(dim_in * dim_in))
    clbits = list(circuit.clbits)
    branches = []
    for values in itertools.product((0, 1), repeat=len(clbits)):
        bits = dict(zip(clbits, values))
        superop = _branch_superop(circuit, list(range(n)), bits, identity)
        tensor = _column_to_row(superop.data, dim_in, dim_in)
        if not np.any(np.abs(tensor) > 1e-15):
            continue
        tensor = tensor.reshape((2,) * (4 * n))
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
