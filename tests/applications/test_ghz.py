"""The scenario application ``ghz``: one GHZ state per round, fused at the hub."""

import math

import networkx as nx
import pytest

from qstack.applications import ApplicationSpec, GHZApplication, GHZResult
from qstack.engine import Simulation
from qstack.hardware import Detector, Fiber, Memory, PairSource
from qstack.network import Network, Request
from qstack.physical import HeraldedLink, NodeHardware

GHZ_KEYS = ["kind", "hub", "parties", "states", "ghz_fidelity", "rate_hz"]


def _star(leaves, pairs, t2_s=math.inf, seed=7):
    node = NodeHardware(memory=Memory(t1_s=math.inf, t2_s=t2_s, capacity=4))
    source = PairSource(pair_probability=0.01, repetition_rate_hz=1e6, emitted_state_fidelity=1.0)
    graph = nx.Graph()
    graph.add_node("hub", hardware=node)
    for leaf in leaves:
        graph.add_node(leaf, hardware=node)
        graph.add_edge("hub", leaf, link=HeraldedLink(node, node, Fiber(1.0), Fiber(1.0), Detector(),
                                                      scheme="midpoint_source", pair_source=source))
    sim = Simulation(seed)
    network = Network(sim, graph, gate_noise=False)
    requests = [Request("hub", leaf, pairs=pairs, name=leaf) for leaf in leaves]
    app = GHZApplication(network, requests, ApplicationSpec("ghz"), seed)
    sim.env.run(until=sim.env.all_of([network.submit(r) for r in requests]))
    return app, sim


def test_the_ghz_report_has_todays_keys_in_order():
    app, sim = _star(["a", "b"], 2)
    result = app.result(sim.env.now)
    assert isinstance(result, GHZResult)
    d = result.to_dict()
    assert list(d) == GHZ_KEYS
    assert (d["kind"], d["hub"], d["parties"], d["states"]) == ("ghz", "hub", 3, 2)
    assert d["rate_hz"] == pytest.approx(2 / sim.env.now)


def test_perfect_pairs_in_perfect_memories_make_perfect_ghz_states():
    app, sim = _star(["a", "b", "c"], 2)
    assert app.result(sim.env.now).ghz_fidelity.min == pytest.approx(1.0, abs=1e-12)


def test_short_lived_memories_lower_the_ghz_fidelity():
    perfect, sim = _star(["a", "b", "c"], 3)
    waiting, sim_w = _star(["a", "b", "c"], 3, t2_s=1e-4)
    assert waiting.result(sim_w.env.now).ghz_fidelity.mean < perfect.result(sim.env.now).ghz_fidelity.mean - 0.01
