"""Delivery: one way every pair reaches the user, with its real state handed to the hooks."""

import math

import networkx as nx
import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix, partial_trace

from qstack.engine import Simulation
from qstack.hardware import Detector, Fiber, Memory, PairSource
from qstack.metrics import bell_fidelity
from qstack.network import Network, Request
from qstack.physical import HeraldedLink, NodeHardware

from .chains import chain


def _decaying_source_chain(n_links: int, decaying: str):
    """Ideal Phi+ links; only node ``decaying``'s memory relaxes (T1 = T2 = 1 ms)."""
    names = [f"n{i}" for i in range(n_links + 1)]
    source = PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=1.0)
    graph = nx.Graph()
    for name in names:
        memory = Memory(t1_s=1e-3, t2_s=1e-3, capacity=2) if name == decaying else Memory(t1_s=math.inf, t2_s=math.inf, capacity=2)
        graph.add_node(name, hardware=NodeHardware(memory=memory, name=name))
    for a, b in zip(names, names[1:]):
        graph.add_edge(a, b, link=HeraldedLink(graph.nodes[a]["hardware"], graph.nodes[b]["hardware"], Fiber(0.0),
                                               Fiber(0.0), Detector(), scheme="midpoint_source", pair_source=source))
    return names, graph


@pytest.mark.parametrize("n_links", [1, 2])
@pytest.mark.parametrize("backwards", [False, True])
def test_hooks_receive_the_real_state_as_a_density_matrix_with_qubit_0_at_the_source(n_links, backwards):
    # Amplitude damping at one end only: its qubit relaxes towards |0> while the other stays
    # maximally mixed, so the orientation of the handed-out state is visible.
    names, graph = _decaying_source_chain(n_links, decaying=names_end(n_links, backwards))
    sim = Simulation(3)
    network = Network(sim, graph)
    seen = []
    network.delivery_hooks.append(lambda request, record, rho: seen.append((request, record, rho)))
    src, dst = (names[-1], names[0]) if backwards else (names[0], names[-1])
    sim.env.run(until=network.submit(Request(src, dst, pairs=3, storage_time_s=1e-3)))
    assert len(seen) == 3
    for request, record, rho in seen:
        assert isinstance(rho, DensityMatrix) and rho.dims() == (2, 2)
        assert bell_fidelity(rho) == pytest.approx(record.fidelity, abs=1e-12)
        at_src = partial_trace(rho, [1]).probabilities()
        at_dst = partial_trace(rho, [0]).probabilities()
        assert at_src[0] > 0.75  # relaxed: 1/2 + (1 - e^-1)/2 = 0.82 after 1 ms
        assert at_dst[0] == pytest.approx(0.5, abs=1e-9)


def names_end(n_links: int, backwards: bool) -> str:
    """The request's source node: the chain's last node when the request runs backwards."""
    return f"n{n_links}" if backwards else "n0"


def test_hook_consumers_can_copy_the_state_as_an_array():
    sim, network, names = chain(2, source_fidelity=0.9)
    copies = []
    network.delivery_hooks.append(lambda request, record, rho: copies.append(np.array(rho, dtype=complex)))
    sim.env.run(until=network.submit(Request(names[0], names[-1], pairs=2)))
    w = (4 * 0.9 - 1) / 3
    for rho in copies:
        assert rho.shape == (4, 4) and np.trace(rho) == pytest.approx(1.0, abs=1e-12)
        assert bell_fidelity(rho) == pytest.approx(0.25 + 0.75 * w * w, abs=1e-9)


def test_a_link_pair_is_used_after_its_storage_time_at_the_age_the_physics_gives():
    sim, network, names = chain(1, source_fidelity=0.9, cutoff_s=2e-4)
    heralding_s = network.service(names[0], names[1]).link.heralding_time_s
    sim.env.run(until=network.submit(Request(names[0], names[1], pairs=5, storage_time_s=1e-4)))
    stats = network.stats[0]
    assert len(stats.records) == 5 and stats.cutoff_discards == 0
    for record in stats.records:
        assert record.oldest_age_s == pytest.approx(heralding_s + 1e-4, abs=1e-12)
        assert record.breakdown.storage_s == pytest.approx(1e-4, abs=1e-12)
        assert record.breakdown.total_s == pytest.approx(record.latency_from_request_s, abs=1e-12)


def test_extraction_losses_are_counted_and_retried():
    memory = Memory(t1_s=math.inf, t2_s=math.inf, capacity=2, read_efficiency=0.5)
    sim, network, names = chain(2, source_fidelity=0.9, memory=memory)
    sim.env.run(until=network.submit(Request(names[0], names[-1], pairs=200)))
    stats = network.stats[0]
    kept = len(stats.records) / (len(stats.records) + stats.extraction_failures)
    assert len(stats.records) == 200
    assert abs(kept - 0.25) < 4 * math.sqrt(0.25 * 0.75 / (200 + stats.extraction_failures))


# ---------------------------------------------------------------- latency that adds up
def _records_of(network):
    return [record for stats in network.stats for record in stats.records]


def _assert_parts_add_up(records):
    assert records
    for record in records:
        parts = record.breakdown
        assert parts.total_s == pytest.approx(record.latency_from_request_s, abs=1e-9)
        assert min(getattr(parts, name) for name in parts.__dataclass_fields__) >= -1e-12
        assert record.requested_s <= record.started_s <= record.generation_started_s <= record.delivered_s
        assert record.latency_s <= record.latency_from_request_s + 1e-12


@pytest.mark.parametrize("case", ["link_queue", "chain_cutoff", "chain_purified_link", "chain_purified_end_to_end"])
def test_breakdown_parts_add_up_to_the_time_from_the_request(case):
    from qstack.network import PurificationPolicy

    if case == "link_queue":  # three workers behind one interface: queueing behind earlier pairs
        sim, network, names = chain(1, capacity=3, emission_probability=0.2)
    elif case == "chain_cutoff":
        sim, network, names = chain(4, capacity=2, cutoff_s=2e-3)
    else:
        scope = "link" if case == "chain_purified_link" else "end_to_end"
        policy = PurificationPolicy(rounds=1, scope=scope)
        sim, network, names = chain(3, seed=5, source_fidelity=0.9, capacity=8, purification=policy)
    sim.env.run(until=network.submit(Request(names[0], names[-1], pairs=20)))
    records = _records_of(network)
    _assert_parts_add_up(records)
    if case == "link_queue":
        assert max(r.breakdown.queueing_s for r in records) > 0
    if case.startswith("chain_purified"):
        assert max(r.breakdown.purification_s for r in records) > 0
        assert max(r.breakdown.swapping_s for r in records) > 0


def test_breakdown_of_a_scheduled_star_adds_up_from_each_jobs_arrival():
    from qstack.runner import run_scenario
    from qstack.scenario import load_scenario

    scenario = load_scenario("scenarios/star_schedulers.toml", settings={"max_time_s": 5.0})
    report = run_scenario(scenario)
    _assert_parts_add_up(list(report.pairs))
    assert report.latency_from_request_s.mean >= report.latency_s.mean


def test_one_pair_at_a_time_generation_time_is_geometric_and_queueing_is_the_wait_behind_earlier_pairs():
    # One slot per end, ideal memories: pairs are made one after another by one worker.
    sim, network, names = chain(1, capacity=1, emission_probability=0.2)
    sim.env.run(until=network.submit(Request(names[0], names[1], pairs=2000)))
    service = network.service(names[0], names[1])
    p, t = service.success_probability, service.link.attempt_time_s  # an attempt: emission and heralding
    records = network.stats[0].records
    generation = np.array([r.latency_s for r in records])
    sigma = t * math.sqrt((1 - p) / p**2 / len(records))
    assert abs(generation.mean() - t / p) < 4 * sigma
    parts = records[0].breakdown
    assert parts.heralding_s == pytest.approx(service.link.heralding_time_s, rel=1e-12)
    for r in records:  # the last attempt's heralding ends the wait; the rest is emission attempts
        assert r.breakdown.emission_wait_s + r.breakdown.heralding_s == pytest.approx(r.attempts * t, rel=1e-9)
    # Queueing is exactly the time spent behind the request's earlier pairs.
    for previous, record in zip([None] + records[:-1], records):
        behind_s = 0.0 if previous is None else previous.delivered_s - record.requested_s
        assert record.breakdown.queueing_s == pytest.approx(behind_s, abs=1e-12)
        assert record.latency_from_request_s == pytest.approx(behind_s + record.latency_s, abs=1e-12)
