"""The heralding schemes, each a sequence of noisy circuits run by the state engine.

``single_click``
    Each node prepares its spin in ``sqrt(1-alpha)|0> + sqrt(alpha)|1>`` (``alpha`` the
    bright-state population) and emits a photon conditioned on ``|1>``. The photons meet on a
    50:50 beam splitter at the heralding station; exactly one click heralds
    ``(|01> +- |10>)/sqrt2``. Success ~ ``2 alpha eta``, fidelity ~ ``1 - alpha``
    (Cabrillo et al., PRA 59, 1025 (1999); Humphreys et al., Nature 558, 268 (2018)). The
    heralded state's phase is the optical phase between the arms: a Gaussian phase noise of
    ``optical_phase_std_rad`` multiplies its coherence by ``exp(-std^2/2)``.
``double_click``
    Barrett-Kok: two single-click rounds with ``alpha = 1/2`` and a spin flip between them; one
    click in each round heralds a Bell state; the optical phase of the two rounds cancels. Success ``eta^2 / 2`` (Barrett and Kok, PRA 71,
    060310 (2005); Hensen et al., Nature 526, 682 (2015)). The link's ``bright_state_population``
    is the scheme's 1/2 (what the nuclear-spin dephasing per attempt reads), not the setting.
``midpoint_source``
    An entangled photon-pair source at the station sends one photon to each node, where a
    memory absorbs it; the absorption is heralded (Jones et al., NJP 18, 083015 (2016)). No
    emitter is excited: what a stored spin feels per attempt (``bright_state_population``, read
    by the nuclear-spin dephasing) is the absorption of a photon, ``p_pair eta_arm``, not the
    setting.

Detection (:mod:`qstack.physical.optics`): with threshold detectors a bunched photon pair (both
spins bright in ``single_click``) is one click and heralds ``|11>``; with number-resolving
detectors (``Detector.number_resolving``) two counts in one detector, a bunched pair or a photon
and a dark count, are rejected, so ``single_click`` heralds ``2 alpha (1 - alpha) eta +
2 alpha^2 eta (1 - eta)`` (equal arms, ``V = 1``, no dark counts) instead of ``2 alpha (1 - alpha)
eta + alpha^2 (1 - (1 - eta)^2)``. The photon-number qubits hold at most one photon per arm: a
transducer's noise photon on top of an emitted one is not a second photon (for threshold and
number-resolving detectors alike). ``midpoint_source`` has no station detector and refuses a
number-resolving one.

The success probability and the heralded states are computed exactly by the engine
(:func:`qstack.engine.outcomes`) from the hardware, not given. Heterogeneous links: each node may
have its own hardware and an ``interface`` (a transducer or frequency converter) that a photon
crosses with probability ``efficiency``, picking up its noise photons, in an attempt that lasts at
least ``1/bandwidth``; a free-space arm's background light adds to the station's dark counts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from qiskit import QuantumCircuit
from qiskit_aer.noise import amplitude_damping_error

from qstack.engine import Operation, evolve, noisy, outcomes, permute_qubits
from qstack.registry import register

from .heralded import HeraldedLink
from .model import HeraldedState
from .optics import (
    CORRECT_PSI_MINUS,
    CORRECT_PSI_PLUS,
    FLIP_BOTH,
    detection_op,
    emission_op,
    false_photon_kraus,
    loss_op,
    noisy_loss_op,
    prepare_spins,
)

_GROUND_2 = np.diag([1.0, 0.0, 0.0, 0.0]).astype(complex)  # |00><00|


@dataclass(frozen=True)
class EmitterLink(HeraldedLink):
    """What the schemes in which both nodes' spins emit photons share: ``rounds`` emission
    rounds per attempt, each through the station's beam splitter and detectors."""

    ROUNDS = 1
    #: Whether the heralded state carries the arms' optical phase (``optical_phase_std_rad`` acts).
    PHASE_SENSITIVE = False

    def __post_init__(self) -> None:
        super().__post_init__()
        for side in ("a", "b"):
            if self.end(side).emitter is None:
                raise ValueError(f"link.end_{side} needs an emitter for scheme {self.scheme!r}")
        std = self.optical_phase_std_rad
        if isinstance(std, bool) or not isinstance(std, (int, float)) or not math.isfinite(std) or std < 0:
            raise ValueError(f"link.optical_phase_std_rad must be a finite number >= 0, got {std!r}")
        if std and not self.PHASE_SENSITIVE:
            raise ValueError(f"link.optical_phase_std_rad: scheme {self.scheme!r} is insensitive to the arms' optical "
                             "phase (it cancels between its rounds); only 'single_click' reads it")
        object.__setattr__(self, "optical_phase_std_rad", float(std))

    @cached_property
    def emission_time_s(self) -> float:
        """``rounds`` times the slower emitter's (or interface's) time per round [s]."""
        per_round = max(
            self.end_a.emitter.emission_time_s,
            self.end_b.emitter.emission_time_s,
            self.end_a.minimum_attempt_time_s,
            self.end_b.minimum_attempt_time_s,
        )
        return self.ROUNDS * per_round

    def _node_side_efficiency(self, side: str) -> float:
        """The emitter's photon efficiency times the interface's."""
        end = self.end(side)
        return end.emitter.photon_efficiency * end.interface_efficiency

    def _station_side_efficiency(self, side: str) -> float:
        """The channel's transmissivity times the detector's efficiency."""
        return self.channel(side).transmissivity * self.detector.efficiency

    #: Optical phase noise between the arms [rad] (only phase-sensitive schemes set it).
    optical_phase_std_rad: float = 0.0

    @cached_property
    def visibility(self) -> float:
        """The two-photon interference visibility at the station. Each emitter's
        ``photon_indistinguishability`` is the visibility of two photons from two such emitters,
        so identical emitters interfere at that figure (not its square), unlike ones at the
        geometric mean of theirs."""
        return math.sqrt(self.end_a.emitter.photon_indistinguishability * self.end_b.emitter.photon_indistinguishability)

    def _emission_round(self) -> tuple[Operation, Operation, Operation]:
        """One round as three circuits: emission (spins 0, 1 -> photons 2, 3), loss on the way
        to the station (photons), interference and detection (photons, measured and dropped).

        Split so that links differing only in length share the compiled emission and detection
        circuits and compile just their small loss circuit.
        """
        visibility = self.visibility
        if self.end_a.interface_noise_probability or self.end_b.interface_noise_probability:
            loss = noisy_loss_op(
                (1 - self._node_side_efficiency("a"), self.end_a.interface, 1 - self._station_side_efficiency("a")),
                (1 - self._node_side_efficiency("b"), self.end_b.interface, 1 - self._station_side_efficiency("b")),
            )
        else:
            loss = loss_op(1 - self.arm_efficiency("a"), 1 - self.arm_efficiency("b"))
        detection = detection_op(visibility, self.dark_count_probability, self.optical_phase_std_rad,
                                 self.number_resolving)
        return emission_op(self.end_a.emitter, self.end_b.emitter), loss, detection

    def _clicks(self, spins: np.ndarray, round_ops: tuple[Operation, Operation, Operation]):
        """The rounds' single clicks on spins in state ``spins``: ``(detector, p, spins after)``
        for each outcome in which exactly one detector (``"c"`` or ``"d"``) clicked (with
        number-resolving detectors: registered exactly one count; two counts in one detector
        write the record ``(1, 1)``, never a herald)."""
        emission, loss, detection = round_ops
        rho = evolve(emission, _kron(_GROUND_2, spins))  # photons are qubits 2, 3
        rho = evolve(loss, rho, (2, 3))  # now (photon a, photon b, spin a, spin b)
        for o in outcomes(detection, rho, (0, 1)):  # leaves (spin a, spin b)
            click = _ONE_CLICK.get(o.outcome)
            if click is not None:
                yield click, o.probability, o.rho

    def _prepared_spins(self) -> np.ndarray:
        return _corrected(_GROUND_2, self.operations[0])


_ONE_CLICK = {(1, 0): "c", (0, 1): "d"}


@register("link_scheme", "single_click")
@dataclass(frozen=True)
class SingleClick(EmitterLink):
    """One emission round at bright-state population ``alpha``; one click heralds
    ``(|01> +- |10>)/sqrt2``, corrected to ``|Phi+>``."""

    scheme: str = "single_click"
    SCHEME = "single_click"
    ALPHA_FROM_SETTING = True
    #: The heralded state's phase is the arms' optical phase (``link.optical_phase_std_rad`` acts).
    PHASE_SENSITIVE = True

    @classmethod
    def from_setting(cls, setting) -> "SingleClick":
        link = super().from_setting(setting)
        return dataclasses.replace(link, optical_phase_std_rad=setting.optical_phase_std_rad)

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        return (prepare_spins(self.bright_state_population), *self._emission_round(), CORRECT_PSI_PLUS, CORRECT_PSI_MINUS)

    def _outcome_table(self) -> tuple[HeraldedState, ...]:
        round_ops = self.operations[1:4]
        return tuple(
            HeraldedState(p, _corrected(rho, _PSI_CORRECTION[click == "c"]), f"click_{click}")
            for click, p, rho in self._clicks(self._prepared_spins(), round_ops)
        )


@register("link_scheme", "double_click")
@dataclass(frozen=True)
class DoubleClick(EmitterLink):
    """Barrett-Kok: two rounds at ``alpha = 1/2`` with a flip of both spins between them; a
    click in each round heralds ``Psi+`` (same detector) or ``Psi-``, corrected to ``Phi+``."""

    scheme: str = "double_click"
    SCHEME = "double_click"
    ROUNDS = 2
    BRIGHT_STATE_POPULATION = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        # Every attempt prepares the spins at alpha = 1/2 whatever the link setting says; the
        # nuclear-spin dephasing per attempt reads this field, so it must say the scheme's alpha.
        object.__setattr__(self, "bright_state_population", self.BRIGHT_STATE_POPULATION)

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        return (prepare_spins(self.BRIGHT_STATE_POPULATION), *self._emission_round(), FLIP_BOTH, CORRECT_PSI_PLUS,
                CORRECT_PSI_MINUS)

    def _outcome_table(self) -> tuple[HeraldedState, ...]:
        round_ops, flip = self.operations[1:4], self.operations[4]
        states = []
        for first, p1, rho1 in self._clicks(self._prepared_spins(), round_ops):
            for second, p2, rho2 in self._clicks(_corrected(rho1, flip), round_ops):
                correction = _PSI_CORRECTION[first == second]
                states.append(HeraldedState(p1 * p2, _corrected(rho2, correction), f"clicks_{first}{second}"))
        return tuple(states)


# Pauli frame correction on node B's qubit: Psi+ (True) -> Phi+ by X, Psi- (False) by X then Z.
_PSI_CORRECTION = {True: CORRECT_PSI_PLUS, False: CORRECT_PSI_MINUS}


@register("link_scheme", "midpoint_source")
@dataclass(frozen=True)
class MidpointSource(HeraldedLink):
    """A pair source at the station; each node's memory absorbs its photon, heralded by a flag.

    Photons travel out to both memories (``t``), then each node tells the other whether it
    absorbed (``t_a + t_b``).
    """

    DETECTS = False  # the memories' absorption heralds the pairs (no station detector)
    READS_PHOTON_NUMBER = False
    ABSORBS = True
    EMITS = False
    PAIR_SOURCE = True

    scheme: str = "midpoint_source"
    SCHEME = "midpoint_source"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.detector.number_resolving:
            raise ValueError("detector.number_resolving: cannot act here: the memories' absorption heralds "
                             "midpoint-source pairs; no station detector counts photons (set it false)")
        # No emitter is excited here: a stored spin's neighbour (the absorbing communication qubit)
        # changes only when a photon of the source is absorbed, with probability p_pair eta_arm
        # per attempt (the more exposed end's); the nuclear-spin dephasing per attempt reads it.
        absorbed = max(self.pair_source.pair_probability * self.arm_efficiency(side) for side in ("a", "b"))
        # Kept inside (0, 1): dataclasses.replace (the outcome table's key) validates the field again.
        object.__setattr__(self, "bright_state_population", min(max(absorbed, 1e-300), 1.0 - 1e-16))

    @cached_property
    def emission_time_s(self) -> float:
        return self.pair_source.attempt_time_s

    @cached_property
    def heralding_time_s(self) -> float:
        """Flight out to the memories and the absorption messages, ``t + t_a + t_b`` [s]."""
        return self.station_delay_s + self.channel_a.delay_s + self.channel_b.delay_s

    @cached_property
    def attempts_in_flight(self) -> int | float:
        """Attempts awaiting their heralds at once: the source's ``max_pulses_in_flight``, bounded
        by the memory modes (each attempt in flight holds ``multiplexing`` modes at each end)."""
        modes = min(self.end_a.memory.capacity, self.end_b.memory.capacity) // self.multiplexing
        return min(self.pair_source.max_pulses_in_flight, max(modes, 1))

    @cached_property
    def attempt_time_s(self) -> float:
        """The attempt period [s]: one emission and its herald round trip, ``t_e + t_h``, when
        the source waits for each herald; with ``n`` attempts in flight ``max(t_e, (t_e + t_h)/n)``,
        so a free-running source with enough memory modes attempts at its repetition rate
        (``1/t_e``) and produces ``R p`` pairs per second. A herald still comes ``t_e + t_h``
        after its emission (the link layer's first herald after a start waits that long)."""
        cycle = self.emission_time_s + self.heralding_time_s
        return max(self.emission_time_s, cycle / self.attempts_in_flight)

    @property
    def qubit_times_before_herald_s(self) -> tuple[float, float]:
        """A memory holds its qubit from the absorption of its photon, ``t_a`` (``t_b``) after
        the emission; the herald comes ``t + t_a + t_b`` after it (``t = max(t_a, t_b)``), so
        ``(t + t_b, t + t_a)`` before the herald [s]: ``2t`` each with equal arms, not ``3t``."""
        herald = self.heralding_time_s
        return (herald - self.channel_a.delay_s, herald - self.channel_b.delay_s)

    def _node_side_efficiency(self, side: str) -> float:
        """The memory's absorption times the interface's efficiency."""
        end = self.end(side)
        return end.memory.write_efficiency * end.interface_efficiency

    def _station_side_efficiency(self, side: str) -> float:
        """The source's collection times the channel's transmissivity."""
        return self.pair_source.collection_efficiency * self.channel(side).transmissivity

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        return (self._source(), self._absorption("a"), self._absorption("b"))

    def _source(self) -> Operation:
        qc = QuantumCircuit(2, name="pair_source")
        qc.h(0)
        qc.cx(0, 1)
        if self.pair_source.emitted_state_fidelity < 1:
            qc.append(noisy(self.pair_source.emission_error()), [0, 1])
        return Operation(qc, name="pair_source")

    def _absorption(self, side: str) -> Operation:
        """Photon (0) absorbed into memory (1); qubit 2 flags the photon's presence. A noise
        photon from the node's interface (after the channel's loss, before the memory's
        absorption) raises the flag for a lost photon and brings a random polarisation."""
        qc = QuantumCircuit(3, 1, name="absorption")
        qc.x(2)
        end = self.end(side)
        noise = end.interface_noise_probability
        if noise > 0:
            before = 1 - self._station_side_efficiency(side) * end.interface_efficiency
            if before > 0:
                qc.append(noisy(amplitude_damping_error(before)), [2])
            qc.append(false_photon_kraus(noise), [0, 2])
            after = 1 - end.memory.write_efficiency
            if after > 0:
                qc.append(noisy(amplitude_damping_error(after)), [2])
        else:
            loss = 1 - self.arm_efficiency(side)
            if loss > 0:
                qc.append(noisy(amplitude_damping_error(loss)), [2])
        qc.measure(2, 0)
        with qc.if_test((qc.clbits[0], 1)):
            qc.swap(0, 1)
        return Operation(qc, discard=(0, 2), name="absorption")

    def _outcome_table(self) -> tuple[HeraldedState, ...]:
        source, absorb_a, absorb_b = self.operations
        (emitted,) = outcomes(source, _GROUND_2)  # (photon a, photon b)
        states = []
        for a in _absorbed(absorb_a, emitted.rho, 0):  # leaves (memory a, photon b)
            for b in _absorbed(absorb_b, a.rho, 1):  # leaves (memory b, memory a)
                p = self.pair_source.pair_probability * a.probability * b.probability
                states.append(HeraldedState(p, permute_qubits(b.rho, [1, 0]), "absorbed_both"))
        return tuple(states)


def _absorbed(absorption: Operation, pair: np.ndarray, photon: int):
    """The outcomes in which a fresh (memory, flag) absorbed qubit ``photon`` of ``pair`` (the
    flag reports it); each leaves (the memory, the pair's other qubit)."""
    return [o for o in outcomes(absorption, _kron(_GROUND_2, pair), (photon, 2, 3)) if o.outcome == (1,)]


def _corrected(rho: np.ndarray, operation: Operation) -> np.ndarray:
    """A deterministic two-qubit operation's normalised output."""
    (only,) = outcomes(operation, rho)
    return only.rho


def _kron(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``high (x) low``: ``low`` on the lowest qubits (Qiskit order)."""
    return np.kron(high, low)

