"""The typed report of a run: what ``qstack run`` prints and ``qstack.simulate`` returns.

Attribute access reads it (``report.fidelity.mean``, ``report.links[0].scheme``,
``report.requests[0].delivered``); it becomes a dict only at the edge (:meth:`Report.to_dict`,
``qstack run --json``), with the keys of DESIGN.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Protocol, Sequence

from qstack.metrics import SUMMARY_RESERVOIR, FidelitySummary, LatencySummary, PairRecord, PairsSummary, clean, mean_breakdown, num


class ToDict(Protocol):
    """A typed part of the report (application or scheduling result) that knows its JSON form."""

    def to_dict(self) -> dict: ...


@dataclass(frozen=True)
class MemoryQuality:
    """Quality of matter qubits (QoMQ) of one node: its storage stage's T1/T2 and capacity."""

    node: str
    absorption_efficiency: float
    extraction_efficiency: float
    t1_s: float
    t2_s: float
    capacity: int
    mean_storage_s: float
    max_slots_used: int
    communication_qubits: int
    communication_utilisation: float  # sum over qubits of busy s / (qubits * run time), <= 1


@dataclass(frozen=True)
class LinkRow:
    """One link of the run: its scheme and channel, and what it did."""

    link: str
    length_km: float | None  # the graph edge's ``length_km`` (None for a graph composed without it)
    scheme: str
    multiplexing: int
    p_attempt: float
    attempt_time_s: float
    heralding_time_s: float
    channel: str
    photons_per_encoded_qubit: int
    logical_transmission: float
    transducer_efficiency: tuple[float, float]
    stations: int
    attempts: int
    pairs: int
    mean_attempts_per_pair: float | None


@dataclass(frozen=True)
class RequestRow:
    """One request (user) of the run."""

    request: str
    pairs_requested: int
    delivered: int
    complete: bool
    finished_s: float | None
    mean_fidelity: float | None
    meeting_min_fidelity: int
    cutoff_discards: int
    extraction_failures: int
    # Pairs of fidelity <= 1/2: no teleportation beyond the classical limit, not distillable
    # when Werner (a Werner pair is entangled only above F = 1/2).
    pairs_at_or_below_half: int = 0


#: At or below this fidelity a pair is flagged (see ``RequestRow.pairs_at_or_below_half``).
USEFUL_FIDELITY = 0.5


@dataclass(frozen=True)
class Report:
    """The result of a run, read off the simulation."""

    seed: int
    sim_time_s: float
    wall_time_s: float
    pairs: tuple[PairRecord, ...]
    pos: Mapping[str, float]
    qomq: tuple[MemoryQuality, ...]
    scenario: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[LinkRow, ...] = ()
    requests: tuple[RequestRow, ...] = ()
    application: ToDict | None = None
    scheduling: ToDict | None = None
    summary: PairsSummary | None = None
    """``report.records = "summary"``: the statistics streamed over every pair (``pairs`` then
    holds only the kept records, see :class:`~qstack.metrics.RecordSummary`)."""
    interrupted: bool = False  # stopped by Ctrl-C: what was delivered until then

    @property
    def delivered(self) -> int:
        return len(self.pairs) if self.summary is None else self.summary.count

    @property
    def throughput_hz(self) -> float:
        return self.delivered / self.sim_time_s if self.sim_time_s > 0 else 0.0

    @property
    def pairs_requested(self) -> int:
        """Pairs the requests asked for, all requests together (every arrival's when scheduled)."""
        return sum(row.pairs_requested for row in self.requests)

    @property
    def stopped_at_max_time(self) -> bool:
        """The run ended at ``max_time_s`` with a request (or a user's jobs) still being served."""
        return any(not row.complete for row in self.requests)

    @property
    def complete(self) -> bool:
        """Every request got every pair it asked for (not stopped early, no job dropped)."""
        return not self.stopped_at_max_time and all(row.delivered >= row.pairs_requested for row in self.requests)

    @property
    def fidelity(self) -> FidelitySummary:
        if self.summary is not None:
            return self.summary.fidelity
        return FidelitySummary.of([p.fidelity for p in self.pairs])

    @property
    def latency_s(self) -> LatencySummary:
        """Generation time: from each pair's first attempt to its delivery [s]."""
        if self.summary is not None:
            return self.summary.latency_s
        return LatencySummary.of([p.latency_s for p in self.pairs])

    @property
    def latency_from_request_s(self) -> LatencySummary:
        """From the request's (scheduler job's) arrival to each pair's delivery [s]; the
        ``delay_breakdown_s`` parts add up to its mean."""
        if self.summary is not None:
            return self.summary.latency_from_request_s
        return LatencySummary.of([p.latency_from_request_s for p in self.pairs])

    @property
    def delay_breakdown_s(self) -> dict[str, float]:
        """Mean time per delivered pair spent on each source of delay [s]."""
        if self.summary is not None:
            return self.summary.breakdown_s
        return mean_breakdown(self.pairs)

    def to_dict(self) -> dict:
        """The JSON form (NaN and infinities as None); ``"interrupted": true`` first for a run
        stopped by Ctrl-C (absent otherwise)."""
        return clean(
            {
                **({"interrupted": True} if self.interrupted else {}),
                "delivered": self.delivered,
                "pairs_requested": self.pairs_requested,
                "complete": self.complete,
                "stopped_at_max_time": self.stopped_at_max_time,
                "fidelity": asdict(self.fidelity),
                "latency_s": asdict(self.latency_s),
                "latency_from_request_s": asdict(self.latency_from_request_s),
                "throughput_hz": self.throughput_hz,
                "sim_time_s": self.sim_time_s,
                "wall_time_s": self.wall_time_s,
                "delay_breakdown_s": self.delay_breakdown_s,
                "pos": dict(self.pos),
                "qomq": {m.node: {k: v for k, v in asdict(m).items() if k != "node"} for m in self.qomq},
                "links": [asdict(row) for row in self.links],
                "requests": [asdict(row) for row in self.requests],
                "application": None if self.application is None else self.application.to_dict(),
                "scheduling": None if self.scheduling is None else self.scheduling.to_dict(),
                "seed": self.seed,
                "scenario": dict(self.scenario),
                **({} if self.summary is None else {"records": {
                    "mode": "summary", "reservoir_per_request": SUMMARY_RESERVOIR,
                    "exact_percentiles": self.summary.exact_percentiles}}),
            }
        )

    def table(self) -> str:
        """A short human-readable summary."""
        return render_table(self.to_dict())


def render_table(d: dict) -> str:
    """The human-readable table of a report's JSON form."""
    fid, lat = d["fidelity"], d["latency_s"]
    lines = _warning_lines(d) + [
        f"delivered pairs      {d['delivered']}",
        f"throughput           {num(d['throughput_hz'])} pairs/s",
        f"fidelity             mean {num(fid['mean'], '{:.4f}')}  std {num(fid['std'], '{:.4f}')}  min {num(fid['min'], '{:.4f}')}",
        f"latency              mean {num(lat['mean'])} s  p50 {num(lat['p50'])} s  p95 {num(lat['p95'])} s"
        "  (first attempt to delivery)",
    ]
    req = d.get("latency_from_request_s")
    if req is not None:
        lines.append(f"latency from request mean {num(req['mean'])} s  p50 {num(req['p50'])} s  p95 {num(req['p95'])} s")
    lines += [
        "delay breakdown      " + "  ".join(f"{k[:-2]} {num(v)} s" for k, v in d["delay_breakdown_s"].items()),
        "probability of success",
    ]
    lines += [f"  {k:<36} {num(v)}" for k, v in d["pos"].items()]
    lines.append("quality of matter qubits")
    for node, q in d["qomq"].items():
        lines.append(
            f"  {node:<12} absorption {num(q['absorption_efficiency'])}  extraction {num(q['extraction_efficiency'])}"
            f"  T1 {num(q['t1_s'])} s  T2 {num(q['t2_s'])} s  mean storage {num(q['mean_storage_s'])} s"
            f"  communication qubits {q['communication_qubits']} busy {num(q['communication_utilisation'])}"
        )
    lines += _link_lines(d["links"]) + _request_lines(d["requests"]) + _application_lines(d["application"])
    if d["scheduling"]:
        sched = d["scheduling"]
        lines.append(
            f"scheduling ({sched['policy']})  jobs {sched['jobs']}  requirements met {sched['requirements_met']}"
            f"  misses {' '.join(f'{heading} {sched[key]}' for key, heading in MISS_CAUSES)}"
            f"  fairness (Jain) {num(sched['fairness_index'], '{:.3f}')}"
        )
        lines.extend("  " + line for line in user_table(sched["users"]).splitlines())
    lines.append(f"simulated {num(d['sim_time_s'])} s in {num(d['wall_time_s'], '{:.3f}')} s wall, seed {d['seed']}")
    return "\n".join(lines)


def _warning_lines(d: dict) -> list[str]:
    """Visible first: a run that did not deliver what was asked, and pairs no better than classical."""
    lines = []
    if d.get("interrupted"):
        lines.append(f"INTERRUPTED at {num(d['sim_time_s'])} s of simulated time: what was delivered until then")
    if not d.get("complete", True):
        short = "  ".join(f"{r['request']} {r['delivered']}/{r['pairs_requested']}" for r in d["requests"]
                          if not r["complete"] or r["delivered"] < r["pairs_requested"])
        why = (f"the run stopped at max_time_s ({num(d['sim_time_s'])} s)" if d.get("stopped_at_max_time")
               else "jobs were not served in full (see scheduling)")
        lines.append(f"INCOMPLETE           {d['delivered']} of {d['pairs_requested']} requested pairs delivered: {why}  [{short}]")
    flagged = [(r["request"], r.get("pairs_at_or_below_half", 0)) for r in d["requests"]]
    if any(n for _, n in flagged):
        lines.append(
            f"WARNING              {sum(n for _, n in flagged)} pairs at fidelity <= 1/2 (no teleportation beyond the classical "
            "limit; not distillable if Werner)  [" + "  ".join(f"{name} {n}" for name, n in flagged if n) + "]"
        )
    return lines


def _link_lines(links: list[dict]) -> list[str]:
    if not links:
        return []
    lines = ["links"]
    for link in links:
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
    return lines


def _request_lines(requests: list[dict]) -> list[str]:
    if not requests:
        return []
    lines = ["requests"]
    for request in requests:
        lines.append(
            f"  {request['request']:<16} delivered {request['delivered']}/{request['pairs_requested']}"
            f"  mean F {num(request['mean_fidelity'], '{:.4f}')}  >= min F {request['meeting_min_fidelity']}"
            f"  cut-off discards {request['cutoff_discards']}"
            + (f"  F <= 1/2 {request['pairs_at_or_below_half']}" if request.get("pairs_at_or_below_half") else "")
        )
    return lines


def _application_lines(application: dict | None) -> list[str]:
    if not application:
        return []
    lines = [f"application ({application['kind']})"]
    for key, value in application.items():
        if key != "kind":
            shown = "  ".join(f"{k} {num(v)}" for k, v in value.items()) if isinstance(value, dict) else (
                num(value) if isinstance(value, float) else value)
            lines.append(f"  {key:<24} {shown}")
    return lines


#: The causes a scheduled job misses for, as (report key, column heading) in the tables.
MISS_CAUSES = (("rejected", "rej"), ("abandoned", "aband"), ("late", "late"), ("below_min_fidelity", "<minF"))


def miss_columns(section: dict) -> str:
    """The misses of a scheduling report's section (its totals or one user's) by cause,
    aligned under :func:`miss_headings`."""
    return "".join(f"{section[key]:>{len(heading) + 1}}" for key, heading in MISS_CAUSES)


def miss_headings() -> str:
    return "".join(f" {heading}" for _key, heading in MISS_CAUSES)


def user_table(users: Sequence[dict]) -> str:
    """Per-user rows of a scheduled run: throughput, fidelity, latency, jobs met and the
    misses by cause (rejected, abandoned, late, below min F)."""
    lines = [f"{'user':<14}{'jobs':>5}{'pairs':>9}{'rate/s':>9}{'mean F':>8}{'>=minF':>8}{'latency s':>11}{'met':>5}"
             + miss_headings()]
    for u in users:
        lines.append(
            f"{u['user'][:13]:<14}{u['jobs']:>5}{str(u['delivered']) + '/' + str(u['pairs_requested']):>9}"
            f"{num(u['throughput_hz'], '{:.3g}'):>9}{num(u['mean_fidelity'], '{:.3f}'):>8}"
            f"{u['pairs_meeting_min_fidelity']:>8}{num(u['latency_s'], '{:.3g}'):>11}{u['requirements_met']:>5}"
            + miss_columns(u)
        )
    return "\n".join(lines)
