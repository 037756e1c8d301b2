import math

import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix, Kraus, Statevector, SuperOp, state_fidelity

from qstack.hardware import Memory, NuclearSpinRegister

PHI_PLUS = Statevector(np.array([1, 0, 0, 1]) / math.sqrt(2))


def _stored_half_fidelity(error) -> float:
    """Fidelity with |Phi+> after ``error`` acts on qubit 1 of |Phi+>."""
    rho = DensityMatrix(PHI_PLUS).evolve(Kraus(error), qargs=[1])
    return float(state_fidelity(rho, PHI_PLUS))


def _stored_by_the_link_layer(memory: Memory, storage_s: float) -> float:
    """Fidelity with |Phi+> of a perfect pair whose half b waits ``storage_s`` [s] in ``memory``
    (half a in an ideal one), simulated: a lossless midpoint source at zero distance heralds
    |Phi+> at once, the link layer stores it, the engine's idle decoherence acts."""
    from qstack.engine import Simulation
    from qstack.hardware import Detector, Fiber, PairSource
    from qstack.link import LinkService, MemoryBank
    from qstack.physical import HeraldedLink, NodeHardware
    from qstack.physics import bell_fidelity

    ideal = NodeHardware(memory=Memory(math.inf, math.inf))
    node = NodeHardware(memory=memory)
    source = PairSource(pair_probability=1.0, repetition_rate_hz=1e6)
    link = HeraldedLink(ideal, node, Fiber(0.0), Fiber(0.0), Detector(), scheme="midpoint_source", pair_source=source)
    sim = Simulation(1)
    service = LinkService(sim, link, MemoryBank(sim.env, ideal, "a"), MemoryBank(sim.env, node, "b"))
    process = sim.env.process(service.generate())
    sim.env.run(until=process)
    assert link.heralding_time_s == 0.0  # stored from the moment of its creation
    sim.env.run(until=sim.env.now + storage_s)
    return bell_fidelity(sim.registry.density_matrix(list(process.value.qubits)))


@pytest.mark.parametrize(
    "t1_s, t2_s, t_s",
    [
        (1.0, 0.5, 0.1),
        (1.0, 2.0, 0.7),
        (3600.0, 1.58, 2.0),
        (0.02, 0.001, 0.0005),
        (10.0, 10.0, 25.0),
        (math.inf, 0.5, 0.3),
    ],
)
def test_half_of_a_pair_stored_by_the_link_layer_decays_as_the_t1_t2_closed_form(t1_s, t2_s, t_s):
    expected = 0.25 + math.exp(-t_s / t1_s) / 4 + math.exp(-t_s / t2_s) / 2
    assert _stored_by_the_link_layer(Memory(t1_s, t2_s, capacity=1), t_s) == pytest.approx(expected, abs=1e-12)


def test_ideal_memory_keeps_a_stored_pair_forever():
    memory = Memory(math.inf, math.inf, capacity=4)
    assert memory.is_ideal_idle and not Memory(math.inf, 0.5).is_ideal_idle
    assert _stored_by_the_link_layer(memory, 1e6) == pytest.approx(1.0, abs=1e-12)
    assert memory.coherence_time_s == math.inf


@pytest.mark.parametrize("device", [Memory(2.0, 1.5), NuclearSpinRegister(80.0, 1e-8, math.inf, 75.0)])
def test_idle_error_decays_populations_with_t1_and_coherences_with_t2(device):
    """|1><1| keeps exp(-t/T1) of its population; |+><+| keeps exp(-t/T2) of its coherence."""
    excited = np.array([[0, 0], [0, 1]], dtype=complex)
    plus = np.full((2, 2), 0.5, dtype=complex)
    for t_s in (0.0, 0.3, 7.0):
        error = device.idle_error(t_s)
        assert DensityMatrix(excited).evolve(error).data[1, 1].real == pytest.approx(math.exp(-t_s / device.t1_s), abs=1e-12)
        assert DensityMatrix(plus).evolve(error).data[0, 1].real == pytest.approx(0.5 * math.exp(-t_s / device.t2_s), abs=1e-12)
    with pytest.raises(ValueError, match="duration_s"):
        device.idle_error(-1.0)


def test_idle_errors_compose_in_time():
    memory = Memory(2.0, 1.5)
    twice = SuperOp(memory.idle_error(0.3)).compose(SuperOp(memory.idle_error(0.4)))
    assert np.allclose(twice.data, SuperOp(memory.idle_error(0.7)).data, atol=1e-12)


def test_coherence_time_is_t2():
    assert Memory(5.0, 3.0).coherence_time_s == 3.0


@pytest.mark.parametrize("fidelity", [1.0, 0.999, 0.95, 0.75, 0.5])
def test_single_qubit_gate_error_has_the_stated_fidelity_on_every_pure_state(fidelity):
    error = Memory(1.0, 1.0, single_qubit_gate_fidelity=fidelity).single_qubit_gate_error()
    for label in ("0", "1", "+", "r"):
        psi = Statevector.from_label(label)
        out = DensityMatrix(psi).evolve(Kraus(error))
        assert state_fidelity(out, psi) == pytest.approx(fidelity, abs=1e-12)


@pytest.mark.parametrize("fidelity", [1.0, 0.99, 0.9, 0.5, 0.25])
def test_two_qubit_gate_error_has_the_stated_fidelity(fidelity):
    error = Memory(1.0, 1.0, two_qubit_gate_fidelity=fidelity).two_qubit_gate_error()
    for psi in (PHI_PLUS, Statevector.from_label("01"), Statevector.from_label("+-")):
        out = DensityMatrix(psi).evolve(Kraus(error))
        assert state_fidelity(out, psi) == pytest.approx(fidelity, abs=1e-12)


def test_readout_error_flips_with_one_minus_measurement_fidelity():
    probs = np.asarray(Memory(1.0, 1.0, measurement_fidelity=0.97).readout_error().probabilities)
    assert np.allclose(probs, [[0.97, 0.03], [0.03, 0.97]], atol=1e-15)


def test_t2_above_twice_t1_message():
    with pytest.raises(ValueError, match=r"^Memory\.t2_s must be <= 2\*t1_s \(t1_s=1\.0\), got 3\.0$"):
        Memory(1.0, 3.0)


@pytest.mark.parametrize(
    "args, kwargs, field",
    [
        ((1.0, 3.0), {}, "t2_s"),
        ((1.0, math.inf), {}, "t2_s"),
        ((0.0, 0.0), {}, "t1_s"),
        ((-1.0, 0.5), {}, "t1_s"),
        ((1.0, 1.0), {"capacity": 0}, "capacity"),
        ((1.0, 1.0), {"capacity": 2.5}, "capacity"),
        ((1.0, 1.0), {"write_efficiency": 1.1}, "write_efficiency"),
        ((1.0, 1.0), {"read_efficiency": -0.1}, "read_efficiency"),
        ((1.0, 1.0), {"measurement_fidelity": 1.5}, "measurement_fidelity"),
        ((1.0, 1.0), {"single_qubit_gate_fidelity": 0.4}, "single_qubit_gate_fidelity"),
        ((1.0, 1.0), {"two_qubit_gate_fidelity": 0.2}, "two_qubit_gate_fidelity"),
        ((1.0, 1.0), {"two_qubit_gate_time_s": -1e-6}, "two_qubit_gate_time_s"),
        ((1.0, 1.0), {"communication_qubits": 0}, "communication_qubits"),
        ((1.0, 1.0), {"communication_qubits": 1.5}, "communication_qubits"),
        ((1.0, 1.0), {"communication_qubits": True}, "communication_qubits"),
    ],
)
def test_memory_rejects_bad_values(args, kwargs, field):
    with pytest.raises(ValueError, match=rf"Memory\.{field}"):
        Memory(*args, **kwargs)


def test_capacity_zero_message():
    with pytest.raises(ValueError, match=r"Memory\.capacity must be an integer >= 1, got 0"):
        Memory(1.0, 1.0, capacity=0)


def test_negative_idle_duration_is_rejected():
    with pytest.raises(ValueError, match="duration_s"):
        Memory(1.0, 1.0).idle_error(-0.1)


# ---------------------------------------------------------------- nuclear-spin register


def _register(coupling_hz=377e3, tau_s=82e-9) -> NuclearSpinRegister:
    return NuclearSpinRegister(coupling_hz, tau_s, t1_s=math.inf, t2_s=10.0, capacity=4)


def test_dephasing_probability_follows_kalb_formula():
    register = _register()
    alpha = 0.3
    expected = alpha / 2 * (1 - math.exp(-((2 * math.pi * 377e3 * 82e-9) ** 2) / 2))
    assert register.dephasing_probability_per_attempt(alpha) == pytest.approx(expected, rel=1e-12)
    assert register.dephasing_probability_per_attempt(0.0) == 0.0


@pytest.mark.parametrize("n_attempts", [0, 1, 2, 7, 50])
def test_n_attempt_dephasing_equals_n_single_attempts(n_attempts):
    register = _register()
    single = SuperOp(register.dephasing_error(1, 0.4))
    composed = SuperOp(np.eye(4))
    for _ in range(n_attempts):
        composed = composed.compose(single)
    direct = SuperOp(register.dephasing_error(n_attempts, 0.4))
    assert np.allclose(direct.data, composed.data, atol=1e-12, rtol=0)


def test_many_attempts_fully_dephase():
    register = _register()
    out = DensityMatrix.from_label("+").evolve(Kraus(register.dephasing_error(100_000, 1.0)))
    assert abs(out.data[0, 1]) < 1e-9


def test_stronger_coupling_means_faster_gates_and_more_dephasing():
    weak, strong = _register(coupling_hz=20e3), _register(coupling_hz=400e3)
    assert strong.gate_time_s < weak.gate_time_s
    assert strong.dephasing_probability_per_attempt(0.5) > weak.dephasing_probability_per_attempt(0.5)
    assert weak.gate_time_s == pytest.approx(1 / (2 * 20e3), rel=1e-12)


def test_nuclear_idle_error_is_thermal_relaxation():
    register = NuclearSpinRegister(50e3, 1e-7, t1_s=10.0, t2_s=4.0)
    expected = 0.25 + math.exp(-1.0 / 10.0) / 4 + math.exp(-1.0 / 4.0) / 2
    assert _stored_half_fidelity(register.idle_error(1.0)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"coupling_hz": 0.0}, "coupling_hz"),
        ({"coupling_hz": -5.0}, "coupling_hz"),
        ({"reset_time_constant_s": -1e-9}, "reset_time_constant_s"),
        ({"t2_s": 30.0, "t1_s": 10.0}, "t2_s"),
        ({"capacity": 0}, "capacity"),
    ],
)
def test_nuclear_register_rejects_bad_values(kwargs, field):
    params = {"coupling_hz": 1e4, "reset_time_constant_s": 1e-8, "t1_s": 10.0, "t2_s": 5.0}
    params.update(kwargs)
    with pytest.raises(ValueError, match=rf"NuclearSpinRegister\.{field}"):
        NuclearSpinRegister(**params)


def test_nuclear_register_rejects_bad_attempt_arguments():
    register = _register()
    with pytest.raises(ValueError, match="bright_state_population"):
        register.dephasing_probability_per_attempt(1.5)
    with pytest.raises(ValueError, match="n_attempts"):
        register.dephasing_error(-1, 0.5)
    with pytest.raises(ValueError, match="n_attempts"):
        register.dephasing_error(2.5, 0.5)


def test_communication_qubits_default_to_one_and_an_integral_float_is_accepted():
    assert Memory(1.0, 1.0).communication_qubits == 1
    assert Memory(1.0, 1.0, communication_qubits=3.0).communication_qubits == 3
