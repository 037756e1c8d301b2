"""Circuits, partitions and a stage-by-stage run shared by the tests of the distributed protocol."""

from __future__ import annotations

import math

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from qstack.protocols.distributed import (
    SuppliedPair,
    compile_distributed,
    logical_circuit,
    plan_distribution,
    simulate_distributed,
)


def random_layers(n: int, layers: int, seed: int) -> QuantumCircuit:
    """Layers of random one-qubit rotations and cx / cz / cp between random qubit pairs."""
    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(n)
    for _ in range(layers):
        for q in range(n):
            qc.ry(rng.uniform(0, math.pi), q)
            qc.rz(rng.uniform(0, 2 * math.pi), q)
        order = rng.permutation(n)
        for a, b in zip(order[::2], order[1::2]):
            kind = rng.integers(3)
            if kind == 0:
                qc.cx(int(a), int(b))
            elif kind == 1:
                qc.cz(int(a), int(b))
            else:
                qc.cp(rng.uniform(0, 2 * math.pi), int(a), int(b))
    return qc


def ghz(n: int, measure: bool = False) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    qc.h(0)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    if measure:
        qc.measure_all()
    return qc


def bell_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    return qc


def round_robin(n: int, nodes: int) -> dict[int, str]:
    return {q: f"node{q % nodes}" for q in range(n)}


def blocks(n: int, nodes: int) -> dict[int, str]:
    return {q: f"node{q * nodes // n}" for q in range(n)}


def count_cut(qc: QuantumCircuit, partition) -> int:
    """Two-qubit instructions of ``qc`` whose qubits sit on different nodes (counted directly)."""
    count = 0
    for instruction in qc.data:
        qubits = [qc.find_bit(q).index for q in instruction.qubits]
        if len(qubits) == 2 and partition[qubits[0]] != partition[qubits[1]]:
            count += 1
    return count


def run_stages(qc: QuantumCircuit, partition, method: str = "telegate", pair_state=None, capacities=None, **simulation):
    """logical -> plan -> compile (every pair in ``pair_state``, default ideal) -> simulate."""
    plan = plan_distribution(logical_circuit(qc), partition, method, capacities)
    pairs = None
    if pair_state is not None:
        pairs = {link: [SuppliedPair(pair_state)] * count for link, count in plan.pairs_needed.items()}
    compiled = compile_distributed(plan, pairs)
    return plan, compiled, simulate_distributed(compiled, **simulation)


def with_reset() -> QuantumCircuit:
    """A circuit the distributed compiler refuses: a reset."""
    qc = QuantumCircuit(2)
    qc.reset(0)
    return qc


def parametric() -> QuantumCircuit:
    """A circuit the distributed compiler refuses: an unbound parameter."""
    qc = QuantumCircuit(2)
    qc.rx(Parameter("theta"), 0)
    return qc
