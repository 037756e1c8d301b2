"""The entanglement generation service of one link: heralded pairs into memory slots.

The service fills the memory slots of a link's two ends through their communication qubits. A
node's communication qubits (:attr:`~qstack.hardware.Memory.communication_qubits`: an NV
centre's one electron spin, the ions that emit) are the node's, shared by all its links: a
generation takes the link's optical interface (one generation per link at a time), then one
communication qubit at each end, then one slot per multiplexed mode at each end, and holds the
communication qubits through its attempts, its herald and the move into the storage stage. A
node with one therefore serves one link at a time: a middle node between links of success ``p``
needs ``1/p + 1/p`` attempt rounds per pair on average; with two, the maximum of the two
geometric waits, ``(3 - 2p) / (p (2 - p))``. The attempts are fast-forwarded: the
number of attempts until the first success is drawn once from its geometric law
``P(k) = (1-p)^(k-1) p`` and simulated time advances by ``k`` attempt durations in one step.
Per-attempt side effects are applied for the drawn count: every attempt of an NV centre's
electron dephases the qubits stored in its nuclear-spin register while it is made. With the
fast-forward the attempts of a generation begin at ``start + j T`` (``j = 0 .. k-1``, ``T`` the
attempt time) and the herald comes at ``start + k T``; an attempt dephases a spin stored at
``s`` when it begins (the electron is reset and excited) at or after ``s``, so the spin takes

    ``n = k - max(0, ceil((s - start) / T))  =  floor((herald - max(start, s)) / T)``

of them, each a phase flip with the register's probability (composed: ``(1 - (1 - 2p)^n)/2``).

Where a pair is held is the node's :class:`~qstack.physical.Storage`, and nothing else: the
heralded state is placed in the communication qubits (the memories), each from the moment the
link model says it began to exist
(:attr:`~qstack.physical.LinkModel.qubit_times_before_herald_s`: an emitting spin from its
emission, an absorbing memory from its photon's absorption), and relaxes with the memory's
T1/T2 until the herald and beyond; a node with a nuclear-spin register then moves it into a
fresh nuclear spin (the electron relaxing until the move is done), which relaxes with the
register's T1/T2 afterwards. The state engine's lazy idle decoherence applies each stage's
channel for exactly its time.
"""


from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
from qstack.engine import Operation, Qubit, Simulation, SlotPool, call_now, evolve, permute_qubits
from qstack.physical import LinkModel
from qstack.physics import multiplexed_success_probability

from .dephasing import attempt_dephasing, attempts_while_stored
from .memory import MemoryBank


@dataclass(slots=True)
class LinkPair:
    """A heralded pair held in two memories, with how it came to be.

    Times [s]: ``started_s`` the first attempt; ``heralded_s`` stored (after any move);
    ``queued_s`` waiting before ``started_s`` for the interface, communication qubits and slots;
    ``emission_wait_s`` = ``(attempts - 1) attempt_time + emission_time``; ``heralding_s`` the
    successful photon's heralding plus ``move_s`` (the move into long-lived storage), so
    ``heralded_s - heralding_s`` is the emission.
    """

    qubits: tuple[Qubit, Qubit]
    link: str
    started_s: float
    heralded_s: float
    attempts: int
    emission_wait_s: float
    heralding_s: float
    stored_at: tuple[MemoryBank, MemoryBank]
    queued_s: float = 0.0
    move_s: float = 0.0


class _Attempt(NamedTuple):
    """A generation under way: when it was asked for, when attempts began, how many they are."""

    requested_s: float
    started_s: float
    attempts: int
    duration_s: float
    modes: int = 1


class LinkService:
    """Delivers heralded pairs between the two ends of one link into memory slots.

    Parameters
    ----------
    sim:
        The run (time, generator, state registry).
    link:
        The physical layer of this link.
    bank_a, bank_b:
        The memories of the two ends.
    probabilistic:
        False for the physics-uninformed baseline: every attempt succeeds.
    gate_noise:
        False for the baseline: moves into nuclear spins are ideal and attempts do not dephase
        stored nuclear spins.
    name:
        For reports.
    """

    def __init__(
        self,
        sim: Simulation,
        link: LinkModel,
        bank_a: MemoryBank,
        bank_b: MemoryBank,
        probabilistic: bool = True,
        gate_noise: bool = True,
        name: str = "",
    ):
        for bank in (bank_a, bank_b):
            if link.multiplexing > bank.capacity:
                raise ValueError(
                    f"link.multiplexing ({link.multiplexing}) needs one memory slot per mode, "
                    f"but node {bank.name!r} has capacity {bank.capacity}"
                )
        self.sim = sim
        self.link = link
        self.banks = (bank_a, bank_b)
        self.probabilistic = probabilistic
        self.gate_noise = gate_noise
        self.name = name or f"{bank_a.name}-{bank_b.name}"
        # A generation takes, in this order, the link's interface, its memory slots, then the
        # communication qubits of both ends in one order for every link and gate of the network
        # (by node name). A communication qubit is never held while waiting for a slot or an
        # interface, and a swap or purification gate (which frees slots) takes only
        # communication qubits, in the same order: whoever holds one finishes, so nothing waits
        # forever on it.
        self._communication = tuple(b.communication for b in sorted(self.banks, key=lambda b: b.name))
        # The link's optical channel and station serve one generation at a time (its modes are
        # its multiplexing).
        self.interface = SlotPool(sim.env, 1)
        self._resources = (self.interface, *self._communication)
        self.attempts = 0
        self.successes = 0
        # ``[]`` to record every generation's attempt interval (first attempt, herald) [s]; None
        # by default, so that a long run keeps no list.
        self.attempt_intervals: list[tuple[float, float]] | None = None
        self._moves = tuple(self._move_for(bank) for bank in self.banks)
        # Ends whose stored qubits each attempt dephases (none without gate noise).
        self._nuclear_banks = tuple(b for b in self.banks if b.node.storage.register is not None) if gate_noise else ()

    @property
    def success_probability(self) -> float:
        """Per-attempt success probability used by this service (all the link's modes)."""
        return self.link.success_probability if self.probabilistic else 1.0

    def success_probability_with(self, modes: int) -> float:
        """Per-attempt success probability when ``modes`` of the link's multiplexed modes are
        used: ``1 - (1 - p_mode)^modes``."""
        if not self.probabilistic:
            return 1.0
        if modes == self.link.multiplexing:
            return self.link.success_probability
        return multiplexed_success_probability(self.link.success_probability_per_mode, modes)

    def _modes(self, modes: int | None) -> int:
        if modes is None:
            return self.link.multiplexing
        if isinstance(modes, bool) or not isinstance(modes, int) or not 1 <= modes <= self.link.multiplexing:
            raise ValueError(f"modes must be an integer in [1, {self.link.multiplexing}] (the link's multiplexing), got {modes!r}")
        return modes

    @property
    def moves(self) -> tuple:
        """Per end, the operation that moves a heralded electron spin into a nuclear spin (None
        where the node stores in the electron itself)."""
        return self._moves

    def _move_for(self, bank: MemoryBank) -> Operation | None:
        return bank.node.storage.move_operation(self.gate_noise)

    def generate(self, modes: int | None = None):
        """SimPy process: produce one heralded pair; its value is a :class:`LinkPair`.

        ``modes``: how many of the link's multiplexed modes (one memory slot each per end) this
        generation uses; all of them by default. A scheduler gives fewer to leave slots to others.
        """
        env = self.sim.env
        requested = env.now
        modes = self._modes(modes)
        held = []  # the interface and communication qubits taken (or queued for: granted before we resume)
        try:
            yield from self._acquire(modes, held)
            attempt = self._begin(requested, modes)
            yield env.timeout(attempt.duration_s)
            electrons = self._herald(attempt)
            if self._move_time_s > 0:
                yield env.timeout(self._move_time_s)
            return self._store(attempt, electrons)
        finally:
            for pool in held:
                pool.give(1)

    def _acquire(self, modes: int, held: list):
        """Generator of the events a generation waits for, in order: the link's interface, the
        slots at both ends, then the communication qubits (by node name). Each pool is noted in
        ``held`` as soon as it is asked for (it is granted before the generation goes on)."""
        turn = self.interface.take(1)
        held.append(self.interface)
        if turn is not None:
            yield turn
        waits = [w for w in (self.banks[0].slots.take(modes), self.banks[1].slots.take(modes)) if w is not None]
        if waits:
            yield self.sim.env.all_of(waits)
        for pool in self._communication:
            turn = pool.take(1)
            held.append(pool)
            if turn is not None:
                yield turn

    def start(self, done, modes: int | None = None) -> None:
        """:meth:`generate` without a SimPy process: ``done(pair)`` is called with the
        :class:`LinkPair` when it is stored. The generation begins at an urgent event now (where
        a process would begin), waits for the same events and draws the same numbers in the same
        order; only the process's own start and end bookkeeping is not there."""
        _Generation(self, self._modes(modes), done)

    def try_start(self, modes: int | None = None) -> "_Attempt | None":
        """Start generating now, without a process, if nothing has to be waited for.

        Takes the link's interface, a communication qubit at each end and the slots and draws the attempts; returns
        None (taking nothing) when the interface, a communication qubit or a slot at either end
        is busy (or queued for) or a move into nuclear spins follows the herald.
        The caller waits ``duration_s`` and then calls :meth:`finish`. Same physics and the same
        draws as :meth:`generate`, with fewer simulation events.
        """
        modes = self._modes(modes)
        if self._move_time_s > 0:
            return None
        for pool in self._resources:  # SlotPool.available(1), inlined: tried for every link pair
            if pool._waiting or pool.level < 1:
                return None
        if not (self.banks[0].slots.available(modes) and self.banks[1].slots.available(modes)):
            return None
        for pool in self._resources:
            pool.take(1)
        for bank in self.banks:
            bank.slots.take(modes)
        return self._begin(self.sim.env.now, modes)

    def finish(self, attempt: "_Attempt") -> LinkPair:
        """Complete a generation begun by :meth:`try_start`, at its herald."""
        try:
            return self._store(attempt, self._herald(attempt))
        finally:
            for pool in self._resources:
                pool.give(1)

    @cached_property
    def _move_time_s(self) -> float:
        return max(b.node.storage.move_time_s for b in self.banks)

    def _begin(self, requested_s: float, modes: int) -> "_Attempt":
        """Slots held: draw the number of attempts until the first success (one geometric draw)."""
        for bank in self.banks:
            bank.note_use()
        attempts = int(self.sim.rng.geometric(self.success_probability_with(modes)))
        # The successful attempt began (k - 1) periods in and its herald comes an emission and a
        # round trip later; where attempts follow slower than that (every scheme that waits for its
        # heralds) the k-th period's end is the later of the two.
        period_s = self._attempt_time_s
        emission_s, heralding_s = self._emission_heralding_s
        cycle_s = emission_s + heralding_s
        duration_s = attempts * period_s if cycle_s <= period_s else (attempts - 1) * period_s + cycle_s
        if (rec := self.sim.recorder) is not None: rec.generation(self.name, attempts, duration_s, modes)
        return _Attempt(requested_s, self.sim.env.now, attempts, duration_s, modes)

    @cached_property
    def _attempt_time_s(self) -> float:
        """The link's attempt time [s] (a property of a link that does not change: read once)."""
        return self.link.attempt_time_s

    @cached_property
    def _emission_heralding_s(self) -> tuple[float, float]:
        """The link's emission and heralding times [s], read once."""
        return self.link.emission_time_s, self.link.heralding_time_s

    def _herald(self, attempt: "_Attempt") -> list[Qubit]:
        """At the herald: free the unused modes, place the heralded state (from its emission)."""
        modes = attempt.modes
        self.attempts += attempt.attempts
        if self.attempt_intervals is not None:
            self.attempt_intervals.append((attempt.started_s, self.sim.env.now))
        self.successes += 1
        if (rec := self.sim.recorder) is not None: rec.herald(self.name, attempt.attempts)
        if modes > 1:
            for bank in self.banks:
                bank.slots.give(modes - 1)
        heralded = self.link.sample_heralded_state(self.sim.rng)
        self._dephase_stored(attempt)
        names, idle = self._electron_setup
        # Each heralding outcome's state is checked once per run (links sharing a model share it).
        prepared = self.sim.registry.prepared(heralded, heralded.rho)
        now = self.sim.env.now
        before_a, before_b = self._qubit_times_before_herald_s
        return self.sim.registry.new_qubits(names, idle=idle, rho=prepared, time_s=(now - before_a, now - before_b))

    @cached_property
    def _qubit_times_before_herald_s(self) -> tuple[float, float]:
        return self.link.qubit_times_before_herald_s

    @cached_property
    def _electron_setup(self) -> tuple[list[str], list]:
        """Names and idle models of the two qubits a herald creates (the communication qubits:
        they relax with the memory's T1/T2 from their emission or absorption until they are
        stored)."""
        names = [f"{self.name}/a", f"{self.name}/b"]
        return names, [b.communication_idle_model for b in self.banks]

    def _store(self, attempt: "_Attempt", electrons: list[Qubit]) -> LinkPair:
        """Move into nuclear spins where the node has them; the pair is then stored."""
        qubits = electrons if self._moves == (None, None) else self._moved(self.sim.registry, electrons)
        now = self.sim.env.now
        self.banks[0].stored[qubits[0]] = now
        self.banks[1].stored[qubits[1]] = now
        if (rec := self.sim.recorder) is not None: rec.stored(self.name, (self.banks[0].name, self.banks[1].name), qubits, self._move_time_s)
        # Waiting for the interface, communication qubits and free slots is queueing, kept apart.
        emission_s, heralding_s = self._emission_heralding_s
        emission_wait = (attempt.attempts - 1) * self._attempt_time_s + emission_s
        return LinkPair(
            qubits=tuple(qubits),
            link=self.name,
            started_s=attempt.started_s,
            heralded_s=now,
            attempts=attempt.attempts,
            emission_wait_s=emission_wait,
            heralding_s=heralding_s + self._move_time_s,
            stored_at=self.banks,
            queued_s=attempt.started_s - attempt.requested_s,
            move_s=self._move_time_s,
        )

    def _moved(self, registry, electrons: list[Qubit]) -> list[Qubit]:
        """The storage qubits of a heralded pair: each electron moved into a fresh nuclear spin
        where its node has a register, kept where it has none."""
        qubits = []
        for electron, bank, move in zip(electrons, self.banks, self._moves):
            if move is None:
                qubits.append(electron)
                continue
            (nuclear,) = registry.new_qubits([f"{electron.name}/nuclear"], idle=bank.idle_model)
            registry.apply(move, [electron, nuclear])
            qubits.append(nuclear)
        return qubits

    def stored_state(self, rho: np.ndarray) -> np.ndarray:
        """The two-qubit state a heralded state ``rho`` (qubit 0 at the first bank) is in when
        it is stored, for planners: at an end that moves it into a nuclear spin, after the
        electron's relaxation from its emission or absorption to the end of the moves (its
        time before the herald and the move) and the move with its gate noise; elsewhere as
        heralded (the stored qubit's relaxation from the emission on is the planner's ageing).
        """
        if self._moves == (None, None):
            return rho
        order = [0, 1]  # which end's qubit each qubit of ``rho`` is, lowest first
        for end, (bank, move) in enumerate(zip(self.banks, self._moves)):
            if move is None:
                continue
            electron = order.index(end)
            idle = bank.communication_idle_model
            if idle is not None:
                waited_s = self._qubit_times_before_herald_s[end] + self._move_time_s
                rho = idle.apply(rho, 2, electron, waited_s)
            # The move swaps the electron into a fresh nuclear spin (qubit 2) and drops it;
            # the nuclear spin comes first in the result.
            rho = evolve(move, np.kron(_GROUND_1, rho), (electron, 2))
            order = [end, order[1 - electron]]
        return rho if order == [0, 1] else permute_qubits(rho, [1, 0])

    def _dephase_stored(self, attempt: "_Attempt") -> None:
        """Every electron attempt dephases the nuclear spins stored at its node when it begins
        (the count per spin: the module docstring)."""
        if not self._nuclear_banks:
            return
        for bank in self._nuclear_banks:
            if not bank.stored:
                continue
            register = bank.node.storage.register
            for qubit, stored_s in list(bank.stored.items()):
                attempts = attempts_while_stored(attempt.started_s, attempt.attempts, self.link.attempt_time_s, stored_s)
                if attempts:
                    operation = attempt_dephasing(register, attempts, self.link.bright_state_population)
                    self.sim.registry.apply(operation, [qubit])

    def release(self, pair: LinkPair, qubit_index: int | None = None) -> None:
        """Free the memory slot(s) of a pair (all, or one end) and drop its qubits."""
        now = self.sim.env.now
        for i in _BOTH_ENDS if qubit_index is None else (qubit_index,):
            qubit, bank = pair.qubits[i], pair.stored_at[i]
            stored = bank.stored
            if qubit in stored:
                del stored[qubit]
                bank.note_storage(now - pair.heralded_s)
                bank.slots.give(1)
                if (rec := self.sim.recorder) is not None: rec.release(qubit)
            if qubit.group is not None:
                self.sim.registry.discard([qubit])

    def measured_success_probability(self) -> float:
        """Successes per attempt counted in this run."""
        return self.successes / self.attempts if self.attempts else float("nan")


class _Generation:
    """One :meth:`LinkService.start`: the steps of :meth:`LinkService.generate`, each run by
    the event it waits for (its resources, the attempts, the move into storage)."""

    __slots__ = ("service", "modes", "done", "requested_s", "held", "waits")

    def __init__(self, service: LinkService, modes: int, done):
        self.service, self.modes, self.done = service, modes, done
        call_now(service.sim.env, self._begin)

    def _begin(self, _event) -> None:
        self.requested_s = self.service.sim.env.now
        self.held = []
        self.waits = self.service._acquire(self.modes, self.held)
        self._acquired(None)

    def _acquired(self, _event) -> None:
        """The event waited for is granted: ask for the next resource or begin the attempts."""
        service = self.service
        try:
            wait = next(self.waits)
        except StopIteration:
            attempt = service._begin(self.requested_s, self.modes)
            service.sim.env.timeout(attempt.duration_s).callbacks.append(lambda _e: self._heralded(attempt))
            return
        wait.callbacks.append(self._acquired)

    def _heralded(self, attempt: _Attempt) -> None:
        service = self.service
        electrons = service._herald(attempt)
        if service._move_time_s > 0:
            service.sim.env.timeout(service._move_time_s).callbacks.append(lambda _e: self._stored(attempt, electrons))
        else:
            self._stored(attempt, electrons)

    def _stored(self, attempt: _Attempt, electrons: list) -> None:
        try:
            pair = self.service._store(attempt, electrons)
        finally:
            for pool in self.held:
                pool.give(1)
        self.done(pair)


_BOTH_ENDS = (0, 1)
_GROUND_1 = np.diag([1.0, 0.0]).astype(complex)  # a fresh qubit, |0><0|
