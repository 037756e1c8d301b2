"""Validation against published experiments (``qstack validate``).

``validation/*.toml`` holds one file per experiment: its scenario, every device parameter with
its source, and its measured results with their error bars (:mod:`.experiments`). Each is run
through the ordinary runner and applications, and every simulated quantity is compared with the
measured one within the combined uncertainty (:mod:`.comparison`); :mod:`.quantities` reads
the simulated values off the reports, :mod:`.output` prints the table and draws the figures.
"""

from .comparison import COVERAGE_FACTOR, Comparison, compare_experiment
from .experiments import (
    Experiment,
    ExperimentError,
    Parameter,
    Quantity,
    experiments_dir,
    list_experiments,
    load_experiment,
    load_experiments,
)
from .output import plot, table
from .quantities import METRICS

__all__ = [
    "COVERAGE_FACTOR", "Comparison", "Experiment", "ExperimentError", "METRICS", "Parameter", "Quantity",
    "compare_experiment", "experiments_dir", "list_experiments", "load_experiment", "load_experiments", "plot",
    "table", "validate",
]


def validate(names=(), reduced: bool = False, progress=None) -> tuple[Comparison, ...]:
    """Run the named experiments (all when empty) and compare every quantity."""
    out: list[Comparison] = []
    for experiment in load_experiments(tuple(names)):
        out.extend(compare_experiment(experiment, reduced=reduced, progress=progress))
    return tuple(out)
