"""Link layer: geometric waiting times, storage decoherence, cut-offs, memory capacity."""

import math

import networkx as nx
import numpy as np
import pytest

from qstack.engine import Simulation
from qstack.hardware import Detector, Emitter, Fiber, Memory, NuclearSpinRegister
from qstack.network import Network, Request
from qstack.physical import HeraldedLink, NodeHardware
from qstack.physics import bell_fidelity


def _network(seed=1, scheme="double_click", length_km=10.0, memory=None, nuclear=None, multiplexing=1, cutoff_s=math.inf,
             emission_probability=0.1, memory_b=None, **flags):
    memory = memory or Memory(t1_s=math.inf, t2_s=math.inf, capacity=1)
    emitter = Emitter(emission_time_s=5e-6, emission_probability=emission_probability)
    node = NodeHardware(memory=memory, emitter=emitter, nuclear_spin=nuclear)
    node_b = NodeHardware(memory=memory_b or memory, emitter=emitter, nuclear_spin=nuclear)
    half = Fiber(length_km / 2)
    link = HeraldedLink(node, node_b, half, half, Detector(efficiency=0.9), scheme=scheme, multiplexing=multiplexing)
    graph = nx.Graph()
    graph.add_node("a", hardware=node)
    graph.add_node("b", hardware=node_b)
    graph.add_edge("a", "b", link=link)
    sim = Simulation(seed)
    return sim, Network(sim, graph, cutoff_s=cutoff_s, **flags)


def _serve(sim, network, request):
    process = network.submit(request)
    sim.env.run(until=process)
    return network.stats[-1]


def test_attempts_and_latency_follow_the_geometric_law():
    sim, network = _network(seed=3)
    stats = _serve(sim, network, Request("a", "b", pairs=3000))
    service = network.service("a", "b")
    p, t = service.success_probability, service.link.attempt_time_s
    attempts = np.array([r.attempts for r in stats.records])
    latency = np.array([r.latency_s for r in stats.records])
    n = len(attempts)
    sigma_attempts = math.sqrt((1 - p) / p**2 / n)
    assert abs(attempts.mean() - 1 / p) < 4 * sigma_attempts
    # One pair at a time (capacity 1): latency is k attempts, each of duration t.
    assert abs(latency.mean() - t / p) < 4 * t * sigma_attempts
    np.testing.assert_allclose(latency, attempts * t, rtol=1e-9)
    # Counted successes per attempt: binomial error over all attempts.
    sigma_p = math.sqrt(p * (1 - p) / attempts.sum())
    assert abs(service.measured_success_probability() - p) < 4 * sigma_p


@pytest.mark.parametrize("t1_s,t2_s,storage_s", [(2.0, 1.0, 0.5), (math.inf, 0.3, 0.2), (1.0, 1.5, 1.0)])
def test_stored_half_of_phi_plus_decays_as_t1_t2_closed_form(t1_s, t2_s, storage_s):
    ideal = Memory(t1_s=math.inf, t2_s=math.inf, capacity=1)
    sim, network = _network(memory=ideal, memory_b=Memory(t1_s=t1_s, t2_s=t2_s, capacity=1))
    stats = _serve(sim, network, Request("a", "b", pairs=5, storage_time_s=storage_s))
    # Node b's half decoheres from the emission: the herald's round trip, then storage.
    t = storage_s + network.service("a", "b").link.heralding_time_s
    expected = 0.25 + math.exp(-t / t1_s) / 4 + math.exp(-t / t2_s) / 2
    assert len(stats.records) == 5
    for record in stats.records:
        assert record.fidelity == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("t1_s,t2_s,storage_s", [(2.0, 1.0, 0.5), (1.0, 1.5, 1.0)])
def test_both_stored_halves_decay_as_closed_form(t1_s, t2_s, storage_s):
    memory = Memory(t1_s=t1_s, t2_s=t2_s, capacity=1)
    sim, network = _network(memory=memory)
    stats = _serve(sim, network, Request("a", "b", pairs=5, storage_time_s=storage_s))
    t = storage_s + network.service("a", "b").link.heralding_time_s
    # Amplitude damping gamma on both qubits; coherence e^{-t/T2} from each.
    gamma = 1 - math.exp(-t / t1_s)
    expected = 0.25 * (1 + gamma**2 + (1 - gamma) ** 2) + 0.5 * math.exp(-2 * t / t2_s)
    for record in stats.records:
        assert record.fidelity == pytest.approx(expected, abs=1e-9)


def test_cutoff_discards_pairs_stored_longer_than_the_cutoff():
    memory = Memory(t1_s=math.inf, t2_s=1.0, capacity=1)
    sim, network = _network(memory=memory, cutoff_s=0.05)
    # Held for the whole cut-off after a herald that already took time: always too old.
    network.submit(Request("a", "b", pairs=2, storage_time_s=0.05))
    sim.env.run(until=0.5)
    stats = network.stats[0]
    assert not stats.records
    assert stats.cutoff_discards > 0
    # Every discarded pair gave its slots back and its qubits left the registry.
    assert network.banks["a"].storage_count and network.banks["a"].max_storage_s <= 0.05 + 1e-12
    assert sim.registry.live_qubits <= 2


def test_a_request_held_longer_than_the_cutoff_is_refused():
    memory = Memory(t1_s=math.inf, t2_s=1.0, capacity=1)
    sim, network = _network(memory=memory, cutoff_s=0.05)
    with pytest.raises(ValueError, match="exceeds the cut-off"):
        network.submit(Request("a", "b", pairs=2, storage_time_s=0.1))


def test_delivered_pairs_are_never_older_than_the_cutoff():
    memory = Memory(t1_s=math.inf, t2_s=1.0, capacity=1)
    sim, network = _network(memory=memory, cutoff_s=0.05)
    stats = _serve(sim, network, Request("a", "b", pairs=20, storage_time_s=0.04))
    assert len(stats.records) == 20
    assert all(r.breakdown.storage_s <= 0.05 for r in stats.records)
    assert all(r.oldest_age_s < 0.05 for r in stats.records)


def test_capacity_is_respected_and_multiplexing_needs_slots():
    memory = Memory(t1_s=math.inf, t2_s=math.inf, capacity=3)
    sim, network = _network(memory=memory, multiplexing=1)
    _serve(sim, network, Request("a", "b", pairs=30, storage_time_s=0.01))
    assert network.banks["a"].max_used <= 3
    assert network.banks["a"].max_used == 3  # storage time is long compared with generation here
    with pytest.raises(ValueError, match="multiplexing"):
        _network(memory=memory, multiplexing=4)


def test_multiplexing_shortens_the_wait():
    memory = Memory(t1_s=math.inf, t2_s=math.inf, capacity=8)
    sim1, net1 = _network(memory=memory, multiplexing=1, seed=5)
    sim8, net8 = _network(memory=memory, multiplexing=8, seed=5)
    a1 = np.mean([r.attempts for r in _serve(sim1, net1, Request("a", "b", pairs=400)).records])
    a8 = np.mean([r.attempts for r in _serve(sim8, net8, Request("a", "b", pairs=400)).records])
    p1 = net1.service("a", "b").success_probability
    p8 = net8.service("a", "b").success_probability
    assert p8 == pytest.approx(1 - (1 - p1) ** 8, rel=1e-12)
    assert a8 < a1 / 4


def test_attempts_dephase_stored_nuclear_spins():
    memory = Memory(t1_s=math.inf, t2_s=math.inf, capacity=1)
    strong = NuclearSpinRegister(coupling_hz=5e5, reset_time_constant_s=1e-6, t1_s=math.inf, t2_s=1e6, capacity=2)
    weak = NuclearSpinRegister(coupling_hz=50.0, reset_time_constant_s=1e-6, t1_s=math.inf, t2_s=1e6, capacity=2)
    results = {}
    for name, register in (("strong", strong), ("weak", weak)):
        sim, network = _network(memory=memory, nuclear=register, seed=2, emission_probability=0.02)
        stats = _serve(sim, network, Request("a", "b", pairs=40, storage_time_s=2e-2))
        results[name] = np.mean([r.fidelity for r in stats.records])
    assert results["strong"] < results["weak"] - 0.01


def test_same_seed_same_records_and_different_seed_differs():
    def run(seed):
        sim, network = _network(seed=seed)
        return [(r.attempts, r.delivered_s) for r in _serve(sim, network, Request("a", "b", pairs=50)).records]

    assert run(9) == run(9)
    assert run(9) != run(10)


def test_idealized_baseline_generates_every_attempt_and_never_decoheres():
    memory = Memory(t1_s=1.0, t2_s=0.5, capacity=1)
    sim, network = _network(memory=memory, decoherence=False, probabilistic=False)
    stats = _serve(sim, network, Request("a", "b", pairs=10, storage_time_s=1.0))
    assert all(r.attempts == 1 for r in stats.records)
    assert all(r.fidelity == pytest.approx(1.0, abs=1e-12) for r in stats.records)


def test_fast_and_aer_engines_agree_on_the_link_layer_circuits():
    from qiskit.quantum_info import random_density_matrix

    from qstack.engine import StateRegistry
    from qstack.link.dephasing import attempt_dephasing as _attempt_dephasing

    register = NuclearSpinRegister(coupling_hz=5e5, reset_time_constant_s=1e-6, t1_s=math.inf, t2_s=1.0, capacity=2)
    memory = Memory(t1_s=1.0, t2_s=1.0, two_qubit_gate_fidelity=0.97)
    operations = [
        NodeHardware(memory=memory, nuclear_spin=register).storage.move_operation(),
        _attempt_dephasing(register, 37, 0.1),
    ]
    for k, operation in enumerate(operations):
        n = operation.num_qubits
        rho = random_density_matrix(2 ** (n + 1), seed=k)
        names = [f"q{i}" for i in range(n + 1)]
        aer = StateRegistry(np.random.default_rng(k), engine="aer")
        qa = aer.new_qubits(names, rho=rho)
        aer.apply(operation, qa[:n])
        fast = StateRegistry(np.random.default_rng(k))
        qf = fast.new_qubits(names, rho=rho)
        fast.apply(operation, qf[:n])
        kept = [i for i in range(n + 1) if i not in operation.discard]
        np.testing.assert_allclose(
            fast.density_matrix([qf[i] for i in kept]), aer.density_matrix([qa[i] for i in kept]), atol=1e-9
        )


def _nv_like_service(electron_t2_s, nuclear_t2_s, seed=4):
    """An NV-like link: electrons with T2 only, nuclear spins without per-attempt dephasing
    (no reset-time spread) and ideal gates, a noisy midpoint source (one heralded state)."""
    from qstack.hardware import PairSource
    from qstack.link import LinkService, MemoryBank

    memory = Memory(t1_s=math.inf, t2_s=electron_t2_s, capacity=1)
    register = NuclearSpinRegister(coupling_hz=80.0, reset_time_constant_s=0.0, t1_s=math.inf, t2_s=nuclear_t2_s, capacity=2)
    node = NodeHardware(memory=memory, nuclear_spin=register)
    source = PairSource(pair_probability=0.2, repetition_rate_hz=1e6, emitted_state_fidelity=0.9)
    link = HeraldedLink(node, node, Fiber(20.0), Fiber(20.0), Detector(), scheme="midpoint_source", pair_source=source)
    sim = Simulation(seed)
    service = LinkService(sim, link, MemoryBank(sim.env, node, "a"), MemoryBank(sim.env, node, "b"))
    return sim, service


@pytest.mark.parametrize("electron_t2_s,nuclear_t2_s,wait_s", [(0.05, math.inf, 0.0), (0.02, math.inf, 0.4), (0.05, 0.5, 0.3)])
def test_heralded_electrons_dephase_until_the_move_and_nuclear_spins_after_it(electron_t2_s, nuclear_t2_s, wait_s):
    sim, service = _nv_like_service(electron_t2_s, nuclear_t2_s)
    link = service.link
    (heralded,) = link.heralded_states
    process = sim.env.process(service.generate())
    sim.env.run(until=process)
    pair = process.value
    stored_s = sim.env.now
    if wait_s:
        sim.env.run(until=stored_s + wait_s)
    rho = sim.registry.density_matrix(list(pair.qubits))
    # From the absorption of its photon (20 km after the source) to the end of the move each
    # electron holds its half: the absorption messages over both arms (2 x 20 km) and three
    # electron-nuclear gates. Dephasing both qubits shrinks <00|rho|11> by c_a c_b.
    flight_s = Fiber(20.0).delay_s
    electron_s = 2 * flight_s + 3 * link.end_a.nuclear_spin.gate_time_s
    emitted_s = pair.started_s + (pair.attempts - 1) * link.attempt_time_s + link.emission_time_s
    assert stored_s - emitted_s == pytest.approx(flight_s + electron_s)
    shrink = math.exp(-2 * electron_s / electron_t2_s) * math.exp(-2 * wait_s / nuclear_t2_s)
    r = heralded.rho
    expected = (r[0, 0].real + r[3, 3].real) / 2 + r[0, 3].real * shrink
    assert bell_fidelity(rho) == pytest.approx(expected, abs=1e-9)
    # The planner's stored state is the pair as the move leaves it.
    stored = service.stored_state(r)
    expected_stored = (r[0, 0].real + r[3, 3].real) / 2 + r[0, 3].real * math.exp(-2 * electron_s / electron_t2_s)
    assert bell_fidelity(stored) == pytest.approx(expected_stored, abs=1e-9)


def test_the_electrons_own_t2_lowers_the_stored_fidelity():
    fidelities = []
    for electron_t2_s in (math.inf, 1.0, 0.01):
        sim, service = _nv_like_service(electron_t2_s, math.inf)
        process = sim.env.process(service.generate())
        sim.env.run(until=process)
        fidelities.append(bell_fidelity(sim.registry.density_matrix(list(process.value.qubits))))
    assert fidelities[0] > fidelities[1] > fidelities[2]
    assert fidelities[0] == pytest.approx(0.9, abs=1e-9)  # the source's pairs, carried over unchanged


# --------------------------------------------------------------------------- when each qubit exists
def _midpoint_service(arm_a_km, arm_b_km, t2_s, source_fidelity, seed=5):
    """A midpoint-source link with arms of the given lengths, memories with T2 only (T1 = inf)
    and ideal otherwise: lossless absorption, no interface, no nuclear spins."""
    from qstack.hardware import PairSource
    from qstack.link import LinkService, MemoryBank

    node = NodeHardware(memory=Memory(t1_s=math.inf, t2_s=t2_s, capacity=1))
    source = PairSource(pair_probability=0.3, repetition_rate_hz=2e6, emitted_state_fidelity=source_fidelity)
    link = HeraldedLink(node, node, Fiber(arm_a_km), Fiber(arm_b_km), Detector(), scheme="midpoint_source", pair_source=source)
    sim = Simulation(seed)
    return sim, LinkService(sim, link, MemoryBank(sim.env, node, "a"), MemoryBank(sim.env, node, "b"))


@pytest.mark.parametrize("arm_a_km, arm_b_km, t2_s, source_fidelity", [
    (18.5, 18.5, 3e-3, 1.0),      # a 37 km link, equal arms, a perfect source
    (18.5, 18.5, 7e-4, 0.88),     # a Werner source
    (7.0, 19.0, 2e-3, 0.93),      # unequal arms: each memory from its own photon's absorption
])
def test_midpoint_source_memories_dephase_from_the_absorption_of_their_photon(arm_a_km, arm_b_km, t2_s, source_fidelity):
    sim, service = _midpoint_service(arm_a_km, arm_b_km, t2_s, source_fidelity)
    process = sim.env.process(service.generate())
    sim.env.run(until=process)
    pair = process.value
    # Timeline of the successful attempt: the source emits at e, photon a is absorbed at e + t_a,
    # photon b at e + t_b; each node tells the other (t_a + t_b), so the herald comes at
    # e + max(t_a, t_b) + t_a + t_b. Memory x holds its qubit from its absorption to the herald.
    t_a, t_b = Fiber(arm_a_km).delay_s, Fiber(arm_b_km).delay_s
    emitted_s = pair.started_s + (pair.attempts - 1) * service.link.attempt_time_s + service.link.emission_time_s
    herald_s = emitted_s + max(t_a, t_b) + t_a + t_b
    assert pair.heralded_s == pytest.approx(herald_s, rel=1e-12)
    held_s = (herald_s - (emitted_s + t_a), herald_s - (emitted_s + t_b))
    assert service.link.qubit_times_before_herald_s == pytest.approx(held_s, rel=1e-12)
    # The source's Werner pair, w = (4F - 1)/3; pure dephasing scales its coherence <00|rho|11>
    # = w/2 by exp(-(held_a + held_b)/T2): F' = (1 - w)/4 + w/2 + (w/2) exp(-(held_a + held_b)/T2).
    w = (4 * source_fidelity - 1) / 3
    coherence = math.exp(-(held_s[0] + held_s[1]) / t2_s)
    expected = (1 - w) / 4 + w / 2 + w / 2 * coherence
    assert bell_fidelity(sim.registry.density_matrix(list(pair.qubits))) == pytest.approx(expected, abs=1e-9)
    # Charged from the emission instead, each memory would have lost max(t_a, t_b) more.
    from_emission = (1 - w) / 4 + w / 2 + w / 2 * math.exp(-2 * (max(t_a, t_b) + t_a + t_b) / t2_s)
    assert expected - from_emission > 1e-3


def test_emitter_scheme_qubits_exist_from_the_emission():
    sim, network = _network(scheme="single_click", length_km=23.0)
    link = network.service("a", "b").link
    assert link.qubit_times_before_herald_s == (link.heralding_time_s, link.heralding_time_s)
    assert link.heralding_time_s == pytest.approx(2 * Fiber(11.5).delay_s, rel=1e-12)


# --------------------------------------------------------------------------- stored-spin dephasing
@pytest.mark.parametrize("stored_s, expected", [
    (0.0, 7),            # stored before the generation: every attempt
    (1.0, 7),            # at its start
    (1.0 + 3 * 0.25, 4),  # at an attempt's start (rounding aside): that attempt counts
    (1.0 + 3 * 0.25 + 1e-6, 3),
    (1.0 + 7 * 0.25 - 1e-6, 0),  # after the last attempt began
])
def test_attempts_while_stored_counts_the_attempts_begun_at_or_after_the_storing(stored_s, expected):
    from qstack.link import attempts_while_stored

    assert attempts_while_stored(1.0, 7, 0.25, stored_s) == expected


def _middle_node_services(seed, delay_b_s):
    """Nodes a - m - b; m stores in nuclear spins that each electron attempt dephases strongly.

    Link a-m: an ideal midpoint source that heralds |Phi+> on its first attempt (a moves it into
    a nuclear spin at m). Link m-b: single click with bright-state population 0.3 and a low
    success probability, started ``delay_b_s`` before (or after, negative) link a-m. Electrons,
    nuclear spins and gates are otherwise ideal (T1 = T2 = inf, gate fidelity 1).
    """
    from qstack.hardware import PairSource
    from qstack.link import LinkService, MemoryBank

    memory = Memory(t1_s=math.inf, t2_s=math.inf, capacity=2)
    register = NuclearSpinRegister(coupling_hz=200.0, reset_time_constant_s=5e-5, t1_s=math.inf, t2_s=math.inf, capacity=2)
    # Two communication qubits at m, so that link m-b can attempt before a-m's spin is stored.
    middle = NodeHardware(memory=Memory(t1_s=math.inf, t2_s=math.inf, capacity=2, communication_qubits=2),
                          nuclear_spin=register,
                          emitter=Emitter(emission_time_s=4e-6, emission_probability=0.004))
    end_a = NodeHardware(memory=memory)
    end_b = NodeHardware(memory=memory, emitter=Emitter(emission_time_s=4e-6, emission_probability=0.004))
    source = PairSource(pair_probability=1.0, repetition_rate_hz=1e6)
    link_am = HeraldedLink(end_a, middle, Fiber(0.5), Fiber(0.5), Detector(), scheme="midpoint_source", pair_source=source)
    link_mb = HeraldedLink(middle, end_b, Fiber(1.5), Fiber(1.5), Detector(efficiency=0.5), scheme="single_click",
                           bright_state_population=0.3)
    sim = Simulation(seed)
    banks = {name: MemoryBank(sim.env, node, name) for name, node in (("a", end_a), ("m", middle), ("b", end_b))}
    am = LinkService(sim, link_am, banks["a"], banks["m"], probabilistic=False)
    mb = LinkService(sim, link_mb, banks["m"], banks["b"])
    return sim, am, mb, register


@pytest.mark.parametrize("seed, delay_b_s", [(1, 0.004), (5, 0.011), (9, -0.009)])
def test_a_stored_nuclear_spin_dephases_only_for_the_attempts_made_while_it_is_stored(seed, delay_b_s):
    sim, am, mb, register = _middle_node_services(seed, delay_b_s)
    env = sim.env
    processes = {}

    def start(name, service, at_s):
        yield env.timeout(at_s)
        processes[name] = env.process(service.generate())
        yield processes[name]

    first = max(delay_b_s, 0.0)
    env.process(start("am", am, first))
    env.process(start("mb", mb, first - delay_b_s))
    env.run()
    stored, herald = processes["am"].value, processes["mb"].value
    stored_s = stored.heralded_s  # the pair's nuclear spin at m is in place (after the move)
    t = mb.link.attempt_time_s
    herald_s = herald.started_s + herald.attempts * t  # link m-b's herald, before its own move
    assert stored_s < herald_s  # the spin was stored while link m-b attempted
    # Link m-b's attempts begin at started + j t; count those begun while the spin was stored.
    during = sum(1 for j in range(herald.attempts) if herald.started_s + j * t >= stored_s)
    assert 0 < during <= herald.attempts
    if herald.started_s < stored_s:
        assert during < herald.attempts  # some attempts came before the storing
    # Per attempt, a phase flip with p = (alpha/2)(1 - exp(-(2 pi coupling tau)^2/2)); n of them
    # compose to (1 - (1 - 2p)^n)/2, and a phase flip on one half of |Phi+> lowers F by it.
    alpha, phase = 0.3, 2 * math.pi * 200.0 * 5e-5
    p = alpha / 2 * (1 - math.exp(-phase**2 / 2))
    flip = (1 - (1 - 2 * p) ** during) / 2
    fidelity = bell_fidelity(sim.registry.density_matrix(list(stored.qubits)))
    assert fidelity == pytest.approx(1 - flip, abs=1e-9)
    assert flip > 0.01  # large enough that a wrong count would show


def _contended_generations(seed, driven, moves, rounds=15):
    """Nodes a - m - b, m with one communication qubit (the two links queue for it), with
    ``moves`` a nuclear-spin register at every node (each herald is followed by a move). Each round asks
    link a-m for a pair through a :meth:`LinkService.generate` process or through
    :meth:`LinkService.start` (``driven``), then, in the same step, link m-b through
    :meth:`LinkService.try_start` when it can start at once (it then takes m's qubit first, as
    a process would let it) and like a-m otherwise. Returns every pair's times, attempts and
    state, and the generator's next number (the draws made)."""
    from qstack.hardware import PairSource
    from qstack.link import LinkService, MemoryBank

    memory = Memory(t1_s=math.inf, t2_s=0.05, capacity=2)
    register = NuclearSpinRegister(coupling_hz=200.0, reset_time_constant_s=5e-5, t1_s=math.inf, t2_s=0.5, capacity=2)
    node = NodeHardware(memory=memory, nuclear_spin=register if moves else None,
                        emitter=Emitter(emission_time_s=4e-6, emission_probability=0.05))
    link = HeraldedLink(node, node, Fiber(1.0), Fiber(1.0), Detector(efficiency=0.8), scheme="single_click",
                        bright_state_population=0.2)
    source = PairSource(pair_probability=0.3, repetition_rate_hz=1e6, emitted_state_fidelity=0.95)
    midpoint = HeraldedLink(node, node, Fiber(2.0), Fiber(2.0), Detector(), scheme="midpoint_source", pair_source=source)
    sim = Simulation(seed)
    banks = {name: MemoryBank(sim.env, node, name) for name in "amb"}
    services = (LinkService(sim, link, banks["a"], banks["m"]), LinkService(sim, midpoint, banks["m"], banks["b"]))
    assert (services[0]._move_time_s > 0) == moves
    seen = []

    def run():
        for _ in range(rounds):
            waits = []
            for service in services:
                attempt = service.try_start() if waits else None
                if attempt is not None:
                    done = sim.env.event()
                    sim.env.timeout(attempt.duration_s).callbacks.append(
                        lambda _e, service=service, attempt=attempt, done=done: done.succeed(service.finish(attempt)))
                    waits.append(done)
                elif driven:
                    done = sim.env.event()
                    service.start(done.succeed)
                    waits.append(done)
                else:
                    waits.append(sim.env.process(service.generate()))
            yield sim.env.all_of(waits)
            for service, wait in zip(services, waits):
                pair = wait.value
                rho = sim.registry.density_matrix(list(pair.qubits))
                seen.append((pair.link, pair.started_s, pair.heralded_s, pair.attempts, pair.queued_s, rho.tobytes()))
                service.release(pair)

    sim.env.run(until=sim.env.process(run()))
    return seen, sim.rng.random()


@pytest.mark.parametrize("seed, moves", [(1, True), (2, True), (1, False), (2, False)])
def test_a_generation_started_without_a_process_gives_the_same_pairs_and_draws_as_generate(seed, moves):
    """:meth:`LinkService.start` runs the steps of :meth:`LinkService.generate` from the events
    it waits for: with both links of a middle node queueing for its one communication qubit,
    every pair (times, attempts, queueing, state bit for bit) and the draws are the same."""
    by_process, next_process = _contended_generations(seed, False, moves)
    driven, next_driven = _contended_generations(seed, True, moves)
    assert any(pair[4] > 0 for pair in by_process)  # some generations queued
    assert driven == by_process
    assert next_driven == next_process
