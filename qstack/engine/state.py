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
            if len(group.qubits) > 1:  # the last qubit of a group takes the group with it
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
        if self.engine == "fast":
            result = self._apply_fast(operation, group, qubits, outcome)
        else:
            positions = [group.qubits.index(q) for q in qubits]
            result, group.rho = self._apply_aer(operation, group, positions)
            for q in [qubits[i] for i in operation.discard]:
                group.qubits.remove(q)
        for q in (qubits[i] for i in operation.discard):
            q.group = None
        self.live_qubits -= len(operation.discard)
        return result

    def outcome_table(self, operation: Operation, qubits: Sequence[Qubit]):
        """Every outcome with its probability and the post-outcome state, without applying.

        Returns a list of ``(outcome, probability, rho_after)``. ``rho_after`` is on the
        operation's kept qubits (circuit order, lowest first) followed by the group's other
        qubits in their order. Used to tabulate heralded states exactly.
        """
        self._require_alive(qubits)
        self._catch_up(qubits)
        group = self._merge(qubits)
        rho4, _ = _op_first(group, qubits)
        table = []
        for branch, matrix in zip(operation.branches, operation.maps):
            rho = _apply_op_first(matrix, rho4)
            probability = float(np.real(np.trace(rho)))
            if probability > 1e-15:
                table.append((branch.outcome, probability, rho / probability))
        return table

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
                    group.rho = _relax(group.rho, len(group.qubits), index, q.idle, elapsed)
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
            merged.rho = _kron(other.rho, merged.rho)
            merged.qubits.extend(other.qubits)
            for q in other.qubits:
                q.group = merged
        return merged

    def _apply_fast(self, operation, group, qubits, outcome):
        """Apply one branch: drawn from the Born probabilities, or the forced ``outcome``."""
        rho4, rest = _op_first(group, qubits)
        branches = operation.branches
        if len(branches) == 1 and outcome is None:
            choice = 0
            probability = None
        else:
            reduced = rho4[0, :, 0, :] if rho4.shape[0] == 1 else np.einsum("rkrl->kl", rho4)
            probabilities = np.maximum(np.einsum("bkl,kl->b", operation.trace_functionals, reduced).real, 0.0)
            if outcome is not None:
                matches = [i for i, b in enumerate(branches) if b.outcome == tuple(outcome)]
                if not matches or probabilities[matches[0]] <= 1e-15:
                    raise ValueError(f"outcome {tuple(outcome)} has zero probability in {operation.name or 'operation'}")
                choice = matches[0]
            else:
                cumulative = np.cumsum(probabilities)
                draw = self.rng.random() * cumulative[-1]
                choice = min(int(np.searchsorted(cumulative, draw, side="right")), len(branches) - 1)
            probability = probabilities[choice]
        rho = _apply_op_first(operation.maps[choice], rho4)
        if probability is not None:
            rho = rho / probability
        group.rho = rho
        group.qubits = [qubits[i] for i in operation.kept] + rest
        return branches[choice].outcome

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


def _kron(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``high (x) low`` for density matrices (``np.kron`` without its generic overhead)."""
    dh, dl = high.shape[0], low.shape[0]
    return np.einsum("ij,kl->ikjl", high, low).reshape(dh * dl, dh * dl)


def _op_first(group: _Group, qubits: Sequence[Qubit]) -> tuple[np.ndarray, list[Qubit]]:
    """The group's state with ``qubits`` as its lowest qubits, as ``rho[r, k, s, l]``.

    ``k, l`` index the operation's qubits (``qubits[0]`` the lowest bit), ``r, s`` the rest of
    the group. Returns the 4-index view and the rest of the group's qubits, in order.
    """
    n = len(group.qubits)
    positions = [group.qubits.index(q) for q in qubits]
    rest_positions = [i for i in range(n) if i not in positions]
    rho = _permute(group.rho, positions + rest_positions)
    d = 2 ** len(qubits)
    rest = 2 ** (n - len(qubits))
    return rho.reshape(rest, d, rest, d), [group.qubits[i] for i in rest_positions]


def _apply_op_first(matrix: np.ndarray, rho4: np.ndarray) -> np.ndarray:
    """``rho'[r i, s j] = sum_kl L[i, j, k, l] rho[r k, s l]`` as a matrix (op qubits lowest)."""
    # einsum's own loops, not BLAS: for these small products a threaded BLAS call costs
    # milliseconds when the other core is busy (measured here: 35 us against 6.8 ms).
    rest, d_out = rho4.shape[0], matrix.shape[0]
    if rest == 1:
        return np.einsum("ijkl,kl->ij", matrix, rho4[0, :, 0, :])
    out = np.einsum("ijkl,rksl->risj", matrix, rho4)
    return out.reshape(rest * d_out, rest * d_out)


def _relax(rho: np.ndarray, n: int, position: int, idle: IdleModel, duration_s: float) -> np.ndarray:
    """T1/T2 relaxation of the qubit at ``position`` of an n-qubit state, in place of a map."""
    decay = 0.0 if math.isinf(idle.t1_s) else -duration_s / idle.t1_s
    gamma = -math.expm1(decay)
    coherence = 0.0 if math.isinf(idle.t2_s) else -duration_s / idle.t2_s
    coherence = math.exp(coherence)
    high, low = 2 ** (n - 1 - position), 2**position
    t = rho.reshape(high, 2, low, high, 2, low).copy()
    t[:, 0, :, :, 0, :] += gamma * t[:, 1, :, :, 1, :]
    t[:, 1, :, :, 1, :] *= 1.0 - gamma
    t[:, 0, :, :, 1, :] *= coherence
    t[:, 1, :, :, 0, :] *= coherence
    return t.reshape(rho.shape)


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
