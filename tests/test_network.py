"""Network layer: repeater chains against closed forms, routing and admission errors."""

import math

import networkx as nx
import numpy as np
import pytest

from qstack.engine import Simulation
from qstack.hardware import Detector, Emitter, Fiber, Memory, PairSource
from qstack.metrics import bell_fidelity
from qstack.network import Network, Request
from qstack.physical import HeraldedLink, NodeHardware


def _chain(n_links, seed=1, scheme="double_click", capacity=2, source_fidelity=None, emission_probability=0.3):
    memory = Memory(t1_s=math.inf, t2_s=math.inf, capacity=capacity)
    if source_fidelity is None:
        node = NodeHardware(memory=memory, emitter=Emitter(emission_time_s=5e-6, emission_probability=emission_probability))
        kw = {}
    else:
        node = NodeHardware(memory=memory)
        kw = {"pair_source": PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=source_fidelity)}
        scheme = "midpoint_source"
    half = Fiber(5.0)
    graph = nx.Graph()
    names = [f"n{i}" for i in range(n_links + 1)]
    for name in names:
        graph.add_node(name, hardware=node)
    for a, b in zip(names, names[1:]):
        graph.add_edge(a, b, link=HeraldedLink(node, node, half, half, Detector(), scheme=scheme, **kw))
    sim = Simulation(seed)
    return sim, Network(sim, graph), names


def test_two_segment_repeater_waits_the_expected_max_of_two_geometric_laws():
    sim, network, names = _chain(2, seed=4)
    process = network.submit(Request(names[0], names[-1], pairs=3000))
    sim.env.run(until=process)
    link = network.service(names[0], names[1])
    p, t = link.success_probability, link.link.attempt_time_s
    # Both links attempt in lock-step; the pair is ready after max(k1, k2) attempts.
    waits = np.array([(r.breakdown.emission_wait_s + r.breakdown.heralding_s) / t for r in network.stats[0].records])
    expected = (3 - 2 * p) / (p * (2 - p))
    # Variance of max of two geometrics, bounded by twice the variance of one.
    sigma = math.sqrt(2 * (1 - p) / p**2 / len(waits))
    assert abs(waits.mean() - expected) < 4 * sigma


@pytest.mark.parametrize("n_links", [1, 2, 3, 5])
def test_ideal_swaps_of_werner_links_give_quarter_plus_three_quarters_w_to_the_n(n_links):
    f_link = 0.95
    sim, network, names = _chain(n_links, source_fidelity=f_link)
    process = network.submit(Request(names[0], names[-1], pairs=3))
    sim.env.run(until=process)
    w = (4 * f_link - 1) / 3
    for record in network.stats[0].records:
        assert record.fidelity == pytest.approx(0.25 + 0.75 * w**n_links, abs=1e-9)


def test_linear_optics_swaps_succeed_half_the_time():
    sim, network, names = _chain(2, seed=3)
    network.bsm = "linear_optics"
    from qstack.protocols import GateNoise, swap_operation

    network._swap_ops = {n: swap_operation(GateNoise(), "linear_optics") for n in names}
    process = network.submit(Request(names[0], names[-1], pairs=400))
    sim.env.run(until=process)
    rate = 1 - network.swap_failures / network.swaps
    assert abs(rate - 0.5) < 4 * math.sqrt(0.25 / network.swaps)
    assert all(r.fidelity == pytest.approx(1.0, abs=1e-9) for r in network.stats[0].records)


def test_disconnected_and_over_subscribed_requests_are_refused():
    sim, network, names = _chain(2, capacity=2)
    network.graph.add_node("island", hardware=network.graph.nodes[names[0]]["hardware"])
    with pytest.raises(ValueError, match="no route"):
        network.submit(Request(names[0], "island"))
    network.submit(Request(names[0], names[2]))
    with pytest.raises(ValueError, match="over-subscribed"):
        network.submit(Request(names[1], names[2]))


def test_routing_takes_the_cheapest_path():
    sim, network, names = _chain(3)
    node = network.graph.nodes[names[0]]["hardware"]
    network.graph.add_edge(names[0], names[3], link=HeraldedLink(node, node, Fiber(100.0), Fiber(100.0), Detector(), scheme="double_click"))
    assert network.route(names[0], names[3]) == [names[0], names[3]]
    network._cost = lambda u, v, d: d["link"].attempt_time_s / d["link"].success_probability
    assert network.route(names[0], names[3]) == names


# ----------------------------------------------------------------------------- purification
from qstack.network import PurificationPolicy, _nested_triples  # noqa: E402


def _dejmps(first, second):
    """DEJMPS on Bell-diagonal (A, B, C, D) = (Phi+, Psi-, Psi+, Phi-) coefficients."""
    a1, b1, c1, d1 = first
    a2, b2, c2, d2 = second
    n = (a1 + b1) * (a2 + b2) + (c1 + d1) * (c2 + d2)
    return (a1 * a2 + b1 * b2) / n, (c1 * d2 + d1 * c2) / n, (c1 * c2 + d1 * d2) / n, (a1 * b2 + b1 * a2) / n


def _werner(f):
    return (f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3)


def _purifying_chain(n_links, policy, seed=2, f_link=0.85):
    sim, network, names = _chain(n_links, seed=seed, source_fidelity=f_link, capacity=8)
    network.purification = policy
    return sim, network, names


@pytest.mark.parametrize("scheme,rounds", [("recurrence", 1), ("recurrence", 2), ("pumping", 2), ("pumping", 3)])
def test_link_purification_delivers_the_dejmps_recurrence(scheme, rounds):
    policy = PurificationPolicy(scope="link", scheme=scheme, rounds=rounds)
    sim, network, names = _purifying_chain(1, policy)
    process = network.submit(Request(names[0], names[1], pairs=4))
    sim.env.run(until=process)
    fresh = _werner(0.85)
    state = fresh
    for _ in range(rounds):
        state = _dejmps(state, state if scheme == "recurrence" else fresh)
    for record in network.stats[0].records:
        assert record.fidelity == pytest.approx(state[0], abs=1e-9)
    assert network.purifications >= rounds * 4


def test_measured_purification_success_matches_the_protocol():
    policy = PurificationPolicy(scope="link", rounds=1)
    sim, network, names = _purifying_chain(1, policy, f_link=0.7)
    process = network.submit(Request(names[0], names[1], pairs=600))
    sim.env.run(until=process)
    a, b, c, d = _werner(0.7)
    p = (a + b) ** 2 + (c + d) ** 2
    measured = 1 - network.purification_failures / network.purifications
    assert abs(measured - p) < 4 * math.sqrt(p * (1 - p) / network.purifications)


def test_end_to_end_purification_of_a_swapped_pair():
    policy = PurificationPolicy(scope="end_to_end", rounds=1)
    sim, network, names = _purifying_chain(2, policy)
    process = network.submit(Request(names[0], names[2], pairs=3))
    sim.env.run(until=process)
    w = (4 * 0.85 - 1) / 3
    swapped = _werner(0.25 + 0.75 * w * w)
    expected = _dejmps(swapped, swapped)[0]
    assert all(r.fidelity == pytest.approx(expected, abs=1e-9) for r in network.stats[0].records)
    assert all(r.breakdown.purification_s > 0 for r in network.stats[0].records)


def test_nested_policy_swaps_only_matching_halves_and_keeps_the_ideal_fidelity():
    assert _nested_triples(4) == frozenset({(0, 2, 4), (0, 1, 2), (2, 3, 4)})
    assert _nested_triples(3) == frozenset({(0, 1, 3), (1, 2, 3)})
    sim, network, names = _chain(4, source_fidelity=0.9)
    network.swapping = "nested"
    process = network.submit(Request(names[0], names[4], pairs=3))
    sim.env.run(until=process)
    w = (4 * 0.9 - 1) / 3
    assert all(r.fidelity == pytest.approx(0.25 + 0.75 * w**4, abs=1e-9) for r in network.stats[0].records)


def test_purification_policy_validates_its_fields():
    with pytest.raises(ValueError, match="purification.scope"):
        PurificationPolicy(scope="everywhere")
    with pytest.raises(ValueError, match="purification.rounds"):
        PurificationPolicy(scope="link", rounds=-1)
    assert PurificationPolicy(scope="link", rounds=3).held_pairs == 4
    assert PurificationPolicy(scope="link", scheme="pumping", rounds=3).held_pairs == 2


def test_a_chain_with_a_generous_cutoff_delivers_every_pair_it_completes():
    sim, network, names = _chain(4, seed=5)
    network.cutoff_s = 1.0  # far longer than any pair waits here
    process = network.submit(Request(names[0], names[-1], pairs=20))
    sim.env.run(until=process)
    stats = network.stats[0]
    assert len(stats.records) == 20 and stats.cutoff_discards == 0
    assert all(r.oldest_age_s < 1.0 for r in stats.records)


def test_swaps_at_different_nodes_run_in_parallel():
    sim, network, names = _chain(4, source_fidelity=0.9)
    memory = Memory(t1_s=math.inf, t2_s=math.inf, capacity=2, two_qubit_gate_time_s=1e-3)
    for name in names:
        network.graph.nodes[name]["hardware"] = NodeHardware(memory=memory)
    process = network.submit(Request(names[0], names[-1], pairs=5))
    sim.env.run(until=process)
    # Three swaps on four links. After the last herald at most the batch in progress and one more
    # remain (sequential swaps would need up to three 1 ms Bell measurements).
    messaging = network.classical_delay_s(names, 0, 3)
    swapping = [r.breakdown.swapping_s - messaging for r in network.stats[0].records]
    assert max(swapping) <= 2e-3 + 1e-12
    assert min(swapping) >= 1e-3 - 1e-12


def test_delivery_hooks_receive_the_real_state_oriented_from_the_source():
    sim, network, names = _chain(2, source_fidelity=0.9)
    seen = []
    network.delivery_hooks.append(lambda request, record, rho: seen.append((request, record, rho)))
    process = network.submit(Request(names[2], names[0], pairs=3))  # path runs against the chain
    sim.env.run(until=process)
    assert len(seen) == 3
    for request, record, rho in seen:
        assert request.src == names[2]
        assert bell_fidelity(rho) == pytest.approx(record.fidelity, abs=1e-12)
        assert np.trace(rho) == pytest.approx(1.0, abs=1e-12)


def test_requests_against_the_edge_direction_swap_the_inner_qubits():
    # End nodes with perfect memories, a repeater whose memory dephases fast. A pair held after
    # delivery only decoheres if the swap wrongly left qubits at the repeater.
    good = Memory(t1_s=math.inf, t2_s=math.inf, capacity=2)
    bad = Memory(t1_s=math.inf, t2_s=1e-3, capacity=2)
    source = PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=0.9)
    ends, repeater = NodeHardware(memory=good), NodeHardware(memory=bad)
    graph = nx.Graph()
    graph.add_node("a", hardware=ends)
    graph.add_node("r", hardware=repeater)
    graph.add_node("b", hardware=ends)
    for u, v in (("a", "r"), ("r", "b")):
        graph.add_edge(u, v, link=HeraldedLink(graph.nodes[u]["hardware"], graph.nodes[v]["hardware"], Fiber(0.0),
                                               Fiber(0.0), Detector(), scheme="midpoint_source", pair_source=source))
    for src, dst in (("a", "b"), ("b", "a")):
        sim = Simulation(1)
        network = Network(sim, graph)
        process = network.submit(Request(src, dst, pairs=3, storage_time_s=0.01))
        sim.env.run(until=process)
        w = (4 * 0.9 - 1) / 3
        for record in network.stats[0].records:
            # Only the repeater's short wait for the partner link costs anything (microseconds
            # against its 1 ms T2); ten milliseconds of storage there would leave F near 1/2.
            assert 0.25 + 0.75 * w * w - 0.01 < record.fidelity <= 0.25 + 0.75 * w * w + 1e-12
        assert all(bank.slots.level == bank.capacity for bank in network.banks.values())


def test_a_served_request_gives_its_reserved_slots_back():
    sim, network, names = _chain(2, capacity=2)
    first = network.submit(Request(names[0], names[2], pairs=2))
    with pytest.raises(ValueError, match="over-subscribed"):
        network.submit(Request(names[1], names[2]))
    sim.env.run(until=first)
    second = network.submit(Request(names[1], names[2], pairs=2))
    sim.env.run(until=second)
    assert len(network.stats[-1].records) == 2


def test_delivered_end_to_end_pairs_leave_no_path_state_alive_behind_them(monkeypatch):
    """A cut-off alarm still pending when its pair is delivered must not keep that pair's
    mailbox (and through it its segments) alive until it rings."""
    import gc
    import weakref

    import qstack.network as network_module

    mailboxes = []
    original_init = network_module._Mailbox.__init__

    def recording_init(self, env):
        original_init(self, env)
        mailboxes.append(weakref.ref(self))

    monkeypatch.setattr(network_module._Mailbox, "__init__", recording_init)
    sim, chain, names = _chain(4, seed=2)
    network = Network(sim, chain.graph, cutoff_s=10.0, swapping="nested")
    process = network.submit(Request(names[0], names[-1], pairs=20))
    sim.env.run(until=process)
    assert len(network.stats[0].records) == 20 and len(mailboxes) >= 20
    assert sim.env.peek() < 11.0  # alarms set for the 10 s cut-off are still in the queue
    gc.collect()
    assert [ref for ref in mailboxes if ref() is not None] == []
