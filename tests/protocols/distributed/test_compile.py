"""Compiling a plan: the protocol circuit, the simulated circuit, the nodes' timing and relaxation."""

import math

import numpy as np
import pytest
from qiskit import qasm3, transpile
from qiskit.quantum_info import DensityMatrix, Statevector, state_fidelity
from qiskit.result import marginal_distribution
from qiskit_aer import AerSimulator

from distributed_circuits import bell_circuit, blocks, ghz, random_layers, round_robin, run_stages
from qstack.physics import PHI_PLUS, Relaxation, werner_state
from qstack.protocols import GateNoise
from qstack.protocols.distributed import (
    NodeModel,
    SuppliedPair,
    compile_distributed,
    logical_circuit,
    plan_distribution,
    simulate_distributed,
)

PLUS = np.full((2, 2), 0.5, dtype=complex)


# --------------------------------------------------------------------------- NodeModel
@pytest.mark.parametrize("t1_s,t2_s", [(math.inf, 2e-3), (5e-3, 2e-3), (1e-3, 2e-3)])
@pytest.mark.parametrize("duration_s", [1e-4, 1e-3, 7e-3])
def test_the_idle_channel_is_the_kernels_relaxation(t1_s, t2_s, duration_s):
    node = NodeModel(t1_s=t1_s, t2_s=t2_s)
    rho = DensityMatrix(PLUS).evolve(node.idle(duration_s).to_quantumchannel()).data
    assert rho[0, 1] == pytest.approx(0.5 * math.exp(-duration_s / t2_s), abs=1e-12)
    kernel = Relaxation(t1_s, t2_s).apply(PLUS, 1, 0, duration_s)
    np.testing.assert_allclose(rho, kernel, atol=1e-12)


def test_an_ideal_node_or_no_wait_has_no_idle_channel():
    assert NodeModel().idle(1.0) is None
    assert NodeModel(t1_s=1.0, t2_s=1.0).idle(0.0) is None
    assert NodeModel(t1_s=1.0, t2_s=1.0).idle(1e-3) is not None


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"t1_s": 1.0, "t2_s": 3.0}, "t2_s <= 2 t1_s"),
        ({"t1_s": 0.0}, "t1_s > 0"),
        ({"measurement_s": -1.0}, "measurement_s"),
        ({"two_qubit_gate_s": math.inf}, "two_qubit_gate_s"),
        ({"noise": 0.1}, "GateNoise"),
    ],
)
def test_node_model_refuses_unphysical_hardware(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NodeModel(**kwargs)


def test_a_supplied_pair_must_be_a_density_matrix_ready_at_a_finite_time():
    with pytest.raises(ValueError, match="pair state"):
        SuppliedPair(np.eye(2))
    with pytest.raises(ValueError, match="ready_s"):
        SuppliedPair(PHI_PLUS, math.inf)


# --------------------------------------------------------------------------- timing
def _bell_plan(method: str = "telegate"):
    return plan_distribution(logical_circuit(bell_circuit()), {0: "A", 1: "B"}, method)


def test_a_telegate_takes_alices_gate_and_readout_a_message_bobs_gate_h_readout_and_a_message_back():
    node = NodeModel(single_qubit_gate_s=1.0, two_qubit_gate_s=2.0, measurement_s=3.0)
    compiled = compile_distributed(_bell_plan(), nodes={"A": node, "B": node}, classical_delay_s=lambda a, b: 10.0)
    # h: 0-1; Alice 1-6; Bob starts at 16, done at 16 + 2 + 1 + 3 = 22; control free at 32.
    assert compiled.latency_s == 32.0


def test_teledata_takes_the_senders_bell_measurement_and_one_message():
    node = NodeModel(single_qubit_gate_s=1.0, two_qubit_gate_s=2.0, measurement_s=3.0)
    nodes = {"A": node, "B": node}
    compiled = compile_distributed(_bell_plan("teledata"), nodes=nodes, classical_delay_s=lambda a, b: 10.0)
    # h: 0-1; Bell measurement 1-7; arrival 17; the cx at B: 17-19.
    assert compiled.latency_s == 19.0


def test_qubits_dephase_while_they_wait_for_the_pair_and_the_messages():
    # Pair ready at r, one-way delay d, T2 only: the control waits r, Bob's half d, and at the end
    # the control 2d and the target d; every wait multiplies the GHZ coherence by exp(-t/T2).
    r_s, d_s = 0.3, 0.1
    node = NodeModel(t2_s=1.0)
    pairs = {("A", "B"): [SuppliedPair(PHI_PLUS, r_s)]}
    compiled = compile_distributed(_bell_plan(), pairs, {"A": node, "B": node}, lambda a, b: d_s)
    assert compiled.latency_s == pytest.approx(r_s + 2 * d_s, abs=1e-15)
    assert not compiled.pure
    outcome = simulate_distributed(compiled)
    assert outcome.fidelity == pytest.approx((1 + math.exp(-(r_s + 4 * d_s))) / 2, abs=1e-12)


def test_pairs_are_used_in_order_of_arrival_and_must_suffice():
    plan = plan_distribution(logical_circuit(ghz(3)), {0: "A", 1: "B", 2: "A"})
    late, early = SuppliedPair(PHI_PLUS, 2.0), SuppliedPair(werner_state(0.9), 1.0)
    compiled = compile_distributed(plan, {("A", "B"): [late, early]})
    assert compiled.pairs == (early, late)
    with pytest.raises(ValueError, match="needs 2 pairs, 1 supplied"):
        compile_distributed(plan, {("A", "B"): [late]})


# --------------------------------------------------------------------------- the simulated circuit
def test_ideal_pairs_and_nodes_give_a_pure_circuit_two_wires_wider_than_the_logical_one():
    plan = plan_distribution(logical_circuit(random_layers(6, 3, seed=1)), round_robin(6, 3), "auto")
    compiled = compile_distributed(plan)
    assert compiled.pure and compiled.latency_s == 0.0
    assert compiled.noisy_circuit.num_qubits == 6 + 2
    assert len(compiled.pairs) == plan.pairs_used


def test_gate_noise_makes_the_circuit_mixed():
    noisy = NodeModel(noise=GateNoise(two_qubit_depolarizing=0.01))
    compiled = compile_distributed(_bell_plan(), nodes={"A": noisy})
    assert not compiled.pure


@pytest.mark.parametrize("fidelity", [1.0, 0.95, 0.8])
def test_a_bell_pair_made_by_telegate_has_the_werner_pair_fidelity(fidelity):
    _, _, outcome = run_stages(bell_circuit(), {0: "A", 1: "B"}, pair_state=werner_state(fidelity))
    assert outcome.fidelity == pytest.approx(fidelity, abs=1e-9)


@pytest.mark.parametrize("fidelity", [0.95, 0.8])
def test_a_bell_pair_made_by_teledata_has_fidelity_one_plus_two_f_over_three(fidelity):
    # |+> teleported through a Werner pair is depolarized: <+|rho|+> = (1 + 2F)/3.
    _, _, outcome = run_stages(bell_circuit(), {0: "A", 1: "B"}, "teledata", pair_state=werner_state(fidelity))
    assert outcome.fidelity == pytest.approx((1 + 2 * fidelity) / 3, abs=1e-9)


# --------------------------------------------------------------------------- the protocol circuit
def test_the_compiled_circuit_exports_to_openqasm3_and_runs_anywhere():
    qc = ghz(6, measure=True)
    _, compiled, _ = run_stages(qc, blocks(6, 3), "auto")
    text = qasm3.dumps(compiled.circuit)
    assert "bell_pair" in text and "if (" in text and "measure" in text
    assert [r.name for r in compiled.circuit.qregs] == ["node0", "node1", "node2"]
    backend = AerSimulator()
    counts = backend.run(transpile(compiled.circuit, backend), shots=400, seed_simulator=1).result().get_counts()
    user = marginal_distribution(counts, list(range(qc.num_clbits)))
    assert set(user) == {"000000", "111111"}


@pytest.mark.parametrize("method", ["telegate", "teledata"])
def test_the_compiled_circuit_run_anywhere_leaves_the_monolithic_state_on_its_logical_qubits(method):
    qc = random_layers(4, 2, seed=2)
    _, compiled, _ = run_stages(qc, round_robin(4, 2), method)
    circuit = compiled.circuit.copy()
    wires = [circuit.find_bit(q).index for q in compiled.logical_qubits]
    circuit.save_density_matrix(qubits=wires, label="rho")
    backend = AerSimulator(method="density_matrix")
    for seed in range(3):  # mid-circuit outcomes differ per run; the corrected state does not
        rho = backend.run(transpile(circuit, backend), shots=1, seed_simulator=seed).result().data(0)["rho"]
        assert state_fidelity(DensityMatrix(np.asarray(rho)), Statevector(qc)) == pytest.approx(1.0, abs=1e-9)


def test_node_names_become_valid_distinct_register_names():
    plan = plan_distribution(logical_circuit(bell_circuit()), {0: "node-1", 1: "2b"})
    names = [r.name for r in compile_distributed(plan).circuit.qregs]
    assert names == ["node_1", "n_2b"]
