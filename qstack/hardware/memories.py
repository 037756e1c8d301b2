"""Quantum memories: a generic stored-qubit model and the NV-centre carbon-13 register.

Gate-error convention (shared with :mod:`qstack.hardware.emitters`): a gate of fidelity ``F`` is
the ideal gate followed by Aer's ``depolarizing_error(p, n)``, ``rho -> (1 - p) rho + p I/d``.
``F`` is the fidelity of the output to the ideal output for a pure input, which for a
depolarizing channel is the same for every pure input and equals the average gate fidelity:
``F = 1 - p/2`` for one qubit (``p = 2 (1 - F)``, ``F`` in [1/2, 1]) and ``F = 1 - 3p/4`` for
two qubits (``p = 4 (1 - F) / 3``, ``F`` in [1/4, 1]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qiskit_aer.noise import QuantumError, ReadoutError, pauli_error

from qstack.physics import Relaxation, composed_flip_probability

from ._noise import check_fidelity, depolarizing_error_for_fidelity
from ._validation import count, non_negative, positive, probability, relaxation_times


def _idle_error(owner: str, relaxation: Relaxation, duration_s: float) -> QuantumError:
    """Thermal relaxation for ``duration_s`` [s] (the kernel's :class:`Relaxation`)."""
    return relaxation.quantum_error(non_negative(owner, "idle_error.duration_s", duration_s))


@dataclass(frozen=True)
class Memory:
    """A quantum memory holding up to ``capacity`` qubits.

    Idle noise is thermal relaxation (amplitude damping towards |0> with time constant ``T1``
    and decay of the coherences with time constant ``T2``): after a time ``t`` [s] the
    populations relax as ``exp(-t/T1)`` and the off-diagonal elements as ``exp(-t/T2)``.
    Half of ``|Phi+>`` stored for ``t`` keeps fidelity
    ``1/4 + exp(-t/T1)/4 + exp(-t/T2)/2`` with ``|Phi+>``.

    Args:
        t1_s: energy relaxation time T1 [s], > 0, may be ``math.inf``.
        t2_s: coherence time T2 [s], > 0 and <= 2 T1; may be ``math.inf`` only if T1 is.
        capacity: number of qubits (slots, or temporal/spectral modes) it holds, >= 1.
        write_efficiency: probability that an incoming photon is absorbed/stored, in [0, 1].
        read_efficiency: probability that a stored excitation is retrieved, in [0, 1].
        single_qubit_gate_fidelity: fidelity of a single-qubit gate, in [1/2, 1].
        two_qubit_gate_fidelity: fidelity of a two-qubit gate, in [1/4, 1].
        measurement_fidelity: probability that a measurement reports the right outcome, in
            [0, 1] (symmetric: the flip probability is ``1 - measurement_fidelity``).
        single_qubit_gate_time_s: duration of a single-qubit gate [s], >= 0.
        two_qubit_gate_time_s: duration of a two-qubit gate [s], >= 0.
        measurement_time_s: duration of a measurement [s], >= 0.
        communication_qubits: qubits with an optical interface (an NV centre's electron spin,
            the ions that emit photons), >= 1: each serves one link attempt (or a move into a
            storage qubit) at a time, shared by every link of the node.
    """

    t1_s: float
    t2_s: float
    capacity: int = 1
    write_efficiency: float = 1.0
    read_efficiency: float = 1.0
    single_qubit_gate_fidelity: float = 1.0
    two_qubit_gate_fidelity: float = 1.0
    measurement_fidelity: float = 1.0
    single_qubit_gate_time_s: float = 0.0
    two_qubit_gate_time_s: float = 0.0
    measurement_time_s: float = 0.0
    communication_qubits: int = 1

    def __post_init__(self) -> None:
        owner = type(self).__name__
        t1, t2 = relaxation_times(owner, self.t1_s, self.t2_s)
        object.__setattr__(self, "t1_s", t1)
        object.__setattr__(self, "t2_s", t2)
        object.__setattr__(self, "capacity", count(owner, "capacity", self.capacity, 1))
        object.__setattr__(self, "communication_qubits", count(owner, "communication_qubits", self.communication_qubits, 1))
        checks = {
            "write_efficiency": probability,
            "read_efficiency": probability,
            "measurement_fidelity": probability,
            "single_qubit_gate_time_s": non_negative,
            "two_qubit_gate_time_s": non_negative,
            "measurement_time_s": non_negative,
        }
        for field, check in checks.items():
            object.__setattr__(self, field, check(owner, field, getattr(self, field)))
        for field, num_qubits in (("single_qubit_gate_fidelity", 1), ("two_qubit_gate_fidelity", 2)):
            value = check_fidelity(owner, field, getattr(self, field), num_qubits)
            object.__setattr__(self, field, value)

    @property
    def coherence_time_s(self) -> float:
        """The coherence time T2 [s]."""
        return self.t2_s

    @property
    def is_ideal_idle(self) -> bool:
        """True when waiting costs nothing (T1 and T2 both infinite)."""
        return math.isinf(self.t1_s) and math.isinf(self.t2_s)

    @property
    def relaxation(self) -> Relaxation:
        """The idle channel of a qubit stored here (T1/T2 relaxation)."""
        return Relaxation(self.t1_s, self.t2_s)

    def idle_error(self, duration_s: float) -> QuantumError:
        """T1/T2 relaxation (Aer's thermal relaxation) of a stored qubit waiting ``duration_s``
        [s] >= 0 (the identity when T1 = T2 = inf)."""
        return _idle_error(type(self).__name__, self.relaxation, duration_s)

    def single_qubit_gate_error(self) -> QuantumError:
        """One-qubit depolarizing error, ``p = 2 (1 - single_qubit_gate_fidelity)``."""
        return depolarizing_error_for_fidelity(self.single_qubit_gate_fidelity, 1)

    def two_qubit_gate_error(self) -> QuantumError:
        """Two-qubit depolarizing error, ``p = 4 (1 - two_qubit_gate_fidelity) / 3``."""
        return depolarizing_error_for_fidelity(self.two_qubit_gate_fidelity, 2)

    def readout_error(self) -> ReadoutError:
        """Symmetric readout error: outcome flipped with probability ``1 - measurement_fidelity``."""
        flip = 1.0 - self.measurement_fidelity
        return ReadoutError([[1.0 - flip, flip], [flip, 1.0 - flip]])


@dataclass(frozen=True)
class NuclearSpinRegister:
    """Carbon-13 nuclear spins around an NV centre, used as storage qubits.

    In each optical entanglement attempt the electron spin is excited (with probability
    ``alpha``), emits and is reset after a random time whose spread is the reset time constant
    ``tau_d``. The nuclear spin precesses at a frequency that depends on the electron state, so
    the spread in that time becomes a random nuclear phase of spread ``dw * tau_d``. Averaged
    over it, this is dephasing with probability per attempt (Kalb et al., PRA 97, 062330 (2018);
    Rozpedek et al., PRA 99, 052330 (2019))

        ``p_deph = (alpha / 2) * (1 - exp(-(dw * tau_d)**2 / 2))``,  ``dw = 2 pi coupling_hz``

    where ``alpha`` is the bright-state population of the attempt. ``n`` attempts compose to a
    phase flip with probability ``(1 - (1 - 2 p_deph)**n) / 2``.

    The electron-nuclear gate is a rotation of the nuclear spin conditional on the electron
    state; a conditional pi rotation needs a phase difference of pi at the hyperfine splitting,
    so it takes ``gate_time_s = 1 / (2 coupling_hz)``: stronger coupling gives faster gates and
    more dephasing per attempt.

    Args:
        coupling_hz: electron-nuclear hyperfine coupling ``dw / 2 pi`` [Hz], > 0.
        reset_time_constant_s: time constant ``tau_d`` of the electron reset/emission time
            distribution [s], >= 0.
        t1_s: nuclear-spin T1 [s], > 0, may be ``math.inf``.
        t2_s: nuclear-spin T2 [s], > 0 and <= 2 T1.
        capacity: number of carbon-13 storage qubits, >= 1.
    """

    coupling_hz: float
    reset_time_constant_s: float
    t1_s: float
    t2_s: float
    capacity: int = 1

    def __post_init__(self) -> None:
        owner = type(self).__name__
        object.__setattr__(self, "coupling_hz", positive(owner, "coupling_hz", self.coupling_hz))
        object.__setattr__(
            self,
            "reset_time_constant_s",
            non_negative(owner, "reset_time_constant_s", self.reset_time_constant_s),
        )
        t1, t2 = relaxation_times(owner, self.t1_s, self.t2_s)
        object.__setattr__(self, "t1_s", t1)
        object.__setattr__(self, "t2_s", t2)
        object.__setattr__(self, "capacity", count(owner, "capacity", self.capacity, 1))

    @property
    def gate_time_s(self) -> float:
        """Electron-nuclear conditional-rotation time ``1 / (2 coupling_hz)`` [s]."""
        return float(1.0 / (2.0 * self.coupling_hz))

    @property
    def coherence_time_s(self) -> float:
        """The nuclear-spin coherence time T2 [s]."""
        return self.t2_s

    @property
    def relaxation(self) -> Relaxation:
        """The idle channel of a stored nuclear spin (T1/T2 relaxation)."""
        return Relaxation(self.t1_s, self.t2_s)

    def idle_error(self, duration_s: float) -> QuantumError:
        """T1/T2 relaxation of a stored nuclear spin over ``duration_s`` [s] >= 0 (no
        entanglement attempts meanwhile; add :meth:`dephasing_error` for those)."""
        return _idle_error(type(self).__name__, self.relaxation, duration_s)

    def dephasing_probability_per_attempt(self, bright_state_population: float) -> float:
        """``p_deph = (alpha/2) (1 - exp(-(2 pi coupling_hz tau_d)**2 / 2))`` [dimensionless],
        with ``alpha = bright_state_population`` in [0, 1]."""
        alpha = probability(type(self).__name__, "bright_state_population", bright_state_population)
        phase = 2.0 * math.pi * self.coupling_hz * self.reset_time_constant_s
        return float(alpha / 2.0 * -math.expm1(-(phase**2) / 2.0))

    def dephasing_error(self, n_attempts: int, bright_state_population: float) -> QuantumError:
        """Phase flip with probability ``(1 - (1 - 2 p_deph)**n) / 2`` after ``n`` attempts."""
        owner = type(self).__name__
        attempts = count(owner, "n_attempts", n_attempts, 0)
        p_single = self.dephasing_probability_per_attempt(bright_state_population)
        p_flip = composed_flip_probability(p_single, attempts)
        return pauli_error([("Z", p_flip), ("I", 1.0 - p_flip)])
