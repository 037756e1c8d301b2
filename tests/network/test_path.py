"""Path attempts: link pairs, swaps (ASAP and nested), cut-offs, against closed forms."""

import gc
import math
import weakref

import numpy as np
import pytest

from qstack.hardware import Detector, Fiber, Memory, PairSource
from qstack.network import Network, PathAttempt, Request, nested_triples
from qstack.physical import HeraldedLink, NodeHardware

from .chains import chain


def test_two_segment_repeater_waits_the_expected_max_of_two_geometric_laws():
    # Two communication qubits per node: the middle node's links attempt in parallel.
    memory = Memory(t1_s=math.inf, t2_s=math.inf, capacity=2, communication_qubits=2)
    sim, network, names = chain(2, seed=4, memory=memory)
    sim.env.run(until=network.submit(Request(names[0], names[-1], pairs=3000)))
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
    sim, network, names = chain(n_links, source_fidelity=f_link)
    sim.env.run(until=network.submit(Request(names[0], names[-1], pairs=3)))
    w = (4 * f_link - 1) / 3
    assert len(network.stats[0].records) == 3
    for record in network.stats[0].records:
        assert record.fidelity == pytest.approx(0.25 + 0.75 * w**n_links, abs=1e-9)


def test_linear_optics_swaps_succeed_half_the_time_and_failures_are_made_again():
    sim, network, names = chain(2, seed=3, bsm="linear_optics")
    sim.env.run(until=network.submit(Request(names[0], names[-1], pairs=400)))
    rate = 1 - network.swap_failures / network.swaps
    assert network.swap_failures > 0
    assert abs(rate - 0.5) < 4 * math.sqrt(0.25 / network.swaps)
    assert len(network.stats[0].records) == 400
    assert all(r.fidelity == pytest.approx(1.0, abs=1e-9) for r in network.stats[0].records)


def test_nested_policy_swaps_only_matching_halves_and_keeps_the_ideal_fidelity():
    assert nested_triples(4) == frozenset({(0, 2, 4), (0, 1, 2), (2, 3, 4)})
    assert nested_triples(3) == frozenset({(0, 1, 3), (1, 2, 3)})
    sim, network, names = chain(4, source_fidelity=0.9, swapping="nested")
    assert network.path_plan(names).allowed == nested_triples(4)
    sim.env.run(until=network.submit(Request(names[0], names[4], pairs=3)))
    w = (4 * 0.9 - 1) / 3
    assert all(r.fidelity == pytest.approx(0.25 + 0.75 * w**4, abs=1e-9) for r in network.stats[0].records)


def test_a_chain_with_a_generous_cutoff_delivers_every_pair_it_completes():
    sim, network, names = chain(4, seed=5, cutoff_s=1.0)  # far longer than any pair waits here
    sim.env.run(until=network.submit(Request(names[0], names[-1], pairs=20)))
    stats = network.stats[0]
    assert len(stats.records) == 20 and stats.cutoff_discards == 0
    assert all(r.oldest_age_s < 1.0 for r in stats.records)


def test_swaps_at_different_nodes_run_in_parallel():
    memory = Memory(t1_s=math.inf, t2_s=math.inf, capacity=2, two_qubit_gate_time_s=1e-3)
    sim, network, names = chain(4, source_fidelity=0.9, memory=memory)
    sim.env.run(until=network.submit(Request(names[0], names[-1], pairs=5)))
    # Three swaps on four links. After the last herald at most the batch in progress and one more
    # remain (sequential swaps would need up to three 1 ms Bell measurements).
    messaging = network.classical_delay_s(names, 0, 3)
    assert network.path_plan(names).messaging_s == messaging
    swapping = [r.breakdown.swapping_s - messaging for r in network.stats[0].records]
    assert max(swapping) <= 2e-3 + 1e-12
    assert min(swapping) >= 1e-3 - 1e-12


def test_requests_against_the_edge_direction_swap_the_inner_qubits():
    # End nodes with perfect memories, a repeater whose memory dephases fast. A pair held after
    # delivery only decoheres if the swap wrongly left qubits at the repeater.
    import networkx as nx

    from qstack.engine import Simulation

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
        sim.env.run(until=network.submit(Request(src, dst, pairs=3, storage_time_s=0.01)))
        w = (4 * 0.9 - 1) / 3
        for record in network.stats[0].records:
            # Only the repeater's short wait for the partner link costs anything (microseconds
            # against its 1 ms T2); ten milliseconds of storage there would leave F near 1/2.
            assert 0.25 + 0.75 * w * w - 0.01 < record.fidelity <= 0.25 + 0.75 * w * w + 1e-12
        assert all(bank.slots.level == bank.capacity for bank in network.banks.values())


def test_delivered_end_to_end_pairs_leave_no_path_state_alive_behind_them(monkeypatch):
    """A cut-off alarm still pending when its pair is delivered must not keep that attempt (and
    through it its segments) alive until it rings."""
    attempts = []
    original_init = PathAttempt.__init__

    def recording_init(self, *args):
        original_init(self, *args)
        attempts.append(weakref.ref(self))

    monkeypatch.setattr(PathAttempt, "__init__", recording_init)
    sim, network, names = chain(4, seed=2, cutoff_s=10.0, swapping="nested")
    sim.env.run(until=network.submit(Request(names[0], names[-1], pairs=20)))
    assert len(network.stats[0].records) == 20 and len(attempts) >= 20
    assert sim.env.peek() < 11.0  # alarms set for the 10 s cut-off are still in the queue
    gc.collect()
    assert [ref for ref in attempts if ref() is not None] == []
