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


@pytest.mark.parametrize("length_km, waist, aperture", [(10.0, 0.05, 0.5), (400.0, 0.1, 0.3), (1200.0, 0.05, 0.6)])
def test_free_space_without_atmosphere_follows_the_gaussian_beam_formula(length_km, waist, aperture):
    link = FreeSpace(length_km, wavelength_m=810e-9, beam_waist_m=waist, receiver_aperture_radius_m=aperture)
    w = waist * math.sqrt(1 + (length_km * 1e3 * 810e-9 / (math.pi * waist**2)) ** 2)
    assert link.transmissivity == pytest.approx(1 - math.exp(-2 * aperture**2 / w**2), rel=1e-12)


def test_pointing_jitter_widens_the_mean_beam_by_four_sigma_l_squared():
    still = FreeSpace(500.0, wavelength_m=810e-9, beam_waist_m=0.05, receiver_aperture_radius_m=0.6)
    shaky = FreeSpace(500.0, wavelength_m=810e-9, beam_waist_m=0.05, receiver_aperture_radius_m=0.6,
                      pointing_jitter_rad=2e-6)
    big_w2 = still.beam_radius_m**2 + 4 * (2e-6 * 500e3) ** 2
    assert shaky.transmissivity == pytest.approx(1 - math.exp(-2 * 0.6**2 / big_w2), rel=1e-12)
    assert shaky.transmissivity < still.transmissivity


def test_pointing_jitter_mean_matches_a_monte_carlo_over_beam_offsets():
    # Sampled Gaussian offsets, collected fraction of an offset Gaussian beam by numerical
    # integration over the aperture: independent of the closed form used by the model.
    rng = np.random.default_rng(3)
    link = FreeSpace(300.0, wavelength_m=810e-9, beam_waist_m=0.05, receiver_aperture_radius_m=1.0,
                     pointing_jitter_rad=3e-6)
    w, a, s = link.beam_radius_m, 1.0, 3e-6 * 300e3
    r = np.linspace(0, a, 400)
    phi = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    rr, pp = np.meshgrid(r, phi, indexing="ij")
    fractions = []
    for dx, dy in rng.normal(0, s, size=(400, 2)):
        intensity = 2 / (np.pi * w**2) * np.exp(-2 * ((rr * np.cos(pp) - dx) ** 2 + (rr * np.sin(pp) - dy) ** 2) / w**2)
        fractions.append(np.trapezoid(np.mean(intensity, axis=1) * 2 * np.pi * r, r))
    fractions = np.array(fractions)
    tolerance = 4 * fractions.std() / math.sqrt(len(fractions)) + 1e-3
    assert link.transmissivity == pytest.approx(fractions.mean(), abs=tolerance)


@pytest.mark.parametrize("elevation", [90.0, 60.0, 30.0, 15.0])
def test_atmosphere_by_elevation_is_zenith_transmittance_to_the_air_mass(elevation):
    vacuum = FreeSpace(800.0, elevation_deg=elevation)
    air = FreeSpace(800.0, elevation_deg=elevation, zenith_transmittance=0.8)
    assert air.transmissivity / vacuum.transmissivity == pytest.approx(0.8 ** (1 / math.sin(math.radians(elevation))), rel=1e-12)


def test_slant_range_is_the_altitude_at_zenith_and_grows_towards_the_horizon():
    from qstack.hardware import slant_range_km

    assert slant_range_km(500.0, 90.0) == pytest.approx(500.0, rel=1e-12)
    ranges = [slant_range_km(500.0, e) for e in (90.0, 60.0, 30.0, 10.0)]
    assert all(a < b for a, b in zip(ranges, ranges[1:]))
    # law of cosines check at 30 degrees
    r, h, e = 6371.0, 500.0, math.radians(30.0)
    d = ranges[2]
    assert (r + h) ** 2 == pytest.approx(r**2 + d**2 + 2 * r * d * math.sin(e), rel=1e-12)
    link = FreeSpace(1.0).at_elevation(30.0, 500.0)
    assert link.length_km == pytest.approx(d) and link.elevation_deg == 30.0


def test_background_probability_per_window():
    link = FreeSpace(10.0, background_count_rate_hz=1e4, detection_window_s=1e-9)
    assert link.background_probability == pytest.approx(1 - math.exp(-1e-5), rel=1e-12)
    assert Fiber(10.0).background_probability == 0.0 and FreeSpace(10.0).background_probability == 0.0


def test_free_space_is_faster_than_fibre_of_the_same_length():
    assert FreeSpace(100.0).delay_s < Fiber(100.0).delay_s
    assert Fiber(100.0).delay_s / FreeSpace(100.0).delay_s == pytest.approx(1.44, rel=1e-12)
    assert FreeSpace(1.0).kind == "free_space" and Fiber(1.0).kind == "fiber"


@pytest.mark.parametrize("elevation", [0.0, -5.0, 95.0])
def test_elevation_below_the_horizon_is_rejected(elevation):
    with pytest.raises(ValueError, match=r"FreeSpace\.elevation_deg must be in \(0, 90\]"):
        FreeSpace(10.0, elevation_deg=elevation)
    with pytest.raises(ValueError, match="elevation_deg"):
        FreeSpace(10.0).at_elevation(elevation, 500.0)


@pytest.mark.parametrize(
    "kwargs, field",
    [({"pointing_jitter_rad": -1e-6}, "pointing_jitter_rad"), ({"zenith_transmittance": 1.5}, "zenith_transmittance"),
     ({"background_count_rate_hz": -1.0}, "background_count_rate_hz"), ({"detection_window_s": 0.0}, "detection_window_s")],
)
def test_free_space_rejects_bad_new_values(kwargs, field):
    with pytest.raises(ValueError, match=rf"FreeSpace\.{field}"):
        FreeSpace(10.0, **kwargs)
