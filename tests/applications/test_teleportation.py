"""The scenario application ``teleportation``: Haar-random states through delivered pairs."""

import math

import networkx as nx
import pytest

from qstack.applications import ApplicationSpec, TeleportationApplication, TeleportationResult
from qstack.engine import Simulation
from qstack.hardware import Detector, Fiber, Memory, PairSource
from qstack.network import Network, Request
from qstack.physical import HeraldedLink, NodeHardware

TELEPORTATION_KEYS = ["kind", "request", "pairs_used", "teleportation_fidelity"]


def _served(pairs, source_fidelity, seed=5):
    node = NodeHardware(memory=Memory(t1_s=math.inf, t2_s=math.inf, capacity=2))
    source = PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=source_fidelity)
    graph = nx.Graph()
    graph.add_node("a", hardware=node)
    graph.add_node("b", hardware=node)
    graph.add_edge("a", "b", link=HeraldedLink(node, node, Fiber(1.0), Fiber(1.0), Detector(),
                                               scheme="midpoint_source", pair_source=source))
    sim = Simulation(seed)
    network = Network(sim, graph, gate_noise=False)
    requests = [Request("a", "b", pairs=pairs, name="bob")]
    app = TeleportationApplication(network, requests, ApplicationSpec("teleportation"), seed)
    sim.env.run(until=network.submit(requests[0]))
    return app, sim


def test_the_teleportation_report_has_todays_keys_in_order():
    app, sim = _served(5, 0.9)
    result = app.result(sim.env.now)
    assert isinstance(result, TeleportationResult)
    d = result.to_dict()
    assert list(d) == TELEPORTATION_KEYS
    assert list(d["teleportation_fidelity"]) == ["mean", "min"]
    assert (d["kind"], d["request"], d["pairs_used"]) == ("teleportation", "bob", 5)


def test_teleporting_through_perfect_pairs_is_perfect():
    app, sim = _served(10, 1.0)
    fidelity = app.result(sim.env.now).teleportation_fidelity
    assert fidelity.min == pytest.approx(1.0, abs=1e-12)


def test_teleporting_through_werner_pairs_averages_two_f_plus_one_over_three():
    app, sim = _served(400, 0.85)
    # Haar-random inputs: the mean over 400 states carries a spread of order 1e-3 here.
    assert app.result(sim.env.now).teleportation_fidelity.mean == pytest.approx((2 * 0.85 + 1) / 3, abs=6e-3)
