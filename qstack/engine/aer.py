"""The reference engine: Qiskit Aer's density-matrix simulator runs an operation on a group's state.

:class:`~qstack.engine.StateRegistry` with ``engine="aer"`` hands every operation (and every idle
channel) to :class:`AerEngine` instead of its compiled numpy maps: Aer computes each possible
outcome's branch (measurements as projectors onto their bits, ``if_else`` resolved by the bits),
its unnormalised trace is the branch's probability, and the registry's own draw picks one, so a
run draws the same numbers, and reports the same, with either engine. Aer's simulator seeds come
from a stream of their own.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Instruction
from qiskit.quantum_info import DensityMatrix

from .operation import _PROJECTORS, Operation, _condition_holds, partial_trace


class AerEngine:
    """Runs operations with ``AerSimulator(method="density_matrix")``.

    Parameters
    ----------
    rng:
        The stream the simulator seeds are drawn from.
    choose:
        ``choose(probabilities, outcomes, outcome, operation)``: the index of the branch taken
        (the registry's draw, or the forced ``outcome``).
    """

    def __init__(self, rng: np.random.Generator, choose: Callable):
        self._rng = rng
        self._choose = choose
        self._simulator = None
        self._branches: dict[Operation, tuple] = {}

    def apply(self, operation: Operation, rho: np.ndarray, positions: list[int], outcome=None):
        """Every branch of ``operation`` on the qubits at ``positions`` of ``rho`` (one Aer job);
        one is drawn (or forced) as in the fast engine. Returns the outcome and the kept qubits'
        normalised state (the discarded ones traced out)."""
        from qiskit_aer import AerSimulator

        if self._simulator is None:
            self._simulator = AerSimulator(method="density_matrix")
        branches = (operation.circuit,) if not operation.circuit.num_clbits else self._branches.get(operation)
        if branches is None:  # operations without outcomes (idle channels, made anew each time) are not kept
            branches = self._branches[operation] = _branch_circuits(operation)
        n = int(round(np.log2(rho.shape[0])))
        state = DensityMatrix(rho)
        circuits = []
        for branch in branches:
            circuit = QuantumCircuit(n)
            circuit.set_density_matrix(state)
            circuit.compose(branch, qubits=positions, inplace=True)
            circuit.save_density_matrix(label="rho")  # all qubits: Aer renormalises a reduced save
            circuits.append(circuit)
        seed = int(self._rng.integers(2**31 - 1))
        result = self._simulator.run(circuits, shots=1, seed_simulator=seed).result()
        discarded = [positions[d] for d in operation.discard]
        states = [partial_trace(np.asarray(result.data(i)["rho"]), n, discarded) for i in range(len(circuits))]
        if len(states) == 1 and outcome is None:
            return (operation.outcomes[0] if operation.circuit.num_clbits else ()), states[0]
        probabilities = [float(np.trace(rho).real) for rho in states]  # unnormalised branches
        choice = self._choose(probabilities, operation.outcomes, outcome, operation)
        return operation.outcomes[choice], states[choice] / probabilities[choice]


def _branch_circuits(operation: Operation) -> tuple[QuantumCircuit, ...]:
    """The operation's circuit once per possible outcome (:attr:`Operation.outcomes`), without
    classical bits: each measurement the projector onto its bit (a ``kraus`` instruction that is
    not trace preserving, which Aer applies as given), each ``if_else`` resolved by the bits. Aer
    then leaves the unnormalised branch state, whose trace is the branch's probability."""
    circuit, n = operation.circuit, operation.num_qubits
    return tuple(_append_branch(QuantumCircuit(n), circuit, list(range(n)), dict(zip(circuit.clbits, values)))
                 for values in operation.outcomes)


def _append_branch(out: QuantumCircuit, circuit: QuantumCircuit, qubit_map: list[int], bits: dict) -> QuantumCircuit:
    for instruction in circuit.data:
        operation = instruction.operation
        qargs = [qubit_map[circuit.find_bit(q).index] for q in instruction.qubits]
        if operation.name == "measure":
            out.append(Instruction("kraus", 1, 0, [_PROJECTORS[bits[instruction.clbits[0]]]]), qargs)
        elif operation.name == "if_else":
            blocks = operation.blocks
            body = blocks[0] if _condition_holds(operation.condition, circuit, bits) else (blocks[1] if len(blocks) > 1 else None)
            if body is not None:  # block bits map positionally onto the instruction's bits
                _append_branch(out, body, qargs, {b: bits[o] for b, o in zip(body.clbits, instruction.clbits)})
        else:
            out.append(operation, qargs)
    return out
