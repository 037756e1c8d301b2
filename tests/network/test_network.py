"""The network facade: construction errors, devices, request checks, per-path timing."""

import math

import pytest

from qstack.network import Network, Request
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
