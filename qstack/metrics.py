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
    """Where a delivered pair's latency went [s]; the parts add up to the latency.

    emission_wait_s: failed attempts and the emission of the successful photon.
    heralding_s: photon flight and the herald's return for the successful attempt.
    swapping_s: waiting for partner links and Bell measurements (network layer).
    purification_s: extra generation and purification rounds (network layer).
    storage_s: time in memory between the herald and use by the application.
    cutoff_retries_s: time spent on pairs discarded by the cut-off or lost at extraction.
    """

    emission_wait_s: float = 0.0
    heralding_s: float = 0.0
    swapping_s: float = 0.0
    purification_s: float = 0.0
    storage_s: float = 0.0
    cutoff_retries_s: float = 0.0

    @property
    def total_s(self) -> float:
        return sum(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True, slots=True)
class PairRecord:
    """One delivered pair."""

    request: str
    started_s: float
    delivered_s: float
    fidelity: float
    attempts: int
    breakdown: DelayBreakdown
    oldest_age_s: float = 0.0  # age of the oldest qubit of the pair when used (since emission)

    @property
    def latency_s(self) -> float:
        return self.delivered_s - self.started_s


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
