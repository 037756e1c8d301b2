"""Metrics of a run: fidelity, latency and its breakdown, throughput, PoS, QoMQ; the Report.

Every number here is read off the simulation: fidelities from the actual density matrices the
state engine holds when a pair is delivered, latencies from the simulated clock, probabilities
of success from counted events and from the heralding circuits' outcome tables.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

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
class MemoryQuality:
    """Quality of matter qubits (QoMQ) of one node's memory."""

    node: str
    absorption_efficiency: float
    extraction_efficiency: float
    t1_s: float
    t2_s: float
    capacity: int
    mean_storage_s: float
    max_slots_used: int


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": float("nan"), "std": float("nan"), "min": float("nan")}
    array = np.asarray(values)
    return {"mean": float(array.mean()), "std": float(array.std()), "min": float(array.min())}


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": float("nan"), "p50": float("nan"), "p95": float("nan")}
    array = np.asarray(values)
    return {
        "mean": float(array.mean()),
        "p50": float(np.percentile(array, 50)),
        "p95": float(np.percentile(array, 95)),
    }


def num(x, fmt: str = "{:.4g}") -> str:
    """A number for a human-readable table; ``n/a`` for a missing one."""
    return "n/a" if x is None else fmt.format(x)


def _clean(value):
    """JSON-safe: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


@dataclass
class Report:
    """The result of a run, with the JSON form of DESIGN.md."""

    seed: int
    sim_time_s: float
    wall_time_s: float
    pairs: list[PairRecord]
    pos: dict[str, float]
    qomq: list[MemoryQuality]
    scenario: dict = field(default_factory=dict)
    links: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    application: dict | None = None
    scheduling: dict | None = None

    @property
    def delivered(self) -> int:
        return len(self.pairs)

    @property
    def throughput_hz(self) -> float:
        return self.delivered / self.sim_time_s if self.sim_time_s > 0 else 0.0

    def delay_breakdown_s(self) -> dict[str, float]:
        """Mean time per delivered pair spent on each source of delay [s]."""
        names = [f.name for f in fields(DelayBreakdown)]
        if not self.pairs:
            return {name: 0.0 for name in names}
        return {name: float(np.mean([getattr(p.breakdown, name) for p in self.pairs])) for name in names}

    def to_dict(self) -> dict:
        fidelities = [p.fidelity for p in self.pairs]
        latencies = [p.latency_s for p in self.pairs]
        return _clean(
            {
                "delivered": self.delivered,
                "fidelity": _summary(fidelities),
                "latency_s": _percentiles(latencies),
                "throughput_hz": self.throughput_hz,
                "sim_time_s": self.sim_time_s,
                "wall_time_s": self.wall_time_s,
                "delay_breakdown_s": self.delay_breakdown_s(),
                "pos": dict(self.pos),
                "qomq": {m.node: {k: v for k, v in asdict(m).items() if k != "node"} for m in self.qomq},
                "links": self.links,
                "requests": self.requests,
                "application": self.application,
                "scheduling": self.scheduling,
                "seed": self.seed,
                "scenario": self.scenario,
            }
        )

    def table(self) -> str:
        """A short human-readable summary."""
        d = self.to_dict()
        fid, lat = d["fidelity"], d["latency_s"]

        lines = [
            f"delivered pairs      {d['delivered']}",
            f"throughput           {num(d['throughput_hz'])} pairs/s",
            f"fidelity             mean {num(fid['mean'], '{:.4f}')}  std {num(fid['std'], '{:.4f}')}  min {num(fid['min'], '{:.4f}')}",
            f"latency              mean {num(lat['mean'])} s  p50 {num(lat['p50'])} s  p95 {num(lat['p95'])} s",
            "delay breakdown      " + "  ".join(f"{k[:-2]} {num(v)} s" for k, v in d["delay_breakdown_s"].items()),
            "probability of success",
        ]
        lines += [f"  {k:<36} {num(v)}" for k, v in d["pos"].items()]
        lines.append("quality of matter qubits")
        for node, q in d["qomq"].items():
            lines.append(
                f"  {node:<12} absorption {num(q['absorption_efficiency'])}  extraction {num(q['extraction_efficiency'])}"
                f"  T1 {num(q['t1_s'])} s  T2 {num(q['t2_s'])} s  mean storage {num(q['mean_storage_s'])} s"
            )
        if d["links"]:
            lines.append("links")
            for link in d["links"]:
                extra = ""
                if link.get("channel"):
                    extra += f"  {link['channel']}"
                if link.get("photons_per_encoded_qubit", 1) != 1:
                    extra += f"  {link['photons_per_encoded_qubit']} photons/qubit  logical T {num(link['logical_transmission'])}"
                if any(e != 1.0 for e in link.get("transducer_efficiency") or ()):
                    extra += "  transducers " + "/".join(num(e, "{:.3g}") for e in link["transducer_efficiency"])
                lines.append(
                    f"  {link['link']:<12} {num(link['length_km'])} km  {link['scheme']}  p/attempt {num(link['p_attempt'])}"
                    f"  attempt {num(link['attempt_time_s'])} s  pairs {link['pairs']}{extra}"
                )
        if d["requests"]:
            lines.append("requests")
            for request in d["requests"]:
                lines.append(
                    f"  {request['request']:<16} delivered {request['delivered']}/{request['pairs_requested']}"
                    f"  mean F {num(request['mean_fidelity'], '{:.4f}')}  >= min F {request['meeting_min_fidelity']}"
                    f"  cut-off discards {request['cutoff_discards']}"
                )
        if d["application"]:
            lines.append(f"application ({d['application']['kind']})")
            for key, value in d["application"].items():
                if key != "kind":
                    shown = "  ".join(f"{k} {num(v)}" for k, v in value.items()) if isinstance(value, dict) else (
                        num(value) if isinstance(value, float) else value)
                    lines.append(f"  {key:<24} {shown}")
        if d["scheduling"]:
            sched = d["scheduling"]
            lines.append(
                f"scheduling ({sched['policy']})  jobs {sched['jobs']}  requirements met {sched['requirements_met']}"
                f"  deadline misses {sched['deadline_misses']}  fairness (Jain) {num(sched['fairness_index'], '{:.3f}')}"
            )
            lines.extend("  " + line for line in user_table(sched["users"]).splitlines())
        lines.append(f"simulated {num(d['sim_time_s'])} s in {num(d['wall_time_s'], '{:.3f}')} s wall, seed {d['seed']}")
        return "\n".join(lines)


def user_table(users: list[dict]) -> str:
    """Per-user rows of a scheduled run: throughput, fidelity, latency, deadline misses."""

    lines = [f"{'user':<14}{'jobs':>5}{'pairs':>9}{'rate/s':>9}{'mean F':>8}{'>=minF':>8}{'latency s':>11}{'missed':>7}{'met':>5}"]
    for u in users:
        lines.append(
            f"{u['user'][:13]:<14}{u['jobs']:>5}{str(u['delivered']) + '/' + str(u['pairs_requested']):>9}"
            f"{num(u['throughput_hz'], '{:.3g}'):>9}{num(u['mean_fidelity'], '{:.3f}'):>8}"
            f"{u['pairs_meeting_min_fidelity']:>8}{num(u['latency_s'], '{:.3g}'):>11}{u['deadline_misses']:>7}{u['requirements_met']:>5}"
        )
    return "\n".join(lines)
