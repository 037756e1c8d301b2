"""Running an experiment's scenario and comparing each simulated quantity with the measured one.

A quantity's simulated value is the mean over the experiment's seeds of the metric read off each
run; its statistical error is the standard error of that mean, ``s / sqrt(n)`` (0 for a metric
that does not depend on the seed, such as the exact per-attempt success probability).

Agreement: with ``d = simulated - measured`` and the measured error on the side the simulation
lies (``plus`` when ``d > 0``, ``minus`` otherwise),

    |d| <= K sqrt(sigma_measured^2 + sigma_simulated^2),   K = 2,

i.e. within two combined standard uncertainties (about 95 % for Gaussian errors; the papers
quote one standard deviation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from qstack.runner import run_scenario
from qstack.scenario import load_scenario

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
    simulated_error: float
    gap: str | None

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
            "agrees": self.agrees,
            "gap": self.gap,
        }


def _scaled_pairs(scenario: dict, fraction: float) -> dict[str, Any]:
    """``requests.<i>.pairs`` settings asking for ``fraction`` of each request's pairs (>= 2)."""
    return {f"requests.{i}.pairs": max(2, math.ceil(r.get("pairs", 1) * fraction))
            for i, r in enumerate(scenario.get("requests", []))}


def run_variant(experiment: Experiment, quantity: Quantity | None, seed: int, reduced: bool = False):
    """The report of one run of ``experiment``'s scenario (with ``quantity``'s variant) at ``seed``."""
    settings = experiment.settings(quantity)
    if reduced:
        settings.update(_scaled_pairs(dict(experiment.scenario), experiment.statistics.reduced_pairs_fraction))
    scenario = load_scenario(dict(experiment.scenario), settings=settings, seed=seed)
    return run_scenario(scenario)


def compare_experiment(experiment: Experiment, reduced: bool = False,
                       progress: Callable[[str], None] | None = None) -> tuple[Comparison, ...]:
    """Run every variant the experiment's quantities need over its seeds and compare."""
    seeds = experiment.statistics.reduced_seeds if reduced else experiment.statistics.seeds
    reports: dict[tuple, list] = {}
    out = []
    for quantity in experiment.quantities:
        variant = tuple(sorted((k, repr(v)) for k, v in quantity.settings.items()))
        if variant not in reports:
            if progress is not None:
                progress(f"{experiment.name}: running {dict(quantity.settings) or 'the scenario'} "
                         f"over {len(seeds)} seed(s)")
            reports[variant] = [run_variant(experiment, quantity, seed, reduced) for seed in seeds]
        values = np.array([METRICS[quantity.metric](report) for report in reports[variant]], dtype=float)
        values = values[np.isfinite(values)]
        simulated = float(values.mean()) if values.size else float("nan")
        error = float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else float("nan")
        out.append(Comparison(
            experiment=experiment.name,
            source=quantity.source,
            quantity=quantity.name,
            unit=quantity.unit,
            measured=quantity.measured,
            measured_error=quantity.error,
            simulated=simulated,
            simulated_error=error,
            gap=quantity.gap,
        ))
    return tuple(out)
