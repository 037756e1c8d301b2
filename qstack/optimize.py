"""Control optimisation: search a scenario's controls for the best setting that meets a target.

Given a scenario, an objective read off its report (``throughput_hz`` by default, or any
numeric metric path of ``Report.to_dict()`` such as ``fidelity.mean`` or
``application.secret_key_rate_hz``), an optional fidelity floor for every user, and a few
controls (dotted scenario keys with bounds: ``link.cutoff_s``, ``purification.rounds``,
``link.multiplexing``, ``requests.0.pairs``, ``hardware.overrides.node.nuclear_spin.coupling_hz``,
``link.tree_branching.0``, ...), :func:`optimize` runs the scenario at candidate settings,
keeps the best feasible one, and confirms it on fresh seeds against the unoptimised default.

Every candidate runs the same search seeds (common random numbers), so the objective is a
deterministic function of the controls and two candidates differ by their settings only, not
by their luck. A candidate is feasible when, on every search seed, every user (each scheduled
user, else each request) received pairs whose mean fidelity is at least ``min_fidelity``.

The search is :func:`scipy.optimize.differential_evolution`: it needs no gradients (the
simulated objective is piecewise constant in the cut-off and integer in the rounds), searches
globally within bounds, handles integer controls through ``integrality``, and is reproducible
from one ``rng`` seed. The penalty ranks every infeasible candidate below every feasible one
(:func:`penalized_cost`), so no constraint handling of the optimiser is needed, and grows
with the fidelity shortfall, which steers the population towards the feasible region.

The chosen setting is re-run on ``confirm_seeds`` seeds disjoint from the search seeds, and its
objective and worst user's mean fidelity are reported as means with 95 % Student-t confidence
intervals, next to the default setting's on the same seeds.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from qstack.scenario import OVERRIDE_ROLES, ScenarioError, apply_setting, load_scenario
from qstack.sweep import metric_value, run_point, scenario_table

logger = logging.getLogger(__name__)

CONFIDENCE = 0.95
OVERRIDE_PREFIX = "hardware.overrides."
# Continuous control values are rounded to this many significant digits before a run, so a
# setting is reproducible from its printed value and nearby candidates share a cached run.
SIGNIFICANT_DIGITS = 4


@dataclass(frozen=True)
class Control:
    """One searched scenario key and its bounds.

    ``key`` is a dotted scenario key as in ``--set`` (``link.cutoff_s``); hardware overrides
    are ``hardware.overrides.<role>.<section>.<field>`` or the short form
    ``override:<role>.<section>.<field>``. ``integer`` controls take whole values in
    ``[low, high]``; ``log`` controls are searched uniformly in ``log10`` (``low > 0``).
    """

    key: str
    low: float
    high: float
    integer: bool = False
    log: bool = False

    def __post_init__(self) -> None:
        key = self.key.strip() if isinstance(self.key, str) else self.key
        if not isinstance(key, str) or not key:
            raise ValueError(f"control {self.key!r}: needs a dotted scenario key such as link.cutoff_s")
        key = _full_key(key)
        object.__setattr__(self, "key", key)
        parts = key.split(".")
        if any(not p for p in parts):
            raise ValueError(f"control {key}: not a dotted scenario key")
        if key.startswith(OVERRIDE_PREFIX):
            path = key[len(OVERRIDE_PREFIX):].split(".")
            if len(path) != 3 or path[0] not in OVERRIDE_ROLES:
                raise ValueError(
                    f"control {key}: override keys are hardware.overrides.<{'|'.join(OVERRIDE_ROLES)}>.<section>.<field>"
                )
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"control {key}: {name} must be a finite number, got {value!r}")
        if not self.low < self.high:
            raise ValueError(f"control {key}: needs low < high, got {self.low:g}:{self.high:g}")
        if self.integer and (float(self.low) != int(self.low) or float(self.high) != int(self.high)):
            raise ValueError(f"control {key}: integer bounds must be integers, got {self.low:g}:{self.high:g}")
        if self.log and self.low <= 0:
            raise ValueError(f"control {key}: a log-scaled control needs low > 0, got {self.low:g}")

    @classmethod
    def parse(cls, text: str) -> "Control":
        """``KEY=LOW:HIGH[:int][:log]`` as on the command line (``link.cutoff_s=1e-3:0.1:log``)."""
        key, sep, spec = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"control {text!r}: expected KEY=LOW:HIGH[:int][:log]")
        fields = [f.strip() for f in spec.split(":")]
        if len(fields) < 2:
            raise ValueError(f"control {key}: expected KEY=LOW:HIGH[:int][:log], got {spec!r}")
        flags = fields[2:]
        unknown = [f for f in flags if f not in ("int", "log")]
        if unknown:
            raise ValueError(f"control {key}: unknown flag {unknown[0]!r}; flags are int and log")
        try:
            low, high = float(fields[0]), float(fields[1])
        except ValueError:
            raise ValueError(f"control {key}: bounds must be numbers, got {fields[0]!r}:{fields[1]!r}") from None
        integer = "int" in flags
        if integer and low.is_integer() and high.is_integer():
            low, high = int(low), int(high)
        return cls(key, low, high, integer=integer, log="log" in flags)

    @property
    def search_bounds(self) -> tuple[float, float]:
        """Bounds in the optimiser's coordinate (``log10`` of the value for log controls)."""
        if self.log:
            return math.log10(self.low), math.log10(self.high)
        return float(self.low), float(self.high)

    def value(self, coordinate: float) -> float | int:
        """The scenario value at an optimiser coordinate, clipped to the bounds and rounded."""
        value = 10.0 ** coordinate if self.log else float(coordinate)
        if self.integer:
            return int(min(max(round(value), self.low), self.high))
        return min(max(float(f"{value:.{SIGNIFICANT_DIGITS}g}"), float(self.low)), float(self.high))

    def describe(self) -> str:
        flags = "".join(f":{f}" for f, on in (("int", self.integer), ("log", self.log)) if on)
        return f"{self.key}={self.low:g}:{self.high:g}{flags}"


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


def penalized_cost(objective: float, shortfall: float, feasible: bool, maximize: bool = True) -> float:
    """What the optimiser minimises: every infeasible candidate ranks below every feasible one.

    Feasible: ``-s / (1 + |s|)`` with ``s = objective`` (``-objective`` to minimise), an
    order-preserving map of any real objective into ``(-1, 1)``. Infeasible: ``1 + shortfall``
    (``shortfall`` in ``[0, 1]``, the normalised fidelity deficit), so a smaller deficit ranks
    higher. A candidate whose objective is not a finite number costs 3.
    """
    if not feasible:
        return 1.0 + min(max(shortfall, 0.0), 1.0)
    if not math.isfinite(objective):
        return 3.0
    signed = objective if maximize else -objective
    return -signed / (1.0 + abs(signed))


def _user_fidelities(report: dict) -> list[tuple[str, float | None]]:
    """``(user, mean fidelity)`` per scheduled user, else per request."""
    scheduling = report.get("scheduling")
    if scheduling and scheduling.get("users"):
        return [(u["user"], u["mean_fidelity"]) for u in scheduling["users"]]
    return [(r["request"], r["mean_fidelity"]) for r in report.get("requests", [])]


def _worst(fidelities: list[float | None]) -> float | None:
    """The lowest user mean fidelity of one run; None when a user got no pair (or no users)."""
    return None if not fidelities or any(f is None for f in fidelities) else min(fidelities)


def _full_key(key: str) -> str:
    """``override:role.section.field`` (the short form) as ``hardware.overrides.role.section.field``."""
    return OVERRIDE_PREFIX + key[len("override:"):] if key.startswith("override:") else key


class _Problem:
    """The scenario, seeds and target; runs candidates and caches them by their setting."""

    def __init__(self, table: dict, controls: tuple[Control, ...], objective: str, maximize: bool,
                 min_fidelity: float | None, seeds: tuple[int, ...]):
        self.table = table
        self.controls = controls
        self.objective = objective
        self.maximize = maximize
        self.min_fidelity = min_fidelity
        self.seeds = seeds
        self.cache: dict[tuple, Evaluation] = {}
        self.calls = 0
        self.progress: Callable[[int, int], None] | None = None
        self.planned = 0

    def setting(self, coordinates: Sequence[float]) -> tuple[tuple[str, float | int], ...]:
        return tuple((c.key, c.value(x)) for c, x in zip(self.controls, coordinates))

    def runs(self, setting: tuple[tuple[str, Any], ...], seeds: Sequence[int]) -> list[dict]:
        """``sweep.run_point`` outcomes for every seed (a failing run is a result, not a crash)."""
        return [run_point(self.table, dict(setting), seed) for seed in seeds]

    def summarise(self, outcomes: list[dict]) -> tuple[list[float], list[list[float | None]], str | None]:
        """Per seed: the objective and every user's mean fidelity (None: that user got no pair;
        no users for a failed run); and the first error."""
        objectives, fidelities, error = [], [], None
        for outcome in outcomes:
            if outcome["status"] != "ok":
                error = error or outcome["error"]
                objectives.append(math.nan)
                fidelities.append([])
                continue
            try:
                value = metric_value(outcome, self.objective)
            except KeyError:
                raise ValueError(
                    f"objective {self.objective}: not a metric of the report; e.g. throughput_hz, fidelity.mean, "
                    "latency_s.mean, application.secret_key_rate_hz"
                ) from None
            objectives.append(float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan)
            fidelities.append([f for _, f in _user_fidelities(outcome["report"])])
        return objectives, fidelities, error

    def evaluate(self, coordinates: Sequence[float]) -> float:
        self.calls += 1
        cost = self.evaluation(self.setting(coordinates)).cost
        if self.progress is not None:
            self.progress(self.calls, self.planned)
        return cost

    def evaluation(self, setting: tuple[tuple[str, float | int], ...]) -> Evaluation:
        if setting in self.cache:
            return self.cache[setting]
        outcomes = self.runs(setting, self.seeds)
        objectives, fidelities, error = self.summarise(outcomes)
        worst = [_worst(users) for users in fidelities]
        objective = float(np.mean(objectives)) if all(math.isfinite(v) for v in objectives) else math.nan
        shortfall, feasible = 0.0, error is None
        target = self.min_fidelity
        if target is not None and error is None:
            deficits = [1.0 if f is None else max(0.0, target - f) / target for users in fidelities for f in users]
            shortfall = float(np.mean(deficits)) if deficits else 1.0
            feasible = all(w is not None and w >= target for w in worst)
        elif error is not None:
            shortfall = 1.0
        evaluation = Evaluation(
            setting=setting,
            objective=objective,
            worst_fidelity=None if any(w is None for w in worst) else min(worst),
            feasible=feasible and math.isfinite(objective),
            shortfall=shortfall,
            cost=penalized_cost(objective, shortfall, feasible, self.maximize),
            error=error,
        )
        self.cache[setting] = evaluation
        return evaluation

    def confirm(self, setting: tuple[tuple[str, Any], ...], seeds: Sequence[int]) -> Confirmation:
        """Mean and CI over ``seeds``; the target is met when every run delivered pairs to every
        user and the mean over seeds of the worst user's mean fidelity reaches it."""
        outcomes = self.runs(setting, seeds)
        objectives, fidelities, _ = self.summarise(outcomes)
        worst = [_worst(users) for users in fidelities]
        fidelity = Estimate.of([w for w in worst if w is not None])
        met = self.min_fidelity is None or (
            all(w is not None for w in worst) and fidelity.mean is not None and fidelity.mean >= self.min_fidelity
        )
        errors = sum(o["status"] != "ok" for o in outcomes)
        return Confirmation(setting, Estimate.of(objectives), fidelity, met, errors)


def _seed_list(name: str, seeds: int | Sequence[int], start: int) -> tuple[int, ...]:
    if isinstance(seeds, bool):
        raise ValueError(f"{name}: expected a count or a list of seeds, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"{name}: must be >= 1, got {seeds}")
        return tuple(range(start, start + seeds))
    out = tuple(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in out):
        raise ValueError(f"{name}: must be non-empty integers >= 0, got {list(out)!r}")
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: a seed is given twice in {list(out)!r}")
    return out


def optimize(
    scenario_source: str | Path | dict | None,
    controls: Sequence[Control | str],
    objective: str = "throughput_hz",
    min_fidelity: float | None = None,
    seeds: int | Sequence[int] = 3,
    budget: int = 60,
    settings: dict[str, Any] | None = None,
    rng_seed: int = 0,
    confirm_seeds: int | Sequence[int] = 10,
    maximize: bool = True,
    popsize: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> OptimizationResult:
    """Search ``controls`` for the best ``objective`` with every user's mean fidelity >= ``min_fidelity``.

    ``scenario_source``: a path, a raw table or None (the bundled default); ``settings``: fixed
    ``--set`` overrides applied before the controls. ``seeds``: the search seeds (a count N
    means the scenario's seed and the N-1 following); ``confirm_seeds``: the confirmation seeds
    (a count N means the N seeds after the largest search seed), disjoint from the search seeds.
    ``budget``: the most objective calls of the optimiser (at least 5; distinct settings run
    once, each on every search seed). ``popsize``: population per control of differential
    evolution; the number of generations follows from the budget. Raises ``ValueError`` (a
    ``ScenarioError`` for scenario problems) naming the bad control, objective or seed list.
    ``progress(calls, planned_calls)`` is called after every objective call. Ctrl-C during the
    search returns the best setting so far, unconfirmed, with ``interrupted`` set.
    """
    from scipy.optimize import differential_evolution

    wall_start = time.perf_counter()
    parsed = tuple(c if isinstance(c, Control) else Control.parse(c) for c in controls)
    if not parsed:
        raise ValueError("controls: at least one control is needed")
    keys = [c.key for c in parsed]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise ValueError(f"control {key}: given twice")
    settings = {_full_key(key): value for key, value in (settings or {}).items()}
    for key in keys:
        if key in settings:
            raise ValueError(f"control {key}: also given as a fixed setting (--set)")
    if min_fidelity is not None and not 0.0 < min_fidelity <= 1.0:
        raise ValueError(f"min_fidelity: must be in (0, 1], got {min_fidelity!r}")
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ValueError(f"budget: must be an integer >= 1, got {budget!r}")
    if isinstance(popsize, bool) or not isinstance(popsize, int) or popsize < 1:
        raise ValueError(f"popsize: must be an integer >= 1, got {popsize!r}")

    base = load_scenario(scenario_source, settings=settings)  # names a missing file or a bad setting
    table = scenario_table(scenario_source)
    for key, value in settings.items():
        apply_setting(table, key, value)
    search = _seed_list("seeds", seeds, base.seed)
    confirm = _seed_list("confirm_seeds", confirm_seeds, max(search) + 1)
    if set(search) & set(confirm):
        raise ValueError(f"confirm_seeds: must differ from the search seeds; {sorted(set(search) & set(confirm))[0]} is in both")

    problem = _Problem(table, parsed, objective, maximize, min_fidelity, search)
    # Every control must be settable at both bounds (with the others as in the scenario); the
    # network is built too, since hardware overrides are checked against the presets there.
    from qstack.engine import Simulation
    from qstack.build import build_network

    for control in parsed:
        for bound in (control.low, control.high):
            value = int(bound) if control.integer else float(bound)
            try:
                scenario = load_scenario(table, settings={control.key: value})
                build_network(scenario, Simulation(scenario.seed, engine=scenario.engine))
            except ScenarioError as exc:
                raise ScenarioError(f"control {control.key}={value:g}: {exc}") from exc

    default = problem.confirm((), confirm)  # first, so a bad objective fails before the search

    # differential_evolution evaluates (maxiter + 1) generations of max(5, popsize * controls)
    # members; a budget smaller than one generation shrinks the population (never below 5).
    popsize = max(1, min(popsize, budget // len(parsed)))
    members = max(5, popsize * len(parsed))
    maxiter = max(0, budget // members - 1)
    bounds = [c.search_bounds for c in parsed]
    integrality = [c.integer and not c.log for c in parsed]
    x0 = _default_coordinates(base.to_dict(), parsed)
    problem.progress, problem.planned = progress, (maxiter + 1) * members
    interrupted = False
    try:
        differential_evolution(
            problem.evaluate,
            bounds,
            maxiter=maxiter,
            popsize=popsize,
            init="latinhypercube",
            polish=False,
            updating="deferred",
            integrality=integrality,
            rng=np.random.default_rng(rng_seed),
            x0=x0,
            tol=0.0,
        )
    except KeyboardInterrupt:
        interrupted = True
        logger.info("optimize: interrupted after %d objective calls", problem.calls)

    evaluations = list(problem.cache.values())
    feasible = [e for e in evaluations if e.feasible]
    # The optimiser's best point is the lowest cost; ties go to the first setting found.
    best = min(feasible, key=lambda e: e.cost) if feasible else None
    confirmed = problem.confirm(best.setting, confirm) if best is not None and not interrupted else None
    first_error = next((e.error for e in evaluations if e.error), None)
    return OptimizationResult(
        scenario=base.source,
        objective=objective,
        maximize=maximize,
        min_fidelity=min_fidelity,
        controls=parsed,
        search_seeds=search,
        confirm_seeds=confirm,
        best=best,
        confirmed=confirmed,
        default=default,
        evaluations=len(evaluations),
        objective_calls=problem.calls,
        feasible_evaluations=len(feasible),
        rng_seed=rng_seed,
        wall_time_s=time.perf_counter() - wall_start,
        first_error=first_error,
        interrupted=interrupted,
    )


def _default_coordinates(data: dict, controls: tuple[Control, ...]) -> list[float] | None:
    """The scenario's own values of the controls, as a starting member, when all lie within
    the bounds (so the search never ends worse than the default)."""
    out = []
    for control in controls:
        try:  # the scenario's data read as a record: dotted keys, indices, flat override names
            value = metric_value(data, control.key)
        except KeyError:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not control.low <= value <= control.high:
            return None
        out.append(math.log10(value) if control.log else float(value))
    return out
