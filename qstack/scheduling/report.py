"""The scheduling report: per user and for the whole run, typed; a dict only at the edge
(:meth:`SchedulingReport.to_dict`, the ``scheduling`` section of ``qstack run --json``)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:
    from qstack.metrics import PairRecord
    from qstack.network import Request

    from .dispatch import Job


@dataclass(frozen=True)
class UserReport:
    """What one user (a request template and its arrivals, the jobs) got over a run.

    Rates are per simulated second [Hz]; times in seconds; ``None`` where nothing was
    delivered or finished to average over.
    """

    user: str
    src: str
    dst: str
    jobs: int
    pairs_requested: int
    delivered: int
    served_fraction: float | None  # delivered / pairs_requested
    throughput_hz: float  # delivered / sim_time_s
    min_rate_hz: float
    rate_met: bool
    mean_fidelity: float | None
    min_fidelity_required: float
    pairs_meeting_min_fidelity: int
    latency_s: float | None  # mean over delivered pairs
    job_completion_s: float | None  # mean time from a job's arrival to its last pair
    deadline_misses: int  # jobs that ended, or whose deadline passed, without meeting it
    rejected: int
    abandoned: int
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
        return cls(
            user=name,
            src=request.src,
            dst=request.dst,
            jobs=len(jobs),
            pairs_requested=demanded,
            delivered=len(records),
            served_fraction=len(records) / demanded if demanded else None,
            throughput_hz=len(records) / sim_time_s if sim_time_s > 0 else 0.0,
            min_rate_hz=request.min_rate_hz,
            rate_met=bool(sim_time_s > 0 and len(records) / sim_time_s >= request.min_rate_hz),
            mean_fidelity=float(np.mean(fidelities)) if fidelities else None,
            min_fidelity_required=request.min_fidelity,
            pairs_meeting_min_fidelity=int(sum(f >= request.min_fidelity for f in fidelities)),
            latency_s=float(np.mean([r.latency_s for r in records])) if records else None,
            job_completion_s=float(np.mean(finished)) if finished else None,
            deadline_misses=int(sum(not job.met_deadline for job in ended)),
            rejected=sum(job.state == "rejected" for job in jobs),
            abandoned=sum(job.state == "abandoned" for job in jobs),
            requirements_met=int(sum(job.met_deadline and job.met_fidelity for job in jobs)),
            cutoff_s=_finite_or_none(min((job.cutoff_s for job in jobs), default=math.inf)),
        )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SchedulingReport:
    """A scheduled run: the policy, totals over users, Jain's fairness index of the users'
    served fractions, and each user's :class:`UserReport`."""

    policy: str  # the scheduler's name, or "external" (decisions made by the caller)
    jobs: int
    requirements_met: int
    deadline_misses: int
    pairs_meeting_min_fidelity: int
    delivered: int
    fairness_index: float | None
    users: tuple[UserReport, ...]

    @classmethod
    def of(cls, policy: str, jobs: int, users: Iterable[UserReport]) -> SchedulingReport:
        """Totals over ``users``; fairness of their served fractions (none served counts 0)."""
        users = tuple(users)
        return cls(
            policy=policy,
            jobs=jobs,
            requirements_met=sum(u.requirements_met for u in users),
            deadline_misses=sum(u.deadline_misses for u in users),
            pairs_meeting_min_fidelity=sum(u.pairs_meeting_min_fidelity for u in users),
            delivered=sum(u.delivered for u in users),
            fairness_index=jain_index([u.served_fraction or 0.0 for u in users]),
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
