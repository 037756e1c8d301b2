"""``node_sources``: a pair source at each node, a photonic Bell-state measurement in the middle.

Each node holds an SPDC source of polarisation-entangled photon pairs: one photon (mode ``m``) goes
into the node's absorptive memory, the other (mode ``s``) down the channel to the station, where a
50:50 beam splitter, a polarising beam splitter in each output and four detectors (``cH, cV, dH,
dV``; threshold, or number-resolving: see below) perform the linear-optics Bell-state measurement.
Two clicks with orthogonal polarisations herald: in different outputs ``Psi-``, in the same output
``Psi+`` (the two other Bell states bunch into one detector: the measurement's 1/2). Entanglement
swapping then leaves the two memories in ``Psi-`` / ``Psi+``, corrected to ``Phi+`` (Liu et al.,
Nature 594, 41 (2021); Simon et al., PRL 98, 190503 (2007)).

Multi-pair emission
    Each source is two two-mode squeezers, ``H_m H_s`` and ``V_m V_s``, each with thermal
    statistics of mean ``mu/2`` (``mu``: the mean pair number per pulse, the source preset's
    ``pair_probability``, so that ``mu`` is the probability of a pair to first order):
    ``|psi> = (1 - l^2) sum_jk l^(j+k) |j, k>_m |j, k>_s``, ``l^2 = (mu/2)/(1 + mu/2)``. Exactly
    one pair is emitted with ``mu/(1 + mu/2)^3``.

How the heralded state is computed (exact up to a truncation that is checked)
    In truncated Fock space: every source term with ``n <= N`` pairs per polarisation (``N``
    chosen so that the neglected probability of each thermal mode is below ``1e-10``). Loss of a station photon (source
    collection, channel, interface, detector efficiency: ``t = eta_arm``) is a beam splitter to
    the environment, so each pattern of lost photons is one incoherent branch; within a branch
    the surviving station photons go through the beam splitter (its Fock-space transform per
    polarisation), and a heralding click pattern projects them (a threshold detector clicks on
    any photon number; dark counts click an empty detector with ``p_dark``). What remains is a
    pure state of the four memory modes per branch and click pattern.

    Number-resolving detectors (``Detector.number_resolving``): a herald needs exactly one count
    in each of its two detectors (one photon and no dark count, or a dark count and no photon)
    and none in the other two, so every multi-photon detection is rejected; the same projection
    per detector, still one condition per polarisation's two detectors, so the computation stays
    exact. Folding the detectors' efficiency into ``t`` is exact too: the four detectors are
    alike, and equal loss on every output mode of the (lossless) beam splitters is the same
    channel as that loss on their inputs.

What the stored pair is
    The experiment reads the memories out and counts coincidences of the recalled photons behind
    polarisation analysers; with the low recall-and-detection efficiency of such memories a
    coincidence probability is proportional to the normally ordered moments
    ``<a_k^+ b_l^+ b_j a_i>`` of the memory modes (``a``, ``b`` at node a, b; ``i, j, k, l``
    polarisations), so the two-qubit state the measurement sees is that matrix, normalised:
    ``rho[(i j), (k l)] = <a_k^+ b_l^+ b_j a_i> / sum_ij <n_a,i n_b,j>``. For one photon in
    each memory it is the photons' polarisation state exactly; heralds that leave a memory empty
    (a double pair at one source, none at the other) add nothing to it, as they add no
    coincidence. The herald probability counts every herald (the rate of heralds; a herald with
    an empty memory is not a usable pair, so the delivered-pair rate is an upper estimate, the
    fidelity is what a coincidence measurement sees). The memories' efficiencies scale the
    coincidences only, so this scheme reads neither.

The source's imperfect polarisation entanglement (``emitted_state_fidelity``) acts on every
photon of a pulse as a random polarisation flip (a one-qubit depolarizing channel on the stored
qubit, which on a Bell pair is the two-qubit one of the same parameter); it and the Pauli
correction are circuits run by the state engine.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from qiskit import QuantumCircuit
from qiskit_aer.noise import depolarizing_error

from qstack.engine import Operation, noisy, outcomes
from qstack.physics import depolarizing_parameter
from qstack.registry import register

from .heralded import HeraldedLink
from .model import HeraldedState
from .optics import CORRECT_PSI_MINUS, CORRECT_PSI_PLUS

_NEGLECTED_PAIR_PROBABILITY = 1e-10
MAX_MEAN_PAIR_NUMBER = 0.5
"""Largest ``mu`` accepted: beyond it the truncation grows and SPDC sources are not run there."""

# Heralding click patterns: (clicking detectors) -> Bell state on the station photons.
# Detector order in an outcome tuple: (cH, cV, dH, dV).
_PATTERNS = {
    (0, 3): "psi_minus",  # cH dV
    (1, 2): "psi_minus",  # cV dH
    (0, 1): "psi_plus",  # cH cV
    (2, 3): "psi_plus",  # dH dV
}
_LABELS = {(0, 3): "cH_dV", (1, 2): "cV_dH", (0, 1): "cH_cV", (2, 3): "dH_dV"}


@register("link_scheme", "node_sources")
@dataclass(frozen=True)
class NodeSources(HeraldedLink):
    """An SPDC source at each node, its memory photon stored, its station photon sent to a
    linear-optics Bell-state measurement; multi-pair emission included (module docstring)."""

    scheme: str = "node_sources"
    SCHEME = "node_sources"
    PAIR_SOURCE = True
    EMITS = False

    def __post_init__(self) -> None:
        super().__post_init__()
        mu = self.pair_source.pair_probability
        if not 0.0 < mu <= MAX_MEAN_PAIR_NUMBER:
            raise ValueError(
                f"pair_source.pair_probability (the mean pair number per pulse for scheme 'node_sources') must be in "
                f"(0, {MAX_MEAN_PAIR_NUMBER}], got {mu!r}")
        if self.pair_source.max_pulses_in_flight != 1:
            raise ValueError("pair_source.max_pulses_in_flight: a free-running source is modelled for scheme "
                             "'midpoint_source' only; scheme 'node_sources' attempts once per herald round trip (1)")
        for side in ("a", "b"):
            if self.end(side).interface_noise_probability:
                raise ValueError(f"link.end_{side}: an interface with noise photons is not modelled for scheme 'node_sources'")
        # A stored spin at these nodes sees no optical excitation of its own node: the attempts are
        # the sources' pulses, whose photons a memory absorbs with probability mu per pulse.
        object.__setattr__(self, "bright_state_population", mu)

    @cached_property
    def emission_time_s(self) -> float:
        """One pump pulse, ``1 / repetition_rate_hz`` [s]."""
        return self.pair_source.attempt_time_s

    def _node_side_efficiency(self, side: str) -> float:
        """The source's collection and the node's interface, towards the channel."""
        return self.pair_source.collection_efficiency * self.end(side).interface_efficiency

    def _station_side_efficiency(self, side: str) -> float:
        """The channel's transmissivity times the detector's efficiency."""
        return self.channel(side).transmissivity * self.detector.efficiency

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        return (_source_noise(self.pair_source.emitted_state_fidelity), CORRECT_PSI_PLUS, CORRECT_PSI_MINUS)

    def _outcome_table(self) -> tuple[HeraldedState, ...]:
        noise, plus, minus = self.operations
        raw = swapped_memory_moments(
            self.pair_source.pair_probability, self.arm_efficiency("a"), self.arm_efficiency("b"),
            self.dark_count_probability, self.number_resolving,
        )
        states = []
        for pattern, (probability, moments) in raw.items():
            trace = float(np.real(np.trace(moments)))
            if probability <= 0 or trace <= 0:
                continue
            rho = _evolved(noise, moments / trace)
            rho = _evolved(plus if _PATTERNS[pattern] == "psi_plus" else minus, rho)
            states.append(HeraldedState(probability, rho, f"bsm_{_LABELS[pattern]}"))
        return tuple(states)


def _evolved(operation: Operation, rho: np.ndarray) -> np.ndarray:
    """A deterministic two-qubit operation's output."""
    (only,) = outcomes(operation, rho)
    return only.rho


@lru_cache(maxsize=16)
def _source_noise(fidelity: float) -> Operation:
    """Each stored photon's polarisation depolarized with the source's parameter
    ``p = 4 (1 - F) / 3`` (on qubits 0 and 1: one per source)."""
    qc = QuantumCircuit(2, name="source_noise")
    if fidelity < 1:
        p = depolarizing_parameter(fidelity, 2)
        qc.append(noisy(depolarizing_error(p, 1)), [0])
        qc.append(noisy(depolarizing_error(p, 1)), [1])
    return Operation(qc, name="source_noise")


def truncation(mean_pair_number: float) -> int:
    """Largest pair number ``N`` per polarisation and source kept: the smallest with the
    neglected probability ``P(n > N) = l^(2(N + 1))`` of that thermal mode below ``1e-10``."""
    l2 = (mean_pair_number / 2) / (1 + mean_pair_number / 2)
    return max(2, math.ceil(math.log(_NEGLECTED_PAIR_PROBABILITY) / math.log(l2)) - 1)


def swapped_memory_moments(mean_pair_number: float, eta_a: float, eta_b: float, dark_count_probability: float,
                           number_resolving: bool = False) -> dict[tuple[int, int], tuple[float, np.ndarray]]:
    """Per heralding click pattern: its probability per pulse pair and the (unnormalised)
    matrix ``M[(i j), (k l)] = <a_k^+ b_l^+ b_j a_i>`` of the memory modes after it.

    Qubit order as everywhere in qstack (Qiskit's): index ``i + 2 j``, ``i`` node a's
    polarisation (0 = H, 1 = V), ``j`` node b's. ``eta_a``, ``eta_b``: probability that a station
    photon of that node reaches (and fires) its detector. ``number_resolving``: a heralding
    detector must count exactly one (:func:`_click_weight`).

    The two polarisations are independent systems (each source is a product of an ``H`` and a
    ``V`` squeezer, loss and the beam splitter act on each polarisation alone, and a click pattern
    is a condition on each polarisation's two detectors), so the heralded state is a product of
    one two-mode memory state per polarisation and each moment a product of their moments.
    """
    return _moments(float(mean_pair_number), float(eta_a), float(eta_b), float(dark_count_probability),
                    bool(number_resolving))


@lru_cache(maxsize=256)
def _moments(mu: float, eta_a: float, eta_b: float, p_dark: float, number_resolving: bool):
    n_max = truncation(mu)
    l2 = (mu / 2) / (1 + mu / 2)
    # One polarisation: per (click c, click d) condition, the conditional two-mode memory state.
    system = {
        condition: _polarisation_system(n_max, l2, eta_a, eta_b, p_dark, condition, number_resolving)
        for condition in itertools.product((False, True), repeat=2)
    }
    result = {}
    for pattern in _PATTERNS:
        # Detector order (cH, cV, dH, dV): H's detectors are 0 (c) and 2 (d), V's 1 and 3.
        h, v = system[(0 in pattern, 2 in pattern)], system[(1 in pattern, 3 in pattern)]
        moments = np.zeros((4, 4), dtype=complex)
        for (i, j, k, ll) in itertools.product((0, 1), repeat=4):
            factors = []
            for pol, states in ((0, h), (1, v)):
                annihilate = tuple(m for m, q in ((0, i), (1, j)) if q == pol)
                create = tuple(m for m, q in ((0, k), (1, ll)) if q == pol)
                factors.append(_expectation(states, create, annihilate))
            moments[i + 2 * j, k + 2 * ll] = factors[0] * factors[1]
        probability = _expectation(h, (), ()).real * _expectation(v, (), ()).real
        result[pattern] = (float(probability), moments)
    return result


def _polarisation_system(n_max: int, l2: float, eta_a: float, eta_b: float, p_dark: float,
                         condition: tuple[bool, bool], number_resolving: bool = False
                         ) -> list[tuple[float, dict[tuple[int, int], float]]]:
    """One polarisation of both sources after loss, beam splitter and the condition ``(click c,
    click d)`` on its two detectors: ``(weight, memory amplitudes over (n_a, n_b))`` per
    incoherent branch (photons lost at a and b, photons at c and d)."""
    source_a, source_b = _lossy_source(n_max, l2, eta_a), _lossy_source(n_max, l2, eta_b)
    branches = []
    for lost_a, terms_a in source_a.items():
        for lost_b, terms_b in source_b.items():
            per_outcome: dict[tuple[int, int], dict[tuple[int, int], float]] = {}
            for surviving_a, amp_a in terms_a.items():
                for surviving_b, amp_b in terms_b.items():
                    memory = (surviving_a + lost_a, surviving_b + lost_b)
                    for outcome, amp_bs in _beam_splitter(surviving_a, surviving_b).items():
                        vector = per_outcome.setdefault(outcome, {})
                        vector[memory] = vector.get(memory, 0.0) + amp_a * amp_b * amp_bs
            for (n_c, n_d), vector in per_outcome.items():
                weight = (_click_weight(n_c, condition[0], p_dark, number_resolving)
                          * _click_weight(n_d, condition[1], p_dark, number_resolving))
                if weight > 0.0:
                    branches.append((weight, vector))
    return branches


def _lossy_source(n_max: int, l2: float, eta: float) -> dict[int, dict[int, float]]:
    """One polarisation of one source, ``sqrt(1 - l^2) sum_n l^n |n>_m |n>_s``, after the loss of
    station photons: per number lost, the amplitudes of the surviving numbers (the memory
    holds survivors plus lost)."""
    branches: dict[int, dict[int, float]] = {}
    for n in range(n_max + 1):
        amplitude = math.sqrt(1 - l2) * math.sqrt(l2) ** n
        for lost in range(n + 1):
            weight = math.comb(n, lost) * (1 - eta) ** lost * eta ** (n - lost)
            if weight > 0.0:
                branches.setdefault(lost, {})[n - lost] = amplitude * math.sqrt(weight)
    return branches


@lru_cache(maxsize=4096)
def _beam_splitter(n_a: int, n_b: int) -> dict[tuple[int, int], float]:
    """``|n_a, n_b> -> sum amp |n_c, n_d>`` for ``a^+ -> (c^+ + d^+)/sqrt2``,
    ``b^+ -> (c^+ - d^+)/sqrt2`` (one polarisation)."""
    out: dict[tuple[int, int], float] = {}
    scale = 1.0 / math.sqrt(math.factorial(n_a) * math.factorial(n_b) * 2 ** (n_a + n_b))
    for p in range(n_a + 1):  # p of a's photons to c
        for q in range(n_b + 1):  # q of b's photons to c
            coefficient = math.comb(n_a, p) * math.comb(n_b, q) * (-1) ** (n_b - q)
            n_c, n_d = p + q, n_a + n_b - p - q
            out[(n_c, n_d)] = out.get((n_c, n_d), 0.0) + coefficient * scale
    return {
        key: amp * math.sqrt(math.factorial(key[0]) * math.factorial(key[1]))
        for key, amp in out.items() if abs(amp) > 1e-15
    }


def _click_weight(photons: int, clicks: bool, p_dark: float, number_resolving: bool = False) -> float:
    """Probability that a detector holding ``photons`` registers (``clicks``) or not: a threshold
    detector on any photon number or a dark count; a number-resolving one (``number_resolving``)
    registers a herald's count only for exactly one, one photon and no dark count or a dark count
    alone."""
    if clicks and number_resolving:
        return {0: p_dark, 1: 1.0 - p_dark}.get(photons, 0.0)
    if clicks:
        return 1.0 if photons else p_dark
    return 0.0 if photons else 1.0 - p_dark


def _expectation(states, create: tuple[int, ...], annihilate: tuple[int, ...]) -> complex:
    """``sum_w w <v| prod a_create^+ prod a_annihilate |v>`` over the branches ``(w, v)`` of a
    two-mode memory state (modes 0 = node a, 1 = node b)."""
    total = 0.0
    for weight, vector in states:
        left, right = _lowered(vector, create), _lowered(vector, annihilate)
        total += weight * sum(np.conj(left[key]) * value for key, value in right.items() if key in left)
    return complex(total)


def _lowered(vector: dict[tuple[int, int], float], modes: tuple[int, ...]) -> dict[tuple[int, int], float]:
    """``prod_{m in modes} a_m |v>`` on Fock amplitudes."""
    out = dict(vector)
    for mode in modes:
        nxt: dict[tuple[int, int], float] = {}
        for state, amp in out.items():
            if state[mode] == 0:
                continue
            new = list(state)
            factor = math.sqrt(new[mode])
            new[mode] -= 1
            key = (new[0], new[1])
            nxt[key] = nxt.get(key, 0.0) + factor * amp
        out = nxt
    return out
