"""The quantum state registry: qubit handles, groups sharing a density matrix, two engines.

Qubits that have interacted share one density matrix (a *group*). An operation spanning several
groups merges them by tensor product; discarding a qubit shrinks its group by partial trace, so a
network of thousands of nodes only ever holds a few small matrices.

Conventions: a group's density matrix is a numpy array in Qiskit's little-endian order, the
group's ``qubits[i]`` being Qiskit qubit ``i`` (bit ``i`` of the basis index).

Idle decoherence is lazy: each qubit remembers when it was last brought up to date; before it is
next used, the T1/T2 relaxation channel for the elapsed time is applied. Relaxation channels
compose in time, so this is exact and costs nothing while a qubit waits.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix
from qiskit_aer.noise import thermal_relaxation_error

from .operation import Operation, noisy

ENGINES = ("fast", "aer")


@dataclass(frozen=True)
class IdleModel:
    """Relaxation of a stored qubit: energy relaxation ``t1_s`` and dephasing ``t2_s`` [s].

    For a stored time ``t`` the channel damps ``|1>`` to ``|0>`` with probability
    ``1 - exp(-t/t1_s)`` and multiplies coherences by ``exp(-t/t2_s)``; ``t2_s <= 2 t1_s``.
    """

    t1_s: float
    t2_s: float

    def __post_init__(self) -> None:
        if not self.t1_s > 0:
            raise ValueError(f"IdleModel.t1_s must be > 0, got {self.t1_s}")
        if not 0 < self.t2_s <= 2 * self.t1_s:
            raise ValueError(f"IdleModel.t2_s must be in (0, 2*t1_s] (t1_s={self.t1_s}), got {self.t2_s}")

    def superop(self, duration_s: float) -> np.ndarray:
        """Row-major superoperator tensor (2,2,2,2) of the relaxation over ``duration_s``."""
        decay = 0.0 if math.isinf(self.t1_s) else -duration_s / self.t1_s
        dephase = 0.0 if math.isinf(self.t2_s) else -duration_s / self.t2_s
        gamma = -math.expm1(decay)
        coherence = math.exp(dephase)
        tensor = np.zeros((2, 2, 2, 2), dtype=complex)
        tensor[0, 0, 0, 0] = 1.0
        tensor[0, 0, 1, 1] = gamma
        tensor[1, 1, 1, 1] = 1.0 - gamma
        tensor[0, 1, 0, 1] = coherence
        tensor[1, 0, 1, 0] = coherence
        return tensor

    def circuit(self, duration_s: float) -> QuantumCircuit:
        """The same relaxation as a one-qubit circuit for the Aer engine."""
        circuit = QuantumCircuit(1, name="idle")
        circuit.append(noisy(thermal_relaxation_error(self.t1_s, self.t2_s, duration_s)), [0])
        return circuit


@dataclass(eq=False)
class Qubit:
    """A handle to one qubit of the registry. Compared by identity."""

    name: str
    idle: IdleModel | None = None
    last_time_s: float = 0.0
    group: "_Group | None" = field(default=None, repr=False)

    @property
    def alive(self) -> bool:
        return self.group is not None


@dataclass(eq=False)
class _Group:
    qubits: list[Qubit]
    rho: np.ndarray


class StateRegistry:
    """Holds the quantum state of a simulation and applies operations to it.

    Parameters
    ----------
    rng:
        The run's generator; outcomes of measurements are drawn from it (fast engine) or it
        seeds each Aer run (aer engine).
    engine:
        ``"fast"`` (compiled channels applied with numpy) or ``"aer"`` (Qiskit Aer
        ``AerSimulator(method="density_matrix")`` for every operation; the reference).
    clock:
        Returns the current simulated time [s]; used for lazy idle decoherence.
    """

    def __init__(self, rng: np.random.Generator, engine: str = "fast", clock: Callable[[], float] | None = None):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        self.rng = rng
        self.engine = engine
        self._clock = clock or (lambda: 0.0)
        self._simulator = None
        self.live_qubits = 0

    # ----------------------------------------------------------------- creation and removal
    def new_qubits(
        self,
        names: Sequence[str],
        idle: Sequence[IdleModel | None] | IdleModel | None = None,
        rho: np.ndarray | DensityMatrix | None = None,
        time_s: float | None = None,
    ) -> list[Qubit]:
        """Create qubits sharing one group, in state ``rho`` (default ``|0...0>``).

        ``time_s`` is when the state was as given (default now); idle decoherence runs from then.
        """
        n = len(names)
        if not isinstance(idle, (list, tuple)):
            idle = [idle] * n
        if len(idle) != n:
            raise ValueError("new_qubits: one idle model per qubit")
        if rho is None:
            rho = np.zeros((2**n, 2**n), dtype=complex)
            rho[0, 0] = 1.0
        rho = np.array(rho.data if isinstance(rho, DensityMatrix) else rho, dtype=complex)
        if rho.shape != (2**n, 2**n):
            raise ValueError(f"new_qubits: state must be {2**n}x{2**n}, got {rho.shape}")
        now = self._clock() if time_s is None else time_s
        qubits = [Qubit(name, model, now) for name, model in zip(names, idle)]
        group = _Group(list(qubits), rho)
        for q in qubits:
            q.group = group
        self.live_qubits += n
        return qubits

    def discard(self, qubits: Iterable[Qubit]) -> None:
        """Trace qubits out of their groups (a qubit lost, measured away or freed)."""
        for q in qubits:
            self._require_alive([q])
            group = q.group
            index = group.qubits.index(q)
            group.rho = _partial_trace(group.rho, len(group.qubits), [index])
            group.qubits.pop(index)
            q.group = None
            self.live_qubits -= 1

    # ----------------------------------------------------------------- reading
    def density_matrix(self, qubits: Sequence[Qubit]) -> np.ndarray:
        """The reduced state of ``qubits`` now (idle decoherence brought up to date).

        ``qubits[0]`` is qubit 0 of the result (Qiskit order).
        """
        self._require_alive(qubits)
        self._catch_up(qubits)
        group = self._merge(qubits)
        positions = [group.qubits.index(q) for q in qubits]
        others = [i for i in range(len(group.qubits)) if i not in positions]
        rho = _partial_trace(group.rho, len(group.qubits), others)
        remaining = [i for i in range(len(group.qubits)) if i not in others]
        order = [remaining.index(p) for p in positions]
        return _permute(rho, order)

    # ----------------------------------------------------------------- evolution
    def apply(
        self,
        operation: Operation,
        qubits: Sequence[Qubit],
        outcome: tuple[int, ...] | None = None,
    ) -> tuple[int, ...]:
        """Apply ``operation`` with circuit qubit ``i`` acting on ``qubits[i]``.

        Returns the classical outcome (one bit per circuit clbit, clbit 0 first). The discarded
        qubits of the operation are removed from the registry. ``outcome`` forces a branch
        (postselection; for tests and for deterministic tables of heralded states).
        """
        if len(qubits) != operation.num_qubits:
            raise ValueError(f"{operation.name or 'operation'} acts on {operation.num_qubits} qubits, got {len(qubits)}")
        if len(set(map(id, qubits))) != len(qubits):
            raise ValueError("apply: the same qubit given twice")
        self._require_alive(qubits)
        self._catch_up(qubits)
        group = self._merge(qubits)
        positions = [group.qubits.index(q) for q in qubits]
        if self.engine == "fast":
            result, rho = self._apply_fast(operation, group, positions, outcome)
        else:
            result, rho = self._apply_aer(operation, group, positions)
        discarded = [qubits[i] for i in operation.discard]
        group.rho = rho
        for q in discarded:
            group.qubits.remove(q)
            q.group = None
        self.live_qubits -= len(discarded)
        return result

    def outcome_table(self, operation: Operation, qubits: Sequence[Qubit]):
        """Every outcome with its probability and the post-outcome state, without applying.

        Returns a list of ``(outcome, probability, rho_after)``, ``rho_after`` on the group's
        kept qubits. Used to tabulate heralded states exactly.
        """
        self._require_alive(qubits)
        self._catch_up(qubits)
        group = self._merge(qubits)
        positions = [group.qubits.index(q) for q in qubits]
        table = []
        for branch in operation.branches:
            rho = _apply_map(group.rho, len(group.qubits), branch.tensor, positions, operation.discard)
            probability = float(np.real(np.trace(rho)))
            if probability > 1e-15:
                table.append((branch.outcome, probability, rho / probability))
        return table

    def transform(self, qubits: Sequence[Qubit], fn: Callable[[np.ndarray], np.ndarray]) -> None:
        """Replace the joint state of ``qubits`` (which must form a whole group) by ``fn(rho)``."""
        self._catch_up(qubits)
        group = self._merge(qubits)
        if len(group.qubits) != len(qubits):
            raise ValueError("transform: qubits must form a whole group")
        order = [group.qubits.index(q) for q in qubits]
        rho = _permute(group.rho, [order.index(i) for i in range(len(order))]) if order != list(range(len(order))) else group.rho
        group.qubits = list(qubits)
        group.rho = fn(rho)

    # ----------------------------------------------------------------- internals
    def _require_alive(self, qubits: Sequence[Qubit]) -> None:
        for q in qubits:
            if q.group is None:
                raise ValueError(f"qubit {q.name!r} no longer exists (measured, discarded or lost)")

    def _catch_up(self, qubits: Sequence[Qubit]) -> None:
        now = self._clock()
        for q in qubits:
            elapsed = now - q.last_time_s
            if q.idle is not None and elapsed > 0:
                group = q.group
                index = group.qubits.index(q)
                if self.engine == "fast":
                    group.rho = _apply_map(group.rho, len(group.qubits), q.idle.superop(elapsed), [index], ())
                else:
                    idle = Operation(q.idle.circuit(elapsed), name="idle")
                    _, group.rho = self._apply_aer(idle, group, [index])
            q.last_time_s = max(q.last_time_s, now)

    def _merge(self, qubits: Sequence[Qubit]) -> _Group:
        groups: list[_Group] = []
        for q in qubits:
            if not any(g is q.group for g in groups):
                groups.append(q.group)
        merged = groups[0]
        for other in groups[1:]:
            merged.rho = np.kron(other.rho, merged.rho)
            merged.qubits.extend(other.qubits)
            for q in other.qubits:
                q.group = merged
        return merged

    def _apply_fast(self, operation, group, positions, outcome):
        n = len(group.qubits)
        branches = operation.branches
        if len(branches) == 1 and outcome is None:
            return branches[0].outcome, _apply_map(group.rho, n, branches[0].tensor, positions, operation.discard)
        candidates = [
            (branch.outcome, _apply_map(group.rho, n, branch.tensor, positions, operation.discard)) for branch in branches
        ]
        probabilities = np.array([max(float(np.real(np.trace(rho))), 0.0) for _, rho in candidates])
        if outcome is not None:
            outcome = tuple(outcome)
            matches = [i for i, (o, _) in enumerate(candidates) if o == outcome]
            if not matches or probabilities[matches[0]] <= 1e-15:
                raise ValueError(f"outcome {outcome} has zero probability in {operation.name or 'operation'}")
            choice = matches[0]
        else:
            choice = int(self.rng.choice(len(candidates), p=probabilities / probabilities.sum()))
        result, rho = candidates[choice]
        return result, rho / probabilities[choice]

    def _apply_aer(self, operation, group, positions):
        from qiskit_aer import AerSimulator

        if self._simulator is None:
            self._simulator = AerSimulator(method="density_matrix")
        n = len(group.qubits)
        circuit = QuantumCircuit(n, operation.circuit.num_clbits)
        circuit.set_density_matrix(DensityMatrix(group.rho))
        circuit.compose(operation.circuit, qubits=positions, clbits=list(range(operation.circuit.num_clbits)), inplace=True)
        kept = [i for i in range(n) if i not in {positions[d] for d in operation.discard}]
        circuit.save_density_matrix(qubits=kept, label="rho")
        seed = int(self.rng.integers(2**31 - 1))
        result = self._simulator.run(circuit, shots=1, seed_simulator=seed, memory=True).result()
        rho = np.asarray(result.data(0)["rho"])
        outcome: tuple[int, ...] = ()
        if operation.circuit.num_clbits:
            bits = result.get_memory(0)[0].replace(" ", "")
            outcome = tuple(int(b) for b in reversed(bits))
        return outcome, rho


def _axes(n: int, qubit: int) -> tuple[int, int]:
    """Row and column tensor axes of ``qubit`` in an n-qubit density tensor."""
    return n - 1 - qubit, 2 * n - 1 - qubit


def _apply_map(rho: np.ndarray, n: int, tensor: np.ndarray, positions: Sequence[int], discard: Sequence[int]) -> np.ndarray:
    """Apply a row-major map tensor on ``positions`` of an n-qubit state; drop ``discard``.

    The map's input axes are (row: qubit k-1..0, col: k-1..0); its output axes cover the kept
    circuit qubits. Discarded circuit qubits vanish from the group, which keeps the remaining
    qubits in their order.
    """
    k = len(positions)
    kept_circuit = [q for q in range(k) if q not in discard]
    rho_t = rho.reshape((2,) * (2 * n))
    rho_labels = list(range(2 * n))
    fresh = itertools.count(2 * n)
    in_row = {}
    in_col = {}
    for q, p in enumerate(positions):
        row_axis, col_axis = _axes(n, p)
        in_row[q], in_col[q] = rho_labels[row_axis], rho_labels[col_axis]
    out_row = {q: next(fresh) for q in kept_circuit}
    out_col = {q: next(fresh) for q in kept_circuit}
    map_labels = (
        [out_row[q] for q in reversed(kept_circuit)]
        + [out_col[q] for q in reversed(kept_circuit)]
        + [in_row[q] for q in range(k - 1, -1, -1)]
        + [in_col[q] for q in range(k - 1, -1, -1)]
    )
    # Output: group qubits minus the discarded ones, in group order.
    dropped = {positions[q] for q in discard}
    remaining = [i for i in range(n) if i not in dropped]
    position_to_circuit = {p: q for q, p in enumerate(positions)}
    m = len(remaining)
    out_labels_row = []
    out_labels_col = []
    for i in reversed(remaining):
        if i in position_to_circuit:
            q = position_to_circuit[i]
            out_labels_row.append(out_row[q])
            out_labels_col.append(out_col[q])
        else:
            row_axis, col_axis = _axes(n, i)
            out_labels_row.append(rho_labels[row_axis])
            out_labels_col.append(rho_labels[col_axis])
    result = np.einsum(tensor, map_labels, rho_t, rho_labels, out_labels_row + out_labels_col, optimize=True)
    return result.reshape(2**m, 2**m)


def _partial_trace(rho: np.ndarray, n: int, traced: Sequence[int]) -> np.ndarray:
    if not traced:
        return rho
    labels = list(range(2 * n))
    for q in traced:
        row_axis, col_axis = _axes(n, q)
        labels[col_axis] = labels[row_axis]
    kept = [q for q in range(n - 1, -1, -1) if q not in traced]
    out = [labels[_axes(n, q)[0]] for q in kept] + [labels[_axes(n, q)[1]] for q in kept]
    m = len(kept)
    return np.einsum(rho.reshape((2,) * (2 * n)), labels, out).reshape(2**m, 2**m)


def _permute(rho: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """Reorder qubits: qubit ``j`` of the result is qubit ``order[j]`` of ``rho``."""
    n = len(order)
    if list(order) == list(range(n)):
        return rho
    tensor = rho.reshape((2,) * (2 * n))
    axes = [n - 1 - order[j] for j in range(n - 1, -1, -1)]
    axes += [2 * n - 1 - order[j] for j in range(n - 1, -1, -1)]
    return tensor.transpose(axes).reshape(2**n, 2**n)
