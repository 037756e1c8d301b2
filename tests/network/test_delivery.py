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
        assert record.breakdown.total_s == pytest.approx(record.latency_s, abs=1e-12)


def test_extraction_losses_are_counted_and_retried():
    memory = Memory(t1_s=math.inf, t2_s=math.inf, capacity=2, read_efficiency=0.5)
    sim, network, names = chain(2, source_fidelity=0.9, memory=memory)
    sim.env.run(until=network.submit(Request(names[0], names[-1], pairs=200)))
    stats = network.stats[0]
    kept = len(stats.records) / (len(stats.records) + stats.extraction_failures)
    assert len(stats.records) == 200
    assert abs(kept - 0.25) < 4 * math.sqrt(0.25 * 0.75 / (200 + stats.extraction_failures))
