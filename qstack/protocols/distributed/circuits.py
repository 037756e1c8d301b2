"""Circuit pieces the compiler writes: pair preparation, ideal pairs, protocol blocks, deferral.

Noise stays Aer's own ``QuantumError`` instructions (T1/T2 relaxation from
:class:`qstack.physics.Relaxation`, the protocols' depolarizing and readout channels as
``pauli_error``): the density-matrix method applies them exactly, and trajectories sample a
mixture in one step where a ``kraus`` instruction would cost a pass over the state per operator.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from typing import Mapping

import numpy as np
from qiskit import QuantumCircuit, QuantumRegister
from qiskit.circuit import Clbit, Gate, Instruction
from qiskit.circuit.library import UnitaryGate
from qiskit.quantum_info import Pauli
from qiskit_aer.noise import QuantumError, pauli_error

#: Register names the compiled protocol circuit keeps for its classical registers.
_RESERVED_NAMES = ("c", "bell")


def swap_halves(rho: np.ndarray) -> np.ndarray:
    """The two-qubit state ``rho`` with its qubits exchanged."""
    return np.asarray(rho).reshape(2, 2, 2, 2).transpose(1, 0, 3, 2).reshape(4, 4)


def preparation(rho: np.ndarray) -> tuple[Instruction, bool]:
    """What takes two wires from ``|00>`` to ``rho`` (wire 0 = qubit 0 of ``rho``), and whether
    ``rho`` is mixed: the unitary mixture ``sum_i l_i V_i . V_i^dag`` over the eigenpairs
    ``(l_i, psi_i)`` of ``rho``, ``V_i`` a unitary whose first column is ``psi_i``."""
    rho = np.asarray(rho, dtype=complex)
    values, vectors = np.linalg.eigh((rho + rho.conj().T) / 2)
    keep = values > 1e-12
    values, vectors = values[keep] / values[keep].sum(), vectors[:, keep]
    unitaries = [UnitaryGate(_unitary_from_column(v), label="pair") for v in vectors.T]
    if len(unitaries) == 1:
        return unitaries[0], False
    return QuantumError([(u, float(p)) for u, p in zip(unitaries, values)]), True


def _unitary_from_column(vector: np.ndarray) -> np.ndarray:
    """A unitary whose first column is the unit ``vector`` (the rest completes a basis)."""
    basis, _ = np.linalg.qr(np.column_stack([vector, np.eye(len(vector))]))
    basis[:, 0] = vector
    return basis


@lru_cache(maxsize=1)
def bell_pair_gate() -> Gate:
    """``h`` then ``cx``: an ideal ``|Phi+>`` from ``|00>`` (stands for the network's pair)."""
    body = QuantumCircuit(2, name="bell_pair")
    body.h(0)
    body.cx(0, 1)
    return body.to_gate()


def append_protocol(target: QuantumCircuit, block: QuantumCircuit, qubits: list, clbits: list) -> None:
    """Append ``block`` onto ``qubits``/``clbits`` of ``target``, rebuilding its ``if_test`` blocks.

    ``QuantumCircuit.compose`` maps an ``if_else`` condition but leaves the block's own clbits
    pointing at the source circuit, which ``draw()`` then cannot find; rebuilding the blocks with
    the builder interface maps everything.
    """
    qubit_map = dict(zip(block.qubits, qubits))
    clbit_map = dict(zip(block.clbits, clbits))
    for instruction in block.data:
        operation = instruction.operation
        if operation.name == "if_else":
            bit, value = operation.condition
            if not isinstance(bit, Clbit) or len(operation.blocks) != 1:
                raise ValueError(f"{block.name}: only single-bit 'if' blocks are supported")
            body = operation.blocks[0]
            inner = dict(zip(body.qubits, (qubit_map[q] for q in instruction.qubits)))
            with target.if_test((clbit_map[bit], value)):
                for item in body.data:
                    target.append(item.operation, [inner[q] for q in item.qubits])
            continue
        target.append(operation, [qubit_map[q] for q in instruction.qubits], [clbit_map[c] for c in instruction.clbits])


def defer_measurements(circuit: QuantumCircuit) -> QuantumCircuit:
    """The circuit with measurements deferred: each classically controlled gate becomes the
    same gate controlled by the measured qubit. Valid because a measured qubit is never used
    again except as such a control (checked); the result has no clbits."""
    out = QuantumCircuit(circuit.num_qubits, name=f"{circuit.name}_deferred")
    holder: dict[Clbit, int] = {}
    for instruction in circuit.data:
        operation = instruction.operation
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if operation.name == "measure":
            holder[instruction.clbits[0]] = qubits[0]
            continue
        if operation.name == "if_else":
            _append_quantum_controlled(out, circuit.name, operation, qubits, holder)
            continue
        if set(qubits) & set(holder.values()):
            raise ValueError(f"{circuit.name}: a measured qubit is used again; cannot defer")
        out.append(_sampled_form(operation) if operation.name == "kraus" else operation, qubits)
    return out


def _append_quantum_controlled(
    out: QuantumCircuit, name: str, operation: Instruction, qubits: list[int], holder: Mapping[Clbit, int]
) -> None:
    """An ``if (bit == 1)`` block appended as its gates controlled by the qubit that gave ``bit``."""
    bit, value = operation.condition
    if not isinstance(bit, Clbit) or int(value) != 1 or len(operation.blocks) != 1 or bit not in holder:
        raise ValueError(f"{name}: only 'if measured bit == 1' blocks can be deferred")
    body = operation.blocks[0]
    inner = dict(zip(body.qubits, qubits))
    for item in body.data:
        targets = [inner[q] for q in item.qubits]
        out.append(item.operation.control(1), [holder[bit], *targets])


def _sampled_form(channel: Instruction) -> Instruction:
    """A ``kraus`` instruction of a Pauli channel as Aer's ``pauli_error`` (sampled in one step
    by trajectories; a ``kraus`` instruction costs one pass over the state per operator); any
    other instruction unchanged."""
    operators = [np.asarray(k, dtype=complex) for k in channel.params]
    n = channel.num_qubits
    if n > 2:
        return channel
    labels = ["".join(p) for p in itertools.product("IXYZ", repeat=n)]
    paulis = [Pauli(label).to_matrix() for label in labels]
    d = 2**n
    coefficients = np.array([[np.trace(p.conj().T @ k) / d for p in paulis] for k in operators])
    chi = coefficients.T @ coefficients.conj()
    if np.max(np.abs(chi - np.diag(np.diag(chi)))) > 1e-12:
        return channel
    probabilities = np.clip(np.real(np.diag(chi)), 0.0, None)
    terms = [(label, float(p)) for label, p in zip(labels, probabilities) if p > 1e-15]
    total = sum(p for _, p in terms)
    return pauli_error([(label, p / total) for label, p in terms])


def register_name(node: str, taken: Mapping[str, QuantumRegister]) -> str:
    """A valid register name for ``node``, distinct from those ``taken`` and the classical ones."""
    name = re.sub(r"\W", "_", str(node)) or "node"
    if not re.match(r"[A-Za-z_]", name):
        name = f"n_{name}"
    base, k = name, 1
    names = {r.name for r in taken.values()}
    while name in names or name in _RESERVED_NAMES:
        name = f"{base}_{k}"
        k += 1
    return name


__all__ = ["append_protocol", "bell_pair_gate", "defer_measurements", "preparation", "register_name", "swap_halves"]
