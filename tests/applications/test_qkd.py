"""BBM92 over a network (``qkd_over_network``) and the scenario application ``qkd``."""

import math

import networkx as nx
import numpy as np
import pytest

from qstack.applications import ApplicationSpec, NoPairsResult, QKDApplication, QKDResult, qkd_over_network
from qstack.engine import Simulation
from qstack.hardware import Detector, Fiber, Memory, PairSource
from qstack.network import Network, Request
from qstack.physical import HeraldedLink, NodeHardware
from qstack.protocols import bbm92
from qstack.protocols.qkd import binary_entropy as h

def _chain(n_links, source_fidelity, seed=2):
    node = NodeHardware(memory=Memory(t1_s=math.inf, t2_s=math.inf, capacity=2))
    source = PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=source_fidelity)
    graph = nx.Graph()
    names = [f"n{i}" for i in range(n_links + 1)]
    for name in names:
        graph.add_node(name, hardware=node)
    for a, b in zip(names, names[1:]):
        link = HeraldedLink(node, node, Fiber(5.0), Fiber(5.0), Detector(), scheme="midpoint_source", pair_source=source)
        graph.add_edge(a, b, link=link)
    sim = Simulation(seed)
    return sim, Network(sim, graph), names


@pytest.mark.parametrize("n_links", [1, 3])
def test_bbm92_over_a_network_measures_the_delivered_states(n_links):
    f_link = 0.95
    sim, network, names = _chain(n_links, f_link)
    result = qkd_over_network(network, names[0], names[-1], 200, np.random.default_rng(5))
    records = network.stats[-1].records
    assert result.delivered == len(records) == 200
    assert network.delivery_hooks == []
    # Ideal swaps of Werner links deliver Werner pairs: QBER 2(1 - F)/3 with F the recorded fidelity.
    w = (4 * f_link - 1) / 3
    fidelity = 0.25 + 0.75 * w**n_links
    assert all(r.fidelity == pytest.approx(fidelity, abs=1e-9) for r in records)
    assert result.exact.qber_z == pytest.approx(2 * (1 - fidelity) / 3, abs=1e-9)
    assert result.exact.qber_x == pytest.approx(2 * (1 - fidelity) / 3, abs=1e-9)
    assert result.sampled.counts.rounds == 200
    assert result.pair_rate_hz == pytest.approx(200 / result.duration_s)
    assert result.key_rate_hz == pytest.approx(result.pair_rate_hz * 0.5 * (1 - 2 * h(2 * (1 - fidelity) / 3)))


def test_measuring_for_qkd_does_not_change_the_network_run():
    sim, network, names = _chain(2, 0.97, seed=9)
    qkd_over_network(network, names[0], names[-1], 30, np.random.default_rng(1))
    plain_sim, plain, _ = _chain(2, 0.97, seed=9)
    process = plain.submit(Request(names[0], names[-1], pairs=30, name=f"bbm92 {names[0]}->{names[-1]}"))
    plain_sim.env.run(until=process)
    assert [r.delivered_s for r in network.stats[0].records] == [r.delivered_s for r in plain.stats[0].records]
    assert [r.fidelity for r in network.stats[0].records] == [r.fidelity for r in plain.stats[0].records]


def test_network_measurement_noise_defaults_to_the_end_memories_readout():
    node = NodeHardware(memory=Memory(t1_s=math.inf, t2_s=math.inf, capacity=2, measurement_fidelity=0.98))
    source = PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=0.96)
    graph = nx.Graph()
    graph.add_node("a", hardware=node)
    graph.add_node("b", hardware=node)
    link = HeraldedLink(node, node, Fiber(1.0), Fiber(1.0), Detector(), scheme="midpoint_source", pair_source=source)
    graph.add_edge("a", "b", link=link)
    network = Network(Simulation(1), graph)
    states = []
    network.delivery_hooks.append(lambda request, record, rho: states.append(rho))
    result = qkd_over_network(network, "a", "b", 5, np.random.default_rng(0))
    assert len(states) == 5
    flipped = bbm92(states, measurement_flip=0.02)
    assert (result.exact.qber_z, result.exact.qber_x) == pytest.approx((flipped.qber_z, flipped.qber_x), abs=1e-12)
    assert result.exact.qber_z > bbm92(states).qber_z + 0.01


def test_a_network_without_gate_noise_measures_ideally():
    node = NodeHardware(memory=Memory(t1_s=math.inf, t2_s=math.inf, capacity=2, measurement_fidelity=0.9))
    source = PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=1.0)
    graph = nx.Graph()
    graph.add_node("a", hardware=node)
    graph.add_node("b", hardware=node)
    link = HeraldedLink(node, node, Fiber(1.0), Fiber(1.0), Detector(), scheme="midpoint_source", pair_source=source)
    graph.add_edge("a", "b", link=link)
    result = qkd_over_network(Network(Simulation(1), graph, gate_noise=False), "a", "b", 5, np.random.default_rng(0))
    assert (result.exact.qber_z, result.exact.qber_x) == pytest.approx((0.0, 0.0), abs=1e-12)


# --------------------------------------------------------------------------- the scenario application
QKD_KEYS = ["kind", "protocol", "request", "pairs_used", "z_probability", "qber_z", "qber_x", "qber_z_exact",
            "qber_x_exact", "sifted", "key_fraction", "secret_key_rate_hz"]


def _served(n_links, pairs, spec, seed=3):
    sim, network, names = _chain(n_links, 0.95, seed=seed)
    requests = [Request(names[0], names[-1], pairs=pairs, name="alice")]
    app = QKDApplication(network, requests, spec, seed)
    sim.env.run(until=network.submit(requests[0]))
    return app, network, sim


def test_the_qkd_report_has_todays_keys_in_order():
    app, network, sim = _served(1, 20, ApplicationSpec("qkd", z_probability=0.7))
    result = app.result(sim.env.now)
    assert isinstance(result, QKDResult)
    d = result.to_dict()
    assert list(d) == QKD_KEYS
    assert (d["kind"], d["protocol"], d["request"], d["pairs_used"], d["z_probability"]) == ("qkd", "BBM92", "alice", 20, 0.7)
    assert d["sifted"] <= 20


def test_the_qkd_application_measures_the_delivered_werner_pairs():
    app, network, sim = _served(2, 50, ApplicationSpec("qkd"))
    fidelity = network.stats[0].records[0].fidelity
    d = app.result(sim.env.now).to_dict()
    assert d["qber_z_exact"] == pytest.approx(2 * (1 - fidelity) / 3, abs=1e-9)
    assert d["qber_x_exact"] == pytest.approx(2 * (1 - fidelity) / 3, abs=1e-9)
    rate_hz = 50 / sim.env.now
    assert d["secret_key_rate_hz"] == pytest.approx(rate_hz * 0.5 * (1 - 2 * h(2 * (1 - fidelity) / 3)))
    assert network.delivery_hooks == [app.pairs]


def test_a_qkd_application_without_pairs_reports_none_used():
    sim, network, names = _chain(1, 0.95)
    app = QKDApplication(network, [Request(names[0], names[1], pairs=1, name="alice")], ApplicationSpec("qkd"), 0)
    result = app.result(0.0)
    assert result == NoPairsResult("qkd", "alice")
    assert result.to_dict() == {"kind": "qkd", "request": "alice", "pairs_used": 0}
