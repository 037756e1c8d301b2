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
"""

from __future__ import annotations

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
from qstack.hardware import Detector, Emitter, Memory, NuclearSpinRegister, PairSource

SCHEMES = ("single_click", "double_click", "midpoint_source")


@dataclass(frozen=True)
class NodeHardware:
    """The devices of one network node: its optical interface and its memory.

    ``emitter`` is the spin-photon interface (None for a node that only absorbs photons from a
    pair source); ``nuclear_spin`` is an optional long-lived register (NV centres) into which
    heralded states are moved.
    """

    memory: Memory
    emitter: Emitter | None = None
    nuclear_spin: NuclearSpinRegister | None = None
    name: str = ""


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
    channel_a: object
    channel_b: object
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
        per_round = max(self.end_a.emitter.emission_time_s, self.end_b.emitter.emission_time_s)
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
        """Probability that a photon emitted for ``side`` is detected (or absorbed)."""
        end, channel = (self.end_a, self.channel_a) if side == "a" else (self.end_b, self.channel_b)
        if self.scheme == "midpoint_source":
            return self.pair_source.collection_efficiency * channel.transmissivity * end.memory.write_efficiency
        return end.emitter.photon_efficiency * channel.transmissivity * self.detector.efficiency

    # ------------------------------------------------------------------ circuits
    def _emission_round(self) -> tuple[Operation, Operation, Operation]:
        """One round as three circuits: emission (spins 0, 1 -> photons 2, 3), loss on the way
        to the station (photons), interference and detection (photons, measured and dropped).

        Split so that links differing only in length share the compiled emission and detection
        circuits and compile just their small loss circuit.
        """
        visibility = self.end_a.emitter.photon_indistinguishability * self.end_b.emitter.photon_indistinguishability
        return (
            _emission_op(self.end_a.emitter, self.end_b.emitter),
            _loss_op(1 - self.arm_efficiency("a"), 1 - self.arm_efficiency("b")),
            _detection_op(visibility, self.detector.dark_count_probability),
        )

    def _absorption(self, side: str) -> Operation:
        """Photon (0) absorbed into memory (1); qubit 2 flags the photon's presence."""
        qc = QuantumCircuit(3, 1, name="absorption")
        qc.x(2)
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
        index = int(np.searchsorted(self._cumulative_weights, rng.random() * self._cumulative_weights[-1], side="right"))
        return self.heralded_states[min(index, len(self.heralded_states) - 1)]

    @cached_property
    def _cumulative_weights(self) -> np.ndarray:
        return np.cumsum([h.probability for h in self.heralded_states])


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
