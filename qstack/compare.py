"""Side-by-side runs: the physics against idealised assumptions, and scheduler against scheduler.

``compare_idealized`` runs one scenario as it is and again with physics switched off (the
scenario's ``idealize`` list: memories that never decohere, certain generation, lossless
channels and devices, ideal gates, deterministic Bell measurements), all at once and each
separately, so a user sees how far an idealised prediction of rate, fidelity and latency is
from the physical result and which assumption accounts for how much.

``compare_schedulers`` runs one scenario under several scheduling policies (real physics for
all), including the idealised-designed scheduler, with per-user rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qstack.metrics import clean, num
from qstack.report import miss_columns, miss_headings, user_table
from qstack.runner import run_scenario
from qstack.scenario import IDEALIZATIONS, ScenarioError, load_scenario, scheduling_policies

METRICS = (
    ("throughput_hz", "rate [pairs/s]"),
    ("fidelity", "fidelity (mean)"),
    ("latency_s", "latency (mean) [s]"),
    ("delivered", "delivered pairs"),
)

_SHORT = {
    "decoherence": "no decoh.",
    "loss": "no loss",
    "probabilistic_generation": "certain gen.",
    "gate_noise": "ideal gates",
    "bsm": "ideal BSM",
}


def _summary(report) -> dict:
    return clean({
        "throughput_hz": report.throughput_hz,
        "fidelity": report.fidelity.mean,
        "latency_s": report.latency_s.mean,
        "delivered": report.delivered,
        "delay_breakdown_s": report.delay_breakdown_s,
    })


@dataclass(frozen=True)
class IdealizedComparison:
    """Results of the physical run, the fully idealised run and one run per assumption."""

    source: str
    idealize: tuple[str, ...]
    physical: dict
    idealized: dict
    each: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "scenario": self.source,
            "idealize": list(self.idealize),
            "physical": self.physical,
            "idealized": self.idealized,
            "each": self.each,
        }

    def table(self) -> str:
        def ratio(ideal, real):
            if ideal is None or real is None or real == 0:
                return "n/a"
            return f"{ideal / real:.3g}x"

        columns = ["physical", "idealised", "ideal/phys"] + [_SHORT.get(name, name) for name in self.each]
        lines = [
            f"scenario: {self.source}",
            f"idealised run switches off: {', '.join(self.idealize)}",
            f"{'':<22}" + "".join(f"{c:>14}" for c in columns),
        ]
        for key, label in METRICS:
            real, ideal = self.physical[key], self.idealized[key]
            row = [num(real), num(ideal), ratio(ideal, real)] + [num(run[key]) for run in self.each.values()]
            lines.append(f"{label:<22}" + "".join(f"{c:>14}" for c in row))
        if self.each:
            lines.append("(the last columns switch off one assumption at a time)")
        lines.append("latency by source [s] (physical / idealised)")
        for name, value in self.physical["delay_breakdown_s"].items():
            lines.append(f"  {name:<20} {num(value):>12} {num(self.idealized['delay_breakdown_s'][name]):>12}")
        return "\n".join(lines)


def compare_idealized(source=None, idealize: tuple[str, ...] = IDEALIZATIONS, settings: dict | None = None,
                      seed: int | None = None, each: bool = True) -> IdealizedComparison:
    """Run ``source`` with its physics and with ``idealize`` switched off (all, and each alone)."""
    for item in idealize:
        if item not in IDEALIZATIONS:
            raise ScenarioError(f"--idealize: unknown item {item!r}; allowed: {', '.join(IDEALIZATIONS)}")
    if not idealize:
        raise ScenarioError(f"--idealize: name at least one of {', '.join(IDEALIZATIONS)}")
    base = dict(settings or {})
    physical = load_scenario(source, settings={**base, "idealize": []}, seed=seed)
    runs = {"physical": _summary(run_scenario(physical))}
    ideal = load_scenario(source, settings={**base, "idealize": list(idealize)}, seed=seed)
    runs["idealized"] = _summary(run_scenario(ideal))
    single = {}
    if each and len(idealize) > 1:
        for item in idealize:
            single[item] = _summary(run_scenario(load_scenario(source, settings={**base, "idealize": [item]}, seed=seed)))
    return IdealizedComparison(physical.source, tuple(idealize), runs["physical"], runs["idealized"], single)


@dataclass(frozen=True)
class SchedulerComparison:
    """One scheduling report per policy, for the same scenario, seed and physics."""

    source: str
    reports: dict  # policy -> the report's "scheduling" section

    def to_dict(self) -> dict:
        return {"scenario": self.source, "schedulers": self.reports}

    def table(self) -> str:
        lines = [
            f"scenario: {self.source}",
            f"{'scheduler':<20}{'jobs':>6}{'met':>6}{miss_headings()}{'pairs >= min F':>16}{'fairness':>10}",
        ]
        for policy, sched in self.reports.items():
            lines.append(
                f"{policy:<20}{sched['jobs']:>6}{sched['requirements_met']:>6}{miss_columns(sched)}"
                f"{str(sched['pairs_meeting_min_fidelity']) + '/' + str(sched['delivered']):>16}"
                f"{num(sched['fairness_index'], '{:.3f}'):>10}"
            )
        for policy, sched in self.reports.items():
            lines.append("")
            lines.append(f"{policy}:")
            lines.extend("  " + line for line in user_table(sched["users"]).splitlines())
        return "\n".join(lines)


def compare_schedulers(source=None, policies: tuple[str, ...] | None = None, settings: dict | None = None,
                       seed: int | None = None) -> SchedulerComparison:
    """Run ``source`` under each scheduling policy (same seed, same physics)."""
    allowed = scheduling_policies()[1:]
    policies = allowed if policies is None else policies
    for policy in policies:
        if policy not in allowed:
            raise ScenarioError(f"--schedulers: unknown policy {policy!r}; allowed: {', '.join(allowed)}, or all")
    reports = {}
    name = None
    for policy in policies:
        scenario = load_scenario(source, settings={**(settings or {}), "scheduling.policy": policy}, seed=seed)
        name = scenario.source
        reports[policy] = run_scenario(scenario).scheduling.to_dict()
    return SchedulerComparison(name or "default", reports)
