"""A node's communication qubits are shared by all its links (issue 12, item 1)."""

import math

import numpy as np
import pytest

from qstack.engine import Simulation
from qstack.hardware import Memory
from qstack.link import LinkService, MemoryBank
from qstack.physical import HeraldedState, NodeHardware
from qstack.physics import PHI_PLUS


class _GeometricLink:
    """A link of per-attempt success ``p`` and attempts of 1 s that heralds |Phi+> at once
    (no emission or heralding delay): attempt rounds are seconds."""

    multiplexing = 1
    attempt_time_s = 1.0
    emission_time_s = 0.0
    heralding_time_s = 0.0
    bright_state_population = 0.0
    qubit_times_before_herald_s = (0.0, 0.0)

    def __init__(self, p: float):
        self.success_probability = self.success_probability_per_mode = p
        self._state = HeraldedState(1.0, PHI_PLUS, "phi+")

    def sample_heralded_state(self, rng):
        return self._state


def _node(communication_qubits: int = 1) -> NodeHardware:
    return NodeHardware(memory=Memory(t1_s=math.inf, t2_s=math.inf, capacity=2,
                                      communication_qubits=communication_qubits))


def _rounds_per_pair(p: float, middle_qubits: int, pairs: int, seed: int) -> np.ndarray:
    """Attempt rounds until both links a-m and m-b hold a pair, both asked for at once."""
    sim = Simulation(seed)
    banks = {name: MemoryBank(sim.env, _node(q), name) for name, q in (("a", 1), ("m", middle_qubits), ("b", 1))}
    services = (LinkService(sim, _GeometricLink(p), banks["a"], banks["m"]),
                LinkService(sim, _GeometricLink(p), banks["m"], banks["b"]))
    rounds = np.empty(pairs)

    def run():
        for i in range(pairs):
            start = sim.env.now
            processes = [sim.env.process(service.generate()) for service in services]
            yield sim.env.all_of(processes)
            rounds[i] = sim.env.now - start
            for service, process in zip(services, processes):
                service.release(process.value)

    sim.env.run(until=sim.env.process(run()))
    return rounds


@pytest.mark.parametrize("p, qubits, expected", [
    (0.35, 1, lambda p: 2 / p),                           # sum of two geometric waits
    (0.35, 2, lambda p: (3 - 2 * p) / (p * (2 - p))),     # maximum of two
    (0.08, 1, lambda p: 2 / p),
    (0.08, 3, lambda p: (3 - 2 * p) / (p * (2 - p))),
])
def test_a_middle_node_serves_its_links_one_at_a_time_per_communication_qubit(p, qubits, expected):
    rounds = _rounds_per_pair(p, qubits, pairs=3000, seed=17)
    sigma = rounds.std(ddof=1) / math.sqrt(len(rounds))
    assert abs(rounds.mean() - expected(p)) < 4 * sigma
    # The two laws differ by far more than the error: the test tells them apart.
    assert abs(2 / p - (3 - 2 * p) / (p * (2 - p))) > 8 * sigma


def test_utilisation_counts_the_busy_time_of_the_communication_qubits():
    p = 0.2
    sim = Simulation(3)
    banks = {name: MemoryBank(sim.env, _node(q), name) for name, q in (("a", 1), ("m", 2), ("b", 1))}
    services = (LinkService(sim, _GeometricLink(p), banks["a"], banks["m"]),
                LinkService(sim, _GeometricLink(p), banks["m"], banks["b"]))
    processes = [sim.env.process(service.generate()) for service in services]
    sim.env.run(until=sim.env.all_of(processes))
    end_s = sim.env.now
    busy = [process.value.heralded_s - process.value.started_s for process in processes]
    assert banks["m"].communication_qubits == 2
    assert banks["m"].communication_utilisation() == pytest.approx(sum(busy) / (2 * end_s))
    assert banks["a"].communication_utilisation() == pytest.approx(busy[0] / end_s)
    sim.env.run(until=2 * end_s)  # idle afterwards: the fraction halves
    assert banks["a"].communication_utilisation() == pytest.approx(busy[0] / (2 * end_s))
    assert all(0 < bank.communication_utilisation() <= 1 for bank in banks.values())


def test_try_start_only_when_the_communication_qubits_at_both_ends_are_free():
    sim = Simulation(2)
    banks = {name: MemoryBank(sim.env, _node(), name) for name in "amb"}
    am = LinkService(sim, _GeometricLink(0.5), banks["a"], banks["m"])
    mb = LinkService(sim, _GeometricLink(0.5), banks["m"], banks["b"])
    attempt = am.try_start()
    assert attempt is not None
    assert mb.try_start() is None  # m's one communication qubit is busy with a-m
    assert banks["b"].communication.level == 1 and banks["b"].slots.level == 2  # nothing taken
    sim.env.run(until=attempt.duration_s)
    am.finish(attempt)
    assert banks["m"].communication.level == 1
    assert mb.try_start() is not None


def test_the_field_is_validated_and_defaults_to_one():
    assert Memory(t1_s=1.0, t2_s=1.0).communication_qubits == 1
    assert _node(4).communication_qubits == 4
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="communication_qubits"):
            Memory(t1_s=1.0, t2_s=1.0, communication_qubits=bad)


def _nv_chain(communication_qubits: int | None = None):
    """The bundled default's NV hardware on a 3-node chain, one request n0 -> n2 of 4 pairs."""
    from qstack.data import tomllib

    from qstack.build import build_network
    from qstack.network import Request
    from qstack.scenario import load_scenario
    from qstack.scenario.load import default_scenario_text

    raw = tomllib.loads(default_scenario_text())
    raw["network"]["nodes"] = 3
    raw["requests"] = [{"src": "n0", "dst": "n2", "pairs": 4}]
    if communication_qubits is not None:
        raw["hardware"]["overrides"]["node.memory.communication_qubits"] = communication_qubits
    scenario = load_scenario(raw)
    sim = Simulation(scenario.seed)
    network = build_network(scenario, sim)
    for service in network.services:
        service.attempt_intervals = []
    sim.env.run(until=network.submit(Request("n0", "n2", pairs=4)))
    return sim, network


def test_the_middle_nv_node_attempts_on_one_link_at_a_time_and_not_while_it_moves():
    sim, network = _nv_chain()
    middle = network.banks["n1"]
    assert middle.communication_qubits == 1  # the preset's one electron spin
    move_s = middle.node.storage.move_time_s
    assert move_s > 0.018  # three 6.25 ms electron-nuclear gates
    intervals = sorted((start, end, service.name) for service in network.services for start, end in service.attempt_intervals)
    assert {name for *_, name in intervals} == {"n0-n1", "n1-n2"}
    assert len(intervals) >= 8
    for (_, end, _), (start, _, _) in zip(intervals, intervals[1:]):
        assert start >= end + move_s - 1e-12  # the next attempt waits for the herald and the move
    assert 0 < middle.communication_utilisation() <= 1
    assert middle.communication_utilisation() > network.banks["n0"].communication_utilisation() * 0.99


def test_two_communication_qubits_let_the_middle_nv_node_attempt_on_both_links_at_once():
    sim, network = _nv_chain(communication_qubits=2)
    assert network.banks["n1"].communication_qubits == 2
    first, second = (service.attempt_intervals for service in network.services)
    overlapping = [(a, b) for a in first for b in second if a[0] < b[1] and b[0] < a[1]]
    assert overlapping


def test_one_link_runs_one_generation_at_a_time_whatever_the_communication_qubits():
    sim = Simulation(2)
    a, b = (MemoryBank(sim.env, _node(2), name) for name in "ab")
    service = LinkService(sim, _GeometricLink(0.5), a, b)
    assert service.try_start() is not None
    assert service.try_start() is None  # the link's interface is busy, not the qubits
    assert a.communication.level == b.communication.level == 1


def _record_operations(monkeypatch, module):
    """Wrap ``module.operate`` so every local operation is noted: (start, {node: duration})."""
    import qstack.link

    operations = []

    def operate(env, durations_s):
        operations.append((env.now, {bank.name: duration for bank, duration in durations_s.items()}))
        yield from qstack.link.operate(env, durations_s)

    monkeypatch.setattr(module, "operate", operate)
    return operations


def test_a_swap_holds_the_middle_node_communication_qubit(monkeypatch):
    import qstack.network.path

    swaps = _record_operations(monkeypatch, qstack.network.path)
    sim, network = _nv_chain()
    middle = network.banks["n1"]
    swap_s = network.swap_time_s("n1")
    assert swap_s > 1e-4 and len(swaps) == network.swaps >= 4
    assert all(durations == {"n1": swap_s} for _, durations in swaps)
    move_s = middle.node.storage.move_time_s
    busy = [(start, end + move_s) for service in network.services for start, end in service.attempt_intervals]
    busy += [(start, start + swap_s) for start, _ in swaps]
    busy.sort()
    for (_, end), (start, _) in zip(busy, busy[1:]):
        assert start >= end - 1e-12  # one electron: attempts, moves and swaps never overlap
    # Exactly the attempts, the moves and the swaps held it, and nothing else.
    assert middle.communication.busy_s() == pytest.approx(sum(end - start for start, end in busy), rel=1e-12)


def test_purification_rounds_hold_a_communication_qubit_at_both_nodes(monkeypatch):
    from qstack.data import tomllib

    import qstack.network.purification
    from qstack.build import build_network
    from qstack.network import Request
    from qstack.scenario import load_scenario
    from qstack.scenario.load import default_scenario_text

    rounds = _record_operations(monkeypatch, qstack.network.purification)
    raw = tomllib.loads(default_scenario_text())
    raw["purification"] = {"scope": "link", "rounds": 1}
    scenario = load_scenario(raw)
    sim = Simulation(scenario.seed)
    network = build_network(scenario, sim)
    (service,) = network.services
    service.attempt_intervals = []
    sim.env.run(until=network.submit(Request("n0", "n1", pairs=3)))
    gate_s = {node: network.swap_time_s(node) for node in ("n0", "n1")}
    assert len(rounds) == network.purifications >= 3
    assert all(durations == gate_s for _, durations in rounds)
    move_s = network.banks["n0"].node.storage.move_time_s
    generations_s = sum(end - start + move_s for start, end in service.attempt_intervals)
    for node in ("n0", "n1"):
        assert network.banks[node].communication.busy_s() == pytest.approx(
            generations_s + len(rounds) * gate_s[node], rel=1e-12)


def test_generations_swaps_and_purification_sharing_one_communication_qubit_never_wait_forever():
    """A ring of single-electron nodes whose paths overlap all round, purified per link:
    every request is served (a wait that could never end would stop the
    simulation with its requests unserved)."""
    from qstack.data import tomllib

    from qstack.build import build_network
    from qstack.network import Request
    from qstack.scenario import load_scenario
    from qstack.scenario.load import default_scenario_text

    raw = tomllib.loads(default_scenario_text())
    ring = [f"n{i}" for i in range(5)]
    raw["network"] = {"topology": "custom", "edges": [{"a": a, "b": b, "length_km": 2.0} for a, b in zip(ring, ring[1:] + ring[:1])]}
    raw["purification"] = {"scope": "link", "rounds": 1}
    scenario = load_scenario(raw)
    sim = Simulation(scenario.seed)
    network = build_network(scenario, sim)
    # Every node is the middle of one path and an end of two (8 of its 9 slots reserved).
    requests = [Request(f"n{i}", f"n{(i + 2) % 5}", pairs=2) for i in range(5)]
    done = sim.env.all_of([network.submit(request) for request in requests])
    sim.env.run(until=done)
    assert len(network.stats) == 5 and all(len(stats.records) == 2 for stats in network.stats)
    assert network.purifications > 10 and network.swaps >= 10
