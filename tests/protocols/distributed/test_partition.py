"""Placing qubits on nodes: few gates across nodes, sizes within the capacities."""

import pytest
from qiskit import QuantumCircuit

from distributed_circuits import count_cut, ghz, random_layers, run_stages
from qstack.protocols.distributed import check_partition, cut_gates, logical_circuit, partition_qubits


def _two_clusters() -> QuantumCircuit:
    qc = QuantumCircuit(8)
    left, right = [0, 2, 4, 6], [1, 3, 5, 7]  # interleaved, so index order is a bad guess
    for cluster in (left, right):
        for a in cluster:
            for b in cluster:
                if a < b:
                    qc.cx(a, b)
    qc.cx(0, 1)
    return qc


def test_auto_partition_finds_the_one_gate_between_two_clusters():
    qc = _two_clusters()
    partition = partition_qubits(logical_circuit(qc), ["A", "B"])
    assert cut_gates(logical_circuit(qc), partition) == 1
    assert {partition[q] for q in (0, 2, 4, 6)} != {partition[q] for q in (1, 3, 5, 7)}
    assert sorted(list(partition.values()).count(n) for n in ("A", "B")) == [4, 4]
    _, _, outcome = run_stages(qc, partition)
    assert outcome.fidelity == pytest.approx(1.0, abs=1e-9)


def test_auto_partition_balances_by_capacity():
    logical = logical_circuit(random_layers(9, 2, seed=1))
    partition = partition_qubits(logical, ["A", "B", "C"], {"A": 2, "B": 4, "C": 3})
    assert sorted(partition) == list(range(9))
    assert {n: list(partition.values()).count(n) for n in "ABC"} == {"A": 2, "B": 4, "C": 3}


def test_a_chain_splits_into_contiguous_blocks_with_one_cut_per_boundary():
    logical = logical_circuit(ghz(9))
    partition = partition_qubits(logical, ["A", "B", "C"])
    runs = [[partition[q] for q in range(start, start + 3)] for start in (0, 3, 6)]
    assert all(len(set(run)) == 1 for run in runs)
    assert sorted(run[0] for run in runs) == ["A", "B", "C"]
    assert cut_gates(logical, partition) == 2


@pytest.mark.parametrize("seed", range(3))
def test_cut_gates_counts_the_two_qubit_gates_across_nodes(seed):
    qc = random_layers(6, 3, seed=seed)
    partition = {q: "AB"[q % 2] for q in range(6)}
    assert cut_gates(logical_circuit(qc), partition) == count_cut(qc, partition)


def test_check_partition_returns_the_placement_in_qubit_order():
    logical = logical_circuit(ghz(3))
    assert list(check_partition(logical, {2: "B", 0: "A", 1: "A"}).items()) == [(0, "A"), (1, "A"), (2, "B")]


@pytest.mark.parametrize(
    "partition,capacities,match",
    [
        ({0: "A", 1: "B"}, None, "partition must place.*missing \\[2\\]"),
        ({0: "A", 1: "A", 2: "B", 3: "B"}, None, "unknown \\[3\\]"),
        ({0: "A", 1: "A", 2: "B"}, {"A": 1}, "capacity is 1"),
        ("auto", None, "partition must map"),
    ],
)
def test_check_partition_refuses_a_bad_placement(partition, capacities, match):
    with pytest.raises(ValueError, match=match):
        check_partition(logical_circuit(ghz(3)), partition, capacities)


@pytest.mark.parametrize(
    "nodes,capacities,match",
    [([], None, "at least one node"), (["A", "A"], None, "distinct"), (["A", "B"], {"A": 1, "B": 1}, "do not fit")],
)
def test_partition_qubits_refuses_nodes_that_cannot_hold_the_circuit(nodes, capacities, match):
    with pytest.raises(ValueError, match=match):
        partition_qubits(logical_circuit(ghz(3)), nodes, capacities)
