"""Photonic channels: optical fibre and free-space (satellite or ground) links.

A channel carries one photon from its input to its output. It is described by three things:
its transmissivity ``eta`` (the probability that a photon entering it leaves it), its delay and
its loss as a quantum channel. With the photon-presence encoding ``|0> = vacuum``,
``|1> = one photon``, losing the photon with probability ``1 - eta`` is exactly amplitude damping
with ``gamma = 1 - eta`` (Nielsen & Chuang, *Quantum Computation and Quantum Information*,
Sec. 8.3.5), which is what :meth:`Channel.loss_error` returns.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

from qiskit_aer.noise import QuantumError, amplitude_damping_error

from ._validation import as_real, finite_at_least, non_negative, positive, probability

SPEED_OF_LIGHT_M_PER_S = 299_792_458.0
"""Speed of light in vacuum [m/s] (exact, SI definition of the metre)."""


class Channel(abc.ABC):
    """What every photonic channel offers; :class:`Fiber` and :class:`FreeSpace` implement it.

    Subclasses are frozen dataclasses with a ``length_km`` field.
    """

    length_km: float
    kind: ClassVar[str]
    """``"fiber"`` or ``"free_space"`` (for reports)."""

    @property
    @abc.abstractmethod
    def transmissivity(self) -> float:
        """Probability ``eta`` that a photon entering the channel leaves it [dimensionless]."""

    @property
    @abc.abstractmethod
    def delay_s(self) -> float:
        """Propagation time from input to output [s]."""

    @property
    def loss_db(self) -> float:
        """Loss ``-10 log10(eta)`` [dB]; ``inf`` when nothing gets through."""
        eta = self.transmissivity
        return math.inf if eta <= 0.0 else float(-10.0 * math.log10(eta))

    @property
    def background_probability(self) -> float:
        """Probability of a background (stray-light) click per detection window; 0 unless the
        channel collects light from outside, as a free-space link does."""
        return 0.0

    def loss_error(self) -> QuantumError:
        """Photon loss as amplitude damping with ``gamma = 1 - eta`` (|1> = photon, |0> = vacuum)."""
        return amplitude_damping_error(1.0 - self.transmissivity)

    def with_length(self, length_km: float) -> Channel:
        """The same channel with another length [km] (validated like the constructor)."""
        return dataclasses.replace(self, length_km=length_km)


@dataclass(frozen=True)
class Fiber(Channel):
    """Optical fibre.

    ``loss_db = attenuation_db_per_km * length_km`` [dB],
    ``eta = 10**(-loss_db / 10)`` [dimensionless],
    ``delay_s = length_km * 1e3 * refractive_index / c`` [s].

    Args:
        length_km: fibre length [km], >= 0.
        attenuation_db_per_km: attenuation [dB/km], >= 0. The default 0.2 dB/km is standard
            single-mode fibre at 1550 nm (ITU-T G.652; Corning SMF-28).
        refractive_index: (group) refractive index [dimensionless], >= 1; the speed of a photon
            in the fibre is ``c / refractive_index``.
    """

    kind: ClassVar[str] = "fiber"
    length_km: float
    attenuation_db_per_km: float = 0.2
    refractive_index: float = 1.44

    def __post_init__(self) -> None:
        owner = type(self).__name__
        object.__setattr__(self, "length_km", non_negative(owner, "length_km", self.length_km))
        object.__setattr__(
            self,
            "attenuation_db_per_km",
            non_negative(owner, "attenuation_db_per_km", self.attenuation_db_per_km),
        )
        object.__setattr__(
            self,
            "refractive_index",
            finite_at_least(owner, "refractive_index", self.refractive_index, 1.0),
        )

    @property
    def loss_db(self) -> float:
        """``attenuation_db_per_km * length_km`` [dB]."""
        return float(self.attenuation_db_per_km * self.length_km)

    @property
    def transmissivity(self) -> float:
        """``10**(-attenuation_db_per_km * length_km / 10)`` [dimensionless]."""
        return float(10.0 ** (-self.loss_db / 10.0))

    @property
    def delay_s(self) -> float:
        """``length_km * 1e3 * refractive_index / c`` [s]."""
        return float(self.length_km * 1e3 * self.refractive_index / SPEED_OF_LIGHT_M_PER_S)

    def with_length(self, length_km: float) -> Fiber:
        """The same fibre with another length [km]."""
        return dataclasses.replace(self, length_km=length_km)


@dataclass(frozen=True)
class FreeSpace(Channel):
    """Free-space optical link (ground-to-ground or satellite): Gaussian-beam diffraction with
    apertures, pointing jitter, atmospheric transmittance by elevation, background light.

    The transmitter emits a Gaussian beam with waist radius ``w0`` (1/e^2 intensity radius);
    after a distance ``L`` its radius is

        ``w(L) = w0 sqrt(1 + (L / z_R)**2)``,  ``z_R = pi w0**2 / lambda``  [m],

    and a circular receiver aperture of radius ``a`` collects the fraction

        ``eta_diff = 1 - exp(-2 a**2 / w(L)**2)``  [dimensionless].

    Pointing jitter of rms angle ``sigma`` per axis moves the beam centre at the receiver by a
    Gaussian offset of rms ``s = sigma L`` per axis. Averaged over it, the intensity profile is
    again Gaussian with ``W**2 = w(L)**2 + 4 s**2`` (a convolution of Gaussians), so the mean
    collected fraction is exactly ``1 - exp(-2 a**2 / W**2)``; with ``sigma = 0`` it is
    ``eta_diff``.

    The atmosphere: a horizontal attenuation ``att`` [dB/km] along the whole path (ground
    links), and for a slant path through the atmosphere at elevation ``e`` the zenith
    transmittance ``T_zen`` raised to the air mass ``1/sin(e)`` (plane-parallel atmosphere,
    Beer-Lambert; Bourgoin et al., New J. Phys. 15, 023006 (2013)). So

        ``eta = (1 - exp(-2 a**2 / W**2)) * 10**(-att L_km / 10) * T_zen**(1/sin e)
        * pointing_efficiency``.

    In the far field (``L >> z_R``, ``a << W``) ``eta ~ 2 a**2 z_R**2 / (w0**2 L**2)``: loss
    grows as ``L**2`` rather than exponentially as in fibre. The delay is ``L / c`` (vacuum
    speed, faster than fibre's ``c / n``).

    Background light (sky, moon, sun by day) reaches the detectors as counts at
    ``background_count_rate_hz``; in a detection window ``tau`` a background click happens with
    ``p_bg = 1 - exp(-rate * tau)`` (:attr:`background_probability`), which the physical layer
    adds to the detectors' dark counts.

    Args:
        length_km: link length [km], >= 0 (for a satellite, the slant range; see
            :func:`slant_range_km` and :meth:`at_elevation`).
        wavelength_m: optical wavelength [m], > 0.
        beam_waist_m: transmitter beam waist radius ``w0`` [m], > 0.
        receiver_aperture_radius_m: receiver aperture radius ``a`` [m], > 0.
        atmospheric_attenuation_db_per_km: attenuation along the whole path [dB/km], >= 0.
            0 for a vacuum path or when the atmosphere is given by ``zenith_transmittance``.
            For a horizontal ground link, the visibility model of Kim, McArthur & Korevaar
            (Proc. SPIE 4214, 26 (2001)), ``3.91/V (lambda/550 nm)**-q`` [1/km], gives about
            0.07 dB/km at 1550 nm for very clear air (V = 50 km, q = 1.6) and about 0.2 dB/km
            for clear air (V = 23 km, q = 1.3).
        pointing_efficiency: extra transmission factor for losses not modelled above
            (telescope optics, turbulence, coupling), in [0, 1].
        pointing_jitter_rad: rms pointing error per axis ``sigma`` [rad], >= 0.
        elevation_deg: elevation of the line of sight above the horizon [deg], in (0, 90];
            only matters when ``zenith_transmittance < 1``.
        zenith_transmittance: transmittance of the whole atmosphere straight up, in [0, 1]
            (1: no atmosphere in the path).
        background_count_rate_hz: background counts at the receiver's detectors [Hz], >= 0.
        detection_window_s: detection window ``tau`` [s], > 0.
    """

    kind: ClassVar[str] = "free_space"
    length_km: float
    wavelength_m: float = 1550e-9
    beam_waist_m: float = 0.05
    receiver_aperture_radius_m: float = 0.5
    atmospheric_attenuation_db_per_km: float = 0.0
    pointing_efficiency: float = 1.0
    pointing_jitter_rad: float = 0.0
    elevation_deg: float = 90.0
    zenith_transmittance: float = 1.0
    background_count_rate_hz: float = 0.0
    detection_window_s: float = 1e-9

    def __post_init__(self) -> None:
        owner = type(self).__name__
        checks = {
            "length_km": non_negative,
            "wavelength_m": positive,
            "beam_waist_m": positive,
            "receiver_aperture_radius_m": positive,
            "atmospheric_attenuation_db_per_km": non_negative,
            "pointing_efficiency": probability,
            "pointing_jitter_rad": non_negative,
            "zenith_transmittance": probability,
            "background_count_rate_hz": non_negative,
            "detection_window_s": positive,
        }
        for field, check in checks.items():
            object.__setattr__(self, field, check(owner, field, getattr(self, field)))
        object.__setattr__(self, "elevation_deg", _elevation_deg(owner, self.elevation_deg))

    @property
    def rayleigh_range_m(self) -> float:
        """``z_R = pi w0**2 / lambda`` [m]."""
        return float(math.pi * self.beam_waist_m**2 / self.wavelength_m)

    @property
    def beam_radius_m(self) -> float:
        """Beam radius at the receiver ``w(L) = w0 sqrt(1 + (L/z_R)**2)`` [m]."""
        ratio = self.length_km * 1e3 / self.rayleigh_range_m
        return float(self.beam_waist_m * math.sqrt(1.0 + ratio**2))

    @property
    def long_term_beam_radius_m(self) -> float:
        """``W = sqrt(w(L)**2 + 4 (sigma L)**2)`` [m]: the beam averaged over pointing jitter."""
        offset = self.pointing_jitter_rad * self.length_km * 1e3
        return float(math.sqrt(self.beam_radius_m**2 + 4.0 * offset**2))

    def _collected_fraction(self, beam_radius_m: float) -> float:
        """``1 - exp(-2 a**2 / w**2)``: fraction of a centred Gaussian beam of radius ``w`` [m]
        inside the aperture."""
        # -expm1 keeps precision in the far field where the fraction is tiny.
        return float(-math.expm1(-2.0 * self.receiver_aperture_radius_m**2 / beam_radius_m**2))

    @property
    def diffraction_efficiency(self) -> float:
        """Collected fraction without jitter, ``1 - exp(-2 a**2 / w(L)**2)`` [dimensionless]."""
        return self._collected_fraction(self.beam_radius_m)

    @property
    def collection_efficiency(self) -> float:
        """Mean collected fraction with jitter, ``1 - exp(-2 a**2 / W**2)`` [dimensionless]."""
        return self._collected_fraction(self.long_term_beam_radius_m)

    @property
    def atmospheric_transmittance(self) -> float:
        """``10**(-att L / 10) * T_zen**(1 / sin(elevation))`` [dimensionless]."""
        horizontal = 10.0 ** (-self.atmospheric_attenuation_db_per_km * self.length_km / 10.0)
        air_mass = 1.0 / math.sin(math.radians(self.elevation_deg))
        return float(horizontal * self.zenith_transmittance**air_mass)

    @property
    def transmissivity(self) -> float:
        """``collection_efficiency * atmospheric_transmittance * pointing_efficiency``."""
        return float(self.collection_efficiency * self.atmospheric_transmittance * self.pointing_efficiency)

    @property
    def background_probability(self) -> float:
        """``1 - exp(-background_count_rate_hz * detection_window_s)`` per detection window."""
        return float(-math.expm1(-self.background_count_rate_hz * self.detection_window_s))

    @property
    def delay_s(self) -> float:
        """``length_km * 1e3 / c`` [s] (refractive index of the path taken as 1)."""
        return float(self.length_km * 1e3 / SPEED_OF_LIGHT_M_PER_S)

    def with_length(self, length_km: float) -> FreeSpace:
        """The same link with another length [km]."""
        return dataclasses.replace(self, length_km=length_km)

    def at_elevation(self, elevation_deg: float, altitude_km: float) -> FreeSpace:
        """The same link to a satellite at ``altitude_km`` seen at ``elevation_deg``: the length
        becomes the slant range (:func:`slant_range_km`)."""
        return dataclasses.replace(
            self, elevation_deg=elevation_deg, length_km=slant_range_km(altitude_km, elevation_deg)
        )


EARTH_RADIUS_KM = 6371.0
"""Mean Earth radius [km] (IUGG)."""


def slant_range_km(altitude_km: float, elevation_deg: float, earth_radius_km: float = EARTH_RADIUS_KM) -> float:
    """Distance from a ground station to a satellite at ``altitude_km`` seen at ``elevation_deg``
    above the horizon [km]:

        ``L = sqrt((R + h)**2 - (R cos e)**2) - R sin e``

    (law of cosines in the triangle Earth centre, station, satellite; ``L = h`` at zenith).
    """
    h = non_negative("slant_range_km", "altitude_km", altitude_km)
    e = _elevation_deg("slant_range_km", elevation_deg)
    r = positive("slant_range_km", "earth_radius_km", earth_radius_km)
    rad = math.radians(e)
    return float(math.sqrt((r + h) ** 2 - (r * math.cos(rad)) ** 2) - r * math.sin(rad))


def _elevation_deg(owner: str, value: object) -> float:
    """Validated elevation above the horizon [deg], in ``(0, 90]``."""
    elevation = as_real(owner, "elevation_deg", value)
    if not 0.0 < elevation <= 90.0:
        raise ValueError(f"{owner}.elevation_deg must be in (0, 90] (above the horizon), got {elevation!r}")
    return elevation
