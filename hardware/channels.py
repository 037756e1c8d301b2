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

from qiskit_aer.noise import QuantumError, amplitude_damping_error

from ._validation import finite_at_least, non_negative, positive, probability

SPEED_OF_LIGHT_M_PER_S = 299_792_458.0
"""Speed of light in vacuum [m/s] (exact, SI definition of the metre)."""


class Channel(abc.ABC):
    """What every photonic channel offers; :class:`Fiber` and :class:`FreeSpace` implement it.

    Subclasses are frozen dataclasses with a ``length_km`` field.
    """

    length_km: float

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
    """Free-space optical link: Gaussian-beam diffraction, atmospheric attenuation, pointing.

    The transmitter emits a Gaussian beam with waist radius ``w0`` (1/e^2 intensity radius);
    after a distance ``L`` its radius is

        ``w(L) = w0 sqrt(1 + (L / z_R)**2)``,  ``z_R = pi w0**2 / lambda``  [m],

    and a circular receiver aperture of radius ``a`` collects the fraction

        ``eta_diff = 1 - exp(-2 a**2 / w(L)**2)``  [dimensionless].

    The transmissivity is ``eta = eta_diff * 10**(-att * L_km / 10) * pointing_efficiency``; in
    the far field (``L >> z_R``, ``a << w``) ``eta_diff ~ 2 a**2 z_R**2 / (w0**2 L**2)``, so loss
    grows as ``L**2`` rather than exponentially as in fibre. The delay is ``L / c``.

    Args:
        length_km: link length [km], >= 0.
        wavelength_m: optical wavelength [m], > 0.
        beam_waist_m: transmitter beam waist radius ``w0`` [m], > 0.
        receiver_aperture_radius_m: receiver aperture radius ``a`` [m], > 0.
        atmospheric_attenuation_db_per_km: attenuation along the whole path [dB/km], >= 0.
            0 for a vacuum path (the part of a satellite link above the atmosphere). For a
            horizontal ground link, the visibility model of Kim, McArthur & Korevaar
            (Proc. SPIE 4214, 26 (2001)), ``3.91/V (lambda/550 nm)**-q`` [1/km], gives about
            0.07 dB/km at 1550 nm for very clear air (V = 50 km, q = 1.6) and about 0.2 dB/km
            for clear air (V = 23 km, q = 1.3).
        pointing_efficiency: extra transmission factor for pointing jitter and any losses not
            modelled above (telescope optics, turbulence), in [0, 1].
    """

    length_km: float
    wavelength_m: float = 1550e-9
    beam_waist_m: float = 0.05
    receiver_aperture_radius_m: float = 0.5
    atmospheric_attenuation_db_per_km: float = 0.0
    pointing_efficiency: float = 1.0

    def __post_init__(self) -> None:
        owner = type(self).__name__
        checks = {
            "length_km": non_negative,
            "wavelength_m": positive,
            "beam_waist_m": positive,
            "receiver_aperture_radius_m": positive,
            "atmospheric_attenuation_db_per_km": non_negative,
            "pointing_efficiency": probability,
        }
        for field, check in checks.items():
            object.__setattr__(self, field, check(owner, field, getattr(self, field)))

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
    def diffraction_efficiency(self) -> float:
        """Collected fraction ``1 - exp(-2 a**2 / w(L)**2)`` [dimensionless]."""
        # -expm1 keeps precision in the far field where the fraction is tiny.
        return float(-math.expm1(-2.0 * self.receiver_aperture_radius_m**2 / self.beam_radius_m**2))

    @property
    def transmissivity(self) -> float:
        """``eta_diff * 10**(-att * L / 10) * pointing_efficiency`` [dimensionless]."""
        atmospheric = 10.0 ** (-self.atmospheric_attenuation_db_per_km * self.length_km / 10.0)
        return float(self.diffraction_efficiency * atmospheric * self.pointing_efficiency)

    @property
    def delay_s(self) -> float:
        """``length_km * 1e3 / c`` [s] (refractive index of the path taken as 1)."""
        return float(self.length_km * 1e3 / SPEED_OF_LIGHT_M_PER_S)

    def with_length(self, length_km: float) -> FreeSpace:
        """The same link with another length [km]."""
        return dataclasses.replace(self, length_km=length_km)
