"""What every link model provides: the :class:`LinkModel` interface and its heralded states.

A link model describes entanglement generation between two neighbouring nodes: how often an
attempt succeeds, how long it lasts, and which two-qubit state a success leaves in the nodes'
memories. The link layer (:class:`~qstack.link.LinkService`), the network, the planner and the
report read only these members, so a new scheme is one class registered as a link scheme::

    import qstack
    from qstack.physical import HeraldedLink

    @qstack.register("link_scheme", "my_scheme")
    class MyScheme(HeraldedLink):        # or any class with the LinkModel members
        ...

The heralding schemes (:mod:`qstack.physical.schemes`) and the memory-less chain
(:class:`~qstack.all_photonic.AllPhotonicChain`) implement it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from qstack.hardware import Channel

    from .node import NodeHardware


@dataclass(frozen=True)
class HeraldedState:
    """One heralding outcome: its probability per attempt (one mode) and the corrected state on
    (end a, end b), qubit 0 at end a."""

    probability: float
    rho: np.ndarray
    label: str


@dataclass(frozen=True)
class LinkSetting:
    """What the composition root hands a registered link scheme to build one link.

    Every scheme class registered as a ``link_scheme`` has a classmethod
    ``from_setting(setting) -> LinkModel``; it takes the fields it needs and refuses (``ValueError``
    naming the scenario key) what it cannot use. ``channel`` is the whole channel between the ends
    (its preset, any length); the scheme cuts it to ``length_km`` its own way.
    """

    end_a: "NodeHardware"
    end_b: "NodeHardware"
    channel: "Channel"
    length_km: float
    detector: object
    name: str
    multiplexing: int = 1
    bright_state_population: float = 0.05
    pair_source: object = None
    tree_branching: tuple[int, ...] | None = None
    stations: int = 0
    station_emitter: object = None
    optical_phase_std_rad: float = 0.0


@runtime_checkable
class LinkModel(Protocol):
    """Entanglement generation over one link, as the layers above read it.

    Probabilities are per attempt, times in seconds. ``channel_a`` and ``channel_b`` give the
    classical delay between the ends (``channel_a.delay_s + channel_b.delay_s``).
    """

    end_a: "NodeHardware"
    end_b: "NodeHardware"
    multiplexing: int
    """Modes (or trees, sources) attempted in parallel per attempt, one memory slot each."""
    name: str

    @property
    def scheme(self) -> str:
        """The name the scheme is registered under (``single_click``, ``all_photonic``, ...)."""

    @property
    def channel_a(self) -> "Channel":
        """Channel from end a towards the middle of the link."""

    @property
    def channel_b(self) -> "Channel":
        """Channel from end b towards the middle of the link."""

    @property
    def bright_state_population(self) -> float:
        """Excitation probability ``alpha`` of an end's emitter per attempt (the nuclear-spin
        dephasing per attempt reads it)."""

    @property
    def stations(self) -> int:
        """Repeater stations inside the link (0 for a heralded link)."""

    @property
    def success_probability(self) -> float:
        """``1 - (1 - p_mode)^multiplexing``: an attempt heralds a pair."""

    @property
    def success_probability_per_mode(self) -> float:
        """``p_mode``: one mode of an attempt heralds a pair."""

    @property
    def emission_time_s(self) -> float:
        """Time to emit the photons of one attempt [s]."""

    @property
    def heralding_time_s(self) -> float:
        """From the emission to the herald's arrival at both ends [s]."""

    @property
    def attempt_time_s(self) -> float:
        """One attempt: emission and heralding [s]."""

    @property
    def qubit_times_before_herald_s(self) -> tuple[float, float]:
        """``(t_a, t_b)``: how long before the herald each end's qubit began to exist [s].

        The link layer creates the heralded pair with each end's qubit that long in the past, so
        each memory relaxes with its T1/T2 from that moment: from the emission where the end's
        spin emits the photon (it is entangled with it from then on), from the absorption where
        the end's memory absorbs an arriving photon. Each is at most ``heralding_time_s``.
        """

    @property
    def heralded_states(self) -> tuple[HeraldedState, ...]:
        """The successful outcomes of one attempt on one mode (probabilities sum to ``p_mode``)."""

    def sample_heralded_state(self, rng: np.random.Generator) -> HeraldedState:
        """Which heralded state a success left, drawn with ``rng``."""

    @property
    def channel_kind(self) -> str:
        """``fiber``, ``free_space``, or both joined by ``+``."""

    @property
    def photons_per_qubit(self) -> int:
        """Photons sent per encoded qubit (1 for bare photons)."""

    @property
    def logical_transmission(self) -> float:
        """Probability that an (encoded) qubit crosses the weakest arm or hop."""

    @property
    def interface_efficiencies(self) -> tuple[float, float]:
        """Efficiency of each end's interface (1 without one)."""
