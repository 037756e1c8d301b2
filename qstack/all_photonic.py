"""All-photonic (memory-less) one-way repeater chains carrying tree-encoded photons.

Between two end nodes with memories, ``s`` repeater stations cut the channel into ``h = s + 1``
equal hops. No station stores anything: the sender's emitter entangles its memory qubit with a
tree-encoded photonic qubit (:class:`~qstack.hardware.TreeCode`) and sends it; each station
measures the arriving photons, which teleports the logical qubit onto a fresh tree that its own
emitter has just generated (a loss-tolerant logical measurement in the sense of Varnava, Browne &
Rudolph, PRL 97, 120501 (2006); the one-way architecture of Borregaard et al., PRX 10, 021071
(2020), and the loss-tolerance role of trees in the all-photonic repeaters of Azuma, Tamaki & Lo,
Nat. Commun. 6, 6787 (2015)); the receiver decodes the last tree into its memory. Photons only
ever cross one hop, and nothing waits for a herald between stations.

Per hop ``k`` each photon arrives with

    ``eta_k = eta_source,k * eta_interface,k * eta_channel(L/h) * eta_detector``

(the emitting end's source efficiency and interface on the way out; the receiving node's
interface on the last hop), and the logical qubit crosses the hop with the tree's logical
transmission ``P(eta_k)`` (:meth:`~qstack.hardware.TreeCode.logical_transmission`). An attempt
(one tree sent from the sender) delivers a pair with

    ``p = prod_k P(eta_k)``.

Noise: every re-encoding is an emitter's spin-photon entangling step, so each station applies
its emitter's ``emission_error`` (depolarizing on the logical qubit), and the two ends apply
their own emitters' errors on their memories. The heralded state is computed by the state
engine from these Aer errors on a Bell pair (Pauli-frame corrections from the measurement
outcomes assumed applied). Dark counts (1e-8 per window against per-photon arrival
probabilities near 1) and the interfaces' noise photons are neglected for the tree-encoded
photons; with no multi-photon events modelled, a number-resolving detector
(``Detector.number_resolving``) would change nothing and is refused.

Timing: the sender emits the ``N`` photons of a tree one by one (each photon at least as long
as its interface's bandwidth allows), ``t_gen = N max(t_emission, 1/B)``; the photons reach the
receiver after the channel delay and the receiver's herald returns to the sender after another,
so an attempt with its herald lasts ``t_gen + 2 t_channel``. Senders that do not wait for the
herald before the next tree (the one-way advantage) are modelled with ``multiplexing`` trees per
attempt, each holding a sender memory slot until its herald is back.

Rate per channel use: one tree of ``N`` photons uses each hop ``N`` times (one optical mode per
photon), so the chain distributes ``p / N`` pairs per channel use, the quantity to compare with
the PLOB bound ``-log2(1 - eta)`` of direct transmission (Pirandola et al., Nat. Commun. 8,
15043 (2017)).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from qiskit import QuantumCircuit

from qstack.engine import Operation, evolve, noisy, permute_qubits
from qstack.hardware import Channel, Detector, Emitter, TreeCode
from qstack.physical import HeraldedState, NodeHardware
from qstack.physics import multiplexed_success_probability
from qstack.registry import register

SCHEME = "all_photonic"


@register("link_scheme", SCHEME)
@dataclass(frozen=True)
class AllPhotonicChain:
    """A memory-less one-way repeater chain between two end nodes, as one link of the network.

    Parameters
    ----------
    end_a, end_b:
        The end nodes (sender ``a``, receiver ``b``); both need an emitter.
    channel:
        The whole channel from ``a`` to ``b`` (fibre or free space); each hop is
        ``channel.with_length(length_km / hops)``.
    detector:
        Detectors at every station and at the receiver.
    code:
        The tree encoding of every transmitted qubit (``TreeCode(())`` for bare photons).
    stations:
        Number of repeater stations between the ends (>= 0).
    station_emitter:
        The stations' tree sources; default the sender's emitter.
    multiplexing:
        Trees sent per attempt (>= 1), each holding one memory slot per end.
    """

    end_a: NodeHardware
    end_b: NodeHardware
    channel: Channel
    detector: Detector
    code: TreeCode = TreeCode(())
    stations: int = 0
    station_emitter: Emitter | None = None
    multiplexing: int = 1
    name: str = field(default="", compare=False)

    scheme = SCHEME
    READS_PHOTON_NUMBER = False
    """The stations are modelled by their photons' loss and detection efficiency only: a
    number-resolving detector (``Detector.number_resolving``) has nothing to act on and is refused."""
    bright_state_population = 0.5
    """Each attempt excites the ends' emitters as a balanced spin-photon state (nuclear-spin
    dephasing per attempt uses it)."""

    def __post_init__(self) -> None:
        if isinstance(self.stations, bool) or not isinstance(self.stations, int) or self.stations < 0:
            raise ValueError(f"link.stations must be an integer >= 0, got {self.stations!r}")
        if isinstance(self.multiplexing, bool) or not isinstance(self.multiplexing, int) or self.multiplexing < 1:
            raise ValueError(f"link.multiplexing must be an integer >= 1, got {self.multiplexing!r}")
        if not isinstance(self.code, TreeCode):
            raise ValueError(f"link.tree_branching must be a TreeCode, got {self.code!r}")
        for end, side in ((self.end_a, "a"), (self.end_b, "b")):
            if end.emitter is None:
                raise ValueError(f"link.end_{side} needs an emitter for scheme {SCHEME!r}")
        if self.detector.number_resolving:
            raise ValueError("detector.number_resolving: cannot act here: the all-photonic chain's stations are "
                             "modelled by their tree photons' loss and detection efficiency; no photon counts are "
                             "modelled there (set it false)")

    @classmethod
    def from_setting(cls, setting) -> "AllPhotonicChain":
        """The chain a scenario describes: ``link.stations`` stations over the whole channel."""
        return cls(
            end_a=setting.end_a, end_b=setting.end_b, channel=setting.channel.with_length(setting.length_km),
            detector=setting.detector, code=TreeCode(setting.tree_branching or ()), stations=setting.stations,
            station_emitter=setting.station_emitter, multiplexing=setting.multiplexing, name=setting.name,
        )

    # ------------------------------------------------------------------ geometry
    @property
    def hops(self) -> int:
        return self.stations + 1

    @cached_property
    def hop_channel(self) -> Channel:
        return self.channel.with_length(self.channel.length_km / self.hops)

    @cached_property
    def channel_a(self) -> Channel:
        """Half of the channel (with ``channel_b``: the classical delay between the ends)."""
        return self.channel.with_length(self.channel.length_km / 2)

    @property
    def channel_b(self) -> Channel:
        return self.channel_a

    @property
    def _stations_emitter(self) -> Emitter:
        return self.station_emitter or self.end_a.emitter

    # ------------------------------------------------------------------ loss
    def hop_transmission(self, hop: int) -> float:
        """Per-photon arrival probability on hop ``hop`` (0 .. hops-1) [dimensionless]."""
        if not 0 <= hop < self.hops:
            raise ValueError(f"hop must be in [0, {self.hops - 1}], got {hop}")
        if hop == 0:
            source = self.end_a.emitter.photon_efficiency * self.end_a.interface_efficiency
        else:
            source = self._stations_emitter.photon_efficiency
        eta = source * self.hop_channel.transmissivity * self.detector.efficiency
        if hop == self.hops - 1:
            eta *= self.end_b.interface_efficiency
        return float(eta)

    @cached_property
    def hop_logical_transmissions(self) -> tuple[float, ...]:
        """``P(eta_k)`` of every hop: the encoded qubit crosses hop ``k``."""
        return tuple(self.code.logical_transmission(self.hop_transmission(k)) for k in range(self.hops))

    @property
    def logical_transmission(self) -> float:
        """The smallest per-hop logical transmission (the weakest hop)."""
        return min(self.hop_logical_transmissions)

    @property
    def photons_per_qubit(self) -> int:
        """Photons per encoded qubit, ``N`` of the tree."""
        return self.code.photon_count

    @property
    def channel_kind(self) -> str:
        return self.channel.kind

    @property
    def interface_efficiencies(self) -> tuple[float, float]:
        return (self.end_a.interface_efficiency, self.end_b.interface_efficiency)

    # ------------------------------------------------------------------ timing
    @cached_property
    def emission_time_s(self) -> float:
        """``t_gen = N max(t_emission, 1/B)`` of the sender's tree [s]."""
        per_photon = max(self.end_a.emitter.emission_time_s, self.end_a.minimum_attempt_time_s)
        return self.code.generation_time_s(per_photon)

    @cached_property
    def heralding_time_s(self) -> float:
        """Flight to the receiver and its herald back to the sender, ``2 t_channel`` [s]."""
        return 2 * self.channel.delay_s

    @property
    def qubit_times_before_herald_s(self) -> tuple[float, float]:
        """Both ends' qubits from the end of the tree's emission, ``2 t_channel`` before the
        herald [s] (the receiver's memory, which decodes the tree on arrival, is counted from
        the emission too)."""
        return (self.heralding_time_s, self.heralding_time_s)

    @cached_property
    def attempt_time_s(self) -> float:
        """Tree generation, flight and the answer back [s]; at least the detectors' dead time."""
        return max(self.emission_time_s + self.heralding_time_s, self.detector.dead_time_s)

    # ------------------------------------------------------------------ success and state
    @cached_property
    def success_probability_per_mode(self) -> float:
        """``prod_k P(eta_k)``: one tree crosses every hop."""
        return float(math.prod(self.hop_logical_transmissions))

    @cached_property
    def success_probability(self) -> float:
        return multiplexed_success_probability(self.success_probability_per_mode, self.multiplexing)

    @property
    def channel_uses_per_attempt(self) -> int:
        """Optical modes each hop carries per attempt, ``N * multiplexing``."""
        return self.code.photon_count * self.multiplexing

    @cached_property
    def heralded_states(self) -> tuple[HeraldedState, ...]:
        rho = _delivered_state(self.end_a.emitter, self.end_b.emitter, self._stations_emitter, self.stations)
        return (HeraldedState(self.success_probability_per_mode, rho, "logical_delivered"),)

    def sample_heralded_state(self, rng: np.random.Generator) -> HeraldedState:
        return self.heralded_states[0]

    @property
    def operations(self) -> tuple[Operation, ...]:
        """The circuits the chain's state is computed from (for inspection and engine checks)."""
        return (_bell_op(), _end_op(self.end_a.emitter), _station_op(self._stations_emitter), _end_op(self.end_b.emitter))


@functools.lru_cache(maxsize=8)
def _bell_op() -> Operation:
    qc = QuantumCircuit(2, name="spin_photon_pair")
    qc.h(0)
    qc.cx(0, 1)
    return Operation(qc, name="spin_photon_pair")


@functools.lru_cache(maxsize=128)
def _emission_error_op(emitter: Emitter, name: str) -> Operation:
    """An emitter's emission error on one qubit: an end's spin-photon entangling error on its
    memory qubit (``end_emission``), or a station's re-encoding error on the logical qubit
    (``station_reencoding``)."""
    qc = QuantumCircuit(1, name=name)
    if emitter.emitted_state_fidelity < 1:
        qc.append(noisy(emitter.emission_error()), [0])
    return Operation(qc, name=name)


def _end_op(emitter: Emitter) -> Operation:
    return _emission_error_op(emitter, "end_emission")


def _station_op(emitter: Emitter) -> Operation:
    return _emission_error_op(emitter, "station_reencoding")


@functools.lru_cache(maxsize=256)
def _delivered_state(sender: Emitter, receiver: Emitter, station: Emitter, stations: int) -> np.ndarray:
    """The (memory a, memory b) state after the chain, computed by the state engine."""
    rho = evolve(_bell_op(), _GROUND_2)  # (memory a, logical qubit)
    rho = evolve(_end_op(sender), rho, (0,))
    # Each step leaves the qubit it acted on lowest: the logical qubit is qubit 0 from here.
    reencode = _station_op(station)
    logical = 1
    for _ in range(stations):
        rho, logical = evolve(reencode, rho, (logical,)), 0
    # The receiver decodes the last tree into its memory: the logical qubit becomes memory b.
    rho = evolve(_end_op(receiver), rho, (logical,))
    return permute_qubits(rho, [1, 0])  # to (memory a, memory b)


_GROUND_2 = np.diag([1.0, 0.0, 0.0, 0.0]).astype(complex)  # |00><00|
