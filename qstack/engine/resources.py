"""Simulation resources shared by the layers above: counted pools of resources handed out in
order, and a callback run at the current instant before every normal event (where a SimPy
process started now would take its first step)."""

from __future__ import annotations

from collections import deque

import simpy


class SlotPool:
    """Counted resources (memory slots, communication qubits) handed out first come, first served.

    ``take(n)`` returns None when ``n`` are free and nobody queues before it (no event at all:
    most takes in a run are of this kind), else an event that fires when they are granted.
    ``busy_s(now)`` is the time integral of the resources held, ``int_0^now (capacity - level) dt``
    [resource-seconds]: divided by ``capacity * now`` it is their utilisation.
    """

    def __init__(self, env: simpy.Environment, capacity: int):
        self.env = env
        self.capacity = capacity
        self.level = capacity
        self._waiting: deque = deque()
        self._busy_s = 0.0  # integral of (capacity - level) dt up to ``_changed_s``
        self._changed_s = env.now

    def busy_s(self) -> float:
        """Resource-seconds held from the start of the run until now."""
        return self._busy_s + (self.capacity - self.level) * (self.env.now - self._changed_s)

    def take(self, n: int):
        if n > self.capacity:
            raise ValueError(f"cannot take {n} of {self.capacity} slots")
        if not self._waiting and self.level >= n:
            now = self.env.now  # add the busy time so far (inline: every generation takes and gives several pools)
            self._busy_s += (self.capacity - self.level) * (now - self._changed_s)
            self._changed_s = now
            self.level -= n
            return None
        event = self.env.event()
        self._waiting.append((n, event))
        return event

    def available(self, n: int) -> bool:
        """Whether ``take(n)`` would be granted at once."""
        return not self._waiting and self.level >= n

    def give(self, n: int) -> None:
        now, level, capacity = self.env.now, self.level, self.capacity  # add the busy time so far
        self._busy_s += (capacity - level) * (now - self._changed_s)
        self._changed_s = now
        self.level = level = level + n
        if level > capacity:
            raise RuntimeError("more slots given back than taken")
        while self._waiting and self._waiting[0][0] <= self.level:
            wanted, event = self._waiting.popleft()
            self.level -= wanted
            event.succeed()


class _Now(simpy.events.Event):
    """An event processed at the current instant before every normal-priority event of it,
    as SimPy's ``Initialize`` of a process started now."""

    def __init__(self, env: simpy.Environment, callback):
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        env.schedule(self, simpy.core.URGENT)


def call_now(env: simpy.Environment, callback) -> None:
    """Run ``callback(event)`` at this instant, where a SimPy process started now would begin:
    after the urgent events already scheduled, before every normal event (a process without
    the process)."""
    _Now(env, callback)
