"""The heralded link: what every heralding scheme shares (timing, arms, success, sampling).

A :class:`HeraldedLink` joins two nodes through a station in the middle of the link. Each scheme
is a subclass registered under its name (:mod:`qstack.physical.schemes`) that says how long an
attempt's emission lasts, how efficient each arm is, which circuits it runs and how their
outcomes become heralded states. ``HeraldedLink(..., scheme="double_click")`` builds the
registered class of that name, so links are written the same way whatever their scheme.

Multiplexing over ``m`` modes or sources runs ``m`` independent attempts in parallel: the link
succeeds in an attempt with ``1 - (1 - p)^m``.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np

from qstack import registry
from qstack.engine import Operation
from qstack.hardware import Channel, Detector, PairSource
from qstack.physics import multiplexed_success_probability

from .model import LinkSetting, HeraldedState
from .node import NodeHardware

_SCHEME_POSITION = 5  # ``scheme`` is the sixth constructor argument


@dataclass(frozen=True)
class HeraldedLink:
    """Heralded entanglement generation between two nodes through a midpoint station.

    Parameters
    ----------
    end_a, end_b:
        The two nodes' hardware.
    channel_a, channel_b:
        Channel from each node to the heralding station (fiber or free space).
    detector:
        The station's detectors (all alike: one efficiency, dark-count probability and
        ``number_resolving``).
    scheme:
        A registered heralding scheme: ``"single_click"``, ``"double_click"``,
        ``"midpoint_source"`` or a plugin's. ``HeraldedLink(...)`` returns that scheme's class.
    bright_state_population:
        ``alpha`` of the single-click scheme, in (0, 1).
    multiplexing:
        Number of modes or sources attempted in parallel per attempt (>= 1).
    pair_source:
        The station's entangled photon-pair source (``midpoint_source`` only).
    """

    end_a: NodeHardware
    end_b: NodeHardware
    channel_a: Channel
    channel_b: Channel
    detector: Detector
    scheme: str = "single_click"
    bright_state_population: float = 0.1
    multiplexing: int = 1
    pair_source: PairSource | None = None
    name: str = field(default="", compare=False)

    DETECTS: ClassVar[bool] = True
    """Whether the station's detectors herald the attempts (their dead time bounds the period)."""

    ABSORBS: ClassVar[bool] = False
    """Whether the nodes' memories absorb photons (their write efficiency acts)."""

    EMITS: ClassVar[bool] = True
    """Whether the nodes' emitters make the photons (their emitter settings act)."""

    PAIR_SOURCE: ClassVar[bool] = False

    READS_PHOTON_NUMBER: ClassVar[bool] = True
    """Whether the heralds read ``Detector.number_resolving`` (two counts in one detector herald
    nothing); a scheme that cannot act on it refuses ``number_resolving = true``."""

    ALPHA_FROM_SETTING: ClassVar[bool] = False
    """Whether the scheme prepares its spins at the scenario's ``link.bright_state_population``
    (the others fix their own, or set what a stored spin feels from their own physics)."""
    """Whether the scheme uses the scenario's pair source (``hardware.source``)."""

    SCHEME: ClassVar[str] = ""
    """The name a scheme class is registered under (its ``scheme`` field must say the same)."""

    def __new__(cls, *args, **kwargs):
        if cls is HeraldedLink:  # the scheme's own class, from the registry
            scheme = args[_SCHEME_POSITION] if len(args) > _SCHEME_POSITION else kwargs.get("scheme", "single_click")
            cls = scheme_class(scheme)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        if self.scheme != self.SCHEME:
            raise ValueError(f"link.scheme must be {self.SCHEME!r} for {type(self).__name__}, got {self.scheme!r}")
        if not 0.0 < self.bright_state_population < 1.0:
            raise ValueError(f"link.bright_state_population must be in (0, 1), got {self.bright_state_population}")
        if isinstance(self.multiplexing, bool) or not isinstance(self.multiplexing, int) or self.multiplexing < 1:
            raise ValueError(f"link.multiplexing must be an integer >= 1, got {self.multiplexing!r}")
        if self.PAIR_SOURCE and self.pair_source is None:
            raise ValueError(f"link.pair_source is required for scheme {self.SCHEME!r}")

    @classmethod
    def from_setting(cls, setting: "LinkSetting") -> "HeraldedLink":
        """The link a scenario describes: the channel halved on each side of the station."""
        if cls.PAIR_SOURCE and setting.pair_source is None:
            raise ValueError(f"hardware.source: scheme {cls.SCHEME!r} needs a pair-source preset (e.g. spdc_source)")
        half = setting.channel.with_length(setting.length_km / 2)
        return cls(
            end_a=setting.end_a, end_b=setting.end_b, channel_a=half, channel_b=half, detector=setting.detector,
            scheme=cls.SCHEME, bright_state_population=setting.bright_state_population,
            multiplexing=setting.multiplexing, pair_source=setting.pair_source, name=setting.name,
        )

    # ------------------------------------------------------------------ what a scheme says
    @cached_property
    def emission_time_s(self) -> float:
        """Time the sources need to emit the photons of one attempt [s]."""
        raise NotImplementedError

    @cached_property
    def heralding_time_s(self) -> float:
        """Emitter schemes: the photon travels to the station and the result back, ``2 t`` [s]."""
        return 2 * self.station_delay_s

    @property
    def qubit_times_before_herald_s(self) -> tuple[float, float]:
        """Emitter schemes: each end's spin is entangled with its photon from the emission, so
        both qubits exist from ``heralding_time_s`` before the herald [s]."""
        return (self.heralding_time_s, self.heralding_time_s)

    def _node_side_efficiency(self, side: str) -> float:
        """Efficiency between the node's memory and the channel (interface included)."""
        raise NotImplementedError

    def _station_side_efficiency(self, side: str) -> float:
        """Efficiency between the node's interface and the station."""
        raise NotImplementedError

    @property
    def operations(self) -> tuple[Operation, ...]:
        """Every circuit the scheme runs (for inspection and engine cross-checks)."""
        raise NotImplementedError

    def _outcome_table(self) -> tuple[HeraldedState, ...]:
        """The heralded states of one attempt on one mode (exact, from the circuits)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ timing
    @cached_property
    def station_delay_s(self) -> float:
        """Longest one-way delay between a node and the station [s]."""
        return max(self.channel_a.delay_s, self.channel_b.delay_s)

    @cached_property
    def attempt_time_s(self) -> float:
        """Duration of one attempt: emission, flight and heralding message [s]; at least the
        station detectors' dead time where the scheme detects photons (every attempt may click,
        and a detector still dead would miss the next attempt's photon)."""
        cycle = self.emission_time_s + self.heralding_time_s
        return max(cycle, self.detector.dead_time_s) if self.DETECTS else cycle

    @property
    def stations(self) -> int:
        """Repeater stations inside the link: none (the heralding station is not one)."""
        return 0

    # ------------------------------------------------------------------ efficiencies
    def end(self, side: str) -> NodeHardware:
        """The node at ``side`` (``"a"`` or ``"b"``)."""
        return self.end_a if side == "a" else self.end_b

    def channel(self, side: str) -> Channel:
        """The channel between ``side``'s node and the station."""
        return self.channel_a if side == "a" else self.channel_b

    def arm_efficiency(self, side: str) -> float:
        """Probability that a photon emitted for ``side`` is detected (or absorbed), interface
        included."""
        return self._node_side_efficiency(side) * self._station_side_efficiency(side)

    @property
    def logical_transmission(self) -> float:
        """The smaller probability that a photon crosses its arm (bare photons: one photon per
        encoded qubit, so the logical transmission is the arm efficiency)."""
        return min(self.arm_efficiency("a"), self.arm_efficiency("b"))

    @property
    def photons_per_qubit(self) -> int:
        """Photons sent per encoded qubit: 1 (bare photons)."""
        return 1

    @property
    def channel_kind(self) -> str:
        """``"fiber"``, ``"free_space"``, or both joined by ``+`` when the arms differ."""
        kinds = dict.fromkeys((self.channel_a.kind, self.channel_b.kind))
        return "+".join(kinds)

    @property
    def interface_efficiencies(self) -> tuple[float, float]:
        """Efficiency of each end's interface (1 where there is none)."""
        return (self.end_a.interface_efficiency, self.end_b.interface_efficiency)

    @property
    def number_resolving(self) -> bool:
        """Whether the station's detectors count photons (``Detector.number_resolving``): two
        counts in one detector then herald nothing. Part of :attr:`hardware_key` (through the
        detector), so threshold and number-resolving links keep their own outcome tables."""
        return self.detector.number_resolving

    @cached_property
    def dark_count_probability(self) -> float:
        """Per-detector false-click probability per window: the detectors' dark counts and half
        of each arm's background light, ``1 - (1 - p_dark)(1 - (p_bg,a + p_bg,b)/2)``."""
        background = (self.channel_a.background_probability + self.channel_b.background_probability) / 2
        return 1.0 - (1.0 - self.detector.dark_count_probability) * (1.0 - background)

    # ------------------------------------------------------------------ outcomes
    @cached_property
    def heralded_states(self) -> tuple[HeraldedState, ...]:
        """The successful outcomes of one attempt on one mode, with corrected states on (a, b).

        Computed exactly by the state engine, enumerating the circuits' outcomes; links with the
        same hardware share one table.
        """
        return _heralded_table(self.hardware_key)

    @property
    def hardware_key(self) -> "HeraldedLink":
        """This link with its names and multiplexing left out: equal for every link of the same
        hardware, scheme and length, so such links share one outcome table (by value)."""
        return dataclasses.replace(
            self, multiplexing=1, name="",
            end_a=dataclasses.replace(self.end_a, name=""), end_b=dataclasses.replace(self.end_b, name=""),
        )

    @cached_property
    def success_probability_per_mode(self) -> float:
        return float(sum(h.probability for h in self.heralded_states))

    @cached_property
    def success_probability(self) -> float:
        """Probability that an attempt (all ``multiplexing`` modes) heralds a pair."""
        return multiplexed_success_probability(self.success_probability_per_mode, self.multiplexing)

    def sample_heralded_state(self, rng: np.random.Generator) -> HeraldedState:
        """Draw which heralding outcome occurred, given that the attempt succeeded."""
        weights = self._cumulative_weights
        index = bisect.bisect_right(weights, rng.random() * weights[-1])  # a Python list: no numpy call per herald
        return self.heralded_states[min(index, len(self.heralded_states) - 1)]

    @cached_property
    def _cumulative_weights(self) -> list[float]:
        return np.cumsum([h.probability for h in self.heralded_states]).tolist()


@functools.lru_cache(maxsize=1024)
def _heralded_table(link: HeraldedLink) -> tuple[HeraldedState, ...]:
    """Memoised by the (immutable) hardware, node names left out (:attr:`HeraldedLink.hardware_key`):
    a pure function of the link's parameters, computed once per distinct hardware and length."""
    return link._outcome_table()


def scheme_class(scheme: str) -> type[HeraldedLink]:
    """The registered heralding scheme named ``scheme`` (a ``ValueError`` naming
    ``link.scheme`` and the choices when there is none)."""
    choices = heralded_schemes()
    if scheme not in choices:
        raise ValueError(f"link.scheme must be one of {', '.join(choices)}, got {scheme!r}")
    return choices[scheme]


def heralded_schemes() -> dict[str, type[HeraldedLink]]:
    """The registered link schemes that are heralded links, by name."""
    return {
        name: cls
        for name, cls in registry.registered("link_scheme").items()
        if isinstance(cls, type) and issubclass(cls, HeraldedLink)
    }
