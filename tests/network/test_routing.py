"""Routing: registered route costs, a weight callable, and the errors of an unknown name."""

import math

import pytest

import qstack
from qstack.hardware import Detector, Fiber, PairSource
from qstack.network import Network, ROUTING_COSTS, link_cost, link_werner_parameter
from qstack.physical import HeraldedLink, NodeHardware

from .chains import chain


def _chain_with_long_shortcut(**network_kwargs):
    """n0 - n1 - n2 - n3 of 10 km links, plus a direct 200 km link n0 - n3."""
    sim, network, names = chain(3)
    node = network.graph.nodes[names[0]]["hardware"]
    graph = network.graph
    graph.add_edge(names[0], names[3], link=HeraldedLink(node, node, Fiber(100.0), Fiber(100.0), Detector(), scheme="double_click"))
    return sim, Network(sim, graph, **network_kwargs), names


def test_the_builtin_route_costs_are_registered():
    assert set(ROUTING_COSTS) <= set(qstack.registered("routing"))


def test_hops_takes_the_fewest_links_and_expected_rate_the_fastest_pairs():
    _, network, names = _chain_with_long_shortcut()
    assert network.route(names[0], names[3]) == [names[0], names[3]]
    _, network, names = _chain_with_long_shortcut(routing="expected_rate")
    assert network.route(names[0], names[3]) == names


def test_a_callable_routing_weight_is_used_as_the_edge_weight():
    asked = []

    def penalise_the_shortcut(u, v, data):
        asked.append((u, v))
        return 10.0 if {u, v} == {"n0", "n3"} else 1.0

    _, network, names = _chain_with_long_shortcut()
    assert network.route("n0", "n3") == ["n0", "n3"]  # hops: one link against three
    _, network, names = _chain_with_long_shortcut(routing=penalise_the_shortcut)
    assert network.route("n0", "n3") == names  # the shortcut costs 10, the chain 3
    assert ("n0", "n3") in asked or ("n3", "n0") in asked


def test_an_unknown_routing_name_is_refused_naming_routing_and_the_registered_names():
    sim, network, _ = chain(1)
    with pytest.raises(ValueError, match="routing") as error:
        Network(sim, network.graph, routing="cheapest")
    for name in qstack.registered("routing"):
        assert name in str(error.value)
    with pytest.raises(ValueError, match="routing"):
        Network(sim, network.graph, routing=3)
    with pytest.raises(ValueError, match="routing"):
        link_cost("cheapest")


def test_expected_fidelity_costs_minus_log_of_the_werner_parameter_and_prefers_the_cleaner_route():
    def source_link(node, fidelity):
        source = PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=fidelity)
        return HeraldedLink(node, node, Fiber(1.0), Fiber(1.0), Detector(), scheme="midpoint_source", pair_source=source)

    sim, network, _ = chain(1, source_fidelity=0.9)
    node = network.graph.nodes["n0"]["hardware"]
    clean, dirty = source_link(node, 0.99), source_link(node, 0.8)
    w_clean = link_werner_parameter(clean)
    assert w_clean == pytest.approx((4 * 0.99 - 1) / 3, abs=1e-9)
    assert link_cost("expected_fidelity")("a", "b", {"link": clean}) == pytest.approx(-math.log(w_clean))
    graph = network.graph.copy()
    graph.remove_edge("n0", "n1")
    for u, v, link in (("n0", "x", clean), ("x", "n1", clean), ("n0", "n1", dirty)):
        graph.add_node(u, hardware=node)
        graph.add_node(v, hardware=node)
        graph.add_edge(u, v, link=link)
    assert Network(sim, graph).route("n0", "n1") == ["n0", "n1"]
    assert Network(sim, graph, routing="expected_fidelity").route("n0", "n1") == ["n0", "x", "n1"]


def _uneven_graph(seed):
    """A random graph of links of random lengths (each edge its own link object)."""
    import networkx as nx

    rng = __import__("random").Random(seed)
    node = NodeHardware(memory=qstack.hardware.Memory(t1_s=math.inf, t2_s=math.inf, capacity=4),
                        emitter=qstack.hardware.Emitter(emission_time_s=5e-6, emitted_state_fidelity=0.97))
    graph = nx.gnm_random_graph(40, 90, seed=seed)
    graph = graph.subgraph(max(nx.connected_components(graph), key=len)).copy()
    for a, b in graph.edges:
        half = Fiber(round(rng.uniform(1, 40), 1))
        graph.edges[a, b]["link"] = HeraldedLink(node, node, half, half, Detector(), scheme="double_click")
    return graph, node


@pytest.mark.parametrize("metric", ["expected_rate", "expected_fidelity"])
def test_a_per_link_cost_computed_once_equals_the_formula_and_routes_alike(metric):
    import networkx as nx

    formula = {
        "expected_rate": lambda link: link.attempt_time_s / link.success_probability,
        "expected_fidelity": lambda link: -math.log(max(link_werner_parameter(link), 1e-300)),
    }[metric]
    graph, node = _uneven_graph(3)
    weight = link_cost(metric, graph)
    for _ in range(2):  # the second pass reads the memo
        for a, b, data in graph.edges(data=True):
            assert weight(a, b, data) == weight(b, a, data) == formula(data["link"])
    raw = lambda u, v, data: formula(data["link"])  # noqa: E731
    nodes = sorted(graph.nodes)
    for src, dst in zip(nodes, reversed(nodes)):
        if src != dst:
            assert nx.shortest_path(graph, src, dst, weight=weight) == nx.shortest_path(graph, src, dst, weight=raw)
    # an edge given another link costs that link's cost, not the memo of the old one
    a, b, data = next(iter(graph.edges(data=True)))
    before = weight(a, b, data)
    other = data["link"] = HeraldedLink(node, node, Fiber(77.0), Fiber(77.0), Detector(), scheme="double_click")
    assert weight(a, b, data) == formula(other) != before
