"""``polarisation_photons``: one photon per node whose polarisation is entangled with the spin;
a linear-optics Bell-state measurement of the two photons heralds.

Each node's emitter leaves its spin and photon in ``(|0 H> + |1 V>)/sqrt2`` (fidelity
``emitted_state_fidelity``, the error on the spin as for every emitter); the photon reaches the
station with the arm efficiency (emission, collection, interface, channel, detector). There a 50:50
beam splitter, a polarising beam splitter in each output and four detectors (``cH, cV, dH, dV``;
threshold, or number-resolving: see below) measure: two clicks with orthogonal polarisations in
different outputs herald ``Psi-``, in the same output ``Psi+`` of the photons, hence of the spins
(entanglement swapping; success ``eta_a eta_b / 2``). This is the protocol of trapped-ion networks
(Moehring et al., Nature 449, 68 (2007); Stephenson et al., PRL 124, 110501 (2020); Krutyanskiy et
al., PRL 130, 050803 (2023)), one emission per node and attempt, where ``double_click``
(Barrett-Kok) emits twice with a spin flip between.

How it is computed (exact, per photon-number case)
    Both photons arrive (``eta_a eta_b``), one (``eta_a (1 - eta_b)``, the lost photon's spin
    traced out) or none. Indistinguishable photons (weight ``V``, the link's
    :attr:`~qstack.physical.schemes.EmitterLink.visibility` from the emitters'
    ``photon_indistinguishability``) go through the beam splitter coherently: a
    detector event's amplitude on the polarisation pair is read off ``a^+ -> (c^+ + d^+)/sqrt2``,
    ``b^+ -> (c^+ - d^+)/sqrt2``, so ``(cH, dV)`` is ``<Psi-|/sqrt2`` and two ``H`` photons bunch
    into one detector; distinguishable photons (``1 - V``) take each output independently, their
    polarisations measured without interference. A threshold detector clicks on any photon or a
    dark count; a herald is exactly its two detectors clicking, so a photon and a dark count, or
    a bunched pair and a dark count, herald too. A number-resolving detector
    (``Detector.number_resolving``) counts photons and dark counts: a herald is exactly one count
    in each of its two detectors and none elsewhere, so a bunched pair (two photons in one
    detector) never heralds, nor a photon with a dark count in its detector. The detectors'
    efficiency is in the arm efficiency, exact for the station's four equal detectors (equal loss
    commutes with the beam splitters: :mod:`qstack.physical.optics`). Each case's Kraus operators act on the spins'
    and photons' density matrix; the emission noise and the Pauli correction are circuits run by
    the state engine.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from qiskit import QuantumCircuit

from qstack.engine import Operation, noisy, outcomes
from qstack.registry import register

from .model import HeraldedState
from .optics import CORRECT_PSI_MINUS, CORRECT_PSI_PLUS
from .schemes import EmitterLink

# Detectors in a click pattern: (output, polarisation), output 0 = c, 1 = d; polarisation 0 = H.
_HERALDS = {
    ((0, 0), (1, 1)): ("psi_minus", "cH_dV"),
    ((0, 1), (1, 0)): ("psi_minus", "cV_dH"),
    ((0, 0), (0, 1)): ("psi_plus", "cH_cV"),
    ((1, 0), (1, 1)): ("psi_plus", "dH_dV"),
}
_DETECTORS = tuple(itertools.product((0, 1), repeat=2))


@register("link_scheme", "polarisation_photons")
@dataclass(frozen=True)
class PolarisationPhotons(EmitterLink):
    """One spin-entangled photon per node and attempt, a linear-optics Bell measurement of the
    two photons (module docstring)."""

    scheme: str = "polarisation_photons"
    SCHEME = "polarisation_photons"
    BRIGHT_STATE_POPULATION = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        for side in ("a", "b"):
            if self.end(side).interface_noise_probability:
                raise ValueError(
                    f"link.end_{side}: an interface with noise photons is not modelled for scheme 'polarisation_photons'")
        # Every attempt leaves the spin in an equal superposition of its two states whatever the
        # link setting says; the nuclear-spin dephasing per attempt reads this field.
        object.__setattr__(self, "bright_state_population", self.BRIGHT_STATE_POPULATION)

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        return (_spin_photon(self.end_a.emitter), _spin_photon(self.end_b.emitter), CORRECT_PSI_PLUS, CORRECT_PSI_MINUS)

    def _outcome_table(self) -> tuple[HeraldedState, ...]:
        emit_a, emit_b, plus, minus = self.operations
        pair_a, pair_b = _deterministic(emit_a, _GROUND_2), _deterministic(emit_b, _GROUND_2)
        raw = swapped_spins(pair_a, pair_b, self.arm_efficiency("a"), self.arm_efficiency("b"), self.visibility,
                            self.dark_count_probability, self.number_resolving)
        states = []
        for pattern, rho in raw.items():
            probability = float(np.real(np.trace(rho)))
            if probability <= 0.0:
                continue
            kind, label = _HERALDS[pattern]
            corrected = _deterministic(plus if kind == "psi_plus" else minus, rho / probability)
            states.append(HeraldedState(probability, corrected, f"bsm_{label}"))
        return tuple(states)


_GROUND_2 = np.diag([1.0, 0.0, 0.0, 0.0]).astype(complex)


@lru_cache(maxsize=64)
def _spin_photon(emitter) -> Operation:
    """Spin (qubit 0) to ``|+>``, its polarisation onto the photon (qubit 1, ``|0> = H``):
    ``(|0 H> + |1 V>)/sqrt2``, then the emitter's error on the spin."""
    qc = QuantumCircuit(2, name="spin_photon")
    qc.h(0)
    qc.cx(0, 1)
    if emitter.emitted_state_fidelity < 1:
        qc.append(noisy(emitter.emission_error()), [0])
    return Operation(qc, name="spin_photon")


def _deterministic(operation: Operation, rho: np.ndarray) -> np.ndarray:
    (only,) = outcomes(operation, rho)
    return only.rho


def swapped_spins(pair_a: np.ndarray, pair_b: np.ndarray, eta_a: float, eta_b: float, visibility: float,
                  p_dark: float, number_resolving: bool = False) -> dict[tuple, np.ndarray]:
    """Per herald pattern: the unnormalised state of the spins (qubit 0 = a) after it (trace =
    the pattern's probability per attempt). ``pair_a``, ``pair_b``: spin (qubit 0) and photon
    polarisation (qubit 1) of each node, Qiskit order; ``number_resolving``: the detectors count
    (:func:`_click_weight`)."""
    spins = {pattern: np.zeros((4, 4), dtype=complex) for pattern in _HERALDS}
    # rho on (spin a, spin b, pol a, pol b): qubit order 0..3 -> tensor axes reversed.
    joint = _reorder(np.kron(pair_b, pair_a))  # Qiskit: kron(high, low); low = pair a (spin a q0, pol a q1)
    lone_a = np.kron(_partial_trace_high(pair_b), pair_a)  # (spin a, pol a, spin b): photon b lost
    lone_b = np.kron(pair_b, _partial_trace_high(pair_a))  # (spin a, spin b, pol b): photon a lost
    nothing = np.kron(_partial_trace_high(pair_b), _partial_trace_high(pair_a))
    cases = [
        (eta_a * eta_b * visibility, joint, _two_photon_events(True)),
        (eta_a * eta_b * (1 - visibility), joint, _two_photon_events(False)),
        (eta_a * (1 - eta_b), lone_a, _one_photon_events(pol_qubit=1)),
        ((1 - eta_a) * eta_b, lone_b, _one_photon_events(pol_qubit=2)),
    ]
    for weight, rho, events in cases:
        if weight <= 0.0:
            continue
        for counts, kraus_ops in events:
            for pattern in _HERALDS:
                w = _click_weight(counts, pattern, p_dark, number_resolving)
                if w == 0.0:
                    continue
                for kraus in kraus_ops:
                    spins[pattern] += weight * w * (kraus @ rho @ kraus.conj().T)
    weight = (1 - eta_a) * (1 - eta_b)
    if weight > 0.0:
        for pattern in _HERALDS:
            spins[pattern] += weight * _click_weight({}, pattern, p_dark, number_resolving) * nothing
    return spins


def _partial_trace_high(rho: np.ndarray) -> np.ndarray:
    """The spin (qubit 0) of a spin-photon pair, the photon (qubit 1, the high bit) traced out."""
    r = rho.reshape(2, 2, 2, 2)  # (q1, q0, q1', q0')
    return np.einsum("iaib->ab", r)


def _reorder(rho_a_low: np.ndarray) -> np.ndarray:
    """(spin a, pol a, spin b, pol b) as qubits 0..3 -> (spin a, spin b, pol a, pol b)."""
    r = rho_a_low.reshape([2] * 8)  # axes: q3 q2 q1 q0 | q3' q2' q1' q0'  (q0 spin a, q1 pol a, q2 spin b, q3 pol b)
    # new qubits: n0 = spin a (q0), n1 = spin b (q2), n2 = pol a (q1), n3 = pol b (q3); axes high to low n3 n2 n1 n0
    r = r.transpose(0, 2, 1, 3, 4, 6, 5, 7)  # -> q3 q1 q2 q0 = n3 n2 n1 n0
    return r.reshape(16, 16)


def _pol_projector(num_qubits: int, amplitudes: dict[tuple[int, ...], complex], pol_qubits: tuple[int, ...]) -> np.ndarray:
    """``sum amp <pols|`` on the photon qubits ``pol_qubits``, identity on the other (spin)
    qubits: a map from ``num_qubits`` qubits to the spins."""
    spin_qubits = [q for q in range(num_qubits) if q not in pol_qubits]
    out = np.zeros((2 ** len(spin_qubits), 2 ** num_qubits), dtype=complex)
    for pols, amp in amplitudes.items():
        for spin_bits in itertools.product((0, 1), repeat=len(spin_qubits)):
            bits = [0] * num_qubits
            for q, b in zip(spin_qubits, spin_bits):
                bits[q] = b
            for q, b in zip(pol_qubits, pols):
                bits[q] = b
            col = sum(b << q for q, b in enumerate(bits))
            row = sum(b << i for i, b in enumerate(spin_bits))
            out[row, col] += amp
    return out


@lru_cache(maxsize=2)
def _two_photon_events(indistinguishable: bool):
    """``(photons per detector, Kraus operators (pol a, pol b) -> spins)`` for both photons."""
    events: dict[tuple, list[dict]] = {}
    sign_b = {0: 1.0, 1: -1.0}  # b^+ -> (c^+ - d^+)/sqrt2
    for pol_a, pol_b in itertools.product((0, 1), repeat=2):
        for out_a, out_b in itertools.product((0, 1), repeat=2):
            amp = 0.5 * sign_b[out_b]
            counts: dict = {}
            counts[(out_a, pol_a)] = counts.get((out_a, pol_a), 0) + 1
            counts[(out_b, pol_b)] = counts.get((out_b, pol_b), 0) + 1
            key = tuple(sorted(counts.items()))
            if indistinguishable:
                # Same final Fock state: amplitudes add (two photons in one mode: sqrt2 of a^+2).
                if len(counts) == 1:
                    amp *= math.sqrt(2)
                entry = events.setdefault(key, [{}])
                entry[0][(pol_a, pol_b)] = entry[0].get((pol_a, pol_b), 0.0) + amp
            else:
                events.setdefault(key, []).append({(pol_a, pol_b): amp})
    result = []
    for key, amplitude_sets in events.items():
        ops = tuple(_pol_projector(4, amps, (2, 3)) for amps in amplitude_sets if any(abs(a) > 1e-15 for a in amps.values()))
        if ops:
            result.append((dict(key), ops))
    return tuple(result)


@lru_cache(maxsize=4)
def _one_photon_events(pol_qubit: int):
    """One photon (polarisation on ``pol_qubit`` of three qubits) to either output."""
    result = []
    for out, pol in itertools.product((0, 1), repeat=2):
        op = _pol_projector(3, {(pol,): 1 / math.sqrt(2)}, (pol_qubit,))
        result.append(({(out, pol): 1}, (op,)))
    return tuple(result)


def _click_weight(counts: dict, pattern: tuple, p_dark: float, number_resolving: bool = False) -> float:
    """Probability that exactly the two detectors of ``pattern`` register, given the photons each
    detector holds. Threshold detectors: a detector of the pattern clicks on any photon number or
    on a dark count when empty. Number-resolving: each detector of the pattern counts exactly one
    (one photon and no dark count, or a dark count and no photon)."""
    weight = 1.0
    for detector in _DETECTORS:
        photons = counts.get(detector, 0)
        if detector in pattern and number_resolving:
            weight *= {0: p_dark, 1: 1.0 - p_dark}.get(photons, 0.0)
        elif detector in pattern:
            weight *= 1.0 if photons else p_dark
        elif photons:
            return 0.0
        else:
            weight *= 1.0 - p_dark
    return weight
