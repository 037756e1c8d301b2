"""What an optimisation reports: estimates with confidence intervals, candidates, the result."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .controls import Control

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """Mean of per-seed values with a two-sided Student-t confidence interval.

    ``ci = mean -+ t_{(1+c)/2, n-1} s / sqrt(n)`` with ``s`` the sample standard deviation;
    None bounds when fewer than two values.
    """

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int

    @classmethod
    def of(cls, values: Sequence[float], confidence: float = CONFIDENCE) -> "Estimate":
        from scipy import stats

        array = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
        if array.size == 0:
            return cls(None, None, None, 0)
        mean = float(array.mean())
        if array.size < 2:
            return cls(mean, None, None, 1)
        half = float(stats.t.ppf((1 + confidence) / 2, array.size - 1) * array.std(ddof=1) / math.sqrt(array.size))
        return cls(mean, mean - half, mean + half, int(array.size))

    def to_dict(self) -> dict:
        return {"mean": self.mean, "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n}

    def text(self, fmt: str = "{:.4g}") -> str:
        if self.mean is None:
            return "n/a"
        if self.ci_low is None:
            return fmt.format(self.mean)
        return f"{fmt.format(self.mean)} [{fmt.format(self.ci_low)}, {fmt.format(self.ci_high)}]"


@dataclass(frozen=True)
class Evaluation:
    """One candidate run on every search seed.

    ``objective``: mean of the metric over the seeds (NaN if a run failed or it is missing);
    ``worst_fidelity``: the lowest per-user mean fidelity over users and seeds (None if some
    user got no pair); ``shortfall``: mean over (seed, user) of ``max(0, target - F) / target``,
    1 for a user without pairs; ``cost``: what the optimiser minimises.
    """

    setting: tuple[tuple[str, float | int], ...]
    objective: float
    worst_fidelity: float | None
    feasible: bool
    shortfall: float
    cost: float
    error: str | None = None


@dataclass(frozen=True)
class Confirmation:
    """A setting re-run on the confirmation seeds."""

    setting: tuple[tuple[str, float | int], ...]
    objective: Estimate
    worst_fidelity: Estimate
    met: bool
    errors: int = 0

    def to_dict(self) -> dict:
        return {
            "setting": dict(self.setting),
            "objective": self.objective.to_dict(),
            "worst_user_mean_fidelity": self.worst_fidelity.to_dict(),
            "target_met": self.met,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class OptimizationResult:
    """The best setting found, confirmed on fresh seeds, and the default for comparison."""

    scenario: str
    objective: str
    maximize: bool
    min_fidelity: float | None
    controls: tuple[Control, ...]
    search_seeds: tuple[int, ...]
    confirm_seeds: tuple[int, ...]
    best: Evaluation | None
    confirmed: Confirmation | None
    default: Confirmation
    evaluations: int
    objective_calls: int
    feasible_evaluations: int
    rng_seed: int
    wall_time_s: float = field(compare=False)
    first_error: str | None = None
    interrupted: bool = False  # Ctrl-C stopped the search: best so far, not confirmed

    @property
    def target_met(self) -> bool:
        return self.confirmed is not None and self.confirmed.met

    def to_dict(self) -> dict:
        def clean(v):
            return None if isinstance(v, float) and not math.isfinite(v) else v

        best = None
        if self.best is not None:
            best = {
                "setting": dict(self.best.setting),
                "search_objective": clean(self.best.objective),
                "search_worst_user_mean_fidelity": self.best.worst_fidelity,
            }
        return {
            "scenario": self.scenario,
            "objective": self.objective,
            "maximize": self.maximize,
            "min_fidelity": self.min_fidelity,
            "controls": [
                {"key": c.key, "low": c.low, "high": c.high, "integer": c.integer, "log": c.log} for c in self.controls
            ],
            "optimizer": "scipy.optimize.differential_evolution",
            "rng_seed": self.rng_seed,
            "search_seeds": list(self.search_seeds),
            "confirm_seeds": list(self.confirm_seeds),
            "evaluations": self.evaluations,
            "objective_calls": self.objective_calls,
            "feasible_evaluations": self.feasible_evaluations,
            "best": best,
            "confirmed": None if self.confirmed is None else self.confirmed.to_dict(),
            "default": self.default.to_dict(),
            "target_met": self.target_met,
            "first_error": self.first_error,
            "wall_time_s": self.wall_time_s,
            **({"interrupted": True} if self.interrupted else {}),
        }

    def table(self) -> str:
        sense = "maximise" if self.maximize else "minimise"
        target = "" if self.min_fidelity is None else f" subject to every user's mean fidelity >= {self.min_fidelity:g}"
        lines = [
            f"scenario             {self.scenario}",
            f"objective            {sense} {self.objective}{target}",
            "controls             " + "  ".join(c.describe() for c in self.controls),
            f"search               differential evolution, rng seed {self.rng_seed}, seeds {_seeds_text(self.search_seeds)}:"
            f" {self.evaluations} settings run ({self.feasible_evaluations} feasible)",
        ]
        if self.best is None:
            lines.append("best setting         none feasible" + (f" (first error: {self.first_error})" if self.first_error else ""))
        else:
            lines.append("best setting         " + "  ".join(f"{k}={_value_text(v)}" for k, v in self.best.setting))
        lines.append(f"confirmed on seeds {_seeds_text(self.confirm_seeds)} (mean [95% CI])")
        lines.append(f"  {'setting':<10}{self.objective:>32}{'worst user mean F':>30}  target")
        rows = [("default", self.default)] + ([("best", self.confirmed)] if self.confirmed is not None else [])
        for name, conf in rows:
            verdict = "-" if self.min_fidelity is None else ("met" if conf.met else "missed")
            lines.append(f"  {name:<10}{conf.objective.text():>32}{conf.worst_fidelity.text('{:.4f}'):>30}  {verdict}")
        lines.append(f"{self.objective_calls} objective calls in {self.wall_time_s:.1f} s wall")
        if self.interrupted:
            lines.append("INTERRUPTED: the search stopped early; the best setting so far is not confirmed")
        return "\n".join(lines)


def _seeds_text(seeds: Sequence[int]) -> str:
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(str(s) for s in seeds)


def _value_text(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"
