"""Transducers and frequency converters: efficiency, added noise as an Aer error, bandwidth."""

import math

import pytest
from qiskit.quantum_info import DensityMatrix, Kraus

from qstack.hardware import Transducer


def test_noise_error_excites_vacuum_with_the_thermal_probability():
    t = Transducer(efficiency=0.5, added_noise_photons=0.2)
    n_out = 0.5 * 0.2
    assert t.noise_probability == pytest.approx(n_out / (1 + n_out), rel=1e-12)
    vacuum = DensityMatrix.from_label("0").evolve(Kraus(t.noise_error()))
    assert vacuum.probabilities()[1] == pytest.approx(t.noise_probability, abs=1e-12)
    photon = DensityMatrix.from_label("1").evolve(Kraus(t.noise_error()))
    assert photon.probabilities()[1] == pytest.approx(1.0, abs=1e-12)


def test_noiseless_transducer_adds_nothing_and_loses_one_minus_efficiency():
    t = Transducer(efficiency=0.3)
    assert t.noise_probability == 0.0
    out = DensityMatrix.from_label("1").evolve(Kraus(t.loss_error()))
    assert out.probabilities()[1] == pytest.approx(0.3, abs=1e-12)


def test_bandwidth_sets_the_shortest_attempt():
    assert Transducer(efficiency=1.0, bandwidth_hz=2e6).minimum_attempt_time_s == pytest.approx(5e-7)
    assert Transducer(efficiency=1.0).minimum_attempt_time_s == 0.0


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"efficiency": 1.2}, r"efficiency must be in \[0, 1\]"),
        ({"efficiency": -0.1}, r"efficiency must be in \[0, 1\]"),
        ({"efficiency": 0.5, "added_noise_photons": -1.0}, "added_noise_photons"),
        ({"efficiency": 0.5, "bandwidth_hz": 0.0}, "bandwidth_hz"),
        ({"efficiency": math.nan}, "efficiency"),
    ],
)
def test_bad_values_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=rf"Transducer\.{field}"):
        Transducer(**kwargs)
