"""GateNoise: validation, conversion from memory fidelities, the errors it builds."""

import math
from types import SimpleNamespace

import pytest
from qiskit.quantum_info import DensityMatrix, average_gate_fidelity

from qstack.hardware import list_presets, load_preset
from qstack.physics.channels import depolarizing_parameter
from qstack.protocols import GateNoise
from qstack.protocols.noise import resolve_noise


def test_default_noise_is_ideal_and_builds_no_errors():
    noise = GateNoise()
    assert noise.is_ideal
    assert noise.two_qubit_error() is None
    assert noise.single_qubit_error() is None
    assert noise.measurement_error() is None


@pytest.mark.parametrize("field", ["two_qubit_depolarizing", "single_qubit_depolarizing", "measurement_flip"])
@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, "0.1", True])
def test_parameters_outside_zero_one_are_refused_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"GateNoise\.{field}"):
        GateNoise(**{field: value})


def test_parameter_range_is_stated_in_the_message():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        GateNoise(measurement_flip=2.0)


def test_from_memory_converts_fidelities_with_the_depolarizing_conventions():
    memory = SimpleNamespace(two_qubit_gate_fidelity=0.97, single_qubit_gate_fidelity=0.995, measurement_fidelity=0.98)
    noise = GateNoise.from_memory(memory)
    assert noise.two_qubit_depolarizing == pytest.approx(4 * 0.03 / 3)
    assert noise.single_qubit_depolarizing == pytest.approx(2 * 0.005)
    assert noise.measurement_flip == pytest.approx(0.02)


def test_perfect_memory_gives_ideal_noise():
    memory = SimpleNamespace(two_qubit_gate_fidelity=1.0, single_qubit_gate_fidelity=1.0, measurement_fidelity=1.0)
    assert GateNoise.from_memory(memory).is_ideal


@pytest.mark.parametrize("two,one", [(0.97, 0.995), (0.5, 0.8), (0.25, 0.5)])
def test_converted_errors_have_the_memory_gate_fidelity_as_average_gate_fidelity(two, one):
    memory = SimpleNamespace(two_qubit_gate_fidelity=two, single_qubit_gate_fidelity=one, measurement_fidelity=1.0)
    noise = GateNoise.from_memory(memory)
    assert average_gate_fidelity(noise.two_qubit_error().to_quantumchannel()) == pytest.approx(two, abs=1e-12)
    assert average_gate_fidelity(noise.single_qubit_error().to_quantumchannel()) == pytest.approx(one, abs=1e-12)


def test_measurement_error_flips_with_the_flip_probability():
    channel = GateNoise(measurement_flip=0.07).measurement_error().to_quantumchannel()
    for label, flipped in (("0", 1), ("1", 0)):
        probabilities = DensityMatrix.from_label(label).evolve(channel).probabilities()
        assert probabilities[flipped] == pytest.approx(0.07, abs=1e-12)


def test_memory_below_the_depolarizing_range_is_refused():
    memory = SimpleNamespace(two_qubit_gate_fidelity=0.1, single_qubit_gate_fidelity=1.0, measurement_fidelity=1.0)
    with pytest.raises(ValueError, match="two_qubit_depolarizing"):
        GateNoise.from_memory(memory)


def test_object_without_fidelities_is_refused():
    with pytest.raises(ValueError, match="fidelit"):
        GateNoise.from_memory(object())


def test_noise_keywords_build_gate_noise_and_unknown_ones_are_named():
    assert resolve_noise(None, {"measurement_flip": 0.1}) == GateNoise(measurement_flip=0.1)
    with pytest.raises(ValueError, match="depolarising"):
        resolve_noise(None, {"depolarising": 0.1})
    with pytest.raises(ValueError, match="not both"):
        resolve_noise(GateNoise(), {"measurement_flip": 0.1})


# --------------------------------------------------------------------------- one home for F -> p
MEMORIES = [(name, load_preset(name).memory) for name in list_presets() if load_preset(name).memory is not None]


@pytest.mark.parametrize("name,memory", MEMORIES, ids=[name for name, _ in MEMORIES])
def test_from_memory_of_every_bundled_memory_is_the_kernels_parameters_bit_for_bit(name, memory):
    """The kernel's p = (1 - F) d/(d - 1), and the values the old inline 4(1 - F)/3 and 2(1 - F) gave."""
    noise = GateNoise.from_memory(memory)
    two, one = memory.two_qubit_gate_fidelity, memory.single_qubit_gate_fidelity
    assert noise.two_qubit_depolarizing == depolarizing_parameter(two, 2) == 4.0 * (1.0 - two) / 3.0
    assert noise.single_qubit_depolarizing == depolarizing_parameter(one, 1) == 2.0 * (1.0 - one)
    assert noise.measurement_flip == 1.0 - memory.measurement_fidelity


def test_the_bundled_presets_hold_memories():
    assert len(MEMORIES) >= 3


@pytest.mark.parametrize("fidelity", [1.0 - 2**-53, 1.0 + 2**-52, 1.0 + 2 * 2**-52])
def test_fidelity_within_rounding_of_one_gives_ideal_gates(fidelity):
    memory = SimpleNamespace(two_qubit_gate_fidelity=fidelity, single_qubit_gate_fidelity=fidelity, measurement_fidelity=1.0)
    assert GateNoise.from_memory(memory).is_ideal


@pytest.mark.parametrize("field,fidelities", [
    ("two_qubit_depolarizing", (1.1, 1.0)),
    ("single_qubit_depolarizing", (1.0, 1.1)),
    ("single_qubit_depolarizing", (1.0, 0.4)),
])
def test_fidelity_outside_the_kernels_range_is_refused_naming_the_field(field, fidelities):
    two, one = fidelities
    memory = SimpleNamespace(two_qubit_gate_fidelity=two, single_qubit_gate_fidelity=one, measurement_fidelity=1.0)
    with pytest.raises(ValueError, match=rf"GateNoise\.{field}.*fidelity must be in"):
        GateNoise.from_memory(memory)
