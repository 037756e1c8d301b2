"""Application layer: distributed circuits against the monolithic circuit, pairs from networks."""

import math
import time

import networkx as nx
import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import Statevector, state_fidelity

from distributed_circuits import blocks, ghz, parametric, random_layers, round_robin, with_reset
from qstack.applications import DistributedResult, run_distributed
from qstack.build import build_network
from qstack.engine import Simulation
from qstack.hardware import Detector, Fiber, Memory, PairSource
from qstack.network import Network
from qstack.physical import HeraldedLink, NodeHardware
from qstack.protocols.distributed import werner_state
from qstack.scenario import load_scenario


# --------------------------------------------------------------------------- helpers
def _network(nodes: int = 2, source_fidelity: float = 1.0, t2_s: float = math.inf, length_km: float = 1.0, capacity: int = 8):
    """A chain of ``nodes`` nodes joined by midpoint-source links of the given length."""
    memory = Memory(t1_s=math.inf, t2_s=t2_s, capacity=capacity, two_qubit_gate_time_s=1e-5, measurement_time_s=1e-5)
    node = NodeHardware(memory=memory)
    source = PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=source_fidelity)
    half = Fiber(length_km / 2)
    graph = nx.Graph()
    names = [f"n{i}" for i in range(nodes)]
    for name in names:
        graph.add_node(name, hardware=node)
    for a, b in zip(names, names[1:]):
        graph.add_edge(a, b, link=HeraldedLink(node, node, half, half, Detector(), scheme="midpoint_source", pair_source=source))
    sim = Simulation(7)
    return Network(sim, graph), names


# --------------------------------------------------------------------------- ideal: exactly monolithic
@pytest.mark.parametrize(
    "n,nodes,method",
    [
        (4, 2, "telegate"),
        (4, 2, "teledata"),
        (7, 3, "auto"),
        (9, 3, "teledata"),
        (12, 4, "telegate"),
        (12, 4, "teledata"),
        (12, 4, "auto"),
    ],
)
def test_an_ideal_network_reproduces_the_monolithic_state_exactly(n, nodes, method):
    qc = random_layers(n, 3, seed=10 * n + nodes)
    result = run_distributed(qc, round_robin(n, nodes), method=method)
    assert isinstance(result, DistributedResult)
    assert result.simulation == "statevector"
    assert result.fidelity == pytest.approx(1.0, abs=1e-9)
    assert state_fidelity(result.final_state, Statevector(qc)) == pytest.approx(1.0, abs=1e-9)
    assert result.pairs_used > 0
    assert result.latency_s == 0.0


@pytest.mark.parametrize("seed", range(3))
def test_qiskit_random_circuits_of_any_gates_distribute_exactly(seed):
    # Three-qubit gates, swaps, rzz, ecr, ...: expanded into controlled-form gates first.
    qc = random_circuit(8, 5, max_operands=3, seed=seed)
    for method in ("telegate", "auto"):
        result = run_distributed(qc, "auto", nodes=3, method=method)
        assert result.fidelity == pytest.approx(1.0, abs=1e-9)
        assert state_fidelity(result.final_state, Statevector(qc)) == pytest.approx(1.0, abs=1e-9)


# --------------------------------------------------------------------------- noisy pairs
def test_worse_pairs_give_lower_fidelity():
    qc = random_layers(6, 3, seed=5)
    partition = blocks(6, 2)
    fidelities = [run_distributed(qc, partition, pair_state=werner_state(f)).fidelity for f in (1.0, 0.97, 0.9, 0.8)]
    assert fidelities[0] == pytest.approx(1.0, abs=1e-9)
    assert all(a > b + 1e-6 for a, b in zip(fidelities, fidelities[1:]))


def test_a_20_qubit_circuit_over_4_nodes_runs_with_statevector_trajectories(capsys):
    qc = ghz(20)
    start = time.perf_counter()
    result = run_distributed(qc, blocks(20, 4), pair_state=werner_state(0.95), trajectories=8, seed=1)
    wall = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n20-qubit GHZ over 4 nodes, 22 wires, 8 statevector trajectories: {wall:.1f} s")
    assert result.simulation == "trajectories"
    assert result.noisy_circuit.num_qubits == 22
    assert result.pairs_used == 3
    assert 0.0 <= result.fidelity <= 1.0
    assert wall < 60


# --------------------------------------------------------------------------- measurements
def test_measured_circuits_give_counts_and_a_hellinger_fidelity():
    qc = ghz(5, measure=True)
    partition = blocks(5, 2)
    ideal = run_distributed(qc, partition, shots=500)
    assert ideal.fidelity == pytest.approx(1.0, abs=1e-9)
    assert set(ideal.counts) <= {"00000", "11111"} and sum(ideal.counts.values()) == 500
    noisy = run_distributed(qc, partition, pair_state=werner_state(0.8), shots=500)
    assert 0.5 < noisy.fidelity < 1.0 - 1e-6
    assert sum(noisy.counts.values()) == 500
    # The readout distribution is the diagonal of the final state.
    probabilities = noisy.final_state.probabilities()
    assert probabilities[0] + probabilities[-1] < 1.0


# --------------------------------------------------------------------------- pairs from a network
def test_network_pairs_enter_the_circuit_in_their_delivered_state():
    network, names = _network(2, source_fidelity=0.9)
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    result = run_distributed(qc, {0: names[0], 1: names[1]}, network)
    records = [r for stats in network.stats for r in stats.records]
    assert len(records) == 1 == result.pairs_used
    assert result.pair_fidelities == pytest.approx((records[0].fidelity,), abs=1e-12)
    # Ideal memories and gates: the telegate's output has the delivered pair's fidelity.
    assert result.fidelity == pytest.approx(records[0].fidelity, abs=1e-9)
    assert result.latency_s >= records[0].delivered_s > 0


def test_a_ghz_state_over_three_nodes_of_an_ideal_network_is_exact():
    network, names = _network(3)
    result = run_distributed(ghz(6), blocks(6, 3) | {q: names[q // 2] for q in range(6)}, network)
    assert result.pairs_used == 2
    assert result.pairs_by_link == {(names[0], names[1]): 1, (names[1], names[2]): 1}
    assert result.fidelity == pytest.approx(1.0, abs=1e-9)


def test_memory_dephasing_while_waiting_for_pairs_lowers_the_fidelity():
    fidelities = []
    for t2_s in (math.inf, 1.0, 1e-2, 1e-3):
        network, names = _network(3, t2_s=t2_s, length_km=20.0)
        result = run_distributed(ghz(6), {q: names[q // 2] for q in range(6)}, network)
        fidelities.append(result.fidelity)
    assert fidelities[0] == pytest.approx(1.0, abs=1e-9)
    assert all(a > b for a, b in zip(fidelities, fidelities[1:]))


def test_longer_links_take_longer():
    latencies = []
    for length_km in (1.0, 50.0):
        network, names = _network(2, length_km=length_km)
        latencies.append(run_distributed(ghz(2), {0: names[0], 1: names[1]}, network).latency_s)
    assert latencies[1] > latencies[0] > 0


def test_a_scenarios_network_serves_the_circuit():
    scenario = load_scenario()
    network = build_network(scenario, Simulation(scenario.seed))
    result = run_distributed(ghz(4), {0: "n0", 1: "n0", 2: "n1", 3: "n1"}, network)
    assert result.pairs_used == 1
    assert 0.25 < result.fidelity < 1.0
    assert result.latency_s > 0


def test_the_stack_example_in_the_module_docstring_runs(capsys):
    import qstack.applications.distributed

    doc = qstack.applications.distributed.__doc__
    example = doc.split("::\n\n", 1)[1].split("\n\n``partition", 1)[0]
    code = "\n".join(line[4:] for line in example.splitlines())
    exec(compile(code, "qstack/applications/distributed.py docstring", "exec"), {})
    printed = capsys.readouterr().out
    assert "OPENQASM 3.0" in printed and "bell_pair" in printed


# --------------------------------------------------------------------------- bad input
def _mid_measure() -> QuantumCircuit:
    qc = QuantumCircuit(2, 1)
    qc.measure(0, 0)
    qc.x(0)
    return qc


@pytest.mark.parametrize(
    "circuit,partition,kwargs,match",
    [
        (ghz(3), {0: "A", 1: "B"}, {}, "partition must place"),
        (ghz(3), {0: "A", 1: "A", 2: "B"}, {"capacities": {"A": 1}}, "capacity is 1"),
        (ghz(3), "magic", {}, "partition must"),
        (ghz(3), "auto", {}, "nodes"),
        (ghz(3), {0: "A", 1: "A", 2: "B"}, {"method": "telepathy"}, "method"),
        (ghz(3), {0: "A", 1: "A", 2: "B"}, {"pair_state": np.eye(2)}, "pair state"),
        (ghz(3), {0: "A", 1: "A", 2: "B"}, {"simulation": "fast"}, "simulation"),
        (ghz(3), {0: "A", 1: "A", 2: "B"}, {"pair_state": werner_state(0.9), "simulation": "statevector"}, "exact only"),
        (_mid_measure(), {0: "A", 1: "B"}, {}, "terminal"),
        (with_reset(), {0: "A", 1: "B"}, {}, "not supported"),
        (parametric(), {0: "A", 1: "B"}, {}, "unbound"),
    ],
)
def test_bad_input_is_refused_naming_it(circuit, partition, kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_distributed(circuit, partition, **kwargs)


def test_network_runs_refuse_unknown_nodes_and_pair_states():
    network, names = _network(2)
    with pytest.raises(ValueError, match="does not have"):
        run_distributed(ghz(2), {0: names[0], 1: "mars"}, network)
    with pytest.raises(ValueError, match="pair_state"):
        run_distributed(ghz(2), {0: names[0], 1: names[1]}, network, pair_state=werner_state(0.9))
