"""Dispatch: users' jobs arriving over time, served one end-to-end pair at a time as a scheduler
decides.

Requests arrive over time (at given times or as Poisson streams, :func:`poisson_arrivals`). Each
arrival is a *job* (:class:`Job`): a number of end-to-end pairs wanted between two users, with a
minimum fidelity, a deadline and a priority. A :class:`Dispatcher` keeps the waiting jobs and,
whenever something changes (an arrival, a delivered pair, a deadline), asks its scheduler (a
:class:`~.policies.Scheduler`) which job to serve next and with how many multiplexed modes. The
unit of service is one end-to-end pair, produced by :meth:`qstack.network.Network.serve_one` with
the job's storage cut-off.

Memory slots are allocated by the dispatcher per unit: a unit starts only when every node of its
route has the slots the unit may hold (``modes`` per link end, see
:meth:`~qstack.network.Network.slots_needed`), so units never deadlock on memory; links are shared
between units first come, first served. Memory-slot allocation per user (how many units run at
once, with how many modes) and source allocation per link (the ``modes`` of each unit) are
therefore the scheduler's decisions.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np

from qstack.network import Network, Request, RequestStats

from .report import SchedulingReport, UserReport

if TYPE_CHECKING:
    from .policies import Scheduler


@dataclass(eq=False)
class Job:
    """One arrival of a user's request: ``request.pairs`` pairs by ``deadline_at_s``."""

    id: int
    user: str
    request: Request
    path: list[str]
    arrival_s: float
    deadline_at_s: float
    cutoff_s: float
    delivered: int = 0
    in_flight: int = 0
    state: str = "waiting"  # waiting -> done | missed | rejected | abandoned
    finished_s: float | None = None  # when its last pair was delivered
    ended_s: float | None = None  # when it left the waiting list (done, missed, rejected, abandoned)
    reason: str = ""
    fidelities: list[float] = field(default_factory=list)

    @property
    def to_start(self) -> int:
        return self.request.pairs - self.delivered - self.in_flight

    @property
    def met_deadline(self) -> bool:
        return self.finished_s is not None and self.finished_s <= self.deadline_at_s

    @property
    def met_fidelity(self) -> bool:
        return self.delivered >= self.request.pairs and all(float(f) >= self.request.min_fidelity for f in self.fidelities)


@dataclass
class _User:
    name: str
    request: Request
    path: list[str]
    stats: RequestStats
    arrivals: Iterator[float]  # the arrivals not yet scheduled, in time order
    jobs: list[Job] = field(default_factory=list)


class Dispatcher:
    """Serves users' jobs on a :class:`~qstack.network.Network` as a scheduler decides.

    Parameters
    ----------
    network:
        The network (its simulation, links and memories).
    scheduler:
        The policy; ``None`` leaves every decision to the caller (:meth:`start`), as the
        reinforcement-learning environment does.
    seed:
        Seeds the planners' Monte Carlo (arrival times are drawn by :func:`poisson_arrivals`).
    max_in_flight:
        Pairs of one job under way at once (0: as many as memory allows).
    """

    def __init__(self, network: Network, scheduler: Scheduler | None, seed: int = 0, max_in_flight: int = 0):
        self.network = network
        self.env = network.sim.env
        self.scheduler = scheduler
        self.plan_rng = np.random.default_rng([seed, 0x5C4E])
        self.max_in_flight = max_in_flight
        self.allocated: dict[str, int] = {node: 0 for node in network.banks}
        self._link_users: dict[frozenset, int] = {}  # pairs under way per link
        self._node_ends: dict[str, int] = {node: 0 for node in network.banks}  # link ends of pairs under way per node
        self._under_way: dict[Job, None] = {}  # jobs with pairs under way (an ordered set)
        self.users: dict[str, _User] = {}
        self.jobs: list[Job] = []
        self.waiting: list[Job] = []
        self.changes = 0  # counts arrivals, deliveries and deadlines (decision points)
        self.delivered_since: list = []  # (job, record) delivered since the caller last looked
        self.missed_since = 0
        self._pending_arrivals = 0
        self.done = self.env.event()
        if scheduler is not None:
            scheduler.bind(self)

    @property
    def now(self) -> float:
        return self.env.now

    # -------------------------------------------------------------- users and arrivals
    def add_user(self, request: Request, arrivals: Iterable[float]) -> None:
        """A user with its request template, arriving (as a new job) at each of ``arrivals``
        (a list, or an iterable in time order read as the run reaches each arrival)."""
        network = self.network
        label = request.label
        if label in self.users:
            raise ValueError(f"request {label}: user names must be unique")
        network.check_request(request)
        path = network.route(request.src, request.dst)
        for node, slots in network.slots_needed(path, 1).items():
            if slots > network.banks[node].capacity:
                raise ValueError(
                    f"request {label}: node {node} needs {slots} memory slots for one pair, capacity {network.banks[node].capacity}"
                )
        stats = RequestStats(request, [], cutoff_s=network.cutoff_s)
        network.stats.append(stats)
        # A list is sorted; any other iterable must be in time order and is read one arrival
        # ahead, as the run reaches it (a stream of 10**9 arrivals costs what the run uses).
        times = iter(sorted(arrivals)) if isinstance(arrivals, (list, tuple)) else iter(arrivals)
        user = _User(label, request, path, stats, times)
        self.users[label] = user
        self._next_arrival(user)

    def _next_arrival(self, user: _User) -> None:
        at = next(user.arrivals, None)
        if at is None:
            return
        self._pending_arrivals += 1
        timer = self.env.timeout(_delay_until(self.env.now, at))
        timer.callbacks.append(lambda _event, user=user, at=at: self._arrive(user, at))

    def _arrive(self, user: _User, at: float) -> None:
        self._pending_arrivals -= 1
        self._next_arrival(user)
        request = dataclasses.replace(user.request, arrival_s=at)
        job = Job(
            id=len(self.jobs),
            user=user.name,
            request=request,
            path=user.path,
            arrival_s=at,
            deadline_at_s=at + request.deadline_s,
            cutoff_s=self.network.cutoff_s,
        )
        self.jobs.append(job)
        user.jobs.append(job)
        reason = self.scheduler.admit(job) if self.scheduler is not None else None
        if reason is not None:
            job.state, job.reason, job.ended_s = "rejected", reason, self.env.now
            self.missed_since += 1
        else:
            self.waiting.append(job)
            if math.isfinite(job.deadline_at_s):
                timer = self.env.timeout(job.deadline_at_s - self.env.now)
                timer.callbacks.append(lambda _event, job=job: self._deadline(job))
        self._changed()

    def _deadline(self, job: Job) -> None:
        if job.state == "waiting":
            job.state, job.reason, job.ended_s = "missed", "deadline passed", self.env.now
            self.waiting.remove(job)
            self.missed_since += 1
            self._changed()

    # -------------------------------------------------------------- memory
    def max_modes(self, path: list[str]) -> int:
        return min(self.network.service(u, v).link.multiplexing for u, v in zip(path, path[1:]))

    def fits(self, path: list[str], modes: int) -> bool:
        """Whether one pair on ``path`` with ``modes`` per link fits in the free memory."""
        banks = self.network.banks
        return all(
            self.allocated[node] + slots <= banks[node].capacity
            for node, slots in self.network.slots_needed(path, modes).items()
        )

    def pairs_under_way(self, u: str, v: str) -> int:
        """Pairs under way that use the link between ``u`` and ``v``."""
        return self._link_users.get(frozenset((u, v)), 0)

    def route_idle(self, path: list[str]) -> bool:
        """Whether no pair under way uses any link of ``path``."""
        return not any(self.pairs_under_way(u, v) for u, v in zip(path, path[1:]))

    def link_ends_at(self, node: str) -> int:
        """Link ends at ``node`` of the pairs under way (each may hold one of its communication
        qubits while that link generates, or ask for one for a Bell measurement)."""
        return self._node_ends[node]

    def under_way(self) -> list[Job]:
        """Jobs with pairs under way (waiting ones and ones already past their deadline), in
        the order they started their first pair still under way."""
        return list(self._under_way)

    def communication_claimed(self, node: str) -> bool:
        """Whether pairs under way claim as many of ``node``'s communication qubits as it has
        (one per link end of theirs at the node: a new generation there would queue)."""
        return self._node_ends[node] >= self.network.banks[node].communication_qubits

    def free_slots(self, node: str) -> int:
        return self.network.banks[node].capacity - self.allocated[node]

    def service_of(self, user: str) -> int:
        """Pairs delivered to or under way for ``user``."""
        return sum(job.delivered + job.in_flight for job in self.users[user].jobs)

    def eligible(self) -> list[Job]:
        """Waiting jobs that could start one more pair now (memory permitting)."""
        return [
            job for job in self.waiting
            if job.to_start > 0 and (not self.max_in_flight or job.in_flight < self.max_in_flight)
        ]

    # -------------------------------------------------------------- decisions
    def _changed(self) -> None:
        self.changes += 1
        if self.scheduler is not None:
            self.poll()
        self._check_done()

    def poll(self) -> None:
        """Let the scheduler start pairs until it waits or memory is full."""
        while True:
            for job in [j for j in self.waiting if self.scheduler.abandon(j)]:
                job.state, job.reason, job.ended_s = "abandoned", "predicted to miss its deadline", self.env.now
                self.waiting.remove(job)
                self.missed_since += 1
            eligible = self.eligible()
            if not eligible:
                return
            choice = self.scheduler.select(eligible)
            if choice is None:
                return
            self.start(*choice)

    def start(self, job: Job, modes: int) -> None:
        """Start one pair of ``job`` with ``modes`` per link (memory must fit)."""
        if job.state != "waiting" or job.to_start <= 0:
            raise ValueError(f"job {job.id} of {job.user} has no pair left to start")
        if not 1 <= modes <= self.max_modes(job.path) or not self.fits(job.path, modes):
            raise ValueError(f"job {job.id} of {job.user}: {modes} modes do not fit in the free memory")
        need = self.network.slots_needed(job.path, modes)
        for node, slots in need.items():
            self.allocated[node] += slots
        job.in_flight += 1
        self._under_way[job] = None
        for edge in zip(job.path, job.path[1:]):
            self._link_users[frozenset(edge)] = self._link_users.get(frozenset(edge), 0) + 1
            for node in edge:
                self._node_ends[node] += 1
        self.env.process(self._unit(job, modes, need))

    def _unit(self, job: Job, modes: int, need: dict[str, int]):
        stats = RequestStats(job.request, [], cutoff_s=job.cutoff_s, modes=modes, requested_s=job.arrival_s)
        yield from self.network.serve_one(stats, job.path)
        for node, slots in need.items():
            self.allocated[node] -= slots
        for edge in zip(job.path, job.path[1:]):
            self._link_users[frozenset(edge)] -= 1
            for node in edge:
                self._node_ends[node] -= 1
        job.in_flight -= 1
        if not job.in_flight:
            del self._under_way[job]
        user = self.users[job.user]
        record = stats.records[-1]
        user.stats.records.append(record)
        user.stats.cutoff_discards += stats.cutoff_discards
        user.stats.extraction_failures += stats.extraction_failures
        job.delivered += 1
        job.fidelities.append(record.fidelity)
        self.delivered_since.append((job, record))
        if job.delivered >= job.request.pairs and job.finished_s is None:
            job.finished_s = self.env.now
            if job.state == "waiting":
                job.state, job.ended_s = "done", self.env.now
                self.waiting.remove(job)
        self._changed()

    def _check_done(self) -> None:
        if (
            not self.done.triggered
            and self._pending_arrivals == 0
            and not self.waiting
            and not any(job.in_flight for job in self.jobs)
        ):
            for user in self.users.values():
                user.stats.finished_s = self.env.now
            self.done.succeed()

    # -------------------------------------------------------------- report
    def report(self, sim_time_s: float) -> SchedulingReport:
        """Per user: throughput, fidelity, latency, deadline misses; Jain's fairness index."""
        users = (
            UserReport.of(user.name, user.request, user.stats.records, user.jobs, sim_time_s)
            for user in self.users.values()
        )
        policy = self.scheduler.name if self.scheduler is not None else "external"
        return SchedulingReport.of(policy, len(self.jobs), users)


def poisson_arrivals(rng: np.random.Generator, first_s: float, count: int, rate_hz: float) -> list[float]:
    """``count`` arrival times: the first at ``first_s``, then exponential gaps of mean
    ``1/rate_hz`` (a Poisson process)."""
    if count < 1:
        raise ValueError(f"arrivals must be >= 1, got {count}")
    if count == 1:
        return [first_s]
    if not rate_hz > 0:
        raise ValueError(f"arrival_rate_hz must be > 0 for {count} arrivals, got {rate_hz}")
    gaps = rng.exponential(1.0 / rate_hz, size=count - 1)
    return [first_s] + list(first_s + np.cumsum(gaps))


#: Gaps of each user drawn from the shared arrivals generator, in user order (as
#: :func:`poisson_arrivals` draws them); a longer stream continues from the user's own generator.
SHARED_GAPS = 4096


def poisson_arrival_stream(shared_rng: np.random.Generator, own_rng: np.random.Generator, first_s: float,
                           count: int, rate_hz: float, chunk: int = SHARED_GAPS) -> Iterator[float]:
    """The times of :func:`poisson_arrivals`, generated as they are read.

    The first ``min(count - 1, chunk)`` gaps are drawn from ``shared_rng`` now (so users drawn
    one after the other from one generator see what :func:`poisson_arrivals` gives them);
    further gaps come from ``own_rng``, ``chunk`` at a time as the stream is read. Times are
    ``first_s + (g_1 + ... + g_k)``, summed in order (as ``numpy.cumsum``).
    """
    if count < 1:
        raise ValueError(f"arrivals must be >= 1, got {count}")
    if count > 1 and not rate_hz > 0:
        raise ValueError(f"arrival_rate_hz must be > 0 for {count} arrivals, got {rate_hz}")
    first = shared_rng.exponential(1.0 / rate_hz, size=min(count - 1, chunk)) if count > 1 else np.empty(0)

    def times() -> Iterator[float]:
        yield first_s
        total, left, gaps = 0.0, count - 1, first
        while left > 0:
            sums = np.cumsum(np.concatenate(([total], gaps)))[1:]  # sequential sums, carried exactly
            yield from (first_s + sums).tolist()
            total, left = float(sums[-1]), left - len(gaps)
            gaps = own_rng.exponential(1.0 / rate_hz, size=min(left, chunk)) if left > 0 else gaps

    return times()


def _delay_until(now: float, at: float) -> float:
    """A delay ``d`` with ``now + d == at`` exactly in floating point (SimPy adds it to ``now``), so
    an arrival scheduled during the run fires at its time, not one rounding away."""
    if at <= now:
        return 0.0
    delay = at - now
    for _ in range(8):
        if now + delay < at:
            delay = math.nextafter(delay, math.inf)
        elif now + delay > at:
            delay = math.nextafter(delay, -math.inf)
        else:
            break
    return delay
