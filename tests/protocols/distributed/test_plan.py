"""The distribution plan: local gates, telegates, teleportations and the pairs they take."""

import pytest
from qiskit import QuantumCircuit

from distributed_circuits import blocks, count_cut, ghz, random_layers, round_robin, run_stages
from qstack.protocols.distributed import (
    LocalGate,
    Readout,
    Telegate,
    Teleport,
    link_of,
    logical_circuit,
    plan_distribution,
)


@pytest.mark.parametrize("n", [6, 9, 12])
def test_a_ghz_chain_in_three_blocks_takes_one_telegate_per_block_boundary(n):
    plan = plan_distribution(logical_circuit(ghz(n)), blocks(n, 3), "telegate")
    assert plan.telegates == plan.cut_gates == plan.pairs_used == 2
    assert plan.teleportations == 0
    assert plan.pairs_needed == {("node0", "node1"): 1, ("node1", "node2"): 1}
    assert plan.final_partition == plan.partition


def test_a_ghz_chain_dealt_round_robin_over_three_nodes_takes_a_telegate_per_cnot():
    # cx(q, q+1) joins node q % 3 and node (q+1) % 3: links 01, 12, 20, 01, 12.
    plan = plan_distribution(logical_circuit(ghz(6)), round_robin(6, 3), "telegate")
    assert plan.telegates == 5
    assert plan.pairs_needed == {("node0", "node1"): 2, ("node0", "node2"): 1, ("node1", "node2"): 2}
    telegates = [s for s in plan.steps if isinstance(s, Telegate)]
    assert [(s.link, s.pair_index) for s in telegates] == [
        (("node0", "node1"), 0),
        (("node1", "node2"), 0),
        (("node0", "node2"), 0),
        (("node0", "node1"), 1),
        (("node1", "node2"), 1),
    ]
    assert [(s.control_node, s.target_node) for s in telegates][2] == ("node2", "node0")


def test_teledata_of_a_ghz_chain_moves_each_boundary_qubit_forward_once():
    # cx(1, 2): moving 1 to node1 leaves its next gate cx(2, 3) local, moving 2 back would not.
    plan = plan_distribution(logical_circuit(ghz(6)), blocks(6, 3), "teledata")
    teleports = [s for s in plan.steps if isinstance(s, Teleport)]
    assert [(s.qubit, s.source, s.destination) for s in teleports] == [(1, "node0", "node1"), (3, "node1", "node2")]
    assert plan.telegates == 0 and plan.pairs_used == 2
    assert plan.final_partition == {0: "node0", 1: "node1", 2: "node1", 3: "node2", 4: "node2", 5: "node2"}
    # The gate a teleportation serves follows it, local at the destination.
    index = plan.steps.index(teleports[0])
    assert plan.steps[index + 1] == LocalGate(plan.logical.gates[2], "node1")


@pytest.mark.parametrize("seed", range(4))
def test_telegates_use_one_pair_per_cut_two_qubit_gate(seed):
    qc = random_layers(8, 4, seed=seed)
    partition = blocks(8, 1 + seed % 3 + 1)
    plan = plan_distribution(logical_circuit(qc), partition, "telegate")
    cut = count_cut(qc, partition)
    assert cut > 0
    assert plan.pairs_used == plan.cut_gates == plan.telegates == cut
    assert plan.teleportations == 0
    assert sum(plan.pairs_needed.values()) == cut
    assert plan.final_partition == plan.partition == partition


def test_teledata_moves_a_busy_qubit_once_instead_of_a_pair_per_gate():
    qc = QuantumCircuit(5)
    qc.h(0)
    for _ in range(2):
        for target in range(1, 5):
            qc.cx(0, target)
    partition = {0: "alice", 1: "bob", 2: "bob", 3: "bob", 4: "bob"}
    results = {method: run_stages(qc, partition, method) for method in ("telegate", "teledata", "auto")}
    assert results["telegate"][0].pairs_used == 8
    assert results["teledata"][0].pairs_used == results["auto"][0].pairs_used == 1
    assert results["teledata"][0].teleportations == 1 and results["teledata"][0].final_partition[0] == "bob"
    for _, _, outcome in results.values():
        assert outcome.fidelity == pytest.approx(1.0, abs=1e-9)


def test_teledata_needs_room_at_the_destination():
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(0, 2)
    partition = {0: "alice", 1: "bob", 2: "bob"}
    full, _, full_outcome = run_stages(qc, partition, "teledata", capacities={"alice": 1, "bob": 2})
    assert full.teleportations == 0 and full.telegates == 2
    roomy, _, roomy_outcome = run_stages(qc, partition, "teledata", capacities={"alice": 1, "bob": 3})
    assert roomy.teleportations == 1 and roomy.telegates == 0
    assert full_outcome.fidelity == pytest.approx(1.0, abs=1e-9)
    assert roomy_outcome.fidelity == pytest.approx(1.0, abs=1e-9)


def test_readouts_come_last_at_the_node_that_holds_the_qubit_then():
    plan = plan_distribution(logical_circuit(ghz(4, measure=True)), blocks(4, 2), "teledata")
    readouts = plan.steps[-4:]
    assert all(isinstance(s, Readout) for s in readouts)
    assert [(s.qubit, s.clbit, s.node) for s in readouts] == [(q, q, plan.final_partition[q]) for q in range(4)]


def test_a_link_is_named_by_its_two_nodes_sorted():
    assert link_of("b", "a") == link_of("a", "b") == ("a", "b")


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"method": "telepathy"}, "method must be one of"),
        ({"lookahead": -1}, "lookahead"),
        ({"lookahead": True}, "lookahead"),
    ],
)
def test_plan_distribution_refuses_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plan_distribution(logical_circuit(ghz(3)), {0: "A", 1: "A", 2: "B"}, **kwargs)
