"""Gate and readout noise of the circuit-level protocols.

A protocol circuit carries its noise as ``kraus`` instructions (see :func:`qstack.engine.noisy`):
a depolarizing channel after every gate and a bit flip before every measurement.

Conventions (the same as :mod:`qstack.hardware.memories`): the depolarizing parameter ``p`` is
Aer's, ``E(rho) = (1 - p) rho + p Tr(rho) I / 2^n``, and a gate of (average) fidelity ``F``
carries the kernel's :func:`qstack.physics.channels.depolarizing_parameter`

* two qubits: ``F = 1 - 3p/4``, so ``p = 4 (1 - F) / 3``;
* one qubit: ``F = 1 - p/2``, so ``p = 2 (1 - F)``;
* readout: the outcome is flipped with probability ``1 - measurement_fidelity``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Any, Mapping

from qiskit_aer.noise import QuantumError, depolarizing_error, pauli_error

from qstack.physics.channels import depolarizing_parameter

#: A fidelity this far above 1 or a parameter this close to 0 is rounding residue of an exact 1 / 0.
_ROUNDING = 1e-15


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

    Frozen and hashable, so that the compiled operations can be cached by their noise.
    """

    two_qubit_depolarizing: float = 0.0
    single_qubit_depolarizing: float = 0.0
    measurement_flip: float = 0.0

    def __post_init__(self) -> None:
        for item in fields(self):
            object.__setattr__(self, item.name, _probability(item.name, getattr(self, item.name)))

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
        return self.two_qubit_depolarizing == self.single_qubit_depolarizing == self.measurement_flip == 0.0

    def two_qubit_error(self) -> QuantumError | None:
        """The channel after a two-qubit gate, or ``None`` when noiseless."""
        if self.two_qubit_depolarizing == 0.0:
            return None
        return depolarizing_error(self.two_qubit_depolarizing, 2)

    def single_qubit_error(self) -> QuantumError | None:
        """The channel after a one-qubit gate, or ``None`` when noiseless."""
        if self.single_qubit_depolarizing == 0.0:
            return None
        return depolarizing_error(self.single_qubit_depolarizing, 1)

    def measurement_error(self) -> QuantumError | None:
        """The bit flip before a measurement, or ``None`` when noiseless."""
        if self.measurement_flip == 0.0:
            return None
        return pauli_error([("X", self.measurement_flip), ("I", 1.0 - self.measurement_flip)])


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
