"""The search: candidates run on common seeds, penalised when infeasible, the best confirmed."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from qstack.scenario import ScenarioError, apply_setting, load_scenario
from qstack.sweep import metric_value, run_point, scenario_table

from .controls import Control, _full_key
from .results import Confirmation, Estimate, Evaluation, OptimizationResult

logger = logging.getLogger("qstack.optimize")


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
