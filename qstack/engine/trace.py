"""The event recorder: what happened where and when in one run, for timelines and traces.

A :class:`Recorder` is attached to a :class:`~qstack.engine.Simulation` (``sim.recorder``; None by
default). The layers call it where things happen, each call guarded by one attribute check
(``if (rec := sim.recorder) is not None: rec.swap(...)``), so a run without a recorder pays
that check and nothing else, and its report is the same bit for bit: the recorder only reads
the clock and what it is given, never the quantum state or the run's generator.

Events are :class:`TraceEvent` records: a kind (:data:`EVENT_KINDS`), where (a node, a link
``u-v`` or a request), a start time and a duration [s] (0 for an instant), and a few fields.
Spans: ``generation`` (a link's fast-forwarded attempts, from the first attempt to the herald;
``count`` attempts), ``move`` (a heralded qubit moved into long-lived storage at a node),
``held`` (a pair's qubit in a node's storage slot, ``value`` its age when freed [s]), ``swap``
and ``purification`` (the operation at a node, ``ok`` its outcome). Instants: ``herald``
(``count`` attempts), ``stored`` (a link's pair in both memories), ``cutoff`` (a pair discarded
at the cut-off, ``value`` its age [s]) and ``delivery`` (a pair used by request ``where``,
``value`` its fidelity, ``duration_s`` 0 and ``latency_s`` in ``extra``).

Occupancy (memory slots and communication qubits in use per node) is sampled at every change
by :meth:`Recorder.watch_pools`, which observes the nodes' resource pools from the outside.

The recorder keeps at most ``max_events`` events and as many occupancy samples (the first ones:
a window from the start of the run) and counts what it left out (:attr:`Recorder.dropped`), so
a long run cannot exhaust memory. :func:`chrome_trace` writes the events in the Chrome
trace-event JSON format (times in microseconds), which Perfetto and ``chrome://tracing`` open.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

#: Every kind of event, in the order the timeline lists them.
EVENT_KINDS = ("generation", "herald", "move", "stored", "held", "swap", "purification", "cutoff", "delivery")
#: The resources whose occupancy is sampled per node.
RESOURCES = ("slots", "communication")
#: Default bound on kept events (and on kept occupancy samples).
MAX_EVENTS = 1_000_000


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One event of a run.

    ``time_s`` its start and ``duration_s`` its length [s] (0: an instant); ``where`` the node,
    link (``u-v``) or request; ``count`` attempts (generation, herald) or the pair's number
    (stored, held); ``value`` an age [s] (held, cutoff) or a fidelity (delivery); ``ok`` the
    outcome of a swap or purification round; ``extra`` the other end, the link, or the latency.
    """

    time_s: float
    kind: str
    where: str
    duration_s: float = 0.0
    count: int = 0
    value: float = math.nan
    ok: bool = True
    extra: str = ""

    @property
    def end_s(self) -> float:
        return self.time_s + self.duration_s


@dataclass(frozen=True, slots=True)
class Occupancy:
    """A node's resource in use from ``time_s`` on: ``used`` of ``capacity``."""

    time_s: float
    node: str
    resource: str
    used: int
    capacity: int


class Recorder:
    """Collects a run's events (see the module docstring). Attach with ``Simulation(recorder=)``."""

    def __init__(self, max_events: int = MAX_EVENTS):
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 1:
            raise ValueError(f"max_events must be an integer >= 1, got {max_events!r}")
        self.max_events = max_events
        self.events: list[TraceEvent] = []
        self.occupancy: list[Occupancy] = []
        self.dropped = 0  # events and samples left out past ``max_events``
        self._env = None
        self._pairs = 0
        self._held: dict = {}  # stored qubit -> (pair number, node, stored at [s])

    # ------------------------------------------------------------------ set-up
    def attach(self, env) -> None:
        """Read simulated time from ``env`` (a SimPy environment); :class:`Simulation` calls it."""
        self._env = env

    @property
    def now_s(self) -> float:
        return float(self._env.now)

    @property
    def truncated(self) -> bool:
        """Whether events were left out past ``max_events``."""
        return self.dropped > 0

    def watch_pools(self, banks) -> None:
        """Sample the occupancy of each node's ``slots`` and ``communication`` pools (``banks``:
        node name -> an object with those two pools, such as the network's memory banks).

        The pools' ``take`` and ``give`` are wrapped on these instances only: after each, the
        level is noted. Nothing changes for pools not watched, or for runs without a recorder.
        """
        for node, bank in banks.items():
            for resource in RESOURCES:
                self._watch(str(node), resource, getattr(bank, resource))

    def _watch(self, node: str, resource: str, pool) -> None:
        take, give = pool.take, pool.give

        def note() -> None:
            self._add_sample(Occupancy(self.now_s, node, resource, pool.capacity - pool.level, pool.capacity))

        def taking(n):
            result = take(n)
            note()
            return result

        def giving(n):
            give(n)
            note()

        pool.take, pool.give = taking, giving
        note()

    def _add(self, event: TraceEvent) -> None:
        if len(self.events) < self.max_events:
            self.events.append(event)
        else:
            self.dropped += 1

    def _add_sample(self, sample: Occupancy) -> None:
        if len(self.occupancy) < self.max_events:
            self.occupancy.append(sample)
        else:
            self.dropped += 1

    # ------------------------------------------------------------------ the link layer
    def generation(self, link: str, attempts: int, duration_s: float, modes: int = 1) -> None:
        """A link's attempts begin now: ``attempts`` of them (drawn at once) over ``duration_s``."""
        self._add(TraceEvent(self.now_s, "generation", link, duration_s, attempts, extra=f"{modes} mode(s)"))

    def herald(self, link: str, attempts: int) -> None:
        """A link's success is heralded now, after ``attempts`` attempts."""
        self._add(TraceEvent(self.now_s, "herald", link, count=attempts))

    def stored(self, link: str, nodes, qubits, move_s: float = 0.0) -> None:
        """A link pair is stored now at ``nodes`` (``qubits`` in the same order), after moves of
        ``move_s`` into long-lived storage where a node has one."""
        now = self.now_s
        self._pairs += 1
        number = self._pairs
        self._add(TraceEvent(now, "stored", link, count=number))
        for node, qubit in zip(nodes, qubits):
            if move_s > 0:
                self._add(TraceEvent(now - move_s, "move", node, move_s, number, extra=link))
            self._held[qubit] = (number, node, now)

    def release(self, qubit) -> None:
        """A stored qubit is freed now (used, swapped, purified away or discarded): its ``held`` span."""
        entry = self._held.pop(qubit, None)
        if entry is not None:
            number, node, stored_s = entry
            now = self.now_s
            self._add(TraceEvent(stored_s, "held", node, now - stored_s, number, value=now - stored_s))

    # ------------------------------------------------------------------ the network layer
    def swap(self, node: str, began_s: float, duration_s: float, ok: bool) -> None:
        """A Bell measurement at ``node`` that began at ``began_s`` and took ``duration_s`` (its
        outcome known now, when the batch's slowest measurement ended)."""
        self._add(TraceEvent(began_s, "swap", node, duration_s, ok=bool(ok)))

    def purification(self, nodes, duration_s: float, ok: bool) -> None:
        """A purification round between ``nodes`` ended now (gates, readout and the outcomes'
        exchange took ``duration_s``)."""
        nodes = tuple(nodes)
        for node in nodes:
            other = "-".join(n for n in nodes if n != node)
            self._add(TraceEvent(self.now_s - duration_s, "purification", node, duration_s, ok=bool(ok), extra=other))

    def cutoff(self, nodes, age_s: float) -> None:
        """A pair between ``nodes`` is discarded now at the cut-off, aged ``age_s``."""
        for node in nodes:
            self._add(TraceEvent(self.now_s, "cutoff", node, value=age_s))

    def delivery(self, request: str, fidelity: float, latency_s: float) -> None:
        """A pair of ``request`` is delivered now with ``fidelity``, ``latency_s`` after its first attempt."""
        self._add(TraceEvent(self.now_s, "delivery", request, value=fidelity, extra=repr(float(latency_s))))


# ---------------------------------------------------------------------- Chrome trace-event format
#: Trace "processes" grouping the timeline's rows (Perfetto shows one track per row).
_GROUPS = {"node": (1, "nodes"), "link": (2, "links"), "request": (3, "requests")}
_LINK_KINDS = frozenset({"generation", "herald", "stored"})


def _group(event: TraceEvent) -> str:
    if event.kind in _LINK_KINDS:
        return "link"
    return "request" if event.kind == "delivery" else "node"


def chrome_trace(recorder: Recorder) -> dict:
    """The events as a Chrome trace-event JSON object (``{"traceEvents": [...]}``).

    Spans are complete events (``ph: "X"`` with ``dur``), instants ``ph: "i"``, occupancy
    counter events (``ph: "C"``); ``ts`` and ``dur`` in microseconds. Nodes, links and requests
    are three processes, each row a thread named by metadata events (``ph: "M"``).
    """
    tids: dict[tuple[str, str], int] = {}
    out: list[dict] = []

    def tid(group: str, where: str) -> int:
        key = (group, where)
        if key not in tids:
            tids[key] = len([k for k in tids if k[0] == group]) + 1
            out.append({"name": "thread_name", "ph": "M", "ts": 0, "pid": _GROUPS[group][0], "tid": tids[key],
                        "args": {"name": where}})
        return tids[key]

    for pid, name in _GROUPS.values():
        out.append({"name": "process_name", "ph": "M", "ts": 0, "pid": pid, "tid": 0, "args": {"name": name}})
    for event in recorder.events:
        group = _group(event)
        args = {key: value for key, value in (("count", event.count), ("value", event.value), ("ok", event.ok),
                                               ("extra", event.extra)) if _meaningful(value)}
        item = {"name": event.kind, "cat": group, "ts": event.time_s * 1e6, "pid": _GROUPS[group][0],
                "tid": tid(group, event.where), "args": args}
        if event.duration_s > 0:
            item.update(ph="X", dur=event.duration_s * 1e6)
        else:
            item.update(ph="i", s="t")
        out.append(item)
    for sample in recorder.occupancy:
        out.append({"name": f"{sample.resource} {sample.node}", "ph": "C", "ts": sample.time_s * 1e6,
                    "pid": _GROUPS["node"][0], "tid": tid("node", sample.node), "args": {"used": sample.used}})
    return {"traceEvents": out, "displayTimeUnit": "ms",
            "otherData": {"producer": "qstack", "dropped_events": recorder.dropped}}


def _meaningful(value) -> bool:
    """Whether an event field says something (a failure, a count, a finite value, a text)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, float):
        return math.isfinite(value)
    return bool(value)


def write_chrome_trace(recorder: Recorder, path: str | Path) -> Path:
    """Write :func:`chrome_trace` to ``path`` (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(chrome_trace(recorder), separators=(",", ":")))
    return path
