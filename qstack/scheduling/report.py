"""The scheduling report: per user and for the whole run, typed; a dict only at the edge
(:meth:`SchedulingReport.to_dict`, the ``scheduling`` section of ``qstack run --json``).

Every job that has ended (finished, rejected, abandoned, or past its deadline) counts exactly
once: ``requirements_met`` or one miss cause, ``rejected`` (refused on arrival), ``abandoned``
(given up while waiting), ``late`` (its last pair after its deadline, or never) or
``below_min_fidelity`` (all pairs on time, one or more below the user's minimum); ``misses`` is
their sum and ``deadline_misses`` the first three (the jobs that did not meet their deadline).

Fairness is stated on two quantities: ``fairness_index`` is Jain's index of the users'
served fractions (delivered / requested pairs: rejections lower it, on purpose: a rejected job
is service withheld), ``throughput_fairness_index`` Jain's index of each user's throughput over
its active time normalised by its demanded rate (capped at 1: more than asked is not fairer).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:
    from qstack.metrics import PairRecord
    from qstack.network import Request

    from .dispatch import Job

#: What ``fairness_index`` is Jain's index of (stated in the report).
FAIRNESS_QUANTITY = "served_fraction"


@dataclass(frozen=True)
class UserReport:
    """What one user (a request template and its arrivals, the jobs) got over a run.

    Rates are per simulated second [Hz]; times in seconds; ``None`` where nothing was
    delivered or finished to average over. The user's *active time* ``active_s`` runs from its
    first arrival to the end of its last job (its last pair, its rejection or abandonment, or
    its deadline; the run's end for a job still open); ``throughput_hz`` is over that time.
    ``demand_hz`` is the rate the user asked for: ``min_rate_hz``, or, if larger, its requested
    pairs over the union of its jobs' windows (arrival to deadline; to the run's end without one).
    """

    user: str
    src: str
    dst: str
    jobs: int
    pairs_requested: int
    delivered: int
    served_fraction: float | None  # delivered / pairs_requested
    throughput_hz: float  # delivered / active_s
    active_s: float
    demand_hz: float
    min_rate_hz: float
    rate_met: bool  # every requested pair delivered, at throughput_hz >= min_rate_hz
    mean_fidelity: float | None
    min_fidelity_required: float
    pairs_meeting_min_fidelity: int
    latency_s: float | None  # mean over delivered pairs
    job_completion_s: float | None  # mean time from a job's arrival to its last pair
    deadline_misses: int  # ended jobs that did not meet their deadline: rejected + abandoned + late
    misses: int  # ended jobs that did not meet their requirements: deadline_misses + below_min_fidelity
    rejected: int
    abandoned: int
    late: int
    below_min_fidelity: int  # on time, but a pair below min_fidelity_required
    requirements_met: int  # jobs that met both their deadline and min_fidelity
    cutoff_s: float | None  # the shortest storage cut-off of the user's jobs (None: none)

    @classmethod
    def of(cls, name: str, request: Request, records: Sequence[PairRecord], jobs: Sequence[Job],
           sim_time_s: float) -> UserReport:
        """The report of user ``name`` from its delivered ``records`` and its ``jobs``."""
        fidelities = [r.fidelity for r in records]
        demanded = sum(job.request.pairs for job in jobs)
        finished = [job.finished_s - job.arrival_s for job in jobs if job.finished_s is not None]
        ended = [job for job in jobs if job.state != "waiting" or job.deadline_at_s <= sim_time_s]
        gave_up = {"rejected", "abandoned"}
        late = [job for job in ended if job.state not in gave_up and not job.met_deadline]
        active_s = _active_s(jobs, sim_time_s)
        throughput_hz = len(records) / active_s if active_s > 0 else 0.0
        demand_hz = max(request.min_rate_hz, demanded / w) if (w := _window_s(jobs, sim_time_s)) > 0 else request.min_rate_hz
        rejected = sum(job.state == "rejected" for job in jobs)
        abandoned = sum(job.state == "abandoned" for job in jobs)
        below = sum(job.met_deadline and not job.met_fidelity for job in ended)
        return cls(
            user=name,
            src=request.src,
            dst=request.dst,
            jobs=len(jobs),
            pairs_requested=demanded,
            delivered=len(records),
            served_fraction=len(records) / demanded if demanded else None,
            throughput_hz=throughput_hz,
            active_s=active_s,
            demand_hz=demand_hz,
            min_rate_hz=request.min_rate_hz,
            rate_met=bool(len(records) >= demanded and throughput_hz >= request.min_rate_hz),
            mean_fidelity=float(np.mean(fidelities)) if fidelities else None,
            min_fidelity_required=request.min_fidelity,
            pairs_meeting_min_fidelity=int(sum(f >= request.min_fidelity for f in fidelities)),
            latency_s=float(np.mean([r.latency_s for r in records])) if records else None,
            job_completion_s=float(np.mean(finished)) if finished else None,
            deadline_misses=rejected + abandoned + len(late),
            misses=rejected + abandoned + len(late) + int(below),
            rejected=rejected,
            abandoned=abandoned,
            late=len(late),
            below_min_fidelity=int(below),
            requirements_met=int(sum(job.met_deadline and job.met_fidelity for job in jobs)),
            cutoff_s=_finite_or_none(min((job.cutoff_s for job in jobs), default=math.inf)),
        )

    @property
    def normalised_throughput(self) -> float:
        """Throughput over the demanded rate, capped at 1 (1 when nothing was demanded)."""
        return min(self.throughput_hz / self.demand_hz, 1.0) if self.demand_hz > 0 else 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def _job_end_s(job: Job, sim_time_s: float) -> float:
    """When a job stopped needing the network: its last pair, its rejection or abandonment,
    its deadline (if it missed), or the run's end while it is still open."""
    ends = [t for t in (job.finished_s, job.ended_s) if t is not None]
    if job.state == "missed":
        ends.append(job.deadline_at_s)
    return min(max(ends), sim_time_s) if ends else sim_time_s


def _active_s(jobs: Sequence[Job], sim_time_s: float) -> float:
    """A user's active time [s]: first arrival to the end of its last job."""
    if not jobs:
        return 0.0
    return max(_job_end_s(job, sim_time_s) for job in jobs) - min(job.arrival_s for job in jobs)


def _window_s(jobs: Sequence[Job], sim_time_s: float) -> float:
    """Length [s] of the union of the jobs' windows ``[arrival, deadline]`` (the run's end for
    a job without a deadline, or the job's own end if later)."""
    spans = sorted((job.arrival_s, min(job.deadline_at_s, sim_time_s) if math.isfinite(job.deadline_at_s)
                    else max(_job_end_s(job, sim_time_s), job.arrival_s)) for job in jobs)
    total, reach = 0.0, -math.inf
    for start, end in spans:
        start = max(start, reach)
        if end > start:
            total += end - start
            reach = end
    return total


@dataclass(frozen=True)
class SchedulingReport:
    """A scheduled run: the policy, totals over users, fairness (see the module docstring) and
    each user's :class:`UserReport`."""

    policy: str  # the scheduler's name, or "external" (decisions made by the caller)
    jobs: int
    requirements_met: int
    deadline_misses: int
    misses: int
    rejected: int
    abandoned: int
    late: int
    below_min_fidelity: int
    pairs_meeting_min_fidelity: int
    delivered: int
    fairness_quantity: str
    fairness_index: float | None
    throughput_fairness_index: float | None
    users: tuple[UserReport, ...]

    @classmethod
    def of(cls, policy: str, jobs: int, users: Iterable[UserReport]) -> SchedulingReport:
        """Totals over ``users``; fairness of their served fractions (none served counts 0) and
        of their normalised throughputs."""
        users = tuple(users)
        totals = {name: sum(getattr(u, name) for u in users) for name in (
            "requirements_met", "deadline_misses", "misses", "rejected", "abandoned", "late", "below_min_fidelity",
            "pairs_meeting_min_fidelity", "delivered")}
        return cls(
            policy=policy,
            jobs=jobs,
            **totals,
            fairness_quantity=FAIRNESS_QUANTITY,
            fairness_index=jain_index([u.served_fraction or 0.0 for u in users]),
            throughput_fairness_index=jain_index([u.normalised_throughput for u in users]),
            users=users,
        )

    def to_dict(self) -> dict:
        """The JSON form: these fields in this order, ``users`` a list of their dicts."""
        totals = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "users"}
        return {**totals, "users": [user.to_dict() for user in self.users]}


def jain_index(values: list[float]) -> float | None:
    """Jain's fairness index ``(sum x)^2 / (n sum x^2)``: 1 when all equal, 1/n when one gets all."""
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.any(values):
        return None
    return float(values.sum() ** 2 / (values.size * (values ** 2).sum()))


def _finite_or_none(value: float):
    return value if math.isfinite(value) else None
