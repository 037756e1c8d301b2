"""The optics of a heralding station and the circuits of the heralding schemes.

Photons are qubits of the circuits: a photon-number qubit (``|1>`` photon, ``|0>`` vacuum) whose
loss is amplitude damping ``1 - eta``. The station's beam splitter and threshold detectors are one
measurement instrument built from the optics (:func:`detection_kraus`); dark counts flip its
record; a transducer's noise photon excites the photon-number qubit. Circuits that depend only on
hardware are cached, so links differing only in length share their compiled instruments.
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


def detection_kraus(visibility: float = 1.0) -> Kraus:
    """The heralding station on two photon-number qubits (photon A, photon B).

    A 50:50 beam splitter maps ``(a +- b)/sqrt2`` to detector ``c`` / ``d``; two photons bunch
    (Hong-Ou-Mandel) into one port with probability ``(1 + V)/2``, ``V`` the two-photon
    interference visibility. Threshold detectors record clicks; the instrument writes the
    record onto the same two qubits, qubit 0 = detector ``c`` clicked, qubit 1 = ``d`` clicked.
    Partially distinguishable single photons interfere with reduced coherence: the which-path
    coherence is multiplied by ``sqrt(V)`` (a dephasing applied before, see
    :func:`distinguishability_kraus`).
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
def detection_op(visibility: float, dark_count_probability: float, optical_phase_std_rad: float = 0.0) -> Operation:
    """Beam splitter and threshold detectors on photons (0, 1); outcome (click c, click d).
    ``optical_phase_std_rad``: the arms' Gaussian phase noise before the beam splitter
    (:func:`optical_phase_kraus`)."""
    qc = QuantumCircuit(2, 2, name="detection")
    if optical_phase_std_rad > 0:
        qc.append(optical_phase_kraus(optical_phase_std_rad), [0, 1])
    if visibility < 1:
        qc.append(distinguishability_kraus(visibility), [0, 1])
    qc.append(detection_kraus(visibility), [0, 1])
    if dark_count_probability > 0:
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
