"""Channels every layer shares: idle relaxation, depolarizing of a given fidelity, phase flips,
multiplexing.

:class:`Relaxation` is the one implementation of a stored qubit's T1/T2 idle noise. Its forms:

- :meth:`Relaxation.quantum_error` (Aer ``thermal_relaxation_error``) and
  :meth:`Relaxation.circuit` for the Aer engine, noise models and compiled circuits;
- :meth:`Relaxation.apply` elementwise on one qubit of an n-qubit density matrix (fast engine);
- :meth:`Relaxation.dephase_bell_weights` on the four Bell weights of a pair (pure dephasing).

All give the same map: after a time ``t`` [s] the excited population decays as ``exp(-t/T1)``
(amplitude damping towards |0>) and the coherences as ``exp(-t/T2)``; ``T2 <= 2 T1``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import Kraus
from qiskit_aer.noise import QuantumError, depolarizing_error, thermal_relaxation_error


@dataclass(frozen=True)
class Relaxation:
    """T1/T2 relaxation of a stored qubit: energy relaxation ``t1_s`` and dephasing ``t2_s`` [s].

    For a stored time ``t`` the channel damps |1> to |0> with probability
    ``gamma = 1 - exp(-t/T1)`` and multiplies coherences by ``exp(-t/T2)``. Either may be
    ``math.inf`` (no relaxation of that kind); ``0 < T2 <= 2 T1``. Half of |Phi+> stored for
    ``t`` keeps fidelity ``1/4 + exp(-t/T1)/4 + exp(-t/T2)/2``.
    """

    t1_s: float
    t2_s: float

    def __post_init__(self) -> None:
        if not self.t1_s > 0:
            raise ValueError(f"t1_s must be > 0 (math.inf for none), got {self.t1_s}")
        if not 0 < self.t2_s <= 2 * self.t1_s:
            raise ValueError(f"t2_s must be in (0, 2*t1_s] (t1_s={self.t1_s}), got {self.t2_s}")

    @property
    def is_identity(self) -> bool:
        """True when waiting costs nothing (T1 = T2 = inf)."""
        return math.isinf(self.t1_s) and math.isinf(self.t2_s)

    @property
    def pure_dephasing(self) -> bool:
        """True when T1 is infinite: the channel only shrinks coherences."""
        return math.isinf(self.t1_s)

    def damping(self, duration_s: float) -> float:
        """``gamma = 1 - exp(-t/T1)``: probability that |1> decayed to |0> in ``duration_s``."""
        return 0.0 if math.isinf(self.t1_s) else -math.expm1(-_duration(duration_s) / self.t1_s)

    def coherence(self, duration_s: float) -> float:
        """``exp(-t/T2)``: the factor on a coherence after ``duration_s``."""
        return 1.0 if math.isinf(self.t2_s) else math.exp(-_duration(duration_s) / self.t2_s)

    def quantum_error(self, duration_s: float) -> QuantumError:
        """Aer ``thermal_relaxation_error(T1, T2, duration_s)`` (the identity when T1 = T2 = inf)."""
        return thermal_relaxation_error(self.t1_s, self.t2_s, _duration(duration_s))

    def circuit(self, duration_s: float) -> QuantumCircuit:
        """The relaxation as a one-qubit circuit carrying a Kraus instruction (Aer engine)."""
        circuit = QuantumCircuit(1, name="idle")
        circuit.append(Kraus(self.quantum_error(duration_s).to_quantumchannel()), [0])
        return circuit

    def apply(self, rho: np.ndarray, n: int, position: int, duration_s: float) -> np.ndarray:
        """The relaxation of qubit ``position`` of an n-qubit state ``rho``, elementwise.

        Coherences of the qubit shrink by ``exp(-t/T2)``, its |1><1| block by ``1 - gamma`` and
        ``gamma`` of that block moves to |0><0|. Returns a new array.
        """
        gamma = self.damping(duration_s)
        coherence = self.coherence(duration_s)
        classes = _bit_classes(n, position)
        out = rho * np.array((1.0, 1.0 - gamma, coherence))[classes]
        if gamma:
            high, low = 2 ** (n - 1 - position), 2**position
            t = out.reshape(high, 2, low, high, 2, low)
            t[:, 0, :, :, 0, :] += gamma * rho.reshape(high, 2, low, high, 2, low)[:, 1, :, :, 1, :]
        return out

    def dephase_bell_weights(self, bell, duration_s: float) -> tuple[float, float, float, float]:
        """Pure dephasing of one qubit of a Bell-diagonal pair, on its weights (Phi+, Phi-, Psi+, Psi-).

        Coherences shrink by ``c = exp(-t/T2)``: the qubit gets a Z with probability
        ``(1 - c)/2``, which exchanges Phi+ with Phi- and Psi+ with Psi-. Only for T1 = inf.
        ``bell``: the four weights (an array or a tuple); returns them as a tuple of floats
        (the state engine's idle steps chain without building an array each time).
        """
        if not self.pure_dephasing:
            raise ValueError("dephase_bell_weights needs t1_s = inf (amplitude damping leaves the Bell-diagonal form)")
        flip = (1.0 - self.coherence(duration_s)) / 2
        keep = 1.0 - flip
        phi_plus, phi_minus, psi_plus, psi_minus = bell.tolist() if isinstance(bell, np.ndarray) else bell
        return (keep * phi_plus + flip * phi_minus, flip * phi_plus + keep * phi_minus,
                keep * psi_plus + flip * psi_minus, flip * psi_plus + keep * psi_minus)


def _duration(duration_s: float) -> float:
    if not duration_s >= 0:
        raise ValueError(f"duration_s must be >= 0, got {duration_s}")
    return duration_s


@functools.lru_cache(maxsize=256)
def _bit_classes(n: int, position: int) -> np.ndarray:
    """For each element ``(i, j)`` of an n-qubit matrix, bit ``position`` of ``i`` and ``j``:
    0 both clear, 1 both set, 2 different (a coherence of that qubit). Read-only constant."""
    bits = (np.arange(2**n) >> position) & 1
    classes = np.where(bits[:, None] == bits[None, :], bits[:, None], 2).astype(np.intp)
    classes.flags.writeable = False
    return classes


# ------------------------------------------------------------------------ depolarizing
def minimum_fidelity(num_qubits: int) -> float:
    """Fidelity of the fully depolarized output, ``1/d`` with ``d = 2**num_qubits``."""
    return 1.0 / 2**num_qubits


def depolarizing_parameter(fidelity: float, num_qubits: int) -> float:
    """Aer's depolarizing parameter ``p = (1 - F) d / (d - 1)`` for ``d = 2**num_qubits``.

    ``depolarizing_error(p, n)`` maps ``rho -> (1 - p) rho + p I/d``; every pure input keeps
    fidelity ``F = 1 - p (d - 1)/d``, which is also the average gate fidelity. One qubit:
    ``p = 2 (1 - F)``; two qubits: ``p = 4 (1 - F)/3``. ``F`` in ``[1/d, 1]``.
    """
    if not minimum_fidelity(num_qubits) <= fidelity <= 1.0:
        raise ValueError(f"fidelity must be in [{minimum_fidelity(num_qubits)}, 1] for {num_qubits} qubit(s), got {fidelity}")
    dim = 2**num_qubits
    return float((1.0 - fidelity) * dim / (dim - 1))


def depolarizing_error_for_fidelity(fidelity: float, num_qubits: int) -> QuantumError:
    """Aer depolarizing error whose pure-state (= average gate) fidelity is ``fidelity``."""
    # min() guards the F = 1/d corner against rounding just above Aer's bound p <= 1 + 1/(d^2-1).
    return depolarizing_error(min(depolarizing_parameter(fidelity, num_qubits), 1.0), num_qubits)


# ------------------------------------------------------------------- flips, multiplexing
def composed_flip_probability(flip_probability: float, times: int) -> float:
    """Flip probability of ``times`` independent flips of probability ``p`` each:
    ``(1 - (1 - 2p)^n) / 2``."""
    if not 0.0 <= flip_probability <= 1.0:
        raise ValueError(f"flip_probability must be in [0, 1], got {flip_probability}")
    if isinstance(times, bool) or int(times) != times or times < 0:
        raise ValueError(f"times must be an integer >= 0, got {times!r}")
    return (1.0 - (1.0 - 2.0 * flip_probability) ** int(times)) / 2.0


def multiplexed_success_probability(mode_probability: float, modes: int) -> float:
    """Success probability of one attempt over ``modes`` independent modes, each succeeding
    with ``mode_probability``: ``1 - (1 - p)^m``."""
    if not 0.0 <= mode_probability <= 1.0:
        raise ValueError(f"mode_probability must be in [0, 1], got {mode_probability}")
    if isinstance(modes, bool) or int(modes) != modes or modes < 1:
        raise ValueError(f"modes must be an integer >= 1, got {modes!r}")
    return 1.0 - (1.0 - mode_probability) ** int(modes)
