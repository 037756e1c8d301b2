"""A node's gate noise as a Qiskit Aer ``NoiseModel``, and a user's ``NoiseModel`` as gate noise.

The protocols run three kinds of instruction with noise (:data:`NOISY_TWO_QUBIT_GATES`,
:data:`NOISY_SINGLE_QUBIT_GATES` and ``measure``) and two Pauli-frame corrections that carry none
(:data:`FRAME_GATES`). :func:`noise_model` writes a :class:`~qstack.protocols.GateNoise` on exactly
those instructions:

* ``cx``: the two-qubit error, then, with ``relaxation``, the T1/T2 channel of the
  kernel's :class:`~qstack.physics.Relaxation` for ``two_qubit_gate_time_s`` on both qubits;
* ``h``, ``rx``: the one-qubit error, then the relaxation for ``single_qubit_gate_time_s``;
* ``measure``: the relaxation for ``measurement_time_s`` (and a user's measurement error) before
  the measurement, whose outcome then goes through the readout error (a classical
  ``ReadoutError``).

Every channel comes from ``GateNoise`` and ``Relaxation`` themselves, so no formula is written
twice. :func:`gate_noise_from_model` reads a user's ``NoiseModel`` back into a ``GateNoise`` for a
node's gates (:class:`~qstack.physical.NodeHardware` ``noise=``), refusing what the protocols could
not honour (qubit-specific errors, errors on gates they never run, different errors on ``h`` and
``rx``).
"""

from __future__ import annotations

from qiskit_aer.noise import NoiseModel, QuantumError, ReadoutError

from qstack.physics import Relaxation

from .noise import GateErrors, GateNoise

#: Two-qubit gates of the protocols' circuits (each followed by the two-qubit error).
NOISY_TWO_QUBIT_GATES = ("cx",)
#: One-qubit gates of the protocols' circuits (each followed by the one-qubit error).
NOISY_SINGLE_QUBIT_GATES = ("h", "rx")
#: Pauli-frame corrections: classical bookkeeping, no noise.
FRAME_GATES = ("x", "z")
#: The basis the noise model declares, so that a transpile keeps the protocols' gates as written.
BASIS_GATES = NOISY_TWO_QUBIT_GATES + NOISY_SINGLE_QUBIT_GATES + FRAME_GATES


def noise_model(
    noise: GateNoise,
    relaxation: Relaxation | None = None,
    *,
    single_qubit_gate_time_s: float = 0.0,
    two_qubit_gate_time_s: float = 0.0,
    measurement_time_s: float = 0.0,
) -> NoiseModel:
    """``noise`` (and, given ``relaxation``, the idle T1/T2 channel for each gate's duration [s])
    as an Aer ``NoiseModel`` on :data:`BASIS_GATES` and ``measure`` (module docstring).

    Run a circuit of those gates with it on ``AerSimulator(method="density_matrix")``; the
    errors are all-qubit errors, so any qubit of the circuit may be one of the node's.
    """
    if not isinstance(noise, GateNoise):
        raise ValueError(f"noise must be a GateNoise, got {type(noise).__name__}")
    if relaxation is not None and not isinstance(relaxation, Relaxation):
        raise ValueError(f"relaxation must be a qstack.physics.Relaxation or None, got {type(relaxation).__name__}")
    model = NoiseModel(basis_gates=list(BASIS_GATES))
    two = _then_idle(noise.two_qubit_error(), relaxation, two_qubit_gate_time_s, 2)
    if two is not None:
        model.add_all_qubit_quantum_error(two, list(NOISY_TWO_QUBIT_GATES))
    one = _then_idle(noise.single_qubit_error(), relaxation, single_qubit_gate_time_s, 1)
    if one is not None:
        model.add_all_qubit_quantum_error(one, list(NOISY_SINGLE_QUBIT_GATES))
    before = _idle(relaxation, measurement_time_s, 1)
    user = noise.errors.measurement if noise.errors is not None else None
    if user is not None:
        before = user if before is None else before.compose(user)
    if before is not None:
        model.add_all_qubit_quantum_error(before, ["measure"])
    readout = noise.readout_error()
    if readout is not None:
        model.add_all_qubit_readout_error(readout)
    return model


def gate_noise_from_model(model: NoiseModel) -> GateNoise:
    """A user's ``NoiseModel`` as the gate noise of a node (a :class:`GateNoise` whose
    :class:`GateErrors` are the model's errors on ``cx``, on ``h``/``rx``, on ``measure``, and its
    readout error).

    Raises ``ValueError`` (naming the instruction) for qubit-specific errors, errors on an
    instruction the protocols never run or on a Pauli-frame correction, and different errors on
    the one-qubit gates (the protocols give every one-qubit gate the same channel).
    """
    if not isinstance(model, NoiseModel):
        raise ValueError(f"model must be a qiskit_aer NoiseModel, got {type(model).__name__}")
    errors: dict[str, QuantumError] = {}
    readout = None
    for entry in model.to_dict().get("errors", []):
        operations = entry["operations"]
        if entry.get("gate_qubits"):
            raise ValueError(f"noise model: the error on {operations} is for particular qubits; a node's gate noise "
                             "needs all-qubit errors (add_all_qubit_quantum_error / add_all_qubit_readout_error)")
        if entry["type"] == "roerror":
            readout = ReadoutError(entry["probabilities"])
            continue
        error = QuantumError.from_dict(entry)
        for operation in operations:
            if operation not in NOISY_TWO_QUBIT_GATES + NOISY_SINGLE_QUBIT_GATES + ("measure",):
                raise ValueError(
                    f"noise model: an error on {operation!r}, which the protocols never run with noise; they run "
                    f"{', '.join(NOISY_TWO_QUBIT_GATES + NOISY_SINGLE_QUBIT_GATES)} and measure "
                    f"({', '.join(FRAME_GATES)} are noiseless Pauli-frame corrections)")
            errors[operation] = error if operation not in errors else errors[operation].compose(error)
    single = [errors.get(gate) for gate in NOISY_SINGLE_QUBIT_GATES]
    if any(e is not None for e in single) and (
            any(e is None for e in single) or any(e.to_quantumchannel() != single[0].to_quantumchannel() for e in single)):
        raise ValueError(f"noise model: the one-qubit gates {', '.join(NOISY_SINGLE_QUBIT_GATES)} must carry the same "
                         "error (every one-qubit gate of the protocols gets one channel)")
    gate_errors = GateErrors(
        two_qubit=errors.get(NOISY_TWO_QUBIT_GATES[0]),
        single_qubit=single[0],
        measurement=errors.get("measure"),
        readout=readout,
    )
    return GateNoise() if gate_errors == GateErrors() else GateNoise(errors=gate_errors)


def _idle(relaxation: Relaxation | None, duration_s: float, num_qubits: int) -> QuantumError | None:
    """The relaxation for ``duration_s`` on each of ``num_qubits`` qubits (None when it is the
    identity)."""
    if relaxation is None or relaxation.is_identity or duration_s == 0:
        return None
    one = relaxation.quantum_error(duration_s)
    return one if num_qubits == 1 else one.tensor(one)


def _then_idle(error: QuantumError | None, relaxation: Relaxation | None, duration_s: float,
               num_qubits: int) -> QuantumError | None:
    idle = _idle(relaxation, duration_s, num_qubits)
    if idle is None:
        return error
    return idle if error is None else error.compose(idle)


__all__ = ["BASIS_GATES", "FRAME_GATES", "NOISY_SINGLE_QUBIT_GATES", "NOISY_TWO_QUBIT_GATES",
           "gate_noise_from_model", "noise_model"]
