"""Gate and readout noise of the circuit-level protocols.

A protocol circuit carries its noise as ``kraus`` instructions (see :func:`qstack.engine.noisy`):
a depolarizing channel after every gate and a bit flip before every measurement.

Conventions (the same as :mod:`qstack.hardware.memories`): the depolarizing parameter ``p`` is
Aer's, ``E(rho) = (1 - p) rho + p Tr(rho) I / 2^n``, and a gate of (average) fidelity ``F``
carries the kernel's :func:`qstack.physics.channels.depolarizing_parameter`

* two qubits: ``F = 1 - 3p/4``, so ``p = 4 (1 - F) / 3``;
* one qubit: ``F = 1 - p/2``, so ``p = 2 (1 - F)``;
* readout: the outcome is flipped with probability ``1 - measurement_fidelity``.

A user's own channels (any Aer ``QuantumError`` for the gates, a ``ReadoutError`` for the
readout, e.g. read off a Qiskit ``NoiseModel`` by :func:`qstack.protocols.aer_noise.gate_noise_from_model`)
replace the depolarizing ones through :class:`GateErrors` (``GateNoise(errors=...)``). A readout
error ``P(j | i)`` (outcome ``j`` for a qubit in ``|i>``) is written into the circuit as the
measure-and-prepare channel with Kraus operators ``sqrt(P(j | i)) |j><i|`` before an ideal Z
measurement: the outcome statistics and the state left on every other qubit are exactly those of
the classical confusion matrix.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

import numpy as np
from qiskit.quantum_info import Kraus, SuperOp
from qiskit_aer.noise import QuantumError, ReadoutError, depolarizing_error, pauli_error

from qstack.physics.channels import depolarizing_parameter

#: The float parameters of :class:`GateNoise` (its ``errors`` aside).
_PARAMETERS = ("two_qubit_depolarizing", "single_qubit_depolarizing", "measurement_flip")

#: A fidelity this far above 1 or a parameter this close to 0 is rounding residue of an exact 1 / 0.
_ROUNDING = 1e-15


@dataclass(frozen=True, eq=False)
class GateErrors:
    """A user's own channels for a node's gates and readout (each None: the depolarizing default).

    Attributes
    ----------
    two_qubit:
        Two-qubit Aer ``QuantumError`` after every two-qubit gate (``cx``), on ``(control, target)``
        as Qiskit orders a two-qubit error's qubits (qubit 0 = control).
    single_qubit:
        One-qubit ``QuantumError`` after every one-qubit gate (``h``, ``rx``).
    measurement:
        One-qubit ``QuantumError`` just before every measurement (as Aer applies an error on
        ``measure``), then ``readout``.
    readout:
        Aer ``ReadoutError`` of one qubit: the probabilities ``P(j | i)`` of reporting ``j``.

    Compared and hashed by the channels' superoperators, so the compiled operations that carry
    them are cached like those of the depolarizing parameters.
    """

    two_qubit: QuantumError | None = None
    single_qubit: QuantumError | None = None
    measurement: QuantumError | None = None
    readout: ReadoutError | None = None
    _key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        parts = []
        for name, num_qubits in (("two_qubit", 2), ("single_qubit", 1), ("measurement", 1)):
            error = getattr(self, name)
            if error is None:
                parts.append(b"-")
                continue
            if not isinstance(error, QuantumError):
                raise ValueError(f"GateErrors.{name} must be a qiskit_aer QuantumError, got {type(error).__name__}")
            if error.num_qubits != num_qubits:
                raise ValueError(f"GateErrors.{name} must act on {num_qubits} qubit(s), got a {error.num_qubits}-qubit error")
            parts.append(np.round(SuperOp(error.to_quantumchannel()).data, 14).tobytes())
        if self.readout is not None:
            if not isinstance(self.readout, ReadoutError):
                raise ValueError(f"GateErrors.readout must be a qiskit_aer ReadoutError, got {type(self.readout).__name__}")
            if self.readout.number_of_qubits != 1:
                raise ValueError(f"GateErrors.readout must be a one-qubit ReadoutError, got {self.readout.number_of_qubits} qubits")
        parts.append(b"-" if self.readout is None else np.round(self.readout.probabilities, 14).tobytes())
        object.__setattr__(self, "_key", b"|".join(parts))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GateErrors) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)

    def readout_channel(self) -> QuantumError | None:
        """``measurement`` then the readout as a measure-and-prepare channel (module docstring),
        or None when both are absent."""
        channel = None
        if self.readout is not None:
            probabilities = np.asarray(self.readout.probabilities, dtype=float)  # [i, j] = P(j | i)
            kraus = []
            for i in range(2):
                for j in range(2):
                    k = np.zeros((2, 2), dtype=complex)
                    k[j, i] = math.sqrt(probabilities[i, j])
                    kraus.append(k)
            channel = QuantumError(Kraus(kraus))
        if self.measurement is not None:
            channel = self.measurement if channel is None else self.measurement.compose(channel)
        return channel


@dataclass(frozen=True)
class GateNoise:
    """Noise of the gates and measurements of one protocol circuit.

    Attributes
    ----------
    two_qubit_depolarizing:
        Depolarizing parameter ``p`` in [0, 1] of the channel after every two-qubit gate.
    single_qubit_depolarizing:
        Depolarizing parameter ``p`` in [0, 1] of the channel after every one-qubit gate.
    measurement_flip:
        Probability in [0, 1] that a measurement reports the wrong outcome (an X error just
        before an ideal measurement).
    errors:
        A user's own channels (:class:`GateErrors`); each one given replaces the depolarizing
        channel (or the flip) of its kind, whose parameter must then be 0.

    Frozen and hashable, so that the compiled operations can be cached by their noise.
    """

    two_qubit_depolarizing: float = 0.0
    single_qubit_depolarizing: float = 0.0
    measurement_flip: float = 0.0
    errors: GateErrors | None = None

    def __post_init__(self) -> None:
        for name in _PARAMETERS:
            object.__setattr__(self, name, _probability(name, getattr(self, name)))
        errors = self.errors
        if errors is None:
            return
        if not isinstance(errors, GateErrors):
            raise ValueError(f"GateNoise.errors must be a GateErrors, got {type(errors).__name__}")
        for parameter, replaced in (("two_qubit_depolarizing", errors.two_qubit is not None),
                                    ("single_qubit_depolarizing", errors.single_qubit is not None),
                                    ("measurement_flip", errors.measurement is not None or errors.readout is not None)):
            if replaced and getattr(self, parameter) != 0.0:
                raise ValueError(f"GateNoise.{parameter} must be 0 when GateNoise.errors replaces it, "
                                 f"got {getattr(self, parameter)!r}")

    def with_errors(self, errors: GateErrors) -> "GateNoise":
        """This noise with ``errors`` in place of the parameters of the kinds it gives (those
        set to 0); the kinds it leaves None keep their depolarizing parameter or flip."""
        if not isinstance(errors, GateErrors):
            raise ValueError(f"errors must be a GateErrors, got {type(errors).__name__}")
        return GateNoise(
            two_qubit_depolarizing=0.0 if errors.two_qubit is not None else self.two_qubit_depolarizing,
            single_qubit_depolarizing=0.0 if errors.single_qubit is not None else self.single_qubit_depolarizing,
            measurement_flip=0.0 if errors.measurement is not None or errors.readout is not None else self.measurement_flip,
            errors=errors,
        )

    @classmethod
    def from_memory(cls, memory: Any) -> "GateNoise":
        """Noise of a memory's gates, from its fidelities (see the module conventions).

        ``memory`` is any object with ``two_qubit_gate_fidelity``, ``single_qubit_gate_fidelity``
        and ``measurement_fidelity`` (e.g. :class:`qstack.hardware.Memory`).
        """
        try:
            two = _real("two_qubit_gate_fidelity", memory.two_qubit_gate_fidelity)
            one = _real("single_qubit_gate_fidelity", memory.single_qubit_gate_fidelity)
            readout = _real("measurement_fidelity", memory.measurement_fidelity)
        except AttributeError as exc:
            raise ValueError(f"GateNoise.from_memory needs gate and measurement fidelities: {exc}") from exc
        return cls(
            two_qubit_depolarizing=_depolarizing("two_qubit_depolarizing", "two_qubit_gate_fidelity", two, 2),
            single_qubit_depolarizing=_depolarizing("single_qubit_depolarizing", "single_qubit_gate_fidelity", one, 1),
            measurement_flip=_clean(1.0 - readout),
        )

    @property
    def is_ideal(self) -> bool:
        """True when no gate and no readout carries noise (parameters 0, no user's channel)."""
        return (self.two_qubit_depolarizing == self.single_qubit_depolarizing == self.measurement_flip == 0.0
                and self.errors is None)

    def two_qubit_error(self) -> QuantumError | None:
        """The channel after a two-qubit gate (the user's, else the depolarizing one), or ``None``
        when noiseless."""
        if self.errors is not None and self.errors.two_qubit is not None:
            return self.errors.two_qubit
        if self.two_qubit_depolarizing == 0.0:
            return None
        return depolarizing_error(self.two_qubit_depolarizing, 2)

    def single_qubit_error(self) -> QuantumError | None:
        """The channel after a one-qubit gate (the user's, else the depolarizing one), or
        ``None`` when noiseless."""
        if self.errors is not None and self.errors.single_qubit is not None:
            return self.errors.single_qubit
        if self.single_qubit_depolarizing == 0.0:
            return None
        return depolarizing_error(self.single_qubit_depolarizing, 1)

    def measurement_error(self) -> QuantumError | None:
        """The channel before an ideal measurement (the user's measurement error and readout
        as a measure-and-prepare channel, else the bit flip), or ``None`` when noiseless."""
        if self.errors is not None and (self.errors.measurement is not None or self.errors.readout is not None):
            return self.errors.readout_channel()
        if self.measurement_flip == 0.0:
            return None
        return pauli_error([("X", self.measurement_flip), ("I", 1.0 - self.measurement_flip)])

    def readout_error(self) -> ReadoutError | None:
        """The readout as Aer's classical ``ReadoutError`` (the user's, else the symmetric flip),
        or ``None`` when exact. A user's ``measurement`` channel is not part of it."""
        if self.errors is not None and (self.errors.measurement is not None or self.errors.readout is not None):
            return self.errors.readout
        if self.measurement_flip == 0.0:
            return None
        flip = self.measurement_flip
        return ReadoutError([[1.0 - flip, flip], [flip, 1.0 - flip]])


def resolve_noise(noise: GateNoise | None, noise_kwargs: Mapping[str, Any]) -> GateNoise:
    """The ``noise=`` / ``**noise_kwargs`` convention of the protocol functions.

    Either a :class:`GateNoise`, or its fields as keywords, or neither (ideal gates).
    """
    if noise is not None:
        if noise_kwargs:
            raise ValueError(f"give either noise or its fields as keywords, not both (got {sorted(noise_kwargs)})")
        if not isinstance(noise, GateNoise):
            raise ValueError(f"noise must be a GateNoise, got {type(noise).__name__}")
        return noise
    known = {item.name for item in fields(GateNoise)}
    unknown = sorted(set(noise_kwargs) - known)
    if unknown:
        raise ValueError(f"unknown noise parameter(s) {unknown}; expected some of {sorted(known)}")
    return GateNoise(**noise_kwargs)


def _real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(float(value)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    return float(value)


def _probability(name: str, value: object) -> float:
    result = _real(f"GateNoise.{name}", value)
    if not 0.0 <= result <= 1.0:
        raise ValueError(f"GateNoise.{name} must be in [0, 1], got {result!r}")
    return result


def _depolarizing(name: str, source: str, fidelity: float, num_qubits: int) -> float:
    """The kernel's ``p = (1 - F) d / (d - 1)`` for a gate of fidelity ``F`` (``d = 2**num_qubits``),
    rounding residue dropped; a ``ValueError`` naming ``GateNoise.<name>`` for ``F`` outside
    ``[1/d, 1]`` (no parameter in ``[0, 1]`` gives it)."""
    if 1.0 < fidelity <= 1.0 + _ROUNDING:  # an exact 1 that rounding pushed up a last bit or two
        fidelity = 1.0
    try:
        return _clean(depolarizing_parameter(fidelity, num_qubits))
    except ValueError as exc:
        raise ValueError(f"GateNoise.{name}: no parameter in [0, 1] gives {source} {fidelity!r} ({exc})") from exc


def _clean(p: float) -> float:
    """Drop the rounding residue of ``1 - F`` (e.g. 1e-16 for F one last bit below 1)."""
    return 0.0 if abs(p) < _ROUNDING else p
