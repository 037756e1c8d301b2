"""Simulating a compiled circuit: exact statevector and density matrix, estimated trajectories."""

import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix, Statevector

from distributed_circuits import blocks, ghz, random_layers, round_robin, run_stages
from qstack.physics import werner_state
from qstack.protocols.distributed import (
    SuppliedPair,
    compile_distributed,
    logical_circuit,
    plan_distribution,
    simulate_distributed,
)


def test_the_density_matrix_and_trajectory_paths_are_exact_on_ideal_pairs():
    qc = random_layers(5, 3, seed=3)
    partition = round_robin(5, 2)
    _, _, dm = run_stages(qc, partition, simulation="density_matrix")
    assert dm.simulation == "density_matrix"
    assert dm.fidelity == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(dm.final_state.data, DensityMatrix(Statevector(qc)).data, atol=1e-9)
    _, _, trajectories = run_stages(qc, partition, simulation="trajectories", trajectories=5)
    assert trajectories.simulation == "trajectories"
    assert trajectories.fidelity == pytest.approx(1.0, abs=1e-9)
    assert trajectories.final_state is None


def test_the_statevector_path_gives_the_logical_qubits_in_their_own_order():
    qc = random_layers(6, 3, seed=4)
    _, compiled, outcome = run_stages(qc, round_robin(6, 3), "teledata")
    assert outcome.simulation == "statevector"
    assert list(compiled.logical_wires) != list(range(6))  # teleported qubits end on other wires
    assert abs(np.vdot(outcome.final_state.data, Statevector(qc).data)) == pytest.approx(1.0, abs=1e-9)


def test_trajectories_estimate_the_exact_density_matrix_fidelity():
    qc = random_layers(5, 3, seed=8)
    pair = werner_state(0.9)
    _, _, exact = run_stages(qc, blocks(5, 2), pair_state=pair)
    assert exact.simulation == "density_matrix"
    _, _, estimate = run_stages(qc, blocks(5, 2), pair_state=pair, simulation="trajectories", trajectories=300, seed=3)
    assert estimate.fidelity_stderr > 0
    assert abs(estimate.fidelity - exact.fidelity) < 4 * estimate.fidelity_stderr + 1e-3


def test_auto_takes_trajectories_when_the_density_matrix_would_be_too_wide():
    _, _, outcome = run_stages(ghz(5), blocks(5, 2), pair_state=werner_state(0.9), max_density_qubits=6, trajectories=4)
    assert outcome.simulation == "trajectories" and outcome.shots == 4


def test_measured_circuits_give_counts_and_the_hellinger_fidelity_of_their_distribution():
    # Hellinger fidelity (sum_k sqrt(p_k q_k))^2 against the ideal 50/50 of 00000 and 11111.
    _, _, ideal = run_stages(ghz(5, measure=True), blocks(5, 2), shots=500)
    assert ideal.fidelity == pytest.approx(1.0, abs=1e-12)
    assert set(ideal.counts) <= {"00000", "11111"} and sum(ideal.counts.values()) == 500
    _, _, noisy = run_stages(ghz(5, measure=True), blocks(5, 2), pair_state=werner_state(0.8), shots=500)
    probabilities = noisy.final_state.probabilities()
    expected = (np.sqrt(0.5 * probabilities[0]) + np.sqrt(0.5 * probabilities[-1])) ** 2
    assert noisy.fidelity == pytest.approx(expected, abs=1e-12)
    assert noisy.fidelity < 1.0 - 1e-6 and sum(noisy.counts.values()) == 500


def test_the_same_seed_gives_the_same_trajectories():
    runs = [run_stages(ghz(4), blocks(4, 2), pair_state=werner_state(0.8), simulation="trajectories",
                       trajectories=20, seed=5)[2] for _ in range(2)]
    assert runs[0].fidelity == runs[1].fidelity


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"simulation": "fast"}, "simulation must be one of"),
        ({"simulation": "statevector"}, "exact only"),
        ({"shots": 0}, "shots"),
        ({"trajectories": 2.5}, "trajectories"),
        ({"max_density_qubits": True}, "max_density_qubits"),
    ],
)
def test_bad_options_are_refused_naming_them(kwargs, match):
    plan = plan_distribution(logical_circuit(ghz(3)), {0: "A", 1: "A", 2: "B"})
    compiled = compile_distributed(plan, {("A", "B"): [SuppliedPair(werner_state(0.9))]})
    with pytest.raises(ValueError, match=match):
        simulate_distributed(compiled, **kwargs)
