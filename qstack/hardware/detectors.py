"""Single-photon detectors."""

from __future__ import annotations

from dataclasses import dataclass

from ._validation import flag, non_negative, probability


@dataclass(frozen=True)
class Detector:
    """A single-photon detector (e.g. superconducting nanowire or avalanche photodiode).

    A photon that reaches it is registered with probability ``efficiency``; independently a dark
    count fires with probability ``dark_count_probability`` in each detection window. So for a
    photon arriving with probability ``q`` the click probability is

        ``P(click) = 1 - (1 - efficiency * q) * (1 - dark_count_probability)``.

    Args:
        efficiency: detection efficiency, in [0, 1].
        dark_count_probability: probability of a dark count per detection window, in [0, 1].
        dead_time_s: time after a click during which it cannot click again [s], >= 0.
        number_resolving: whether it counts photons (a photon-number-resolving detector) or
            only tells none from some (a threshold detector, every preset). A station of
            number-resolving detectors rejects an event with two counts in one detector (a
            bunched photon pair, or a photon and a dark count) where a threshold detector clicks
            once (:mod:`qstack.physical.optics`, ``photon_qubits``, ``source_swap``); schemes
            without a counting station (``midpoint_source``, the all-photonic chain) refuse
            ``True``.
    """

    efficiency: float = 1.0
    dark_count_probability: float = 0.0
    dead_time_s: float = 0.0
    number_resolving: bool = False

    def __post_init__(self) -> None:
        owner = type(self).__name__
        checks = {
            "efficiency": probability,
            "dark_count_probability": probability,
            "dead_time_s": non_negative,
            "number_resolving": flag,
        }
        for field, check in checks.items():
            object.__setattr__(self, field, check(owner, field, getattr(self, field)))

    def click_probability(self, arrival_probability: float) -> float:
        """``1 - (1 - efficiency * q) * (1 - dark_count_probability)`` for a photon arriving
        with probability ``q = arrival_probability`` in ``[0, 1]`` [dimensionless]."""
        arrival = probability(type(self).__name__, "arrival_probability", arrival_probability)
        return float(1.0 - (1.0 - self.efficiency * arrival) * (1.0 - self.dark_count_probability))
