"""Photon sources: a matter emitter entangled with its photon, and an SPDC pair source.

Both expose ``attempt_time_s`` (the time one attempt occupies) and ``emission_error()``, the
noise on the ideally maximally entangled two-qubit state they emit (spin-photon for
:class:`Emitter`, photon-photon for :class:`PairSource`). That noise is modelled as two-qubit
depolarizing noise whose fidelity to the ideal pure state is ``emitted_state_fidelity``:
``rho -> (1 - p) rho + p I/4`` has ``F = 1 - 3p/4``, so ``p = 4 (1 - F) / 3`` and
``F`` ranges over ``[1/4, 1]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qiskit_aer.noise import QuantumError, depolarizing_error, phase_damping_error

from ._noise import check_fidelity, depolarizing_error_for_fidelity, depolarizing_parameter
from ._validation import as_real, positive, probability


@dataclass(frozen=True)
class Emitter:
    """A single quantum emitter (NV centre, trapped ion, quantum dot) that emits a photon
    entangled with its spin.

    ``photon_efficiency = emission_probability * collection_efficiency * conversion_efficiency``
    [dimensionless] is the probability that an attempt puts a photon into the outgoing fibre.

    Args:
        emission_time_s: duration of one emission attempt: spin initialisation, optical
            excitation and emission [s], > 0.
        emission_probability: probability that an attempt emits a photon into the wanted mode
            (e.g. zero-phonon line), in [0, 1].
        collection_efficiency: probability that an emitted photon is collected into the fibre,
            in [0, 1].
        conversion_efficiency: efficiency of frequency conversion to the transmission
            wavelength, in [0, 1] (1 when there is no conversion).
        wavelength_nm: wavelength of the photon sent into the channel [nm], > 0.
        emitted_state_fidelity: fidelity of the emitted spin-photon state to the ideal
            maximally entangled state, in [1/4, 1].
        photon_indistinguishability: two-photon interference visibility of photons from two
            such emitters (Hong-Ou-Mandel), in [0, 1].
        double_excitation_probability: probability ``p_de`` that the optical pulse excites a
            spin in the bright state twice, in [0, 1]: the emitter decays during the pulse and
            is re-excited, so a first photon (outside the detection window, lost) reveals that
            the spin was bright (Humphreys et al., Nature 558, 268 (2018), Supplementary
            Information sec. IV; Hermans et al., arXiv:2208.07449). See
            :meth:`double_excitation_error`.
    """

    emission_time_s: float
    emission_probability: float = 1.0
    collection_efficiency: float = 1.0
    conversion_efficiency: float = 1.0
    wavelength_nm: float = 1550.0
    emitted_state_fidelity: float = 1.0
    photon_indistinguishability: float = 1.0
    double_excitation_probability: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "emission_time_s": positive,
            "emission_probability": probability,
            "collection_efficiency": probability,
            "conversion_efficiency": probability,
            "wavelength_nm": positive,
            "photon_indistinguishability": probability,
            "double_excitation_probability": probability,
        }
        _validate(self, checks)

    @property
    def photon_efficiency(self) -> float:
        """``emission_probability * collection_efficiency * conversion_efficiency``."""
        return float(
            self.emission_probability * self.collection_efficiency * self.conversion_efficiency
        )

    @property
    def attempt_time_s(self) -> float:
        """Time one emission attempt occupies [s] (same as ``emission_time_s``)."""
        return self.emission_time_s

    def emission_error(self) -> QuantumError:
        """One-qubit depolarizing error on the *spin*, ``p = 4 (1 - F) / 3``, that leaves the
        spin-photon state with fidelity ``F = emitted_state_fidelity``.

        Acting on the spin only: a channel on spin x photon number would also create photons
        from vacuum (false heralds), which an imperfect emitter does not do.
        """
        # On one half of a maximally entangled pair a one-qubit depolarizing of p acts as the
        # two-qubit one of the same p: the kernel's two-qubit conversion gives it.
        return depolarizing_error(depolarizing_parameter(self.emitted_state_fidelity, 2), 1)

    def double_excitation_error(self) -> QuantumError:
        """Phase damping of the *spin* by the lost first photon of a double excitation.

        With the spin in ``a|0> + b|1>`` (``|1>`` bright) the emission leaves
        ``a|0>|0_L> + b|1>(sqrt(1 - p_de)|0_L> + sqrt(p_de)|1_L>)``, ``L`` the lost early mode;
        tracing it out keeps the populations and multiplies the spin's coherence by
        ``sqrt(1 - p_de)``: Kraus operators ``diag(1, sqrt(1 - p_de))`` and
        ``diag(0, sqrt(p_de))`` (Aer's ``phase_damping_error(p_de)``). A dark spin is never
        excited, so it feels nothing. ``p_de = double_excitation_probability``.
        """
        return phase_damping_error(self.double_excitation_probability)


def _validate(source, checks: dict) -> None:
    """Check (and normalise) each field with its checker, and the emitted-state fidelity."""
    owner = type(source).__name__
    for field, check in checks.items():
        object.__setattr__(source, field, check(owner, field, getattr(source, field)))
    object.__setattr__(
        source,
        "emitted_state_fidelity",
        check_fidelity(owner, "emitted_state_fidelity", source.emitted_state_fidelity, 2),
    )


@dataclass(frozen=True)
class PairSource:
    """Entangled photon-pair source by spontaneous parametric down-conversion (SPDC).

    Each pump pulse (attempt) creates a pair with probability ``pair_probability``; higher
    values raise the rate but also the multi-pair emission, which is why real sources run at a
    few percent per pulse. The scheme ``node_sources`` models that emission (thermal statistics,
    ``pair_probability`` read as the mean pair number per pulse); ``midpoint_source`` does not.

    Args:
        pair_probability: probability of one pair per pulse, in (0, 1].
        repetition_rate_hz: pump pulse rate [Hz], > 0.
        collection_efficiency: probability that each photon of a pair is coupled into its
            outgoing fibre, in [0, 1].
        emitted_state_fidelity: fidelity of the pair to the ideal Bell state, in [1/4, 1].
        wavelength_nm: photon wavelength [nm], > 0.
        max_pulses_in_flight: how many pulses the source fires before the first one's herald
            is back, an integer >= 1 or ``inf``: 1 (the default) waits for each herald (one
            attempt per herald round trip); more runs the source free at
            ``repetition_rate_hz`` with up to that many attempts awaiting their heralds (the
            memories' modes bound it further); ``inf``, a free-running source.
    """

    pair_probability: float
    repetition_rate_hz: float
    collection_efficiency: float = 1.0
    emitted_state_fidelity: float = 1.0
    wavelength_nm: float = 1550.0
    max_pulses_in_flight: float = 1

    def __post_init__(self) -> None:
        owner = type(self).__name__
        pair = as_real(owner, "pair_probability", self.pair_probability)
        if not 0.0 < pair <= 1.0:
            raise ValueError(f"{owner}.pair_probability must be in (0, 1], got {pair!r}")
        object.__setattr__(self, "pair_probability", pair)
        checks = {
            "repetition_rate_hz": positive,
            "collection_efficiency": probability,
            "wavelength_nm": positive,
        }
        _validate(self, checks)
        in_flight = self.max_pulses_in_flight
        if isinstance(in_flight, bool) or not isinstance(in_flight, (int, float)) or not (
            in_flight == math.inf or (in_flight >= 1 and float(in_flight).is_integer())
        ):
            raise ValueError(f"{owner}.max_pulses_in_flight must be an integer >= 1 or inf, got {in_flight!r}")

    @property
    def attempt_time_s(self) -> float:
        """``1 / repetition_rate_hz`` [s]."""
        return float(1.0 / self.repetition_rate_hz)

    def emission_error(self) -> QuantumError:
        """Two-qubit depolarizing error with fidelity ``emitted_state_fidelity``;
        ``p = 4 (1 - F) / 3``."""
        return depolarizing_error_for_fidelity(self.emitted_state_fidelity, 2)
