"""Simulating a compiled circuit on Aer and comparing it with the monolithic circuit.

A single statevector run when nothing is mixed (exact), the density-matrix method up to
``max_density_qubits`` wires (exact), statevector trajectories beyond: ``trajectories`` runs,
the fidelity being the mean of each trajectory's exact overlap with the ideal output (found by
undoing the ideal circuit and reading the all-zero amplitude), with its standard error.

Fidelity against the ideal monolithic circuit: the state fidelity ``<psi|rho|psi>`` of the
logical qubits, or, when the circuit measures, the Hellinger fidelity (Qiskit's
``hellinger_fidelity``) of the output distribution.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit, transpile
from qiskit.quantum_info import DensityMatrix, Statevector, hellinger_fidelity, state_fidelity

from .compile import CompiledCircuit
from .logical import LogicalCircuit, ideal_output

SIMULATIONS = ("auto", "statevector", "density_matrix", "trajectories")


@dataclass(frozen=True)
class SimulationOutcome:
    """What the simulation of a compiled circuit gives.

    ``fidelity`` (state or Hellinger, see the module docstring) with ``fidelity_stderr`` (0 when
    exact); ``final_state`` of the logical qubits (``Statevector`` or ``DensityMatrix``, qubit
    ``i`` = logical qubit ``i``; ``None`` for trajectories); ``counts`` when the circuit measures;
    ``simulation`` the method that ran.
    """

    fidelity: float
    fidelity_stderr: float
    final_state: Statevector | DensityMatrix | None
    counts: dict[str, int] | None
    simulation: str
    shots: int


def simulate_distributed(
    compiled: CompiledCircuit,
    simulation: str = "auto",
    shots: int = 1024,
    trajectories: int = 100,
    seed: int | np.random.Generator = 0,
    max_density_qubits: int = 10,
    ideal: Statevector | None = None,
) -> SimulationOutcome:
    """Run ``compiled.noisy_circuit`` on Aer and compare with the monolithic circuit.

    ``simulation``: ``"auto"`` (statevector when the compiled circuit is pure, density matrix up
    to ``max_density_qubits`` wires, trajectories beyond), or one of ``"statevector"`` (exact only
    for a pure circuit: refused otherwise), ``"density_matrix"``, ``"trajectories"``.
    ``trajectories``: statevector runs for ``"trajectories"``; ``shots``: samples of the counts
    (drawn from the exact distribution, or one per trajectory). ``ideal``: the monolithic output
    if already known.
    """
    if simulation not in SIMULATIONS:
        raise ValueError(f"simulation must be one of {SIMULATIONS}, got {simulation!r}")
    for name, value in (("shots", shots), ("trajectories", trajectories), ("max_density_qubits", max_density_qubits)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    simulation = _method(compiled, simulation, max_density_qubits)
    ideal = ideal_output(compiled.plan.logical) if ideal is None else ideal
    seed_simulator = int(rng.integers(2**31 - 1))
    if simulation in ("statevector", "density_matrix"):
        return _exact(compiled, simulation, ideal, shots, rng, seed_simulator)
    if compiled.plan.logical.measurements:
        return _sampled_counts(compiled, ideal, shots, seed_simulator)
    return _sampled_overlaps(compiled, trajectories, seed_simulator)


def _method(compiled: CompiledCircuit, simulation: str, max_density_qubits: int) -> str:
    """The method that runs: ``"auto"`` resolved; ``"statevector"`` refused on a mixed circuit."""
    if simulation == "auto":
        if compiled.pure:
            return "statevector"
        return "density_matrix" if compiled.noisy_circuit.num_qubits <= max_density_qubits else "trajectories"
    if simulation == "statevector" and not compiled.pure:
        raise ValueError(
            "simulation 'statevector' is exact only without noise or mixed pairs; "
            "use 'density_matrix' or 'trajectories'"
        )
    return simulation


def _exact(
    compiled: CompiledCircuit,
    simulation: str,
    ideal: Statevector,
    shots: int,
    rng: np.random.Generator,
    seed_simulator: int,
) -> SimulationOutcome:
    """One statevector or density-matrix run: the logical qubits' final state, exactly; counts
    drawn from its distribution when the circuit measures."""
    logical = compiled.plan.logical
    wires = list(compiled.logical_wires)
    width = compiled.noisy_circuit.num_qubits
    circuit = compiled.noisy_circuit.copy()
    if simulation == "statevector":
        for w in _other_wires(compiled):
            circuit.reset(w)
        circuit.save_statevector(label="out")
    else:
        circuit.save_density_matrix(qubits=wires, label="out")
    data = np.asarray(_run_aer(circuit, simulation, 1, seed_simulator).data(0)["out"])
    if simulation == "statevector":
        state: Statevector | DensityMatrix = Statevector(_logical_amplitudes(data, width, wires))
    else:
        state = DensityMatrix(data)
    measured = logical.measurements
    if not measured:
        return SimulationOutcome(float(state_fidelity(state, ideal, validate=False)), 0.0, state, None, simulation, 0)
    exact = _clbit_distribution(state, measured, logical.num_clbits)
    reference = _clbit_distribution(ideal, measured, logical.num_clbits)
    counts = _sample(exact, shots, rng)
    return SimulationOutcome(float(hellinger_fidelity(reference, exact)), 0.0, state, counts, simulation, shots)


def _sampled_counts(
    compiled: CompiledCircuit, ideal: Statevector, shots: int, seed_simulator: int
) -> SimulationOutcome:
    """``shots`` trajectories, each read out once: counts and their Hellinger fidelity."""
    logical = compiled.plan.logical
    circuit = compiled.noisy_circuit.copy()
    circuit.add_register(ClassicalRegister(logical.num_clbits, "c"))
    for qubit, clbit in logical.measurements:
        circuit.measure(compiled.logical_wires[qubit], clbit)
    result = _run_aer(circuit, "statevector", shots, seed_simulator)
    counts = {key.replace(" ", ""): int(n) for key, n in result.get_counts(0).items()}
    reference = _clbit_distribution(ideal, logical.measurements, logical.num_clbits)
    fidelity = float(hellinger_fidelity(reference, counts))
    return SimulationOutcome(fidelity, _hellinger_stderr(reference, counts), None, counts, "trajectories", shots)


def _sampled_overlaps(compiled: CompiledCircuit, trajectories: int, seed_simulator: int) -> SimulationOutcome:
    """``trajectories`` statevector runs; each one's overlap ``|<0|U^dag|psi_k>|^2`` with the
    ideal output, read after undoing the ideal circuit ``U``; their mean and standard error."""
    logical: LogicalCircuit = compiled.plan.logical
    circuit = compiled.noisy_circuit.copy()
    for w in _other_wires(compiled):
        circuit.reset(w)
    circuit.compose(logical.unitary.inverse(), qubits=list(compiled.logical_wires), inplace=True)
    circuit.save_amplitudes_squared([0], label="overlap", pershot=True)
    result = _run_aer(circuit, "statevector", trajectories, seed_simulator)
    overlaps = np.array([float(np.ravel(v)[0]) for v in result.data(0)["overlap"]])
    stderr = float(overlaps.std(ddof=1) / math.sqrt(len(overlaps))) if len(overlaps) > 1 else 0.0
    return SimulationOutcome(float(overlaps.mean()), stderr, None, None, "trajectories", trajectories)


def _other_wires(compiled: CompiledCircuit) -> list[int]:
    """The wires holding no logical qubit at the end (pair wires, reset to |0> before reading)."""
    return [w for w in range(compiled.noisy_circuit.num_qubits) if w not in compiled.logical_wires]


def _run_aer(circuit: QuantumCircuit, method: str, shots: int, seed: int):
    """Run on ``AerSimulator(method=method)``; transpiled at level 0 (no gate or noise removed).

    Gate fusion is off for density matrices: with noise instructions it made runs slower here
    (8-12 wires) and Aer 0.18's fusion fails on some chains of channels with tiny probabilities
    ("heevx ... Check that input matrix is really hermitian"). A statevector run that meets that
    failure is repeated without fusion (same result), and Aer's warning about it is not shown.
    """
    from qiskit_aer import AerSimulator

    backend = AerSimulator(method=method)
    compiled = transpile(circuit, backend, optimization_level=0)
    options = {"fusion_enable": False} if method == "density_matrix" else {}
    logger = logging.getLogger("qiskit_aer.backends.aerbackend")
    quiet = _DropFusionFailure()
    logger.addFilter(quiet)
    try:
        result = backend.run(compiled, shots=shots, seed_simulator=seed, **options).result()
    finally:
        logger.removeFilter(quiet)
    if not result.success and _FUSION_FAILURE in str(result.status) + "".join(str(r.status) for r in result.results):
        result = backend.run(compiled, shots=shots, seed_simulator=seed, fusion_enable=False).result()
    if not result.success:
        raise RuntimeError(f"Aer ({method}) failed: {result.status}")
    return result


_FUSION_FAILURE = "heevx"


class _DropFusionFailure(logging.Filter):
    """Drops Aer's warning about the fusion failure that :func:`_run_aer` recovers from."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _FUSION_FAILURE not in record.getMessage()


def _logical_amplitudes(vector: np.ndarray, width: int, wires: Sequence[int]) -> np.ndarray:
    """The logical qubits' state from a product of it with ``|0>`` on every other wire.

    Axis ``k`` of the reshaped vector is wire ``width - 1 - k``; the result has logical qubit
    ``i`` as its qubit ``i``.
    """
    tensor = np.asarray(vector).reshape((2,) * width)
    index = [0] * width
    for w in wires:
        index[width - 1 - w] = slice(None)
    reduced = tensor[tuple(index)]
    # Remaining axes are the logical wires in decreasing wire order; reorder to logical order.
    kept = sorted(wires, reverse=True)
    n = len(wires)
    axes = [kept.index(wires[i]) for i in range(n - 1, -1, -1)]
    out = reduced.transpose(axes).reshape(-1)
    norm = np.linalg.norm(out)
    return out / norm if norm > 0 else out


def _clbit_distribution(state, measured, num_clbits: int) -> dict[str, float]:
    """Probabilities of the classical register (``num_clbits`` bits, clbit 0 rightmost)."""
    qubits = [q for q, _ in measured]
    probabilities = state.probabilities(qubits)
    out: dict[str, float] = {}
    for index, p in enumerate(probabilities):
        if p <= 1e-15:
            continue
        bits = ["0"] * num_clbits
        for k, (_, clbit) in enumerate(measured):
            if (index >> k) & 1:
                bits[num_clbits - 1 - clbit] = "1"
        key = "".join(bits)
        out[key] = out.get(key, 0.0) + float(p)
    return out


def _sample(distribution: Mapping[str, float], shots: int, rng: np.random.Generator) -> dict[str, int]:
    keys = sorted(distribution)
    p = np.array([distribution[k] for k in keys])
    drawn = rng.multinomial(shots, p / p.sum())
    return {k: int(n) for k, n in zip(keys, drawn) if n}


def _hellinger_stderr(reference: Mapping[str, float], counts: Mapping[str, int]) -> float:
    """Rough standard error of a Hellinger fidelity estimated from ``counts`` (delta method)."""
    shots = sum(counts.values())
    if shots < 2:
        return 0.0
    total = sum(reference.values())
    bc = sum(math.sqrt(reference.get(k, 0.0) / total * n / shots) for k, n in counts.items())
    # Var of the Bhattacharyya coefficient ~ (1 - BC^2) / (4 shots); fidelity = BC^2.
    return float(2 * bc * math.sqrt(max(1 - bc * bc, 0.0) / (4 * shots)))


__all__ = ["SIMULATIONS", "SimulationOutcome", "simulate_distributed"]
