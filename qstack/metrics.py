"""Metrics of a run: the records a run produces and the statistics read off them.

Every number here is read off the simulation: fidelities from the actual density matrices the
state engine holds when a pair is delivered, latencies from the simulated clock, probabilities
of success from counted events and from the heralding circuits' outcome tables. The typed
report built from them is :class:`qstack.report.Report`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Sequence

import numpy as np

from qstack.physics import bell_fidelity  # noqa: F401  (re-exported: reports read fidelities with it)


@dataclass(frozen=True, slots=True)
class DelayBreakdown:
    """Where a delivered pair's time from the request went [s]; the parts add up to
    :attr:`PairRecord.latency_from_request_s` (``delivered_s - requested_s``) exactly.

    emission_wait_s: failed attempts and the emission of the successful photon
        (``(attempts - 1) attempt_time + emission_time``; on a path, the rest of the try's time).
    heralding_s: photon flight and the herald's return for the successful attempt.
    swapping_s: waiting for partner links and Bell measurements (network layer).
    purification_s: extra generation and purification rounds (network layer).
    storage_s: time in memory between the pair being ready and its use by the application.
    cutoff_retries_s: time spent on pairs discarded by the cut-off or lost at extraction.
    queueing_s: time before the pair's (last link's) attempts began: behind the request's earlier
        pairs (or, for a scheduler's job, before the job's pair was started) and waiting for the
        link's interface, a communication qubit or a memory slot.
    moves_s: moving heralded qubits from communication qubits into long-lived storage.
    """

    emission_wait_s: float = 0.0
    heralding_s: float = 0.0
    swapping_s: float = 0.0
    purification_s: float = 0.0
    storage_s: float = 0.0
    cutoff_retries_s: float = 0.0
    queueing_s: float = 0.0
    moves_s: float = 0.0

    @property
    def total_s(self) -> float:
        return sum(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True, slots=True)
class PairRecord:
    """One delivered pair, with its times [s].

    ``requested_s``: when the request (or the scheduler's job) arrived; ``started_s``: when the
    pair's service began (after the request's earlier pairs); ``generation_started_s``: when the
    pair's first attempt began (first link attempt of its first try); ``delivered_s``: its use.
    Missing ``requested_s`` / ``generation_started_s`` default to ``started_s``.
    """

    request: str
    started_s: float
    delivered_s: float
    fidelity: float
    attempts: int
    breakdown: DelayBreakdown
    oldest_age_s: float = 0.0  # age of the oldest qubit of the pair when used (since emission)
    requested_s: float | None = None
    generation_started_s: float | None = None

    @property
    def latency_s(self) -> float:
        """Generation time: from the pair's first attempt to its delivery [s]."""
        start = self.started_s if self.generation_started_s is None else self.generation_started_s
        return self.delivered_s - start

    @property
    def latency_from_request_s(self) -> float:
        """From the request's (job's) arrival to the pair's delivery [s]; the breakdown's total."""
        start = self.started_s if self.requested_s is None else self.requested_s
        return self.delivered_s - start


@dataclass(frozen=True)
class FidelitySummary:
    """Mean, standard deviation and minimum of delivered fidelities (NaN when none)."""

    mean: float
    std: float
    min: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "FidelitySummary":
        if not values:
            return cls(math.nan, math.nan, math.nan)
        array = np.asarray(values)
        return cls(float(array.mean()), float(array.std()), float(array.min()))


@dataclass(frozen=True)
class LatencySummary:
    """Mean, median and 95th percentile of latencies [s] (NaN when none)."""

    mean: float
    p50: float
    p95: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "LatencySummary":
        if not values:
            return cls(math.nan, math.nan, math.nan)
        array = np.asarray(values)
        return cls(float(array.mean()), float(np.percentile(array, 50)), float(np.percentile(array, 95)))


def mean_breakdown(pairs: Sequence[PairRecord]) -> dict[str, float]:
    """Mean time per delivered pair spent on each source of delay [s] (zeros when none)."""
    names = [f.name for f in fields(DelayBreakdown)]
    if not pairs:
        return {name: 0.0 for name in names}
    return {name: float(np.mean([getattr(p.breakdown, name) for p in pairs])) for name in names}


def num(x, fmt: str = "{:.4g}") -> str:
    """A number for a human-readable table; ``n/a`` for a missing one."""
    return "n/a" if x is None else fmt.format(x)


def clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, tuples lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


#: Records a :class:`RecordSummary` keeps whole: every statistic is exact up to this many pairs
#: per request; beyond it percentiles come from a uniform reservoir sample of this size.
SUMMARY_RESERVOIR = 10_000


class RecordSummary:
    """A bounded stand-in for one request's list of :class:`PairRecord` (``report.records =
    "summary"``): memory flat however many pairs a run delivers.

    Streaming and exact: the count, fidelity mean / standard deviation / minimum (Welford), the
    pairs meeting ``min_fidelity`` and those at or below ``useful`` fidelity, the mean latencies
    and delay breakdown (running sums). Percentiles (``latency_s.p50``, ``p95``) are read off the
    kept records: all of them up to :data:`SUMMARY_RESERVOIR` pairs (exact), after that a uniform
    reservoir sample of that size (Vitter's algorithm R, drawn from a generator of its own, so
    the run's random numbers are untouched): estimates, flagged by :attr:`exact`.

    List-like where the stack reads a request's records: ``append``, ``len``, ``[-1]`` (the last
    record), iteration (over the kept records).
    """

    def __init__(self, min_fidelity: float = 0.0, useful: float = 0.5, capacity: int = SUMMARY_RESERVOIR, seed: int = 0):
        self.min_fidelity, self.useful, self.capacity = min_fidelity, useful, capacity
        self.kept: list[PairRecord] = []
        self.count = 0
        self.fidelity_mean = self._fidelity_m2 = 0.0
        self.fidelity_min = math.inf
        self.meeting = self.at_or_below_useful = 0
        self.latency_sum_s = self.latency_from_request_sum_s = 0.0
        self.breakdown_sums_s = dict.fromkeys((f.name for f in fields(DelayBreakdown)), 0.0)
        self._last: PairRecord | None = None
        self._rng = np.random.default_rng([seed, 0x5A3B])

    def append(self, record: PairRecord) -> None:
        self.count += 1
        f = float(record.fidelity)
        delta = f - self.fidelity_mean
        self.fidelity_mean += delta / self.count
        self._fidelity_m2 += delta * (f - self.fidelity_mean)
        self.fidelity_min = min(self.fidelity_min, f)
        self.meeting += f >= self.min_fidelity
        self.at_or_below_useful += f <= self.useful
        self.latency_sum_s += record.latency_s
        self.latency_from_request_sum_s += record.latency_from_request_s
        for name in self.breakdown_sums_s:
            self.breakdown_sums_s[name] += getattr(record.breakdown, name)
        self._last = record
        if len(self.kept) < self.capacity:
            self.kept.append(record)
        else:
            slot = int(self._rng.integers(self.count))
            if slot < self.capacity:
                self.kept[slot] = record

    @property
    def exact(self) -> bool:
        """Whether every record is kept (percentiles exact)."""
        return self.count <= self.capacity

    @property
    def fidelity_std(self) -> float:
        return math.sqrt(self._fidelity_m2 / self.count) if self.count else math.nan

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        return iter(self.kept)

    def __getitem__(self, index: int) -> PairRecord:
        if index == -1 and self._last is not None:
            return self._last
        return self.kept[index]


@dataclass(frozen=True)
class PairsSummary:
    """The report's statistics over every request's :class:`RecordSummary` (merged exactly;
    percentiles over the kept records, exact while every request kept all of its own)."""

    count: int
    fidelity: FidelitySummary
    latency_s: LatencySummary
    latency_from_request_s: LatencySummary
    breakdown_s: dict[str, float]
    exact_percentiles: bool

    @classmethod
    def of(cls, parts: Sequence[RecordSummary]) -> "PairsSummary":
        parts = [p for p in parts if p.count]
        count = sum(p.count for p in parts)
        if not count:
            nan = math.nan
            return cls(0, FidelitySummary(nan, nan, nan), LatencySummary(nan, nan, nan), LatencySummary(nan, nan, nan),
                       mean_breakdown(()), True)
        mean = sum(p.count * p.fidelity_mean for p in parts) / count
        m2 = sum(p._fidelity_m2 + p.count * (p.fidelity_mean - mean) ** 2 for p in parts)  # Chan et al.'s merge
        kept = [r for p in parts for r in p.kept]

        def latency(sums: float, values: list[float]) -> LatencySummary:
            return LatencySummary(sums / count, float(np.percentile(values, 50)), float(np.percentile(values, 95)))

        return cls(
            count=count,
            fidelity=FidelitySummary(mean, math.sqrt(m2 / count), min(p.fidelity_min for p in parts)),
            latency_s=latency(sum(p.latency_sum_s for p in parts), [r.latency_s for r in kept]),
            latency_from_request_s=latency(sum(p.latency_from_request_sum_s for p in parts),
                                           [r.latency_from_request_s for r in kept]),
            breakdown_s={name: sum(p.breakdown_sums_s[name] for p in parts) / count for name in parts[0].breakdown_sums_s},
            exact_percentiles=all(p.exact for p in parts),
        )
