"""One end-to-end pair over a repeater path: link pairs, purification, swaps, cut-offs.

Positions along a path are numbered ``0..k`` (``k`` links; link ``i`` joins positions ``i`` and
``i + 1``). A :class:`Segment` is entanglement between two positions: a link pair, or the result
of swaps. A :class:`PathAttempt` is one try at delivering a pair: it starts every link, swaps
neighbouring segments as the swapping policy allows, drops segments that reach the cut-off and
starts their links again, until one segment spans the path.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
from dataclasses import dataclass

from qstack.link import LinkPair, give_communication, operate, take_communication
from qstack.metrics import DelayBreakdown
from qstack.protocols import swap_succeeded

from .purification import emitted_s, purified

SWAPPING_POLICIES = ("asap", "nested")


@dataclass(slots=True)
class Segment:
    """Entanglement between path positions ``left`` and ``right`` (a link pair or swapped)."""

    left: int
    right: int
    qubits: tuple
    left_pair: LinkPair  # the link pair holding the left end's qubit, at index left_index
    right_pair: LinkPair
    oldest_s: float
    attempts: int
    left_index: int = 0
    right_index: int = 1
    failed: bool = False

    @classmethod
    def of_link(cls, position: int, pair: LinkPair, left_node: str) -> "Segment":
        """A link pair as a segment, oriented along the path (its qubit 0 at ``left_node``)."""
        a = 0 if pair.stored_at[0].name == left_node else 1
        return cls(position, position + 1, (pair.qubits[a], pair.qubits[1 - a]), pair, pair,
                   pair.heralded_s - pair.heralding_s, pair.attempts, left_index=a, right_index=1 - a)

    def joined(self, other: "Segment") -> "Segment":
        """The segment a swap at ``self.right == other.left`` leaves: outer qubits, older age."""
        return Segment(self.left, other.right, (self.qubits[0], other.qubits[1]), self.left_pair, other.right_pair,
                       min(self.oldest_s, other.oldest_s), self.attempts + other.attempts,
                       self.left_index, other.right_index)


@dataclass(frozen=True)
class PathPlan:
    """Per path: link services (link ``i`` joins positions ``i, i+1``), the Bell measurement and
    its duration at each position (None and 0 at the ends), the allowed swaps
    ``(left, middle, right)`` (None: any), the time for swap results to reach both ends [s],
    the product of the two ends' read efficiencies, and the classical delays from position 0 to
    each position (:meth:`Network.path_delays_s`; :meth:`delay_s` between two positions)."""

    services: tuple
    swaps: tuple
    swap_time_s: tuple
    allowed: frozenset | None
    messaging_s: float
    extraction: float
    delays_s: tuple

    def delay_s(self, i: int, j: int) -> float:
        """Classical message time between positions ``i`` and ``j`` (as
        :meth:`Network.classical_delay_s`, without looking the path up) [s]."""
        delays = self.delays_s
        return abs(delays[j] - delays[i])

    @classmethod
    def of(cls, network, path: list[str]) -> "PathPlan":
        """The plan of ``path`` on ``network`` (the network caches it: :meth:`Network.path_plan`)."""
        k = len(path) - 1
        inner = path[1:-1]
        delays = tuple(network.path_delays_s(path))
        return cls(
            services=tuple(network.service(u, v) for u, v in zip(path, path[1:])),
            swaps=(None,) + tuple(network.swap_operation(node) for node in inner) + (None,),
            swap_time_s=(0.0,) + tuple(network.swap_time_s(node) for node in inner) + (0.0,),
            allowed=None if network.swapping == "asap" else nested_triples(k),
            # Every swap result must reach both ends: the farthest is one hop from the other end.
            messaging_s=max(abs(delays[k - 1] - delays[0]), abs(delays[k] - delays[1])) if k > 1 else 0.0,
            extraction=network.banks[path[0]].node.memory.read_efficiency * network.banks[path[-1]].node.memory.read_efficiency,
            delays_s=delays,
        )


@functools.lru_cache(maxsize=64)
def nested_triples(k: int) -> frozenset:
    """Swaps of the nested (doubling) policy on a path of ``k`` links: ``(left, middle, right)``.

    The path is split recursively at its middle; only the two halves of a split are swapped.
    """
    triples = set()

    def split(a: int, b: int) -> None:
        if b - a >= 2:
            m = (a + b) // 2
            triples.add((a, m, b))
            split(a, m)
            split(m, b)

    split(0, k)
    return frozenset(triples)


class PathAttempt:
    """One try at an end-to-end pair of ``stats.request`` over ``path``, and where its time went.

    :meth:`run` builds the pair (purified end to end when the policy says so); afterwards
    ``qubits`` (oriented from ``path[0]``), ``oldest_s`` and ``attempts`` describe it for delivery.
    Link pairs arrive through one inbox and one wake-up event, so a wait costs the same whatever
    the number of links (a condition over every pending link would not). Segments are indexed
    by both ends (``segments`` by left, ``ending`` by right) and the positions where two meet
    and the policy allows a swap are kept as they change (``joints``), so finding a swap or a
    neighbour costs the same on a chain of 1025 nodes as on one of 3.
    """

    __slots__ = (
        "network", "stats", "path", "plan", "env", "k", "cutoff_s",
        "started_s", "last_herald_s", "heralding_s", "swapping_s", "purification_s",
        "inbox", "wake", "generating", "segments", "ending", "joints", "alarm_at", "alarms",
        "whole", "qubits", "oldest_s", "attempts", "last_pair", "first_started_s", "ages", "__weakref__",
    )

    def __init__(self, network, stats, path: list[str], plan: PathPlan):
        self.network, self.stats, self.path, self.plan = network, stats, path, plan
        self.env = network.sim.env
        self.k = len(path) - 1
        self.started_s = self.env.now
        self.last_herald_s = self.heralding_s = self.swapping_s = self.purification_s = 0.0
        self.last_pair = None  # the link pair that arrived last: its queueing, herald and move end the wait
        self.first_started_s = math.inf  # the earliest first attempt of a link pair of this try

    # ------------------------------------------------------------------ the whole try
    def run(self):
        """SimPy generator: build the end-to-end pair (retrying lost ones) and return it."""
        network, path = self.network, self.path
        policy = network.purification
        whole = yield from purified(
            network, self.establish, release=self.discard_segment, oldest=_segment_oldest, nodes=(path[0], path[-1]),
            delay_s=self.plan.delay_s(0, self.k),
            rounds=policy.end_to_end_rounds, stats=self.stats, timing=self,
        )
        self.whole, self.qubits, self.oldest_s, self.attempts = whole, whole.qubits, whole.oldest_s, whole.attempts
        return whole

    def discard(self) -> None:
        """Free the delivered (or lost) pair."""
        self.discard_segment(self.whole)

    def breakdown(self, ready_s: float, now_s: float, begun_s: float, requested_s: float) -> DelayBreakdown:
        """Attribute the time from the request: queueing before the service began, earlier tries
        as cut-off retries, storage after ``ready_s``; within this try, purification and swapping
        as measured, then the last-arriving link pair's heralding, move and queueing (each at
        most what is left), the rest waiting for emission successes. The parts add up exactly."""
        left = ready_s - self.started_s
        parts = {}
        last = self.last_pair
        measured = (("purification_s", self.purification_s), ("swapping_s", self.swapping_s),
                    ("heralding_s", 0.0 if last is None else last.heralding_s - last.move_s),
                    ("moves_s", 0.0 if last is None else last.move_s),
                    ("queueing_s", 0.0 if last is None else last.queued_s))
        for name, value in measured:
            parts[name] = min(value, left)
            left -= parts[name]
        parts["queueing_s"] += begun_s - requested_s
        return DelayBreakdown(emission_wait_s=left, storage_s=now_s - ready_s,
                              cutoff_retries_s=self.started_s - begun_s, **parts)

    # ------------------------------------------------------------------ one swapped pair
    def establish(self):
        """SimPy generator: one segment spanning the path by swapping, or None if the cut-off
        took it while the swap results travelled to the ends."""
        env, segments, k = self.env, {}, self.k
        self.cutoff_s = cutoff_s = self.stats.cutoff_s
        self.inbox, self.wake, self.segments = [], env.event(), segments
        self.ending, self.joints = {}, set()
        self.ages = SegmentAges(segments) if cutoff_s < math.inf else None
        self.alarm_at, self.alarms = math.inf, []  # the cut-off alarm set last; every alarm set
        self.generating = {i: self.start_link(i) for i in range(k)}
        swapped = False
        while True:
            if not swapped and not self.inbox:  # after swaps or arrivals, look again first
                if segments and cutoff_s < math.inf:
                    self.arm(self.ages.oldest_s() + cutoff_s)
                yield self.wake
            self.take_arrivals()
            if cutoff_s < math.inf:
                self.drop_expired(env.now)
            batch = self.swappable()
            if batch:
                yield from self.swap(batch)
            swapped = bool(batch)
            whole = segments.get(0)
            if whole is not None and whole.right == k:
                break
        self.disarm()
        yield env.timeout(self.plan.messaging_s)
        self.swapping_s = env.now - self.last_herald_s
        if env.now >= whole.oldest_s + cutoff_s:
            self.discard_segment(whole)
            self.stats.cutoff_discards += 1
            if (rec := self.network.sim.recorder) is not None: rec.cutoff((self.path[0], self.path[-1]), env.now - whole.oldest_s)
            return None
        return whole

    def take_arrivals(self) -> None:
        """Turn the link pairs in the inbox into segments (a fresh wake-up event if it rang)."""
        arrivals, self.inbox = self.inbox, []
        if self.wake.triggered:
            self.wake = self.env.event()
        generating, path = self.generating, self.path
        for i, token, pair, posted_s in arrivals:
            if generating.get(i) is not token:
                continue  # a link restarted meanwhile; cannot happen while it is generating
            del generating[i]
            self.add(Segment.of_link(i, pair, path[i]))
            self.last_herald_s = posted_s
            self.heralding_s = pair.heralding_s
            self.last_pair = pair
            self.first_started_s = min(self.first_started_s, pair.started_s)

    def drop_expired(self, now: float) -> None:
        """Drop segments holding a qubit as old as the cut-off and start their links again."""
        segments, cutoff_s = self.segments, self.cutoff_s
        if segments and now >= self.ages.oldest_s() + cutoff_s:
            for segment in list(segments.values()):
                if now >= segment.oldest_s + cutoff_s:
                    self.drop(segment)
                    self.stats.cutoff_discards += 1
                    if (rec := self.network.sim.recorder) is not None: rec.cutoff((self.path[segment.left], self.path[segment.right]), now - segment.oldest_s)

    def swappable(self) -> list[int]:
        """The positions where the swapping policy lets two segments be joined now, in order."""
        return sorted(self.joints)

    def add(self, segment: Segment) -> None:
        """Hold ``segment``; a swap becomes possible at either end where another segment meets it."""
        left, right = segment.left, segment.right
        self.segments[left] = segment
        self.ending[right] = segment
        if self.ages is not None:
            self.ages.add(segment)
        neighbour = self.ending.get(left)
        if neighbour is not None and self.allows(neighbour.left, left, right):
            self.joints.add(left)
        neighbour = self.segments.get(right)
        if neighbour is not None and self.allows(left, right, neighbour.right):
            self.joints.add(right)

    def remove(self, segment: Segment) -> None:
        """Stop holding ``segment`` (swapped or dropped): no swap at its ends any more."""
        del self.segments[segment.left], self.ending[segment.right]
        self.joints.discard(segment.left)
        self.joints.discard(segment.right)

    def allows(self, left: int, middle: int, right: int) -> bool:
        """Whether the swapping policy joins segments ``(left, middle)`` and ``(middle, right)``."""
        allowed = self.plan.allowed
        return allowed is None or (left, middle, right) in allowed

    def swap(self, batch: list[int]):
        """SimPy generator: Bell measurements at ``batch``'s positions, each holding its node's
        communication qubit. Nodes swap in parallel: the batch costs the slowest node's time,
        and outcomes are known only after it."""
        plan, segments, network = self.plan, self.segments, self.network
        # Each Bell measurement holds its node's communication qubit for its duration: wait
        # for them (a neighbour link may be attempting through it); a segment that reached the
        # cut-off meanwhile is dropped by the caller instead of swapped.
        banks = {network.banks[self.path[m]]: plan.swap_time_s[m] for m in batch}
        yield from take_communication(banks)
        if self.cutoff_s < math.inf:
            now, expiry = self.env.now, self.cutoff_s
            involved = [segments[m] for m in batch] + [self.ends_at(m) for m in batch]
            if any(now >= segment.oldest_s + expiry for segment in involved):
                give_communication(banks)
                return
        yield from operate(self.env, banks)
        apply, bsm, ending, services = network.sim.registry.apply, network.bsm, self.ending, plan.services
        failed = []
        for m in batch:
            first, second = ending[m], segments[m]
            outcome = apply(plan.swaps[m], [*first.qubits, *second.qubits])
            network.swaps += 1
            services[m - 1].release(first.right_pair, first.right_index)
            services[m].release(second.left_pair, second.left_index)
            self.remove(first)
            self.remove(second)
            merged = first.joined(second)
            self.add(merged)
            if failed:
                failed = [seg for seg in failed if seg is not first and seg is not second]
            succeeded = swap_succeeded(outcome, bsm)
            if (rec := network.sim.recorder) is not None: rec.swap(self.path[m], self.env.now - max(banks.values()), plan.swap_time_s[m], succeeded)
            if not succeeded or first.failed or second.failed:
                if not succeeded:
                    network.swap_failures += 1
                merged.failed = True
                failed.append(merged)
        for segment in failed:
            self.drop(segment)

    def ends_at(self, position: int) -> Segment | None:
        """The segment whose right end is ``position`` (segments never overlap)."""
        return self.ending.get(position)

    def drop(self, segment: Segment) -> None:
        """Discard a segment and start its links again."""
        self.discard_segment(segment)
        if self.segments.get(segment.left) is segment:
            self.remove(segment)
        for i in range(segment.left, segment.right):
            self.generating[i] = self.start_link(i)

    def discard_segment(self, segment: Segment) -> None:
        """Free a segment's qubits and the slots of its two end link pairs."""
        alive = [qubit for qubit in segment.qubits if qubit.group is not None]
        if alive:  # both ends at once: a pair's group is dropped whole, without a partial trace
            self.network.sim.registry.discard(alive)
        services = self.plan.services
        services[segment.left].release(segment.left_pair, segment.left_index)
        services[segment.right - 1].release(segment.right_pair, segment.right_index)

    # ------------------------------------------------------------------ link pairs arriving
    def start_link(self, i: int) -> object:
        """Start generating link ``i``'s pair; it is posted to the inbox when ready.

        Returns a token identifying this generation. Without link purification no process is
        made: a link whose interface, communication qubits and slots are free starts at once
        and posts its pair from a timer callback; one that has to wait for them runs from the
        events it waits for (:meth:`~qstack.link.LinkService.start`).
        """
        env, policy = self.env, self.network.purification
        token = object()
        if not policy.link_rounds:
            service = self.plan.services[i]
            attempt = service.try_start(self.stats.modes)
            if attempt is not None:
                timer = env.timeout(attempt.duration_s)
                timer.callbacks.append(lambda _event: self.post((i, token, service.finish(attempt), env.now)))
            else:  # it waits for a resource: driven by the events it waits for, no process
                service.start(lambda pair: self.post((i, token, pair, env.now)), self.stats.modes)
            return token
        env.process(self._link_job(i, token))
        return token

    def _link_job(self, i: int, token: object):
        pair = yield from self.link_pair(i)
        self.post((i, token, pair, self.env.now))

    def link_pair(self, i: int):
        """SimPy generator: one pair on link ``i``, purified as the policy says for links."""
        network, path, stats = self.network, self.path, self.stats
        service = self.plan.services[i]
        policy = network.purification
        if not policy.link_rounds:  # no rounds: the link pair as generated
            return (yield from service.generate(stats.modes))
        # the link's pairs have qubit 0 at its first bank: a round's sides follow them
        ends = (path[i], path[i + 1]) if service.banks[0] is network.banks[path[i]] else (path[i + 1], path[i])
        pair = yield from purified(
            network, lambda: service.generate(stats.modes), release=service.release, oldest=emitted_s,
            nodes=ends, delay_s=self.plan.delay_s(i, i + 1),
            rounds=policy.link_rounds, stats=stats, timing=self,
        )
        return pair

    def post(self, item: tuple) -> None:
        """A link pair ``(link, token, pair, posted_s)`` arrives; wake the reader if it may let
        something happen now (else it waits, unread, for a pair that does, a swap or an alarm)."""
        self.inbox.append(item)
        if self.needed(item):
            self.poke()

    def needed(self, item: tuple) -> bool:
        """Whether an arriving link pair may let something happen now (it arms its cut-off alarm)."""
        i, _, pair, _ = item
        if self.k == 1:
            return True  # the path is done
        if self.cutoff_s < math.inf:
            self.arm(pair.heralded_s - pair.heralding_s + self.cutoff_s)
        if i + 1 in self.segments or self.ends_at(i) is not None:
            return True
        for other in self.inbox:  # a neighbour that arrived unread
            if other[0] == i - 1 or other[0] == i + 1:
                return True
        return False

    def poke(self, _event=None) -> None:
        """Wake the reader without an item (a timer rang); it looks again."""
        if not self.wake.triggered:
            self.wake.succeed()

    def arm(self, expiry_s: float) -> None:
        """Make sure the reader is woken by ``expiry_s`` (a segment reaches the cut-off)."""
        env = self.env
        if expiry_s < self.alarm_at or self.alarm_at <= env.now:
            alarm = env.timeout(max(expiry_s - env.now, 0.0))
            alarm.callbacks.append(self.poke)
            self.alarms.append(alarm)
            self.alarm_at = expiry_s

    def disarm(self) -> None:
        """Pending alarms would keep this attempt (and through it its segments) alive until they
        ring, long after the pair is delivered: take them back."""
        for alarm in self.alarms:
            if alarm.callbacks:
                alarm.callbacks.remove(self.poke)
        self.alarms = []


class SegmentAges:
    """The oldest ``oldest_s`` among the segments held in ``segments`` (keyed by left end), in
    O(log k) per segment instead of a scan of all k per wake-up: a heap of every segment added,
    whose top entries are dropped once their segment is no longer held (swapped or dropped).
    It returns the same float as ``min(s.oldest_s for s in segments.values())`` (inf if none)."""

    __slots__ = ("held", "heap", "tick")

    def __init__(self, held: dict):
        self.held, self.heap, self.tick = held, [], itertools.count()

    def add(self, segment: Segment) -> None:
        """Note a segment just held (a segment is held once: a swap makes a new one)."""
        heap = self.heap
        if len(heap) > 2 * len(self.held) + 32:  # drop entries of segments no longer held
            held = self.held
            heap[:] = [entry for entry in heap if held.get(entry[2].left) is entry[2]]
            heapq.heapify(heap)
        heapq.heappush(heap, (segment.oldest_s, next(self.tick), segment))

    def oldest_s(self) -> float:
        """The oldest age among the held segments [s] (inf when none is held)."""
        heap, held = self.heap, self.held
        while heap:
            top = heap[0]
            segment = top[2]
            if held.get(segment.left) is segment:
                return top[0]
            heapq.heappop(heap)
        return math.inf


def _segment_oldest(segment: Segment) -> float:
    return segment.oldest_s
