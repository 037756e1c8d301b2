"""The state engine: groups, compiled instruments, the fast and aer engines agreeing."""

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, Statevector, random_density_matrix, state_fidelity
from qiskit_aer.noise import (
    amplitude_damping_error,
    depolarizing_error,
    pauli_error,
    thermal_relaxation_error,
)

from qstack.engine import IdleModel, Operation, Simulation, StateRegistry, noisy

PHI_PLUS = Statevector([1, 0, 0, 1]) / math.sqrt(2)


def _noisy_bell_measurement() -> QuantumCircuit:
    """Bell measurement of qubits 1,2 with corrections on qubit 3 (a noisy swap)."""
    qc = QuantumCircuit(4, 2)
    qc.append(noisy(depolarizing_error(0.03, 2)), [1, 2])
    qc.cx(1, 2)
    qc.h(1)
    qc.append(noisy(amplitude_damping_error(0.05)), [2])
    qc.append(noisy(pauli_error([("X", 0.02), ("I", 0.98)])), [1])
    qc.measure(1, 0)
    qc.measure(2, 1)
    with qc.if_test((qc.clbits[1], 1)):
        qc.x(3)
    with qc.if_test((qc.clbits[0], 1)):
        qc.z(3)
    return qc


def test_unitary_noisy_circuit_compiles_to_the_channel_qiskit_computes():
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 2)
    qc.append(noisy(thermal_relaxation_error(1e-3, 5e-4, 2e-4)), [2])
    qc.ry(0.3, 1)
    qc.cz(1, 2)
    qc.append(noisy(depolarizing_error(0.1, 2)), [0, 1])
    rho0 = random_density_matrix(8, seed=3)
    registry = StateRegistry(np.random.default_rng(0))
    qubits = registry.new_qubits(["a", "b", "c"], rho=rho0)
    registry.apply(Operation(qc), qubits)
    expected = rho0.evolve(qc)
    np.testing.assert_allclose(registry.density_matrix(qubits), expected.data, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_fast_and_aer_engines_agree_on_a_noisy_swap_with_measurement(seed):
    rho_ab = random_density_matrix(4, seed=seed)
    rho_cd = random_density_matrix(4, seed=100 + seed)
    op = Operation(_noisy_bell_measurement(), discard=(1, 2), name="swap")
    aer = StateRegistry(np.random.default_rng(seed), engine="aer")
    qa = aer.new_qubits(["a", "b"], rho=rho_ab) + aer.new_qubits(["c", "d"], rho=rho_cd)
    outcome = aer.apply(op, qa)
    fast = StateRegistry(np.random.default_rng(seed), engine="fast")
    qf = fast.new_qubits(["a", "b"], rho=rho_ab) + fast.new_qubits(["c", "d"], rho=rho_cd)
    assert fast.apply(op, qf, outcome=outcome) == outcome
    np.testing.assert_allclose(
        fast.density_matrix([qf[0], qf[3]]), aer.density_matrix([qa[0], qa[3]]), atol=1e-9
    )
    assert fast.live_qubits == aer.live_qubits == 2


def test_aer_engine_draws_the_same_outcomes_as_the_fast_engine_from_the_same_generator():
    """Unforced: each engine draws the branch itself, from the run's generator; a sequence of
    noisy swaps on fresh random pairs gives the same outcomes and states with both."""
    op = Operation(_noisy_bell_measurement(), discard=(1, 2), name="swap")
    runs = {}
    for engine in ("fast", "aer"):
        registry = StateRegistry(np.random.default_rng(21), engine=engine)
        results = []
        for k in range(12):
            qubits = registry.new_qubits(["a", "b"], rho=random_density_matrix(4, seed=k).data)
            qubits += registry.new_qubits(["c", "d"], rho=random_density_matrix(4, seed=50 + k).data)
            outcome = registry.apply(op, qubits)
            results.append((outcome, registry.density_matrix([qubits[0], qubits[3]])))
            registry.discard([qubits[0], qubits[3]])
        runs[engine] = results
    assert [o for o, _ in runs["aer"]] == [o for o, _ in runs["fast"]]
    assert len({o for o, _ in runs["fast"]}) > 1  # the outcomes do vary
    for (_, fast), (_, aer) in zip(runs["fast"], runs["aer"]):
        np.testing.assert_allclose(fast, aer, atol=1e-9)


def test_aer_engine_gives_the_forced_branch_normalised():
    op = Operation(_noisy_bell_measurement(), discard=(1, 2), name="swap")
    rho = np.kron(random_density_matrix(4, seed=8).data, random_density_matrix(4, seed=9).data)
    exact = StateRegistry(np.random.default_rng(0))
    table = exact.outcome_table(op, exact.new_qubits(list("abcd"), rho=rho))  # normalised branch states
    for forced, _, expected in table:
        aer = StateRegistry(np.random.default_rng(0), engine="aer")
        qubits = aer.new_qubits(list("abcd"), rho=rho)
        assert aer.apply(op, qubits, outcome=forced) == forced
        np.testing.assert_allclose(aer.density_matrix([qubits[0], qubits[3]]), expected, atol=1e-9)


def test_outcomes_are_drawn_with_their_born_probabilities():
    op = Operation(_noisy_bell_measurement(), discard=(1, 2))
    rho = DensityMatrix(random_density_matrix(4, seed=1)).expand(random_density_matrix(4, seed=2))
    registry = StateRegistry(np.random.default_rng(0))
    table = registry.outcome_table(op, registry.new_qubits(list("abcd"), rho=rho.data))
    probabilities = {o: p for o, p, _ in table}
    assert math.isclose(sum(probabilities.values()), 1.0, abs_tol=1e-12)
    rng = np.random.default_rng(7)
    counts = {o: 0 for o in probabilities}
    trials = 4000
    reg = StateRegistry(rng)
    for _ in range(trials):
        counts[reg.apply(op, reg.new_qubits(list("abcd"), rho=rho.data))] += 1
        reg = StateRegistry(rng)
    for o, p in probabilities.items():
        sigma = math.sqrt(p * (1 - p) / trials)
        assert abs(counts[o] / trials - p) < 5 * sigma + 1e-12


def test_idle_relaxation_matches_aer_thermal_relaxation_error():
    model = IdleModel(t1_s=2.0, t2_s=3.0)
    rho = random_density_matrix(2, seed=4)
    registry = StateRegistry(np.random.default_rng(0))
    (q,) = registry.new_qubits(["m"], idle=model, rho=rho)
    clock = [0.0]
    registry._clock = lambda: clock[0]
    clock[0] = 0.7
    expected = rho.evolve(noisy(thermal_relaxation_error(2.0, 3.0, 0.7)))
    np.testing.assert_allclose(registry.density_matrix([q]), expected.data, atol=1e-12)


@pytest.mark.parametrize("engine", ["fast", "aer"])
@pytest.mark.parametrize("t1_s,t2_s,t_s", [(1.0, 0.5, 0.3), (10.0, 15.0, 4.0), (math.inf, 2.0, 1.0)])
def test_stored_half_of_phi_plus_decays_as_closed_form(engine, t1_s, t2_s, t_s):
    sim = Simulation(seed=1, engine=engine)
    a, b = sim.registry.new_qubits(["a", "b"], idle=[None, IdleModel(t1_s, t2_s)], rho=DensityMatrix(PHI_PLUS).data)

    def wait():
        yield sim.env.timeout(t_s)

    sim.env.process(wait())
    sim.env.run()
    fidelity = state_fidelity(DensityMatrix(sim.registry.density_matrix([a, b])), PHI_PLUS)
    expected = 0.25 + math.exp(-t_s / t1_s) / 4 + math.exp(-t_s / t2_s) / 2
    assert fidelity == pytest.approx(expected, abs=1e-9)


def test_groups_merge_by_tensor_product_and_shrink_by_partial_trace():
    registry = StateRegistry(np.random.default_rng(0))
    r1, r2 = random_density_matrix(2, seed=1), random_density_matrix(4, seed=2)
    (x,) = registry.new_qubits(["x"], rho=r1)
    y, z = registry.new_qubits(["y", "z"], rho=r2)
    joint = registry.density_matrix([z, x, y])  # merges the two groups
    expected = DensityMatrix(r1).expand(r2)  # qubit 0 = x, then y, z
    np.testing.assert_allclose(joint, expected.data.reshape([2] * 6).transpose(1, 2, 0, 4, 5, 3).reshape(8, 8), atol=1e-12)
    assert x.group is y.group
    registry.discard([y])
    np.testing.assert_allclose(registry.density_matrix([x]), r1.data, atol=1e-12)
    assert len(x.group.qubits) == 2 and registry.live_qubits == 2
    with pytest.raises(ValueError, match="no longer exists"):
        registry.density_matrix([y])


def test_delay_instruction_is_refused_because_aer_adds_no_noise_to_it():
    qc = QuantumCircuit(1)
    qc.delay(1e-6, 0, unit="s")
    with pytest.raises(ValueError, match="delay"):
        Operation(qc)


def test_same_seed_same_outcomes():
    op = Operation(_noisy_bell_measurement(), discard=(1, 2))
    rho = np.kron(random_density_matrix(4, seed=5).data, random_density_matrix(4, seed=6).data)

    def run(seed):
        reg = StateRegistry(np.random.default_rng(seed))
        return [reg.apply(op, reg.new_qubits(list("abcd"), rho=rho)) for _ in range(50)]

    assert run(11) == run(11)
    assert run(11) != run(12)


@pytest.mark.parametrize("t1_s,t2_s", [(2.0, 3.0), (math.inf, 0.7), (0.5, 0.2)])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_relaxation_of_one_qubit_inside_a_group_matches_aer(t1_s, t2_s, position):
    rho = random_density_matrix(8, seed=position)
    model = IdleModel(t1_s=t1_s, t2_s=t2_s)
    idle = [None, None, None]
    idle[position] = model
    results = []
    for engine in ("fast", "aer"):
        clock = [0.0]
        registry = StateRegistry(np.random.default_rng(0), engine=engine, clock=lambda: clock[0])
        qubits = registry.new_qubits(["x", "y", "z"], idle=idle, rho=rho.data)
        clock[0] = 0.45
        results.append(registry.density_matrix(qubits))
    np.testing.assert_allclose(results[0], results[1], atol=1e-9)
    assert not np.allclose(results[0], rho.data, atol=1e-3)  # it did relax


@pytest.mark.parametrize("reverse_first,reverse_second", [(False, True), (True, False), (True, True)])
def test_operation_on_two_pairs_in_either_qubit_order_matches_aer(reverse_first, reverse_second):
    """Two whole pairs go straight to the flattened instrument, whatever their groups' order."""
    rho_1, rho_2 = random_density_matrix(4, seed=31).data, random_density_matrix(4, seed=32).data
    op = Operation(_noisy_bell_measurement(), discard=(1, 2), name="swap")
    results = []
    for engine in ("aer", "fast"):
        registry = StateRegistry(np.random.default_rng(3), engine=engine)
        x, y = registry.new_qubits(["x", "y"], rho=rho_1)
        z, w = registry.new_qubits(["z", "w"], rho=rho_2)
        a, b = (y, x) if reverse_first else (x, y)
        c, d = (w, z) if reverse_second else (z, w)
        if engine == "aer":
            outcome = registry.apply(op, [a, b, c, d])
        else:
            assert registry.apply(op, [a, b, c, d], outcome=outcome) == outcome
        results.append(registry.density_matrix([a, d]))
        assert registry.live_qubits == 2 and a.group is d.group and len(a.group.qubits) == 2
    np.testing.assert_allclose(results[1], results[0], atol=1e-9)


def test_a_state_prepared_for_one_owner_is_checked_once_per_run_and_shared():
    """``prepared(owner, rho)`` is :meth:`prepare` of ``rho`` the first time and the same object
    for that owner after (links sharing a heralded outcome share its check); another owner or
    another registry (another run) gets its own."""
    from qstack.physics import PHI_PLUS

    registry, other_run = StateRegistry(np.random.default_rng(0)), StateRegistry(np.random.default_rng(0))
    owner, another = object(), object()
    first = registry.prepared(owner, PHI_PLUS)
    assert registry.prepared(owner, PHI_PLUS) is first
    assert np.array_equal(first.rho, StateRegistry.prepare(PHI_PLUS).rho) and first.bell is not None
    assert registry.prepared(another, PHI_PLUS) is not first
    assert other_run.prepared(owner, PHI_PLUS) is not first
