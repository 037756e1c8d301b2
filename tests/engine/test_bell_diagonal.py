"""The Bell-diagonal fast path: exact against full density matrices and Aer, taken only when exact."""

import math

import networkx as nx
import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import random_density_matrix
from qiskit_aer.noise import amplitude_damping_error, depolarizing_error, pauli_error

from qstack.engine import IdleModel, Operation, Simulation, StateRegistry, noisy
from qstack.engine.operation import BELL_BASIS
from qstack.protocols import GateNoise, purification_operation, swap_operation

NOISE = GateNoise(two_qubit_depolarizing=0.03, single_qubit_depolarizing=0.02, measurement_flip=0.01)


def bell_diagonal(weights) -> np.ndarray:
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    return np.einsum("k,ki,kj->ij", weights, BELL_BASIS, BELL_BASIS.conj())


def random_bell_diagonal(seed: int) -> np.ndarray:
    return bell_diagonal(np.random.default_rng(seed).random(4) + 0.05)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def three_registries(seed: int):
    """Fast engine with the Bell path, fast engine without it, Aer; each with its own clock."""
    made = []
    for engine, bell in (("fast", True), ("fast", False), ("aer", False)):
        clock = Clock()
        made.append((StateRegistry(np.random.default_rng(seed), engine=engine, clock=clock, bell_diagonal=bell), clock))
    return made


def run_everywhere(seed, states, program):
    """Run ``program(registry, clock, qubits, outcomes)`` on the three registries; the Aer run draws
    the outcomes, the fast ones are forced to the same. Returns the registries and their results."""
    runs = []
    outcomes: list = []
    for registry, clock in reversed(three_registries(seed)):  # Aer first
        qubits = []
        for i, (rho, idle) in enumerate(states):
            qubits += registry.new_qubits([f"q{2 * i}", f"q{2 * i + 1}"], idle=idle, rho=rho)
        result = program(registry, clock, qubits, outcomes)
        runs.append((registry, result))
    return runs[::-1]  # fast with Bell path, fast without, Aer


def apply_recording(registry, operation, qubits, outcomes, step):
    """Apply: the first registry (Aer) records its outcome, the others are forced to it."""
    if registry.engine == "aer":
        outcomes.append(registry.apply(operation, qubits))
        return outcomes[-1]
    return registry.apply(operation, qubits, outcome=outcomes[step])


def assert_all_close(runs, atol=1e-9):
    reference = runs[2][1]
    for _, result in runs[:2]:
        np.testing.assert_allclose(result, reference, atol=atol)


@pytest.mark.parametrize("seed", range(4))
def test_noisy_swap_of_bell_diagonal_pairs_stays_bell_diagonal_and_matches_full_and_aer(seed):
    operation = swap_operation(NOISE)
    states = [(random_bell_diagonal(seed), None), (random_bell_diagonal(100 + seed), None)]

    def program(registry, clock, q, outcomes):
        apply_recording(registry, operation, q, outcomes, 0)
        return registry.density_matrix([q[0], q[3]])

    runs = run_everywhere(seed, states, program)
    assert_all_close(runs)
    bell, dense, _ = (registry for registry, _ in runs)
    assert bell.bell_diagonal_steps == 1 and bell.bell_diagonal_fallbacks == 0
    assert dense.bell_diagonal_steps == 0
    assert bell.live_qubits == 2


def test_bell_path_gives_the_same_outcome_probabilities_as_the_full_path():
    operation = swap_operation(NOISE)
    rho_1, rho_2 = random_bell_diagonal(1), random_bell_diagonal(2)
    full = StateRegistry(np.random.default_rng(0), bell_diagonal=False)
    table = {o: p for o, p, _ in full.outcome_table(operation, full.new_qubits("ab", rho=rho_1) + full.new_qubits("cd", rho=rho_2))}
    counts = dict.fromkeys(table, 0)
    rng = np.random.default_rng(5)
    trials = 4000
    for _ in range(trials):
        registry = StateRegistry(rng)
        counts[registry.apply(operation, registry.new_qubits("ab", rho=rho_1) + registry.new_qubits("cd", rho=rho_2))] += 1
        assert registry.bell_diagonal_steps == 1
    for outcome, p in table.items():
        assert abs(counts[outcome] / trials - p) < 5 * math.sqrt(p * (1 - p) / trials) + 1e-12


def test_same_seed_same_outcomes_with_and_without_the_bell_path():
    """Both paths draw alike: one number per branching operation, none for a one-branch channel."""
    operation = swap_operation(NOISE)
    circuit = QuantumCircuit(1)
    circuit.append(noisy(pauli_error([("Z", 0.1), ("I", 0.9)])), [0])
    channel = Operation(circuit, name="dephasing")

    def run(bell):
        registry = StateRegistry(np.random.default_rng(3), bell_diagonal=bell)
        outcomes = []
        for i in range(200):
            q = registry.new_qubits("ab", rho=random_bell_diagonal(i)) + registry.new_qubits("cd", rho=random_bell_diagonal(-i % 7))
            registry.apply(channel, [q[1]])
            outcomes.append(registry.apply(operation, q))
            registry.discard([q[0], q[3]])
        return outcomes, registry.bell_diagonal_steps

    (with_bell, steps), (without, no_steps) = run(True), run(False)
    assert with_bell == without
    assert steps == 400 and no_steps == 0


@pytest.mark.parametrize("seed", range(3))
def test_purification_of_bell_diagonal_pairs_matches_full_and_aer(seed):
    operation = purification_operation("dejmps", NOISE)
    states = [(random_bell_diagonal(10 + seed), None), (random_bell_diagonal(20 + seed), None)]

    def program(registry, clock, q, outcomes):
        apply_recording(registry, operation, q, outcomes, 0)
        return registry.density_matrix([q[0], q[1]])

    runs = run_everywhere(seed, states, program)
    assert_all_close(runs)
    assert runs[0][0].bell_diagonal_steps == 1 and runs[0][0].bell_diagonal_fallbacks == 0


def test_pure_dephasing_while_idle_is_applied_to_bell_weights_exactly():
    idle = IdleModel(t1_s=math.inf, t2_s=0.8)
    operation = swap_operation(NOISE)
    states = [(random_bell_diagonal(1), [idle, idle]), (random_bell_diagonal(2), [idle, None])]

    def program(registry, clock, q, outcomes):
        clock.now = 0.3
        apply_recording(registry, operation, q, outcomes, 0)
        clock.now = 1.1
        return registry.density_matrix([q[0], q[3]])

    runs = run_everywhere(7, states, program)
    assert_all_close(runs)
    bell = runs[0][0]
    assert bell.bell_diagonal_fallbacks == 0
    assert bell.bell_diagonal_steps == 1 + 3 + 1  # the swap, three idle catch-ups, one more on q0


def test_finite_t1_falls_back_to_the_density_matrix():
    idle = IdleModel(t1_s=2.0, t2_s=0.8)
    operation = swap_operation(NOISE)
    states = [(random_bell_diagonal(3), [idle, idle]), (random_bell_diagonal(4), [None, None])]

    def program(registry, clock, q, outcomes):
        clock.now = 0.5
        apply_recording(registry, operation, q, outcomes, 0)
        return registry.density_matrix([q[0], q[3]])

    runs = run_everywhere(2, states, program)
    assert_all_close(runs)
    bell = runs[0][0]
    assert bell.bell_diagonal_fallbacks == 1  # the first pair, when amplitude damping reaches it
    assert bell.bell_diagonal_steps == 0  # so the swap ran on density matrices


def test_state_that_is_not_bell_diagonal_never_takes_the_bell_path():
    rho = random_density_matrix(4, seed=9).data
    operation = swap_operation(NOISE)

    def program(registry, clock, q, outcomes):
        apply_recording(registry, operation, q, outcomes, 0)
        return registry.density_matrix([q[0], q[3]])

    runs = run_everywhere(1, [(rho, None), (random_bell_diagonal(5), None)], program)
    assert_all_close(runs)
    assert runs[0][0].bell_diagonal_steps == 0
    # A state off Bell-diagonal by more than rounding is not taken for one.
    almost = bell_diagonal([0.7, 0.1, 0.1, 0.1])
    almost[1, 1] += 1e-9
    almost[2, 2] -= 1e-9
    registry = StateRegistry(np.random.default_rng(0))
    a, _ = registry.new_qubits("ab", rho=almost)
    assert a.group.bell is None


@pytest.mark.parametrize(
    "error,bell_kept",
    [
        (pauli_error([("X", 0.1), ("Y", 0.05), ("Z", 0.2), ("I", 0.65)]), True),
        (depolarizing_error(0.2, 1), True),
        (amplitude_damping_error(0.3), False),
    ],
)
def test_one_qubit_channel_on_half_a_pair(error, bell_kept):
    circuit = QuantumCircuit(1)
    circuit.append(noisy(error), [0])
    operation = Operation(circuit, name="channel")

    def program(registry, clock, q, outcomes):
        registry.apply(operation, [q[1]])
        return registry.density_matrix([q[0], q[1]])

    runs = run_everywhere(0, [(random_bell_diagonal(6), None)], program)
    assert_all_close(runs)
    bell = runs[0][0]
    assert (bell.bell_diagonal_steps, bell.bell_diagonal_fallbacks) == ((1, 0) if bell_kept else (0, 1))
    assert bell.live_qubits == 2


def test_hadamard_on_half_a_pair_breaks_bell_diagonality_and_falls_back():
    circuit = QuantumCircuit(1)
    circuit.h(0)
    operation = Operation(circuit, name="h")
    registry = StateRegistry(np.random.default_rng(0))
    a, b = registry.new_qubits("ab", rho=bell_diagonal([1, 0, 0, 0]))
    registry.apply(operation, [a])
    assert registry.bell_diagonal_fallbacks == 1 and a.group.bell is None
    expected = np.array([[1, 1, 1, -1]]).T @ np.array([[1, 1, 1, -1]]) / 4  # (|+0> + |-1>)/sqrt2
    np.testing.assert_allclose(registry.density_matrix([a, b]), expected, atol=1e-12)


def test_measuring_a_whole_pair_removes_it_with_the_right_statistics():
    circuit = QuantumCircuit(2, 2)
    circuit.append(noisy(pauli_error([("X", 0.1), ("I", 0.9)])), [0])
    circuit.measure([0, 1], [0, 1])
    operation = Operation(circuit, discard=(0, 1), name="measure pair")
    rho = bell_diagonal([0.6, 0.1, 0.2, 0.1])
    rng = np.random.default_rng(1)
    equal = 0
    trials = 4000
    for _ in range(trials):
        registry = StateRegistry(rng)
        outcome = registry.apply(operation, registry.new_qubits("ab", rho=rho))
        assert registry.live_qubits == 0 and registry.bell_diagonal_steps == 1
        equal += outcome[0] == outcome[1]
    p_equal = 0.9 * 0.7 + 0.1 * 0.3  # Phi weight 0.7, flipped by the X error with probability 0.1
    assert abs(equal / trials - p_equal) < 5 * math.sqrt(p_equal * (1 - p_equal) / trials)


def test_discarding_half_a_bell_pair_leaves_the_maximally_mixed_state():
    registry = StateRegistry(np.random.default_rng(0))
    a, b = registry.new_qubits("ab", rho=random_bell_diagonal(2))
    registry.discard([b])
    np.testing.assert_allclose(registry.density_matrix([a]), np.eye(2) / 2, atol=1e-15)


def _ideal_chain(nodes: int):
    from qstack.hardware import Detector, Emitter, Fiber, Memory
    from qstack.physical import HeraldedLink, NodeHardware

    memory = Memory(t1_s=math.inf, t2_s=0.05, capacity=4, two_qubit_gate_fidelity=0.98, measurement_fidelity=0.99)
    node = NodeHardware(memory=memory, emitter=Emitter(emission_time_s=5e-6, emission_probability=0.9))
    link = HeraldedLink(node, node, Fiber(5.0), Fiber(5.0), Detector(efficiency=0.9, dark_count_probability=0.0),
                        scheme="double_click")
    graph = nx.path_graph([f"n{i}" for i in range(nodes)])
    for name in graph.nodes:
        graph.nodes[name]["hardware"] = node
    for u, v in graph.edges:
        graph.edges[u, v]["link"] = link
    return graph


def test_repeater_chain_delivers_the_same_pairs_with_and_without_the_bell_path():
    from qstack.network import Network, Request

    results = []
    for bell in (True, False):
        sim = Simulation(seed=4, bell_diagonal=bell)
        network = Network(sim, _ideal_chain(5))
        sim.env.run(until=network.submit(Request("n0", "n4", pairs=30)))
        results.append(([r.fidelity for r in network.stats[0].records], sim.registry))
    (with_bell, registry), (without, dense) = results
    assert len(with_bell) == 30
    np.testing.assert_allclose(with_bell, without, atol=1e-9)
    assert registry.bell_diagonal_steps > 30 * 3 and registry.bell_diagonal_fallbacks == 0
    assert dense.bell_diagonal_steps == 0
    assert min(with_bell) < 0.999  # dephasing and gate noise did act


@pytest.mark.parametrize("rho", [random_bell_diagonal(8), random_density_matrix(4, seed=8).data])
def test_prepared_state_gives_the_same_pairs_as_the_matrix_and_is_never_changed(rho):
    prepared = StateRegistry.prepare(rho)
    assert not prepared.rho.flags.writeable
    assert (prepared.bell is not None) == np.allclose(rho, bell_diagonal(np.diag(BELL_BASIS.conj() @ rho @ BELL_BASIS.T).real))
    operation = swap_operation(NOISE)
    results = []
    for state in (prepared, rho):
        registry = StateRegistry(np.random.default_rng(2))
        q = registry.new_qubits("ab", rho=state) + registry.new_qubits("cd", rho=state)
        registry.apply(operation, q)
        results.append(registry.density_matrix([q[0], q[3]]))
    np.testing.assert_allclose(results[0], results[1], atol=1e-12)
    np.testing.assert_array_equal(prepared.rho, rho)


def test_dephasing_bell_weights_as_a_tuple_gives_the_closed_form_and_the_arrays_numbers():
    """An idle step on Bell weights returns a tuple: from an array or from the tuple of an
    earlier step it gives the same floats, and Phi+ of a stored Phi+ pair whose two qubits
    each dephase for t is ``(1 + exp(-2t/T2))/2``."""
    from qstack.physics import Relaxation

    idle = Relaxation(math.inf, 0.5)
    weights = np.array([1.0, 0.0, 0.0, 0.0])
    once = idle.dephase_bell_weights(weights, 0.1)
    assert isinstance(once, tuple) and once == idle.dephase_bell_weights(tuple(weights.tolist()), 0.1)
    twice = idle.dephase_bell_weights(once, 0.1)
    assert twice == idle.dephase_bell_weights(np.array(once), 0.1)
    assert math.isclose(twice[0], (1 + math.exp(-2 * 0.1 / 0.5)) / 2, rel_tol=1e-15)
    assert math.isclose(sum(twice), 1.0, rel_tol=1e-15)
