import math

import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix, Kraus, Statevector, state_fidelity

from qstack.hardware import Detector, Emitter, PairSource

PHI_PLUS = Statevector(np.array([1, 0, 0, 1]) / math.sqrt(2))


def _fidelity_after(error) -> float:
    qargs = [0] if error.num_qubits == 1 else None  # an emitter's error acts on the spin only
    return float(state_fidelity(DensityMatrix(PHI_PLUS).evolve(Kraus(error), qargs=qargs), PHI_PLUS))


@pytest.mark.parametrize("fidelity", [1.0, 0.97, 0.9, 0.6, 0.25])
def test_emitter_emission_error_has_the_emitted_state_fidelity(fidelity):
    emitter = Emitter(emission_time_s=5e-6, emitted_state_fidelity=fidelity)
    assert emitter.emission_error().num_qubits == 1
    assert _fidelity_after(emitter.emission_error()) == pytest.approx(fidelity, abs=1e-12)


@pytest.mark.parametrize("fidelity", [1.0, 0.9885, 0.8])
def test_pair_source_emission_error_has_the_emitted_state_fidelity(fidelity):
    source = PairSource(0.01, 80e6, emitted_state_fidelity=fidelity)
    assert _fidelity_after(source.emission_error()) == pytest.approx(fidelity, abs=1e-12)


def test_photon_efficiency_is_the_product_of_the_three_efficiencies():
    emitter = Emitter(
        emission_time_s=1e-6,
        emission_probability=0.5,
        collection_efficiency=0.2,
        conversion_efficiency=0.3,
    )
    assert emitter.photon_efficiency == pytest.approx(0.03, rel=1e-12)
    assert emitter.attempt_time_s == 1e-6


def test_pair_source_attempt_time_is_inverse_repetition_rate():
    assert PairSource(0.05, 31.1e6).attempt_time_s == pytest.approx(1 / 31.1e6, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"emission_time_s": 0.0}, "emission_time_s"),
        ({"emission_time_s": 1e-6, "emission_probability": 1.2}, "emission_probability"),
        ({"emission_time_s": 1e-6, "collection_efficiency": -0.01}, "collection_efficiency"),
        ({"emission_time_s": 1e-6, "conversion_efficiency": 2.0}, "conversion_efficiency"),
        ({"emission_time_s": 1e-6, "wavelength_nm": 0.0}, "wavelength_nm"),
        ({"emission_time_s": 1e-6, "emitted_state_fidelity": 0.2}, "emitted_state_fidelity"),
        ({"emission_time_s": 1e-6, "photon_indistinguishability": 1.01}, "photon_indistinguishability"),
    ],
)
def test_emitter_rejects_bad_values(kwargs, field):
    with pytest.raises(ValueError, match=rf"Emitter\.{field}"):
        Emitter(**kwargs)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"pair_probability": 0.0, "repetition_rate_hz": 1e6}, "pair_probability"),
        ({"pair_probability": 1.5, "repetition_rate_hz": 1e6}, "pair_probability"),
        ({"pair_probability": 0.1, "repetition_rate_hz": 0.0}, "repetition_rate_hz"),
        ({"pair_probability": 0.1, "repetition_rate_hz": 1e6, "collection_efficiency": 1.1}, "collection_efficiency"),
        ({"pair_probability": 0.1, "repetition_rate_hz": 1e6, "emitted_state_fidelity": 1.1}, "emitted_state_fidelity"),
    ],
)
def test_pair_source_rejects_bad_values(kwargs, field):
    with pytest.raises(ValueError, match=rf"PairSource\.{field}"):
        PairSource(**kwargs)


def test_detector_click_probability_combines_efficiency_and_dark_counts():
    detector = Detector(efficiency=0.8, dark_count_probability=1e-3)
    assert detector.click_probability(0.5) == pytest.approx(1 - (1 - 0.4) * (1 - 1e-3), rel=1e-12)
    assert detector.click_probability(0.0) == pytest.approx(1e-3, rel=1e-12)
    assert Detector().click_probability(1.0) == 1.0


def test_detector_efficiency_message():
    with pytest.raises(ValueError, match=r"^Detector\.efficiency must be in \[0, 1\], got 1\.2$"):
        Detector(efficiency=1.2)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"dark_count_probability": -0.1}, "dark_count_probability"),
        ({"dark_count_probability": 1.1}, "dark_count_probability"),
        ({"dead_time_s": -1e-9}, "dead_time_s"),
        ({"number_resolving": 1}, "number_resolving"),
    ],
)
def test_detector_rejects_bad_values(kwargs, field):
    with pytest.raises(ValueError, match=rf"Detector\.{field}"):
        Detector(**kwargs)


def test_double_excitation_dephases_a_bright_spin_by_sqrt_one_minus_p_and_spares_a_dark_one():
    error = Emitter(emission_time_s=1e-6, double_excitation_probability=0.19).double_excitation_error()
    plus = DensityMatrix(np.full((2, 2), 0.5)).evolve(error.to_quantumchannel()).data
    assert plus[0, 1] == pytest.approx(0.5 * np.sqrt(1 - 0.19), abs=1e-12)
    assert plus[1, 1] == pytest.approx(0.5, abs=1e-12)  # populations kept
    dark = DensityMatrix(np.diag([1.0, 0.0])).evolve(error.to_quantumchannel()).data
    np.testing.assert_allclose(dark, np.diag([1.0, 0.0]), atol=1e-12)


def test_bundled_detectors_are_threshold_detectors_and_an_override_makes_one_count():
    from qstack.hardware import list_presets, load_preset

    detectors = {name: load_preset(name).detector for name in list_presets() if load_preset(name).detector}
    assert detectors and all(d.number_resolving is False for d in detectors.values())
    counting = load_preset("nv_centre", {"detector.number_resolving": True})
    assert counting.detector.number_resolving is True
    assert counting.sources["detector.number_resolving"] == "override"
