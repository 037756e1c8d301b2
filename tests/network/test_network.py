"""The network facade: construction errors, devices, request checks, per-path timing."""

import math
import random

import networkx as nx
import pytest

from qstack.engine import Simulation
from qstack.hardware import Detector, Emitter, Fiber, Memory
from qstack.network import Network, Request
from qstack.physical import HeraldedLink, NodeHardware
from qstack.protocols import GateNoise

from .chains import chain


def test_bad_choices_are_refused_naming_the_parameter():
    sim, network, _ = chain(1)
    for kwargs, key in (({"bsm": "psychic"}, "bsm"), ({"swapping": "lazy"}, "swapping"), ({"cutoff_s": 0.0}, "cutoff_s")):
        with pytest.raises(ValueError, match=key):
            Network(sim, network.graph, **kwargs)


def test_a_service_is_found_from_either_end_and_a_missing_link_is_an_error():
    _, network, names = chain(2)
    assert network.service("n0", "n1") is network.service("n1", "n0")
    assert len(network.services) == 2
    with pytest.raises(ValueError, match="no link between 'n0' and 'n2'"):
        network.service("n0", "n2")


def test_requests_that_cannot_be_served_are_refused():
    _, network, names = chain(1, cutoff_s=1e-3)
    with pytest.raises(ValueError, match="unknown node 'x'"):
        network.check_request(Request("n0", "x"))
    with pytest.raises(ValueError, match="exceeds the cut-off"):
        network.submit(Request("n0", "n1", storage_time_s=2e-3))
    assert network.stats == []


def test_swap_time_and_classical_delays_come_from_the_hardware():
    _, network, names = chain(3)
    memory = network.graph.nodes["n1"]["hardware"].memory
    assert network.swap_time_s("n1") == memory.two_qubit_gate_time_s + memory.single_qubit_gate_time_s + memory.measurement_time_s
    link = network.service("n0", "n1").link
    one_hop = link.channel_a.delay_s + link.channel_b.delay_s
    assert network.classical_delay_s(names, 0, 3) == pytest.approx(3 * one_hop)
    assert network.classical_delay_s(names, 3, 1) == pytest.approx(2 * one_hop)
    plan = network.path_plan(names)
    assert plan is network.path_plan(list(names))  # built once per path
    assert plan.messaging_s == pytest.approx(2 * one_hop)
    assert plan.swap_time_s == (0.0, network.swap_time_s("n1"), network.swap_time_s("n2"), 0.0)


def test_gate_noise_is_the_memories_or_ideal_when_switched_off():
    _, noisy, _ = chain(1)
    _, ideal, _ = chain(1, gate_noise=False)
    memory = noisy.graph.nodes["n0"]["hardware"].memory
    assert noisy.gate_noise_at["n0"] == GateNoise.from_memory(memory)
    assert ideal.gate_noise_at["n0"] == GateNoise()


def test_a_network_serves_several_requests_at_once():
    sim, network, names = chain(2, capacity=4, source_fidelity=0.9)
    done = [network.submit(Request("n0", "n2", pairs=3)), network.submit(Request("n0", "n1", pairs=4))]
    sim.env.run(until=sim.env.all_of(done))
    assert [len(s.records) for s in network.stats] == [3, 4]
    assert all(s.finished_s is not None and s.finished_s > 0 for s in network.stats)
    assert math.isinf(network.cutoff_s) and all(math.isinf(s.cutoff_s) for s in network.stats)


def _chain_with_repeater_noise(noise, purification=None):
    """Two 10 km links of perfect pairs (a midpoint source of fidelity 1), perfect memories; the
    repeater n1 carries ``noise`` (a user's GateNoise or NoiseModel) for its gates and readout."""
    import networkx as nx

    from qstack.hardware import Detector, Fiber, Memory, PairSource
    from qstack.physical import HeraldedLink, NodeHardware

    memory = Memory(t1_s=math.inf, t2_s=math.inf, capacity=2)
    plain, repeater = NodeHardware(memory=memory), NodeHardware(memory=memory, noise=noise, name="n1")
    source = PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=1.0)
    graph = nx.Graph()
    for name, node in (("n0", plain), ("n1", repeater), ("n2", plain)):
        graph.add_node(name, hardware=node)
    for a, b in (("n0", "n1"), ("n1", "n2")):
        link = HeraldedLink(graph.nodes[a]["hardware"], graph.nodes[b]["hardware"], Fiber(5.0), Fiber(5.0), Detector(),
                            scheme="midpoint_source", pair_source=source)
        graph.add_edge(a, b, link=link, length_km=10.0)
    return graph


@pytest.mark.parametrize("label, fidelity", [("IZ", lambda q: 1 - q), ("ZI", lambda q: 1.0)])
def test_a_user_gate_error_at_the_repeater_sets_the_delivered_fidelity_as_its_closed_form(label, fidelity):
    """Z after the Bell measurement's CNOT on b (label IZ: Qiskit's qubit 0 is the control b)
    becomes X under the H and flips the phase readout: Phi- with probability q, F = 1 - q; on c
    (ZI) it commutes with c's Z readout and changes nothing, F = 1. No depolarizing model does
    either."""
    from qiskit_aer.noise import pauli_error

    from qstack.protocols.noise import GateErrors
    from qstack.runner import simulate

    q = 0.125
    noise = GateNoise(errors=GateErrors(two_qubit=pauli_error([(label, q), ("II", 1 - q)])))
    report = simulate(_chain_with_repeater_noise(noise), [Request("n0", "n2", pairs=5)], seed=3)
    assert report.delivered == 5
    assert [p.fidelity for p in report.pairs] == pytest.approx([fidelity(q)] * 5, abs=1e-12)


def test_a_user_noise_model_readout_error_at_the_repeater_gives_each_pair_both_readouts_right_squared():
    """Each readout of the Bell measurement flips with probability r, independently of the
    (uniform) outcome: the pair is Phi+ when neither flips, F = (1 - r)^2."""
    from qiskit_aer.noise import NoiseModel, ReadoutError

    from qstack.runner import simulate

    r = 0.1
    model = NoiseModel()
    model.add_all_qubit_readout_error(ReadoutError([[1 - r, r], [r, 1 - r]]))
    report = simulate(_chain_with_repeater_noise(model), [Request("n0", "n2", pairs=4)], seed=5)
    assert [p.fidelity for p in report.pairs] == pytest.approx([(1 - r) ** 2] * 4, abs=1e-12)


def test_purification_at_a_node_with_user_noise_gives_each_side_its_own_noise():
    from qiskit_aer.noise import pauli_error

    from qstack.engine import Simulation
    from qstack.protocols import purification_operation
    from qstack.protocols.noise import GateErrors

    noise = GateNoise(errors=GateErrors(two_qubit=pauli_error([("XX", 0.2), ("II", 0.8)])))
    graph = _chain_with_repeater_noise(noise)
    network = Network(Simulation(1), graph)
    assert network.gate_noise_at["n1"] is noise and network.gate_noise_at["n0"] == GateNoise()
    assert network.purification_operation("n0", "n1") is purification_operation("dejmps", GateNoise(), noise)
    assert network.purification_operation("n1", "n1") is purification_operation("dejmps", noise)
    assert Network(Simulation(1), graph, gate_noise=False).gate_noise_at["n1"] == GateNoise()


def test_a_path_plan_holds_the_classical_delays_network_gives_between_any_two_positions():
    rng = random.Random(4)
    node = NodeHardware(memory=Memory(t1_s=math.inf, t2_s=math.inf, capacity=2), emitter=Emitter(emission_time_s=5e-6))
    graph = nx.Graph()
    names = [f"n{i}" for i in range(12)]
    for name in names:
        graph.add_node(name, hardware=node)
    for a, b in zip(names, names[1:]):  # uneven links: delays differ per link and per side
        graph.add_edge(a, b, link=HeraldedLink(node, node, Fiber(rng.uniform(1, 30)), Fiber(rng.uniform(1, 30)), Detector()))
    sim = Simulation(1)
    network = Network(sim, graph)
    plan = network.path_plan(names)
    for i in range(len(names)):
        for j in range(len(names)):
            assert plan.delay_s(i, j) == network.classical_delay_s(names, i, j)
    total = sum(graph.edges[a, b]["link"].channel_a.delay_s + graph.edges[a, b]["link"].channel_b.delay_s
                for a, b in zip(names, names[1:]))
    assert plan.delay_s(0, 11) == pytest.approx(total, rel=1e-12) and plan.delay_s(3, 4) > 0
    assert plan.messaging_s == max(network.classical_delay_s(names, 0, 10), network.classical_delay_s(names, 1, 11))
