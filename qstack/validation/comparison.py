"""Running an experiment's scenario and comparing each simulated quantity with the measured one.

A quantity's simulated value is the mean over the experiment's seeds of the metric read off each
run; its statistical error is the standard error of that mean, ``s / sqrt(n)`` (0 for a metric
that does not depend on the seed, such as the exact per-attempt success probability).

Agreement: with ``d = simulated - measured`` and the measured error on the side the simulation
lies (``plus`` when ``d > 0``, ``minus`` otherwise),

    |d| <= K sqrt(sigma_measured^2 + sigma_simulated^2),   K = 2,

i.e. within two combined standard uncertainties (about 95 % for Gaussian errors; the papers
quote one standard deviation).

``sigma_simulated`` has two parts, added in quadrature: the statistical error over the seeds and
the parameters' error. Every parameter whose source gives a standard uncertainty ``u``
(``uncertainty`` in the experiment file) is moved to ``value - u`` and ``value + u`` in turn, the
scenario run again over the same seeds, and ``(f(+u) - f(-u)) / 2`` (one-sided, ``f(+-u) -
f(value)``, where the other side leaves the parameter's allowed range) counted as its part: the
first-order propagation of the inputs' uncertainties (JCGM 100:2008, GUM, sec. 5.1). A simulated
value is only as certain as the figures it is simulated from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from qstack.runner import run_scenario
from qstack.scenario import ScenarioError, load_scenario

from .experiments import Experiment, Quantity
from .quantities import METRICS

#: Coverage factor: agreement within ``K`` combined standard uncertainties.
COVERAGE_FACTOR = 2.0


@dataclass(frozen=True)
class Comparison:
    """One quantity of one experiment: measured against simulated."""

    experiment: str
    source: str
    quantity: str
    unit: str
    measured: float
    measured_error: tuple[float, float]
    simulated: float
    statistical_error: float
    gap: str | None
    parameter_error: float = 0.0

    @property
    def simulated_error(self) -> float:
        """The simulated value's standard uncertainty: statistical and parameters' in quadrature."""
        return math.hypot(self.statistical_error, self.parameter_error)

    @property
    def combined_uncertainty(self) -> float:
        """``sqrt(sigma_measured^2 + sigma_simulated^2)``, the measured side facing the simulation."""
        minus, plus = self.measured_error
        side = plus if self.simulated > self.measured else minus
        return math.hypot(side, self.simulated_error)

    @property
    def deviation(self) -> float:
        """``(simulated - measured) / combined uncertainty`` (nan when nothing was simulated)."""
        if not math.isfinite(self.simulated):
            return float("nan")
        return (self.simulated - self.measured) / self.combined_uncertainty

    @property
    def agrees(self) -> bool:
        return math.isfinite(self.deviation) and abs(self.deviation) <= COVERAGE_FACTOR

    def to_dict(self) -> dict[str, Any]:
        """The ``qstack validate --json`` object (keys as the issue names them)."""
        minus, plus = self.measured_error
        return {
            "experiment": self.experiment,
            "source": self.source,
            "quantity": self.quantity,
            "unit": self.unit,
            "measured": self.measured,
            "measured_error": minus if minus == plus else [minus, plus],
            "simulated": self.simulated if math.isfinite(self.simulated) else None,
            "simulated_error": self.simulated_error if math.isfinite(self.simulated_error) else None,
            "simulated_error_parts": {
                "statistical": self.statistical_error if math.isfinite(self.statistical_error) else None,
                "parameters": self.parameter_error,
            },
            "agrees": self.agrees,
            "gap": self.gap,
        }


def _scaled_pairs(scenario: dict, fraction: float) -> dict[str, Any]:
    """``requests.<i>.pairs`` settings asking for ``fraction`` of each request's pairs (>= 2)."""
    return {f"requests.{i}.pairs": max(2, math.ceil(r.get("pairs", 1) * fraction))
            for i, r in enumerate(scenario.get("requests", []))}


def run_variant(experiment: Experiment, quantity: Quantity | None, seed: int, reduced: bool = False,
                moved: Mapping[str, Any] | None = None):
    """The report of one run of ``experiment``'s scenario (with ``quantity``'s variant) at ``seed``;
    ``moved``: parameters set to other values (the uncertainty propagation's runs)."""
    settings = experiment.settings(quantity)
    settings.update(moved or {})
    if reduced:
        settings.update(_scaled_pairs(dict(experiment.scenario), experiment.statistics.reduced_pairs_fraction))
    scenario = load_scenario(dict(experiment.scenario), settings=settings, seed=seed)
    return run_scenario(scenario)


def compare_experiment(experiment: Experiment, reduced: bool = False,
                       progress: Callable[[str], None] | None = None) -> tuple[Comparison, ...]:
    """Run every variant the experiment's quantities need over its seeds and compare."""
    seeds = experiment.statistics.reduced_seeds if reduced else experiment.statistics.seeds
    reports: dict[tuple, list | None] = {}
    uncertain = [p for p in experiment.parameters if p.uncertainty > 0]

    def runs(quantity: Quantity, moved: tuple[tuple[str, float], ...] = ()) -> list | None:
        """The reports over the seeds (cached per variant; None where a moved parameter leaves
        its allowed range)."""
        key = (tuple(sorted((k, repr(v)) for k, v in quantity.settings.items())), moved)
        if key not in reports:
            if progress is not None and not moved:
                progress(f"{experiment.name}: running {dict(quantity.settings) or 'the scenario'} "
                         f"over {len(seeds)} seed(s)")
            try:
                reports[key] = [run_variant(experiment, quantity, seed, reduced, dict(moved)) for seed in seeds]
            except ScenarioError:
                if not moved:
                    raise
                reports[key] = None
        return reports[key]

    def mean(quantity: Quantity, found: list) -> np.ndarray:
        values = np.array([METRICS[quantity.metric](report) for report in found], dtype=float)
        return values[np.isfinite(values)]

    out = []
    for quantity in experiment.quantities:
        values = mean(quantity, runs(quantity))
        simulated = float(values.mean()) if values.size else float("nan")
        error = float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else float("nan")
        parts = [_sensitivity(simulated, [_moved_mean(quantity, p, sign, runs, mean) for sign in (-1, 1)])
                 for p in uncertain if p.key not in quantity.settings]
        out.append(Comparison(
            experiment=experiment.name,
            source=quantity.source,
            quantity=quantity.name,
            unit=quantity.unit,
            measured=quantity.measured,
            measured_error=quantity.error,
            simulated=simulated,
            statistical_error=error,
            gap=quantity.gap,
            parameter_error=math.sqrt(sum(c * c for c in parts)),
        ))
    return tuple(out)


def _moved_mean(quantity: Quantity, parameter, sign: int, runs, mean) -> float | None:
    """The simulated value with ``parameter`` moved by ``sign`` standard uncertainties (None
    where that leaves its allowed range or gives no value)."""
    found = runs(quantity, ((parameter.key, parameter.value + sign * parameter.uncertainty),))
    if found is None:
        return None
    values = mean(quantity, found)
    return float(values.mean()) if values.size else None


def _sensitivity(central: float, sides: list[float | None]) -> float:
    """A parameter's part of the simulated uncertainty: half the change from ``-u`` to ``+u``, or
    the one-sided change where only one side is allowed (0 where neither is)."""
    low, high = sides
    if low is not None and high is not None:
        return (high - low) / 2
    if high is not None:
        return high - central
    if low is not None:
        return central - low
    return 0.0
