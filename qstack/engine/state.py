"""The quantum state registry: qubit handles, groups sharing a density matrix, two engines.

Qubits that have interacted share one density matrix (a *group*). An operation spanning several
groups merges them by tensor product; discarding a qubit shrinks its group by partial trace, so a
network of thousands of nodes only ever holds a few small matrices.

Conventions: a group's density matrix is a numpy array in Qiskit's little-endian order, the
group's ``qubits[i]`` being Qiskit qubit ``i`` (bit ``i`` of the basis index).

Idle decoherence is lazy: each qubit remembers when it was last brought up to date; before it is
next used, the T1/T2 relaxation channel for the elapsed time is applied. Relaxation channels
compose in time, so this is exact and costs nothing while a qubit waits.

Bell-diagonal fast path (fast engine): a two-qubit group whose state is Bell-diagonal (within
rounding, :data:`~qstack.engine.operation.BELL_TOLERANCE`) is held as its four Bell weights
``p = (Phi+, Phi-, Psi+, Psi-)`` instead of a density matrix. An operation on such pairs whose
every branch maps Bell-diagonal inputs to a Bell-diagonal pair (or to nothing) is applied as its
:class:`~qstack.engine.operation.BellTable`, a small linear map of the weights; pure dephasing
(``T1 = inf``) while idle mixes the weights. Both are exact. Anything else (finite T1, an
operation that breaks Bell-diagonality, a merge into a larger group) first turns the weights into
the density matrix and proceeds as usual.

Both engines draw an outcome alike: one uniform number from the run's generator when an
operation has several possible outcomes, picking the first branch (in
:attr:`~qstack.engine.Operation.outcomes` order) whose cumulative probability exceeds it. Aer
computes every branch (measurements as projectors onto their bits) and its seeds come from a
stream of its own, so a run draws the same numbers, and reports the same, with either engine.
The Aer engine is :class:`~qstack.engine.aer.AerEngine`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Callable, Iterable, Sequence

import numpy as np
from qiskit.quantum_info import DensityMatrix

from qstack.physics import BELL_PROJECTORS, Relaxation

from .aer import AerEngine
from .exact import apply_map as _apply_op_first, operation_first, outcomes
from .operation import BELL_TOLERANCE, Operation, partial_trace as _partial_trace, permute_qubits

ENGINES = ("fast", "aer")


#: The engine's idle channel is the physics kernel's relaxation (one home for T1/T2).
IdleModel = Relaxation


@dataclass(frozen=True, eq=False)
class PreparedState:
    """A state checked once and given to :meth:`StateRegistry.new_qubits` many times.

    Made by :meth:`StateRegistry.prepare`: ``rho`` is a read-only complex copy (groups may share
    it, since the engine never changes a matrix in place), ``bell`` its Bell weights when it is a
    Bell-diagonal pair, else None.
    """

    rho: np.ndarray
    bell: np.ndarray | None


@dataclass(eq=False, slots=True)
class Qubit:
    """A handle to one qubit of the registry. Compared by identity."""

    name: str
    idle: IdleModel | None = None
    last_time_s: float = 0.0
    group: "_Group | None" = field(default=None, repr=False)

    @property
    def alive(self) -> bool:
        return self.group is not None


@dataclass(eq=False, slots=True)
class _Group:
    """Qubits sharing one state: ``rho``, or for a Bell-diagonal pair its weights ``bell``.

    When ``bell`` is set it is the state and ``rho`` is None.
    """

    qubits: list[Qubit]
    rho: np.ndarray | None
    bell: np.ndarray | tuple | None = None  # a tuple of four floats after idle steps


class StateRegistry:
    """Holds the quantum state of a simulation and applies operations to it.

    Parameters
    ----------
    rng:
        The run's generator; outcomes of measurements are drawn from it (both engines).
    engine:
        ``"fast"`` (compiled channels applied with numpy) or ``"aer"`` (Qiskit Aer
        ``AerSimulator(method="density_matrix")`` for every operation; the reference).
    clock:
        Returns the current simulated time [s]; used for lazy idle decoherence.
    bell_diagonal:
        Hold Bell-diagonal pairs as four weights where that is exact (fast engine only; see the
        module docstring). False: always full density matrices (for comparisons).
    aer_rng:
        Aer engine: the stream its simulator seeds come from (default: a child spawned from
        ``rng``, which leaves ``rng``'s own draws unchanged).

    ``bell_diagonal_steps`` counts operations and idle periods applied to Bell weights,
    ``bell_diagonal_fallbacks`` Bell-diagonal pairs turned into density matrices because the
    next step does not keep them Bell-diagonal.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        engine: str = "fast",
        clock: Callable[[], float] | None = None,
        bell_diagonal: bool = True,
        aer_rng: np.random.Generator | None = None,
    ):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        self.rng = rng
        self.engine = engine
        self._aer = None if engine != "aer" else AerEngine(aer_rng if aer_rng is not None else rng.spawn(1)[0], self._choose)
        self._clock = clock or (lambda: 0.0)
        self.live_qubits = 0
        self.bell_diagonal = bool(bell_diagonal) and engine == "fast"
        self.bell_diagonal_steps = self.bell_diagonal_fallbacks = 0
        self._prepared: dict[int, tuple] = {}  # id(owner) -> (owner, its PreparedState)

    # ----------------------------------------------------------------- creation and removal
    @staticmethod
    def prepare(rho: np.ndarray | DensityMatrix) -> PreparedState:
        """Check a state once for repeated :meth:`new_qubits` (a link's heralded states)."""
        rho = np.array(rho.data if isinstance(rho, DensityMatrix) else rho, dtype=complex)
        if rho.ndim != 2 or rho.shape[0] != rho.shape[1]:
            raise ValueError(f"prepare: a square matrix is needed, got shape {rho.shape}")
        rho.flags.writeable = False
        return PreparedState(rho, _bell_weights(rho) if rho.shape == (4, 4) else None)

    def prepared(self, owner: object, rho: np.ndarray) -> PreparedState:
        """:meth:`prepare` of ``owner``'s state ``rho`` once per run (a heralded outcome shared by links)."""
        if (entry := self._prepared.get(id(owner))) is None:  # the owner is kept: its id stays its own
            entry = self._prepared[id(owner)] = (owner, self.prepare(rho))
        return entry[1]

    def new_qubits(
        self,
        names: Sequence[str],
        idle: Sequence[IdleModel | None] | IdleModel | None = None,
        rho: np.ndarray | DensityMatrix | PreparedState | None = None,
        time_s: float | Sequence[float] | None = None,
    ) -> list[Qubit]:
        """Create qubits sharing one group, in state ``rho`` (default ``|0...0>``).

        ``time_s`` is when the state was as given (default now), or one such time per qubit
        (qubits that began to exist at different moments); each qubit's idle decoherence runs
        from its time.
        """
        n = len(names)
        if not isinstance(idle, (list, tuple)):
            idle = [idle] * n
        if len(idle) != n:
            raise ValueError("new_qubits: one idle model per qubit")
        if isinstance(rho, PreparedState):
            bell = rho.bell
            rho = rho.rho
        else:
            if rho is None:
                rho = np.zeros((2**n, 2**n), dtype=complex)
                rho[0, 0] = 1.0
            rho = np.array(rho.data if isinstance(rho, DensityMatrix) else rho, dtype=complex)
            bell = None
            if n == 2 and self.bell_diagonal and rho.shape == (4, 4):
                bell = _bell_weights(rho)
        if rho.shape != (2**n, 2**n):
            raise ValueError(f"new_qubits: state must be {2**n}x{2**n}, got {rho.shape}")
        if time_s is None:
            times = [self._clock()] * n
        elif isinstance(time_s, (list, tuple)):
            if len(time_s) != n:
                raise ValueError("new_qubits: one time per qubit")
            times = time_s
        else:
            times = [time_s] * n
        qubits = [Qubit(name, model, t) for name, model, t in zip(names, idle, times)]
        bell = bell if self.bell_diagonal else None
        group = _Group(list(qubits), rho if bell is None else None, bell)
        for q in qubits:
            q.group = group
        self.live_qubits += n
        return qubits

    def discard(self, qubits: Iterable[Qubit]) -> None:
        """Trace qubits out of their groups (a qubit lost, measured away or freed)."""
        qubits = list(qubits)
        self._require_alive(qubits)
        if len(set(map(id, qubits))) != len(qubits):
            raise ValueError("discard: the same qubit given twice")
        for q in qubits:
            group = q.group
            if group is None:
                continue  # went with its pair partner, below
            members = group.qubits
            if len(members) == 2 and any(other is members[1 - members.index(q)] for other in qubits):
                for member in members:  # both qubits of a pair: the group goes, no trace needed
                    member.group = None
                self.live_qubits -= 2
                members.clear()
                continue
            index = members.index(q)
            if len(members) > 1:  # the last qubit of a group takes the group with it
                if group.bell is not None:  # either half of a Bell-diagonal pair is maximally mixed
                    group.bell, group.rho = None, np.eye(2, dtype=complex) / 2
                else:
                    group.rho = _partial_trace(group.rho, len(members), [index])
            members.pop(index)
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
        members = group.qubits
        if group.bell is not None and len(qubits) == 2:  # the whole pair; its state is symmetric
            return _bell_to_rho(group.bell)
        rho = self._dense(group)
        if len(qubits) == len(members) and all(a is b for a, b in zip(qubits, members)):
            return rho
        positions = [members.index(q) for q in qubits]
        others = [i for i in range(len(members)) if i not in positions]
        rho = _partial_trace(rho, len(members), others)
        remaining = [i for i in range(len(members)) if i not in others]
        order = [remaining.index(p) for p in positions]
        return permute_qubits(rho, order)

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
        if self.engine == "fast":
            result = None
            if self.bell_diagonal and qubits and qubits[0].group.bell is not None:  # dense first group: no table
                result = self._apply_bell(operation, qubits, outcome)
            if result is None:
                result = self._apply_to_two_pairs(operation, qubits, outcome)
            if result is None:
                result = self._apply_fast(operation, self._merge(qubits), qubits, outcome)
        else:
            group = self._merge(qubits)
            positions = [group.qubits.index(q) for q in qubits]
            result, group.rho = self._aer.apply(operation, group.rho, positions, outcome)
            for q in [qubits[i] for i in operation.discard]:
                group.qubits.remove(q)
        for i in operation.discard:
            qubits[i].group = None
        self.live_qubits -= len(operation.discard)
        return result

    def outcome_table(self, operation: Operation, qubits: Sequence[Qubit]):
        """Every outcome with its probability and the post-outcome state, without applying.

        Returns a list of ``(outcome, probability, rho_after)``. ``rho_after`` is on the
        operation's kept qubits (circuit order, lowest first) followed by the group's other
        qubits in their order (:func:`qstack.engine.outcomes` on the group's state).
        """
        self._require_alive(qubits)
        self._catch_up(qubits)
        group = self._merge(qubits)
        rho = self._dense(group)
        positions = [group.qubits.index(q) for q in qubits]
        return [(o.outcome, o.probability, o.rho) for o in outcomes(operation, rho, positions)]

    # ----------------------------------------------------------------- internals
    def _require_alive(self, qubits: Sequence[Qubit]) -> None:
        for q in qubits:
            if q.group is None:
                raise ValueError(f"qubit {q.name!r} no longer exists (measured, discarded or lost)")

    def _dense(self, group: _Group) -> np.ndarray:
        """The group's density matrix, to be changed: Bell weights are given up for it."""
        if group.bell is not None:
            group.rho = _bell_to_rho(group.bell)
            group.bell = None
        return group.rho

    def _catch_up(self, qubits: Sequence[Qubit]) -> None:
        now = self._clock()
        for q in qubits:
            elapsed = now - q.last_time_s
            if elapsed <= 0:
                continue
            q.last_time_s = now
            if (idle := q.idle) is None:
                continue
            group = q.group
            if group.bell is not None:
                if math.isinf(idle.t1_s):
                    group.bell = idle.dephase_bell_weights(group.bell, elapsed)
                    self.bell_diagonal_steps += 1
                    continue
                self.bell_diagonal_fallbacks += 1  # amplitude damping: not Bell-diagonal
                self._dense(group)
            members = group.qubits
            if self.engine == "fast":
                group.rho = idle.apply(group.rho, len(members), members.index(q), elapsed)
            else:
                _, group.rho = self._aer.apply(Operation(idle.circuit(elapsed), name="idle"), group.rho, [members.index(q)])

    def _merge(self, qubits: Sequence[Qubit]) -> _Group:
        merged = qubits[0].group
        others = []
        for q in qubits:
            if q.group is not merged and q.group not in others:
                others.append(q.group)
        if not others:
            return merged
        self._dense(merged)
        for other in others:
            merged.rho = _kron(self._dense(other), merged.rho)
            merged.qubits.extend(other.qubits)
            for q in other.qubits:
                q.group = merged
        return merged

    def _apply_bell(self, operation, qubits, outcome):
        """The operation on Bell weights, or None (nothing changed) when that is not exact."""
        groups = []
        for q in qubits:
            group = q.group
            if group.bell is None:
                return None
            if group not in groups:
                groups.append(group)
        position = {id(q): j for j, q in enumerate(qubits)}
        partner_qubits = []
        for q in qubits:
            members = q.group.qubits
            partner_qubits.append(members[1] if members[0] is q else members[0])
        table = operation.bell_table(tuple(position.get(id(p), -1) for p in partner_qubits))
        if table is None:
            self.bell_diagonal_fallbacks += len(groups)
            return None
        weights = np.asarray(groups[0].bell)  # a tuple after idle steps (Relaxation.dephase_bell_weights)
        for group in groups[1:]:
            weights = (weights[:, None] * group.bell).ravel()
        choice, bell = self._flat_branch(operation, table, weights, outcome)
        self.bell_diagonal_steps += 1
        if table.out_qubits == 2:
            kept = [qubits[i] for i in operation.kept] + [partner_qubits[i] for i in table.partner_outside]
            group = groups[0]
            group.bell = bell
            group.qubits = kept
            for q in kept:
                q.group = group
        return table.outcomes[choice]

    def _choose(self, probabilities: list[float], outcomes, outcome, operation) -> int:
        """Index of the branch: the forced ``outcome``, or drawn from ``probabilities``.

        One uniform draw, scaled by the total (rounding): the first branch whose cumulative
        probability exceeds it.
        """
        if outcome is not None:
            outcome = tuple(outcome)
            for i, o in enumerate(outcomes):
                if o == outcome:
                    if probabilities[i] <= 1e-15:
                        break
                    return i
            raise ValueError(f"outcome {outcome} has zero probability in {operation.name or 'operation'}")
        # Running sums (negative rounding counts as 0); the first branch whose sum exceeds the draw.
        cumulative = list(accumulate([p if p > 0.0 else 0.0 for p in probabilities]))
        return min(bisect_right(cumulative, self.rng.random() * cumulative[-1]), len(cumulative) - 1)

    def _apply_to_two_pairs(self, operation, qubits, outcome):
        """A swap or a purification round: circuit qubits (0, 1) and (2, 3) are two whole
        two-qubit groups. The joint state is only ever the vector ``rho_23 (x) rho_01`` fed to
        the flattened instrument; no merged group is built. None (nothing done) otherwise."""
        flat = operation.flat
        if flat is None or len(qubits) != 4:
            return None
        a, b, c, d = qubits
        first, second = a.group, c.group
        if first is second or b.group is not first or d.group is not second:
            return None
        first_members, second_members = first.qubits, second.qubits
        if len(first_members) != 2 or len(second_members) != 2:
            return None
        low = self._dense(first) if first_members[0] is a else _swap_pair(self._dense(first))
        high = self._dense(second) if second_members[0] is c else _swap_pair(self._dense(second))
        vec = (high[:, None, :, None] * low[None, :, None, :]).reshape(-1)  # _kron(high, low), ravelled
        result = self._apply_flat(operation, flat, first, qubits, vec, outcome)
        for q in first.qubits:
            q.group = first
        second.qubits = []
        return result

    def _apply_flat(self, operation, flat, group, qubits, vec, outcome):
        """One branch of the flattened instrument on ``vec``, the ravelled state of exactly
        ``qubits`` (in that order); ``group`` then holds the kept qubits and the result."""
        choice, rho = self._flat_branch(operation, flat, vec, outcome)
        d = 2 ** len(operation.kept)
        group.rho = rho.reshape(d, d)
        group.qubits = [qubits[i] for i in operation.kept]
        return flat.outcomes[choice]

    def _flat_branch(self, operation, flat, vec, outcome):
        """Draw (or force) a branch of a flattened instrument (or a :class:`BellTable`) on
        ``vec`` (a ravelled density matrix with the operation's qubits first, or the product of
        Bell weights); returns its index and the normalised state."""
        if len(flat.maps) == 1 and outcome is None:
            return 0, flat.maps[0] @ vec
        probabilities = (flat.traces @ vec).real.tolist()
        choice = self._choose(probabilities, flat.outcomes, outcome, operation)
        return choice, (flat.maps[choice] @ vec) / probabilities[choice]

    def _apply_fast(self, operation, group, qubits, outcome):
        """Apply one branch: drawn from the Born probabilities, or the forced ``outcome``."""
        self._dense(group)
        members = group.qubits
        flat = operation.flat
        if flat is not None and len(members) == len(qubits):
            # The operation covers its whole group: matrix-vector products on rho.ravel().
            if all(a is b for a, b in zip(qubits, members)):
                vec = group.rho.reshape(-1)
            else:
                vec = permute_qubits(group.rho, [members.index(q) for q in qubits]).reshape(-1)
            return self._apply_flat(operation, flat, group, qubits, vec, outcome)
        rho4, rest = _op_first(group, qubits)
        branches = operation.branches
        if len(branches) == 1 and outcome is None:
            choice = 0
            probability = None
        else:
            reduced = rho4[0, :, 0, :] if rho4.shape[0] == 1 else np.einsum("rkrl->kl", rho4)
            probabilities = np.einsum("bkl,kl->b", operation.trace_functionals, reduced).real.tolist()
            choice = self._choose(probabilities, operation.outcomes, outcome, operation)
            probability = probabilities[choice]
        rho = _apply_op_first(operation.maps[choice], rho4)
        if probability is not None:
            rho = rho / probability
        group.rho = rho
        group.qubits = [qubits[i] for i in operation.kept] + rest
        return branches[choice].outcome


def _bell_weights(rho: np.ndarray) -> np.ndarray | None:
    """The Bell weights ``(Phi+, Phi-, Psi+, Psi-)`` of a two-qubit state, or None if it is not
    Bell-diagonal (within :data:`BELL_TOLERANCE`).

    Bell-diagonal means: only the diagonal and the anti-diagonal are non-zero, with
    ``rho[0,0] = rho[3,3]``, ``rho[1,1] = rho[2,2]`` and real anti-diagonals. Cheap scalar tests
    come first, so a state that is not Bell-diagonal costs little.
    """
    tol = BELL_TOLERANCE
    r00, r11, r22, r33 = rho[0, 0], rho[1, 1], rho[2, 2], rho[3, 3]
    r03, r12 = rho[0, 3], rho[1, 2]
    if abs(r00 - r33) > tol or abs(r11 - r22) > tol or abs(r03.imag) > tol or abs(r12.imag) > tol:
        return None
    if abs(rho[3, 0] - r03) > tol or abs(rho[2, 1] - r12) > tol:
        return None
    if np.max(np.abs(rho[_OFF_X])) > tol:
        return None
    phi, psi = (r00.real + r33.real) / 2, (r11.real + r22.real) / 2
    return np.array([phi + r03.real, phi - r03.real, psi + r12.real, psi - r12.real])


# The elements outside the diagonal and the anti-diagonal of a 4x4 matrix.
_OFF_X = ~(np.eye(4, dtype=bool) | np.eye(4, dtype=bool)[::-1])


def _bell_to_rho(bell: np.ndarray) -> np.ndarray:
    """``sum_k p_k |B_k><B_k|`` for Bell weights ``(Phi+, Phi-, Psi+, Psi-)``."""
    return (bell @ _BELL_PROJECTORS_FLAT).reshape(4, 4)


_BELL_PROJECTORS_FLAT = BELL_PROJECTORS.reshape(4, 16)  # row k: |B_k><B_k| flattened


def _swap_pair(rho: np.ndarray) -> np.ndarray:
    """A two-qubit state with its two qubits exchanged."""
    return rho.reshape(2, 2, 2, 2).transpose(1, 0, 3, 2).reshape(4, 4)


def _kron(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``high (x) low`` for density matrices (``np.kron`` without its generic overhead)."""
    dh, dl = high.shape[0], low.shape[0]
    return (high[:, None, :, None] * low[None, :, None, :]).reshape(dh * dl, dh * dl)


def _op_first(group: _Group, qubits: Sequence[Qubit]) -> tuple[np.ndarray, list[Qubit]]:
    """The group's state with ``qubits`` as its lowest qubits, as ``rho[r, k, s, l]``
    (:func:`~qstack.engine.exact.operation_first`), and the rest of its qubits, in order."""
    members = group.qubits
    positions = [members.index(q) for q in qubits]
    rest = [q for i, q in enumerate(members) if i not in positions]
    return operation_first(group.rho, len(members), positions), rest
