"""Interfaces between technologies: quantum transducers and frequency converters.

A superconducting processor speaks microwave photons (GHz), a trapped ion or an NV centre emits
visible or near-infrared photons, and the network carries telecom photons (1550 nm). Between a
node's memory and the fibre sits a converter that

* passes a photon with probability ``efficiency`` (it is a loss, like the channel's);
* adds noise photons: ``added_noise_photons`` is the mean number of noise photons per mode
  referred to the input (the figure transducer papers quote, ``N_add``), so the output carries on
  average ``n_out = efficiency * N_add`` noise photons per mode, thermal, hence at least one with
  probability ``p_noise = n_out / (1 + n_out)``;
* has a bandwidth ``B``: a photon shorter than about ``1/B`` is not converted, so an attempt
  through it lasts at least ``1/B`` [s] and attempts repeat at most at rate ``B``.

On a photon-number qubit (``|0>`` vacuum, ``|1>`` a photon) the noise is an excitation
``|0> -> |1>`` with probability ``p_noise`` (a threshold detector cannot tell a noise photon from
a signal photon; Kraus operators ``[[sqrt(1-p), 0], [0, 1]]`` and ``[[0, 0], [sqrt(p), 0]]``),
Aer's generalized amplitude damping with excited-state population 1 (:meth:`noise_error`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qiskit_aer.noise import QuantumError, amplitude_damping_error

from ._validation import non_negative, positive, probability


@dataclass(frozen=True)
class Transducer:
    """A quantum transducer or frequency converter between a node's memory and the channel.

    Args:
        efficiency: probability that a photon entering it leaves it converted, in [0, 1]
            (total device efficiency, including fibre coupling and filtering).
        added_noise_photons: mean noise photons per mode referred to the input, ``N_add``,
            >= 0.
        bandwidth_hz: conversion bandwidth [Hz], > 0 (``math.inf`` for none).
        input_wavelength_nm: wavelength it accepts [nm], > 0 (informative).
        output_wavelength_nm: wavelength it emits [nm], > 0 (informative).
    """

    efficiency: float
    added_noise_photons: float = 0.0
    bandwidth_hz: float = math.inf
    input_wavelength_nm: float = 637.0
    output_wavelength_nm: float = 1550.0

    def __post_init__(self) -> None:
        owner = type(self).__name__
        object.__setattr__(self, "efficiency", probability(owner, "efficiency", self.efficiency))
        object.__setattr__(
            self, "added_noise_photons", non_negative(owner, "added_noise_photons", self.added_noise_photons)
        )
        object.__setattr__(
            self, "bandwidth_hz", positive(owner, "bandwidth_hz", self.bandwidth_hz, allow_inf=True)
        )
        for field in ("input_wavelength_nm", "output_wavelength_nm"):
            object.__setattr__(self, field, positive(owner, field, getattr(self, field)))

    @property
    def output_noise_photons(self) -> float:
        """``n_out = efficiency * added_noise_photons`` [photons per mode]."""
        return float(self.efficiency * self.added_noise_photons)

    @property
    def noise_probability(self) -> float:
        """``p_noise = n_out / (1 + n_out)``: at least one thermal noise photon at the output."""
        n_out = self.output_noise_photons
        return float(n_out / (1.0 + n_out))

    @property
    def minimum_attempt_time_s(self) -> float:
        """``1 / bandwidth_hz`` [s]: the shortest photon, hence attempt, it converts (0 if
        the bandwidth is unlimited)."""
        return 0.0 if math.isinf(self.bandwidth_hz) else float(1.0 / self.bandwidth_hz)

    def noise_error(self) -> QuantumError:
        """Excitation ``|0> -> |1>`` with probability ``p_noise`` on a photon-number qubit."""
        return amplitude_damping_error(self.noise_probability, excited_state_population=1.0)

    def loss_error(self) -> QuantumError:
        """Photon loss as amplitude damping with ``gamma = 1 - efficiency``."""
        return amplitude_damping_error(1.0 - self.efficiency)
