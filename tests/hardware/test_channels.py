import math

import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix, Kraus

from qstack.hardware import SPEED_OF_LIGHT_M_PER_S, Channel, Fiber, FreeSpace


@pytest.mark.parametrize("length_km", [0.0, 1.0, 10.0, 50.0, 123.4, 400.0])
def test_fiber_transmissivity_is_ten_to_minus_0_02_per_km_at_default_attenuation(length_km):
    fiber = Fiber(length_km)
    assert fiber.transmissivity == pytest.approx(10 ** (-0.02 * length_km), rel=1e-12)
    assert fiber.loss_db == pytest.approx(0.2 * length_km, rel=1e-12)


@pytest.mark.parametrize("length_km", [0.0, 1.0, 25.0, 100.0])
def test_fiber_delay_is_length_times_index_over_c(length_km):
    fiber = Fiber(length_km)
    assert fiber.delay_s == pytest.approx(length_km * 1e3 * 1.44 / 299_792_458.0, rel=1e-12)
    assert Fiber(length_km, refractive_index=1.0).delay_s == pytest.approx(
        length_km * 1e3 / SPEED_OF_LIGHT_M_PER_S, rel=1e-12
    )


def test_fiber_with_length_keeps_the_other_parameters():
    fiber = Fiber(10.0, attenuation_db_per_km=0.16, refractive_index=1.47)
    longer = fiber.with_length(30.0)
    assert longer == Fiber(30.0, attenuation_db_per_km=0.16, refractive_index=1.47)
    assert fiber.length_km == 10.0
    with pytest.raises(ValueError, match="length_km"):
        fiber.with_length(-5.0)


def test_channels_share_the_channel_interface():
    for channel in (Fiber(5.0), FreeSpace(5.0)):
        assert isinstance(channel, Channel)
        assert isinstance(channel.with_length(7.0), type(channel))
        assert isinstance(channel.transmissivity, float)
        assert isinstance(channel.delay_s, float)


@pytest.mark.parametrize("channel", [Fiber(20.0), FreeSpace(300.0), Fiber(0.0)])
def test_loss_error_keeps_the_photon_with_probability_transmissivity(channel):
    photon = DensityMatrix.from_label("1")
    out = photon.evolve(Kraus(channel.loss_error()))
    assert out.probabilities()[1] == pytest.approx(channel.transmissivity, abs=1e-12)
    # coherence between vacuum and photon decays as sqrt(eta), as amplitude damping does
    plus = DensityMatrix.from_label("+").evolve(Kraus(channel.loss_error()))
    assert abs(plus.data[0, 1]) == pytest.approx(0.5 * math.sqrt(channel.transmissivity), abs=1e-12)


def test_free_space_far_field_loss_grows_as_length_squared():
    link = FreeSpace(2000.0)  # z_R ~ 5 km for the defaults, so 2000 km is deep far field
    ratio = link.transmissivity / link.with_length(4000.0).transmissivity
    assert ratio == pytest.approx(4.0, rel=0.01)


def test_free_space_near_field_is_not_inverse_square():
    link = FreeSpace(0.1)
    ratio = link.transmissivity / link.with_length(0.2).transmissivity
    assert ratio < 1.5


def test_free_space_transmissivity_decreases_with_length():
    # near the transmitter the aperture (0.5 m) catches the whole 5 cm beam: eta = 1 there
    assert FreeSpace(0.0).transmissivity == FreeSpace(1.0).transmissivity == 1.0
    values = [FreeSpace(length).transmissivity for length in (30.0, 60.0, 100.0, 300.0, 1000.0)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_free_space_matches_gaussian_beam_formula():
    link = FreeSpace(500.0, wavelength_m=800e-9, beam_waist_m=0.1, receiver_aperture_radius_m=0.3)
    z_r = math.pi * 0.1**2 / 800e-9
    w = 0.1 * math.sqrt(1 + (500e3 / z_r) ** 2)
    assert link.transmissivity == pytest.approx(1 - math.exp(-2 * 0.3**2 / w**2), rel=1e-12)


def test_free_space_atmospheric_and_pointing_factors_multiply():
    vacuum = FreeSpace(10.0)
    lossy = FreeSpace(10.0, atmospheric_attenuation_db_per_km=0.07, pointing_efficiency=0.5)
    expected = vacuum.transmissivity * 10 ** (-0.07 * 10.0 / 10) * 0.5
    assert lossy.transmissivity == pytest.approx(expected, rel=1e-12)
    assert lossy.loss_db == pytest.approx(-10 * math.log10(expected), rel=1e-12)


@pytest.mark.parametrize("length_km", [0.0, 10.0, 1200.0])
def test_free_space_delay_uses_speed_of_light(length_km):
    assert FreeSpace(length_km).delay_s == pytest.approx(length_km * 1e3 / 299_792_458.0, rel=1e-12)


def test_zero_transmissivity_has_infinite_loss_db():
    assert FreeSpace(10.0, pointing_efficiency=0.0).loss_db == math.inf


def test_negative_fiber_length_message():
    with pytest.raises(ValueError, match=r"^Fiber\.length_km must be >= 0, got -1\.0$"):
        Fiber(-1.0)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"length_km": -1.0}, "length_km"),
        ({"length_km": 1.0, "attenuation_db_per_km": -0.1}, "attenuation_db_per_km"),
        ({"length_km": 1.0, "refractive_index": 0.9}, "refractive_index"),
        ({"length_km": math.nan}, "length_km"),
        ({"length_km": math.inf}, "length_km"),
        ({"length_km": "10"}, "length_km"),
    ],
)
def test_fiber_rejects_bad_values(kwargs, field):
    with pytest.raises(ValueError, match=rf"Fiber\.{field}"):
        Fiber(**kwargs)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"length_km": -3.0}, "length_km"),
        ({"length_km": 1.0, "wavelength_m": 0.0}, "wavelength_m"),
        ({"length_km": 1.0, "beam_waist_m": -0.1}, "beam_waist_m"),
        ({"length_km": 1.0, "receiver_aperture_radius_m": 0.0}, "receiver_aperture_radius_m"),
        ({"length_km": 1.0, "atmospheric_attenuation_db_per_km": -1.0}, "atmospheric_attenuation_db_per_km"),
        ({"length_km": 1.0, "pointing_efficiency": 1.2}, "pointing_efficiency"),
    ],
)
def test_free_space_rejects_bad_values(kwargs, field):
    with pytest.raises(ValueError, match=rf"FreeSpace\.{field}"):
        FreeSpace(**kwargs)


def test_channels_are_frozen():
    fiber = Fiber(1.0)
    with pytest.raises(AttributeError):
        fiber.length_km = 2.0  # type: ignore[misc]


def test_values_are_plain_floats():
    fiber = Fiber(np.float64(3.0))
    assert type(fiber.length_km) is float
    assert type(fiber.transmissivity) is float
    assert type(FreeSpace(3).delay_s) is float
