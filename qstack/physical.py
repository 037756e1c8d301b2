"""Physical layer: heralded entanglement generation over one link.

Three schemes, each a sequence of noisy circuits run by the state engine:

``single_click``
    Each node prepares its spin in ``sqrt(1-alpha)|0> + sqrt(alpha)|1>`` (``alpha`` the
    bright-state population) and emits a photon conditioned on ``|1>``. The photons meet on a
    50:50 beam splitter at the heralding station; exactly one click heralds
    ``(|01> +- |10>)/sqrt2``. Success ~ ``2 alpha eta``, fidelity ~ ``1 - alpha``
    (Cabrillo et al., PRA 59, 1025 (1999); Humphreys et al., Nature 558, 268 (2018)).
``double_click``
    Barrett-Kok: two single-click rounds with ``alpha = 1/2`` and a spin flip between them; one
    click in each round heralds a Bell state. Success ``eta^2 / 2`` (Barrett and Kok, PRA 71,
    060310 (2005); Hensen et al., Nature 526, 682 (2015)).
``midpoint_source``
    An entangled photon-pair source at the station sends one photon to each node, where a
    memory absorbs it; the absorption is heralded (Jones et al., NJP 18, 083015 (2016)).

Photons are qubits of the circuits: for the emitter schemes a photon-number qubit
(``|1>`` photon, ``|0>`` vacuum) whose loss is amplitude damping ``1 - eta``; the station's
beam splitter and threshold detectors are one measurement instrument built from the optics
(:func:`detection_kraus`), dark counts a classical flip of its record. The success probability
and the heralded state are therefore computed by the engine from the hardware, not given.

Multiplexing over ``m`` modes or sources runs ``m`` independent attempts in parallel:
the link succeeds in an attempt with ``1 - (1 - p)^m``.

Heterogeneous links: each node may have its own hardware and an ``interface``
(:class:`~qstack.hardware.Transducer`, a transducer or frequency converter between its memory and
the channel). A photon crosses it with probability ``efficiency`` (so a Barrett-Kok link with a
converter of efficiency ``e`` at one end succeeds ``e`` times as often), picks up its noise photons
as an excitation of the photon-number qubit, and an attempt lasts at least ``1/bandwidth``. Each
arm's channel may be fibre or free space; a free-space channel's background light adds to the
station detectors' dark counts (each detector sees half of each arm's background after the beam
splitter). Tree-encoded photons and memory-less repeater chains are in :mod:`qstack.all_photonic`.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import Kraus
from qiskit_aer.noise import amplitude_damping_error

from qstack.engine import Operation, StateRegistry, noisy
from qstack.hardware import Channel, Detector, Emitter, Memory, NuclearSpinRegister, PairSource, Transducer

SCHEMES = ("single_click", "double_click", "midpoint_source")


@dataclass(frozen=True)
class NodeHardware:
    """The devices of one network node: its optical interface and its memory.

    ``emitter`` is the spin-photon interface (None for a node that only absorbs photons from a
    pair source); ``nuclear_spin`` is an optional long-lived register (NV centres) into which
    heralded states are moved; ``interface`` is an optional transducer or frequency converter
    between the node and the channel (both directions: emitted photons leave through it,
    absorbed photons arrive through it).
    """

    memory: Memory
    emitter: Emitter | None = None
    nuclear_spin: NuclearSpinRegister | None = None
    name: str = ""
    interface: Transducer | None = None

    @property
    def interface_efficiency(self) -> float:
        """Efficiency of the node's interface (1 without one)."""
        return 1.0 if self.interface is None else self.interface.efficiency

    @property
    def interface_noise_probability(self) -> float:
        """Probability of a noise photon out of the interface per mode (0 without one)."""
        return 0.0 if self.interface is None else self.interface.noise_probability

    @property
    def minimum_attempt_time_s(self) -> float:
        """Shortest attempt the interface's bandwidth allows [s] (0 without one)."""
        return 0.0 if self.interface is None else self.interface.minimum_attempt_time_s


def detection_kraus(visibility: float = 1.0) -> Kraus:
    """The heralding station on two photon-number qubits (photon A, photon B).

    A 50:50 beam splitter maps ``(a +- b)/sqrt2`` to detector ``c`` / ``d``; two photons bunch
    (Hong-Ou-Mandel) into one port with probability ``(1 + V)/2``, ``V`` the two-photon
    interference visibility. Threshold detectors record clicks; the instrument writes the
    record onto the same two qubits, qubit 0 = detector ``c`` clicked, qubit 1 = ``d`` clicked.
    Partially distinguishable single photons interfere with reduced coherence: the which-path
    coherence is multiplied by ``sqrt(V)`` (a dephasing applied before, see
    :func:`_distinguishability_kraus`).
    """
    if not 0.0 <= visibility <= 1.0:
        raise ValueError(f"visibility must be in [0, 1], got {visibility}")
    e = np.eye(4)
    vac, a, b, ab = e[0], e[1], e[2], e[3]
    psi_plus = (a + b) / math.sqrt(2)
    psi_minus = (a - b) / math.sqrt(2)
    click_c, click_d, both = e[1], e[2], e[3]
    operators = [
        np.outer(vac, vac),
        np.outer(click_c, psi_plus),
        np.outer(click_d, psi_minus),
        math.sqrt((1 + visibility) / 4) * np.outer(click_c, ab),
        math.sqrt((1 + visibility) / 4) * np.outer(click_d, ab),
        math.sqrt((1 - visibility) / 2) * np.outer(both, ab),
    ]
    return Kraus([op for op in operators if np.any(op)])


def _distinguishability_kraus(visibility: float) -> Kraus:
    """Dephasing of the which-photon coherence by the mode overlap ``sqrt(V)``."""
    overlap = math.sqrt(visibility)
    z_a = np.diag([1.0, -1.0, 1.0, -1.0])
    return Kraus([math.sqrt((1 + overlap) / 2) * np.eye(4), math.sqrt((1 - overlap) / 2) * z_a])


def _dark_count_kraus(probability: float) -> Kraus:
    """A threshold detector's record flips 0 -> 1 with the dark-count probability."""
    keep = np.array([[math.sqrt(1 - probability), 0.0], [0.0, 1.0]])
    flip = np.array([[0.0, 0.0], [math.sqrt(probability), 0.0]])
    return Kraus([keep, flip])


@dataclass(frozen=True)
class HeraldedState:
    """One heralding outcome: its probability per attempt and the state after corrections."""

    probability: float
    rho: np.ndarray
    label: str


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
        The station's detectors.
    scheme:
        ``"single_click"``, ``"double_click"`` or ``"midpoint_source"``.
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

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"link.scheme must be one of {', '.join(SCHEMES)}, got {self.scheme!r}")
        if not 0.0 < self.bright_state_population < 1.0:
            raise ValueError(f"link.bright_state_population must be in (0, 1), got {self.bright_state_population}")
        if isinstance(self.multiplexing, bool) or not isinstance(self.multiplexing, int) or self.multiplexing < 1:
            raise ValueError(f"link.multiplexing must be an integer >= 1, got {self.multiplexing!r}")
        if self.scheme == "midpoint_source":
            if self.pair_source is None:
                raise ValueError("link.pair_source is required for scheme 'midpoint_source'")
        else:
            for end, side in ((self.end_a, "a"), (self.end_b, "b")):
                if end.emitter is None:
                    raise ValueError(f"link.end_{side} needs an emitter for scheme {self.scheme!r}")

    # ------------------------------------------------------------------ timing
    @cached_property
    def station_delay_s(self) -> float:
        """Longest one-way delay between a node and the station [s]."""
        return max(self.channel_a.delay_s, self.channel_b.delay_s)

    @cached_property
    def emission_time_s(self) -> float:
        """Time the sources need to emit the photons of one attempt [s]."""
        if self.scheme == "midpoint_source":
            return self.pair_source.attempt_time_s
        per_round = max(
            self.end_a.emitter.emission_time_s,
            self.end_b.emitter.emission_time_s,
            self.end_a.minimum_attempt_time_s,
            self.end_b.minimum_attempt_time_s,
        )
        return 2 * per_round if self.scheme == "double_click" else per_round

    @cached_property
    def heralding_time_s(self) -> float:
        """Photon flight to the station (or to the memories) and the herald's return [s].

        Emitter schemes: the photon travels to the station and the result back, ``2 t``.
        Midpoint source: photons travel out to both memories (``t``), then each node tells the
        other whether it absorbed (``t_a + t_b``).
        """
        if self.scheme == "midpoint_source":
            return self.station_delay_s + self.channel_a.delay_s + self.channel_b.delay_s
        return 2 * self.station_delay_s

    @cached_property
    def attempt_time_s(self) -> float:
        """Duration of one attempt: emission, flight, heralding message [s]."""
        return self.emission_time_s + self.heralding_time_s

    # ------------------------------------------------------------------ efficiencies
    def arm_efficiency(self, side: str) -> float:
        """Probability that a photon emitted for ``side`` is detected (or absorbed), interface
        included."""
        return self._node_side_efficiency(side) * self._station_side_efficiency(side)

    def _node_side_efficiency(self, side: str) -> float:
        """Efficiency between the node's memory and the channel: the emitter's photon
        efficiency (or the memory's absorption) times the interface's."""
        end = self.end_a if side == "a" else self.end_b
        if self.scheme == "midpoint_source":
            return end.memory.write_efficiency * end.interface_efficiency
        return end.emitter.photon_efficiency * end.interface_efficiency

    def _station_side_efficiency(self, side: str) -> float:
        """Efficiency between the interface and the station: channel and detector (emitter
        schemes), or source collection and channel (midpoint source)."""
        channel = self.channel_a if side == "a" else self.channel_b
        if self.scheme == "midpoint_source":
            return self.pair_source.collection_efficiency * channel.transmissivity
        return channel.transmissivity * self.detector.efficiency

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

    @cached_property
    def dark_count_probability(self) -> float:
        """Per-detector false-click probability per window: the detectors' dark counts and half
        of each arm's background light, ``1 - (1 - p_dark)(1 - (p_bg,a + p_bg,b)/2)``."""
        background = (self.channel_a.background_probability + self.channel_b.background_probability) / 2
        return 1.0 - (1.0 - self.detector.dark_count_probability) * (1.0 - background)

    # ------------------------------------------------------------------ circuits
    def _emission_round(self) -> tuple[Operation, Operation, Operation]:
        """One round as three circuits: emission (spins 0, 1 -> photons 2, 3), loss on the way
        to the station (photons), interference and detection (photons, measured and dropped).

        Split so that links differing only in length share the compiled emission and detection
        circuits and compile just their small loss circuit.
        """
        visibility = self.end_a.emitter.photon_indistinguishability * self.end_b.emitter.photon_indistinguishability
        if self.end_a.interface_noise_probability or self.end_b.interface_noise_probability:
            loss = _noisy_loss_op(
                (1 - self._node_side_efficiency("a"), self.end_a.interface, 1 - self._station_side_efficiency("a")),
                (1 - self._node_side_efficiency("b"), self.end_b.interface, 1 - self._station_side_efficiency("b")),
            )
        else:
            loss = _loss_op(1 - self.arm_efficiency("a"), 1 - self.arm_efficiency("b"))
        return (
            _emission_op(self.end_a.emitter, self.end_b.emitter),
            loss,
            _detection_op(visibility, self.dark_count_probability),
        )

    def _absorption(self, side: str) -> Operation:
        """Photon (0) absorbed into memory (1); qubit 2 flags the photon's presence. A noise
        photon from the node's interface (after the channel's loss, before the memory's
        absorption) raises the flag for a lost photon and brings a random polarisation."""
        qc = QuantumCircuit(3, 1, name="absorption")
        qc.x(2)
        end = self.end_a if side == "a" else self.end_b
        noise = end.interface_noise_probability
        if noise > 0:
            before = 1 - self._station_side_efficiency(side) * end.interface_efficiency
            if before > 0:
                qc.append(noisy(amplitude_damping_error(before)), [2])
            qc.append(_false_photon_kraus(noise), [0, 2])
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

    def _source(self) -> Operation:
        qc = QuantumCircuit(2, name="pair_source")
        qc.h(0)
        qc.cx(0, 1)
        if self.pair_source.emitted_state_fidelity < 1:
            qc.append(noisy(self.pair_source.emission_error()), [0, 1])
        return Operation(qc, name="pair_source")

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        """Every circuit the scheme runs (for inspection and engine cross-checks)."""
        if self.scheme == "single_click":
            prepare = _prepare_spins(self.bright_state_population)
            return (prepare, *self._emission_round(), _CORRECT_PSI_PLUS, _CORRECT_PSI_MINUS)
        if self.scheme == "double_click":
            return (_prepare_spins(0.5), *self._emission_round(), _FLIP_BOTH, _CORRECT_PSI_PLUS, _CORRECT_PSI_MINUS)
        return (self._source(), self._absorption("a"), self._absorption("b"))

    @cached_property
    def heralded_states(self) -> tuple[HeraldedState, ...]:
        """The successful outcomes of one attempt on one mode, with corrected states on (a, b).

        Computed exactly by the state engine, enumerating the circuits' outcomes; links with the
        same hardware share one table.
        """
        return _heralded_table(dataclasses.replace(self, multiplexing=1))

    @cached_property
    def success_probability_per_mode(self) -> float:
        return float(sum(h.probability for h in self.heralded_states))

    @cached_property
    def success_probability(self) -> float:
        """Probability that an attempt (all ``multiplexing`` modes) heralds a pair."""
        return 1.0 - (1.0 - self.success_probability_per_mode) ** self.multiplexing

    def sample_heralded_state(self, rng: np.random.Generator) -> HeraldedState:
        """Draw which heralding outcome occurred, given that the attempt succeeded."""
        weights = self._cumulative_weights
        index = bisect.bisect_right(weights, rng.random() * weights[-1])  # a Python list: no numpy call per herald
        return self.heralded_states[min(index, len(self.heralded_states) - 1)]

    @cached_property
    def _cumulative_weights(self) -> list[float]:
        return np.cumsum([h.probability for h in self.heralded_states]).tolist()


def _pauli_circuit(name: str, *gates: tuple[str, int]) -> Operation:
    qc = QuantumCircuit(2, name=name)
    for gate, qubit in gates:
        getattr(qc, gate)(qubit)
    return Operation(qc, name=name)


@functools.lru_cache(maxsize=64)
def _emission_op(emitter_a: Emitter, emitter_b: Emitter) -> Operation:
    """Spins (0, 1) emit into photon-number qubits (2, 3) when in the bright state ``|1>``;
    imperfect spin-photon entanglement is each emitter's error on its spin."""
    qc = QuantumCircuit(4, name="emission")
    for spin, photon, emitter in ((0, 2, emitter_a), (1, 3, emitter_b)):
        qc.cx(spin, photon)
        if emitter.emitted_state_fidelity < 1:
            qc.append(noisy(emitter.emission_error()), [spin])
    return Operation(qc, name="emission")


@functools.lru_cache(maxsize=4096)
def _loss_op(loss_a: float, loss_b: float) -> Operation:
    """Photon loss on each arm: amplitude damping of the photon-number qubit."""
    qc = QuantumCircuit(2, name="loss")
    for qubit, loss in ((0, loss_a), (1, loss_b)):
        if loss > 0:
            qc.append(noisy(amplitude_damping_error(loss)), [qubit])
    return Operation(qc, name="loss")


@functools.lru_cache(maxsize=1024)
def _noisy_loss_op(
    arm_a: tuple[float, Transducer | None, float], arm_b: tuple[float, Transducer | None, float]
) -> Operation:
    """Per arm ``(loss before the interface's output, interface, loss after)``: loss, then the
    interface's noise photon (:meth:`Transducer.noise_error`, an excitation of the photon-number
    qubit), then the channel's and detector's loss, which the noise photon suffers too."""
    qc = QuantumCircuit(2, name="loss_and_noise")
    for qubit, (before, interface, after) in ((0, arm_a), (1, arm_b)):
        if before > 0:
            qc.append(noisy(amplitude_damping_error(before)), [qubit])
        if interface is not None and interface.noise_probability > 0:
            qc.append(noisy(interface.noise_error()), [qubit])
        if after > 0:
            qc.append(noisy(amplitude_damping_error(after)), [qubit])
    return Operation(qc, name="loss_and_noise")


def _false_photon_kraus(probability: float) -> Kraus:
    """On (photon polarisation, presence flag): an absent photon (flag 0) is replaced with
    probability ``probability`` by a noise photon (flag 1) of random polarisation."""
    flag0, flag1 = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
    raise_flag = np.array([[0.0, 0.0], [1.0, 0.0]])
    keep = np.kron(flag0, math.sqrt(1 - probability) * np.eye(2)) + np.kron(flag1, np.eye(2))
    operators = [keep]
    for i in range(2):
        for j in range(2):
            unit = np.zeros((2, 2))
            unit[i, j] = 1.0
            operators.append(math.sqrt(probability / 2) * np.kron(raise_flag, unit))
    return Kraus(operators)


@functools.lru_cache(maxsize=64)
def _detection_op(visibility: float, dark_count_probability: float) -> Operation:
    """Beam splitter and threshold detectors on photons (0, 1); outcome (click c, click d)."""
    qc = QuantumCircuit(2, 2, name="detection")
    if visibility < 1:
        qc.append(_distinguishability_kraus(visibility), [0, 1])
    qc.append(detection_kraus(visibility), [0, 1])
    if dark_count_probability > 0:
        qc.append(_dark_count_kraus(dark_count_probability), [0])
        qc.append(_dark_count_kraus(dark_count_probability), [1])
    qc.measure(0, 0)
    qc.measure(1, 1)
    return Operation(qc, discard=(0, 1), name="detection")


def _prepare_spins(alpha: float) -> Operation:
    """Both spins to ``sqrt(1-alpha)|0> + sqrt(alpha)|1>`` (``|1>`` the bright state)."""
    qc = QuantumCircuit(2, name="prepare_spins")
    theta = 2 * math.asin(math.sqrt(alpha))
    qc.ry(theta, 0)
    qc.ry(theta, 1)
    return Operation(qc, name="prepare_spins")


# Pauli frame corrections on node B's qubit: Psi+ -> Phi+ (X), Psi- -> Phi+ (X then Z).
_CORRECT_PSI_PLUS = _pauli_circuit("correct_psi_plus", ("x", 1))
_CORRECT_PSI_MINUS = _pauli_circuit("correct_psi_minus", ("x", 1), ("z", 1))
_FLIP_BOTH = _pauli_circuit("flip_both", ("x", 0), ("x", 1))


@functools.lru_cache(maxsize=128)
def _heralded_table(link: HeraldedLink) -> tuple[HeraldedState, ...]:
    """Memoised by the (immutable) hardware: a pure function of the link's parameters."""
    if link.scheme == "midpoint_source":
        return _midpoint_table(link)
    return _emitter_table(link)


def _branch(rho: np.ndarray, operation: Operation, n_new: int = 0):
    """Outcome table of ``operation`` applied to a 2-qubit state plus ``n_new`` fresh qubits."""
    registry = StateRegistry(np.random.default_rng(0))
    old = registry.new_qubits(["s0", "s1"], rho=rho)
    new = registry.new_qubits([f"p{i}" for i in range(n_new)]) if n_new else []
    return registry.outcome_table(operation, old + new)


def _round(rho: np.ndarray, round_ops: tuple[Operation, Operation, Operation]):
    """Outcome table of one emission round on spins in state ``rho``: [(clicks, p, spins)]."""
    emission, loss, detection = round_ops
    registry = StateRegistry(np.random.default_rng(0))
    spins = registry.new_qubits(["spin_a", "spin_b"], rho=rho)
    photons = registry.new_qubits(["photon_a", "photon_b"])
    registry.apply(emission, spins + photons)
    registry.apply(loss, photons)
    # After the detection the group holds the two spins, in the order (spin_a, spin_b).
    return registry.outcome_table(detection, photons)


def _one_click(outcome: tuple[int, ...]) -> str | None:
    return {(1, 0): "c", (0, 1): "d"}.get(tuple(outcome))


def _corrected(rho: np.ndarray, operation: Operation) -> np.ndarray:
    """Apply a deterministic two-qubit operation."""
    ((_, _, out),) = _branch(rho, operation)
    return out


def _emitter_table(link: HeraldedLink) -> tuple[HeraldedState, ...]:
    ground = np.zeros((4, 4), dtype=complex)
    ground[0, 0] = 1.0
    operations = link.operations
    prepared = _corrected(ground, operations[0])
    round_ops = operations[1:4]
    states = []
    if link.scheme == "single_click":
        for outcome, p, rho in _round(prepared, round_ops):
            click = _one_click(outcome)
            if click is None:
                continue
            correction = _CORRECT_PSI_PLUS if click == "c" else _CORRECT_PSI_MINUS
            states.append(HeraldedState(p, _corrected(rho, correction), f"click_{click}"))
        return tuple(states)
    # Barrett-Kok: two rounds at alpha = 1/2 with a flip of both spins between them.
    flip = operations[4]
    for outcome1, p1, rho1 in _round(prepared, round_ops):
        first = _one_click(outcome1)
        if first is None:
            continue
        flipped = _corrected(rho1, flip)
        for outcome2, p2, rho2 in _round(flipped, round_ops):
            second = _one_click(outcome2)
            if second is None:
                continue
            correction = _CORRECT_PSI_PLUS if first == second else _CORRECT_PSI_MINUS
            states.append(HeraldedState(p1 * p2, _corrected(rho2, correction), f"clicks_{first}{second}"))
    return tuple(states)


def _midpoint_table(link: HeraldedLink) -> tuple[HeraldedState, ...]:
    source, absorb_a, absorb_b = link.operations
    registry = StateRegistry(np.random.default_rng(0))
    photons = registry.new_qubits(["photon_a", "photon_b"])
    ((_, _, pair),) = registry.outcome_table(source, photons)
    # Absorb photon a into memory a (qubits: photon_a, photon_b, memory_a, flag_a).
    registry = StateRegistry(np.random.default_rng(0))
    ph_a, ph_b = registry.new_qubits(["photon_a", "photon_b"], rho=pair)
    mem_a, flag_a = registry.new_qubits(["memory_a", "flag_a"])
    states = []
    for outcome_a, p_a, rho_a in registry.outcome_table(absorb_a, [ph_a, mem_a, flag_a]):
        if outcome_a != (1,):
            continue
        # Remaining group order: photon_b, memory_a.
        reg = StateRegistry(np.random.default_rng(0))
        q_ph_b, q_mem_a = reg.new_qubits(["photon_b", "memory_a"], rho=rho_a)
        mem_b, flag_b = reg.new_qubits(["memory_b", "flag_b"])
        for outcome_b, p_b, rho_b in reg.outcome_table(absorb_b, [q_ph_b, mem_b, flag_b]):
            if outcome_b != (1,):
                continue
            # Remaining group order: memory_a, memory_b.
            p = link.pair_source.pair_probability * p_a * p_b
            states.append(HeraldedState(p, rho_b, "absorbed_both"))
    return tuple(states)
