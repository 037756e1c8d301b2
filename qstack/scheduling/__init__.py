"""Scheduling: many users' requests competing for scarce, perishable network resources.

- :mod:`.prediction`: what a planner predicts from the hardware (:class:`RouteModel`,
  :func:`route_state`);
- :mod:`.policies`: the :class:`Scheduler` interface and the registered policies (``fifo``,
  ``edf``, ``fair_share``, ``physics_informed``, ``idealized_informed``), :func:`make_scheduler`;
- :mod:`.dispatch`: jobs arriving over time and the :class:`Dispatcher` that serves them one
  end-to-end pair at a time as the scheduler decides; :func:`poisson_arrivals`;
- :mod:`.report`: the typed :class:`SchedulingReport` and :func:`jain_index`.

``SCHEDULERS`` is the registered policies' names, read from the registry at each access (so a
plugin's policy is among them once its module is imported).
"""

from qstack import registry as _registry

from .dispatch import Dispatcher, Job, poisson_arrivals
from .policies import (
    FIFO,
    EarliestDeadlineFirst,
    IdealizedInformed,
    PhysicsInformed,
    Scheduler,
    WeightedFairShare,
    make_scheduler,
    scheduler_names,
)
from .prediction import MODEL_IDEALIZATIONS, RouteModel, route_state
from .report import SchedulingReport, UserReport, jain_index

__all__ = [
    "Dispatcher",
    "EarliestDeadlineFirst",
    "FIFO",
    "IdealizedInformed",
    "Job",
    "MODEL_IDEALIZATIONS",
    "PhysicsInformed",
    "RouteModel",
    "SCHEDULERS",
    "Scheduler",
    "SchedulingReport",
    "UserReport",
    "WeightedFairShare",
    "jain_index",
    "make_scheduler",
    "poisson_arrivals",
    "route_state",
    "scheduler_names",
]


def __getattr__(name: str):
    # SCHEDULERS is derived from the registry, never a hand-kept tuple: computed when read.
    if name == "SCHEDULERS":
        return _registry.names("scheduler")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
