"""All-photonic one-way chains: tree-encoded photons through memory-less stations."""

import math

import networkx as nx
import pytest

from qstack.all_photonic import AllPhotonicChain
from qstack.engine import Simulation
from qstack.hardware import Detector, Emitter, Fiber, FreeSpace, Memory, Transducer, TreeCode
from qstack.metrics import bell_fidelity
from qstack.network import Network, Request
from qstack.physical import NodeHardware

SOURCE = Emitter(emission_time_s=1e-9, collection_efficiency=0.95, emitted_state_fidelity=0.999)
DETECTOR = Detector(efficiency=0.98)
NODE = NodeHardware(memory=Memory(t1_s=math.inf, t2_s=math.inf, capacity=4), emitter=SOURCE)


def _chain(length_km=40.0, branching=(2, 3, 2), stations=9, node=NODE, channel=None, **kw):
    return AllPhotonicChain(node, node, channel or Fiber(length_km), DETECTOR, TreeCode(branching), stations=stations,
                            station_emitter=SOURCE, **kw)


def _run(chain, pairs, seed=5):
    graph = nx.Graph()
    graph.add_node("a", hardware=chain.end_a)
    graph.add_node("b", hardware=chain.end_b)
    graph.add_edge("a", "b", link=chain, length_km=chain.channel.length_km)
    sim = Simulation(seed)
    network = Network(sim, graph)
    sim.env.run(network.submit(Request("a", "b", pairs=pairs)))
    return network


def test_success_is_the_product_of_the_hops_logical_transmissions():
    chain = _chain()
    eta = 0.95 * 10 ** (-0.02 * 4.0) * 0.98  # 10 hops of 4 km
    assert chain.hop_transmission(3) == pytest.approx(eta, rel=1e-12)
    assert chain.success_probability == pytest.approx(TreeCode((2, 3, 2)).logical_transmission(eta) ** 10, rel=1e-12)
    assert chain.photons_per_qubit == 2 + 6 + 12


def test_bare_photon_without_stations_is_direct_transmission():
    chain = _chain(length_km=25.0, branching=(), stations=0)
    assert chain.success_probability == pytest.approx(0.95 * 10 ** (-0.02 * 25.0) * 0.98, rel=1e-12)
    assert chain.photons_per_qubit == 1


def test_interfaces_at_the_ends_scale_the_first_and_last_hops():
    converted = NodeHardware(memory=NODE.memory, emitter=SOURCE, interface=Transducer(efficiency=0.8))
    chain = _chain(node=converted, branching=(), stations=3)
    plain = _chain(branching=(), stations=3)
    assert chain.success_probability == pytest.approx(0.8 * 0.8 * plain.success_probability, rel=1e-12)
    assert chain.interface_efficiencies == (0.8, 0.8)


def test_generation_time_and_attempt_time_grow_with_the_photon_count():
    small, big = _chain(branching=(2, 2)), _chain(branching=(3, 6, 3))
    assert small.emission_time_s == pytest.approx(6 * 1e-9)
    assert big.emission_time_s == pytest.approx(75 * 1e-9)
    assert big.attempt_time_s - small.attempt_time_s == pytest.approx(69e-9, rel=1e-9)
    assert small.heralding_time_s == pytest.approx(2 * Fiber(40.0).delay_s)


def test_free_space_chain_heralds_sooner_than_fibre():
    fibre = _chain(channel=Fiber(40.0))
    air = _chain(channel=FreeSpace(40.0))
    assert air.heralding_time_s < fibre.heralding_time_s
    assert air.channel_kind == "free_space"


def test_simulated_run_matches_the_chain_success_and_fidelity():
    chain = _chain()
    network = _run(chain, pairs=400)
    service = network.services[0]
    measured = service.successes / service.attempts
    p = chain.success_probability
    sigma = math.sqrt(p * (1 - p) / service.attempts)
    assert measured == pytest.approx(p, abs=4 * sigma)
    # each end's and each station's depolarizing error multiplies the Werner parameter by 1 - p_dep
    w = (1 - 4 * (1 - 0.999) / 3) ** (9 + 2)
    fidelities = [r.fidelity for r in network.stats[0].records]
    assert min(fidelities) == pytest.approx(0.25 + 0.75 * w, abs=1e-9)
    assert bell_fidelity(chain.heralded_states[0].rho) == pytest.approx(0.25 + 0.75 * w, abs=1e-12)


def test_tree_encoded_chain_beats_the_plob_bound_per_channel_use_at_150_km():
    chain = _chain(length_km=150.0, branching=(3, 6, 3), stations=149)
    network = _run(chain, pairs=200, seed=9)
    service = network.services[0]
    per_use = service.successes / (service.attempts * chain.channel_uses_per_attempt)
    plob = -math.log2(1 - Fiber(150.0).transmissivity)
    assert per_use > 3 * plob
    bare = _chain(length_km=150.0, branching=(), stations=149)
    assert bare.success_probability < 1e-6  # without the code, 150 hops lose everything


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="link.stations"):
        _chain(stations=-1)
    with pytest.raises(ValueError, match="link.multiplexing"):
        _chain(multiplexing=0)
    with pytest.raises(ValueError, match="emitter"):
        _chain(node=NodeHardware(memory=NODE.memory))
