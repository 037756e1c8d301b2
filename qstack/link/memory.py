"""A node's memory as the link layer sees it: storage slots and communication qubits.

A node's communication qubits (:attr:`~qstack.hardware.Memory.communication_qubits`: an NV
centre's one electron spin, the ions that emit) are the node's, shared by all its links and by
every gate on its stored qubits: a link generation holds one through its attempts, its herald and
the move into storage; a swap's Bell measurement or a purification round holds one for its
duration (:func:`take_communication`, :func:`operate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import simpy

from qstack.engine import IdleModel, SlotPool
from qstack.physical import NodeHardware
from qstack.physics import Relaxation


@dataclass(eq=False)  # a node's resource: equal only to itself (and hashable)
class MemoryBank:
    """The storage slots of one node, shared by every link that ends there.

    Parameters
    ----------
    env:
        The run's SimPy environment.
    node:
        The node's hardware; its :attr:`~qstack.physical.NodeHardware.storage` gives the slots
        (the storage stage's capacity) and each stage's T1/T2.
    name:
        The node's name.
    decoherence:
        False for the physics-uninformed baseline: stored qubits never decohere.

    ``stored`` maps each qubit held in the storage stage to when it was stored [s].
    """

    env: simpy.Environment
    node: NodeHardware
    name: str
    decoherence: bool = True
    stored: dict = field(default_factory=dict)
    storage_total_s: float = 0.0
    storage_count: int = 0
    max_storage_s: float = 0.0
    max_used: int = 0

    def __post_init__(self) -> None:
        self.slots = SlotPool(self.env, self.capacity)
        # The node's communication qubits, shared by all its links: a link attempt and the move
        # into the storage stage each hold one.
        self.communication = SlotPool(self.env, self.node.communication_qubits)

    @property
    def communication_qubits(self) -> int:
        """The node's communication qubits (:attr:`~qstack.hardware.Memory.communication_qubits`)."""
        return self.communication.capacity

    def communication_utilisation(self, run_time_s: float | None = None) -> float:
        """Busy fraction of the communication qubits over the run,
        ``sum_q busy_q [s] / (qubits * run_time_s)``, at most 1 (``run_time_s``: the time so
        far by default; nan for a run of no time)."""
        run_time_s = self.env.now if run_time_s is None else run_time_s
        if run_time_s <= 0:
            return float("nan")
        return min(self.communication.busy_s() / (self.communication.capacity * run_time_s), 1.0)

    @property
    def capacity(self) -> int:
        """Slots of the storage stage."""
        return self.node.storage.capacity

    @cached_property
    def idle_model(self) -> IdleModel | None:
        """Idle channel of a stored qubit (the storage stage's), None when it keeps its state."""
        return self._idle(self.node.storage.storage)

    @cached_property
    def communication_idle_model(self) -> IdleModel | None:
        """Idle channel of a heralded qubit before it is stored (the communication qubit's)."""
        return self._idle(self.node.storage.communication)

    def _idle(self, relaxation: Relaxation) -> IdleModel | None:
        return None if not self.decoherence or relaxation.is_identity else relaxation

    def note_storage(self, duration_s: float) -> None:
        """Count one qubit's time in memory (running totals: a long run keeps no list)."""
        self.storage_total_s += duration_s
        self.storage_count += 1
        self.max_storage_s = max(self.max_storage_s, duration_s)

    @property
    def mean_storage_s(self) -> float:
        return self.storage_total_s / self.storage_count if self.storage_count else float("nan")

    def note_use(self) -> None:
        used = self.slots.capacity - self.slots.level
        if used > self.max_used:
            self.max_used = used


def take_communication(banks):
    """SimPy generator: take one communication qubit at each of ``banks`` (waiting for each in
    node-name order, as link generations take them), for a gate or readout on stored qubits:
    every such operation runs through a communication qubit (an NV centre reads its nuclear
    spins through the electron), so it cannot run during that qubit's attempts or moves.
    Give them back with :func:`operate` or, unused, :func:`give_communication`."""
    for bank in sorted(banks, key=lambda b: b.name):
        turn = bank.communication.take(1)
        if turn is not None:
            yield turn


def give_communication(banks) -> None:
    """Give back, unused, the communication qubits :func:`take_communication` took at ``banks``."""
    for bank in banks:
        bank.communication.give(1)


def operate(env: simpy.Environment, durations_s: dict):
    """SimPy generator: operations at several nodes at once (a swap's Bell measurements, the
    two halves of a purification round) on communication qubits taken by
    :func:`take_communication`; ``durations_s`` maps each :class:`MemoryBank` to its
    operation's duration [s]. Each qubit is given back when its own operation ends; returns
    when the longest is done."""
    longest_s = max(durations_s.values())
    for bank, duration_s in durations_s.items():
        if duration_s < longest_s:
            env.timeout(duration_s).callbacks.append(lambda _event, pool=bank.communication: pool.give(1))
    if longest_s > 0:
        yield env.timeout(longest_s)
    give_communication([bank for bank, duration_s in durations_s.items() if duration_s >= longest_s])
