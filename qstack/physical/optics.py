"""The optics of a heralding station and the circuits of the heralding schemes.

Photons are qubits of the circuits: a photon-number qubit (``|1>`` photon, ``|0>`` vacuum) whose
loss is amplitude damping ``1 - eta``. The station's beam splitter and detectors are one
measurement instrument built from the optics (:func:`detection_kraus`); dark counts add to its
record; a transducer's noise photon excites the photon-number qubit. Circuits that depend only on
hardware are cached, so links differing only in length share their compiled instruments.

Threshold or number-resolving detectors (``Detector.number_resolving``)
    The record is two bits, (``c`` registered, ``d`` registered); a scheme heralds on exactly one
    of them. Threshold detectors register one photon and two alike: a bunched pair writes a
    single click. A number-resolving detector counts: a bunched pair, or a photon and a dark count
    in one detector, is two counts in it, which no scheme accepts, so the instrument writes the
    record ``(1, 1)`` (both), which no scheme heralds on and dark counts never leave.

    The detectors' efficiency is folded into each arm's loss before the beam splitter
    (amplitude damping of the photon-number qubit). That is exact for detectors of equal
    efficiency (one ``Detector`` serves the station): equal loss on both outputs of a lossless
    beam splitter is the same channel as that loss on both of its inputs (loss commutes with a
    passive linear-optical unitary when it is the same on every mode), so the photons that reach
    the beam splitter are the ones that would have been detected, and a two-photon component
    there is seen by an ideal detector as two photons.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import Kraus
from qiskit_aer.noise import amplitude_damping_error

from qstack.engine import Operation, noisy
from qstack.hardware import Emitter, Transducer


def detection_kraus(visibility: float = 1.0, number_resolving: bool = False) -> Kraus:
    """The heralding station on two photon-number qubits (photon A, photon B).

    A 50:50 beam splitter maps ``(a +- b)/sqrt2`` to detector ``c`` / ``d``; two photons bunch
    (Hong-Ou-Mandel) into one port with probability ``(1 + V)/2``, ``V`` the two-photon
    interference visibility, and leave by different ports with ``(1 - V)/2``. The instrument
    writes the record onto the same two qubits, qubit 0 = detector ``c`` registered, qubit 1 =
    ``d``. Threshold detectors (``number_resolving`` false) record a bunched pair as one click:
    ``sqrt((1 + V)/4) |c><ab|`` and ``sqrt((1 + V)/4) |d><ab|``. Number-resolving detectors count
    it as two photons in one detector, rejected like a coincidence: the whole two-photon
    component writes ``|both><ab|`` (the two Kraus operators of weights ``(1 + V)/2`` and
    ``(1 - V)/2`` that would write it give the same channel as this one). Partially
    distinguishable single photons interfere with reduced coherence: the which-path coherence is
    multiplied by ``sqrt(V)`` (a dephasing applied before, see :func:`distinguishability_kraus`).
    """
    if not 0.0 <= visibility <= 1.0:
        raise ValueError(f"visibility must be in [0, 1], got {visibility}")
    e = np.eye(4)
    vac, a, b, ab = e[0], e[1], e[2], e[3]
    psi_plus = (a + b) / math.sqrt(2)
    psi_minus = (a - b) / math.sqrt(2)
    click_c, click_d, both = e[1], e[2], e[3]
    operators = [np.outer(vac, vac), np.outer(click_c, psi_plus), np.outer(click_d, psi_minus)]
    if number_resolving:
        operators.append(np.outer(both, ab))
    else:
        operators += [
            math.sqrt((1 + visibility) / 4) * np.outer(click_c, ab),
            math.sqrt((1 + visibility) / 4) * np.outer(click_d, ab),
            math.sqrt((1 - visibility) / 2) * np.outer(both, ab),
        ]
    return Kraus([op for op in operators if np.any(op)])


def distinguishability_kraus(visibility: float) -> Kraus:
    """Dephasing of the which-photon coherence by the mode overlap ``sqrt(V)``."""
    overlap = math.sqrt(visibility)
    z_a = np.diag([1.0, -1.0, 1.0, -1.0])
    return Kraus([math.sqrt((1 + overlap) / 2) * np.eye(4), math.sqrt((1 - overlap) / 2) * z_a])


def optical_phase_kraus(std_rad: float) -> Kraus:
    """A Gaussian optical phase ``phi ~ N(0, std_rad^2)`` between the two arms, on photon A.

    ``exp(-i phi n_A)`` averaged over ``phi`` multiplies the coherence between "photon in arm A"
    and "not" by ``E[exp(-i phi)] = exp(-std_rad^2 / 2)``: a dephasing with Kraus operators
    ``sqrt((1 + c)/2) I`` and ``sqrt((1 - c)/2) Z``, ``c = exp(-std_rad^2 / 2)`` [rad].
    """
    if not (math.isfinite(std_rad) and std_rad >= 0):
        raise ValueError(f"link.optical_phase_std_rad must be a finite number >= 0, got {std_rad}")
    coherence = math.exp(-(std_rad**2) / 2)
    z_a = np.diag([1.0, -1.0, 1.0, -1.0])  # qubit 0 (photon A) in Qiskit order
    return Kraus([math.sqrt((1 + coherence) / 2) * np.eye(4), math.sqrt((1 - coherence) / 2) * z_a])


def dark_count_kraus(probability: float) -> Kraus:
    """A threshold detector's record flips 0 -> 1 with the dark-count probability."""
    keep = np.array([[math.sqrt(1 - probability), 0.0], [0.0, 1.0]])
    flip = np.array([[0.0, 0.0], [math.sqrt(probability), 0.0]])
    return Kraus([keep, flip])


def counting_dark_count_kraus(probability: float) -> Kraus:
    """Number-resolving detectors' record (qubit 0 = ``c``, qubit 1 = ``d``) after independent
    dark counts of probability ``p`` in each: a dark count is one more count. From no count the
    record becomes ``c`` or ``d`` with ``p (1 - p)`` each and ``both`` with ``p^2``; from one count
    (``c`` or ``d``) any dark count (``1 - (1 - p)^2``) makes two counts or two detectors, so
    ``both``; ``both`` stays. The record is classical here (every detection Kraus operator writes
    one record state), so the stochastic map's Kraus operators ``sqrt(T[j, i]) |j><i|`` are exact.
    """
    p, q = probability, 1.0 - probability
    none, click_c, click_d, both = 0, 1, 2, 3
    transitions = [
        (none, none, q * q), (none, click_c, p * q), (none, click_d, p * q), (none, both, p * p),
        (click_c, click_c, q * q), (click_c, both, 1.0 - q * q),
        (click_d, click_d, q * q), (click_d, both, 1.0 - q * q),
        (both, both, 1.0),
    ]
    operators = []
    for before, after, weight in transitions:
        if weight > 0.0:
            op = np.zeros((4, 4))
            op[after, before] = math.sqrt(weight)
            operators.append(op)
    return Kraus(operators)


def pauli_circuit(name: str, *gates: tuple[str, int]) -> Operation:
    qc = QuantumCircuit(2, name=name)
    for gate, qubit in gates:
        getattr(qc, gate)(qubit)
    return Operation(qc, name=name)


@functools.lru_cache(maxsize=64)
def emission_op(emitter_a: Emitter, emitter_b: Emitter) -> Operation:
    """Spins (0, 1) emit into photon-number qubits (2, 3) when in the bright state ``|1>``;
    imperfect spin-photon entanglement is each emitter's error on its spin, and a double
    excitation's lost photon dephases a bright spin (:meth:`Emitter.double_excitation_error`)."""
    qc = QuantumCircuit(4, name="emission")
    for spin, photon, emitter in ((0, 2, emitter_a), (1, 3, emitter_b)):
        qc.cx(spin, photon)
        if emitter.emitted_state_fidelity < 1:
            qc.append(noisy(emitter.emission_error()), [spin])
        if emitter.double_excitation_probability > 0:
            qc.append(noisy(emitter.double_excitation_error()), [spin])
    return Operation(qc, name="emission")


@functools.lru_cache(maxsize=4096)
def loss_op(loss_a: float, loss_b: float) -> Operation:
    """Photon loss on each arm: amplitude damping of the photon-number qubit."""
    qc = QuantumCircuit(2, name="loss")
    for qubit, loss in ((0, loss_a), (1, loss_b)):
        if loss > 0:
            qc.append(noisy(amplitude_damping_error(loss)), [qubit])
    return Operation(qc, name="loss")


@functools.lru_cache(maxsize=1024)
def noisy_loss_op(
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


def false_photon_kraus(probability: float) -> Kraus:
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
def detection_op(visibility: float, dark_count_probability: float, optical_phase_std_rad: float = 0.0,
                 number_resolving: bool = False) -> Operation:
    """Beam splitter and detectors on photons (0, 1); outcome (c registered, d registered),
    ``(1, 1)`` also for two counts in one number-resolving detector (:func:`detection_kraus`,
    :func:`counting_dark_count_kraus`). ``optical_phase_std_rad``: the arms' Gaussian phase noise
    before the beam splitter (:func:`optical_phase_kraus`)."""
    qc = QuantumCircuit(2, 2, name="detection")
    if optical_phase_std_rad > 0:
        qc.append(optical_phase_kraus(optical_phase_std_rad), [0, 1])
    if visibility < 1:
        qc.append(distinguishability_kraus(visibility), [0, 1])
    qc.append(detection_kraus(visibility, number_resolving), [0, 1])
    if dark_count_probability > 0 and number_resolving:
        qc.append(counting_dark_count_kraus(dark_count_probability), [0, 1])
    elif dark_count_probability > 0:
        qc.append(dark_count_kraus(dark_count_probability), [0])
        qc.append(dark_count_kraus(dark_count_probability), [1])
    qc.measure(0, 0)
    qc.measure(1, 1)
    return Operation(qc, discard=(0, 1), name="detection")


def prepare_spins(alpha: float) -> Operation:
    """Both spins to ``sqrt(1-alpha)|0> + sqrt(alpha)|1>`` (``|1>`` the bright state)."""
    qc = QuantumCircuit(2, name="prepare_spins")
    theta = 2 * math.asin(math.sqrt(alpha))
    qc.ry(theta, 0)
    qc.ry(theta, 1)
    return Operation(qc, name="prepare_spins")


# Pauli frame corrections on node B's qubit: Psi+ -> Phi+ (X), Psi- -> Phi+ (X then Z).
CORRECT_PSI_PLUS = pauli_circuit("correct_psi_plus", ("x", 1))
CORRECT_PSI_MINUS = pauli_circuit("correct_psi_minus", ("x", 1), ("z", 1))
FLIP_BOTH = pauli_circuit("flip_both", ("x", 0), ("x", 1))
