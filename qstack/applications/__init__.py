"""The application layer: what runs on the pairs a network delivers.

- :mod:`~qstack.applications.base`: the :class:`Application` interface (registered under
  ``qstack.register("application", name)``), its :class:`ApplicationSpec`, typed results and
  the one :class:`PairCollector` of delivered pairs;
- :mod:`~qstack.applications.qkd`, :mod:`~qstack.applications.teleportation`,
  :mod:`~qstack.applications.ghz`: the scenario applications ``qkd``, ``teleportation`` and
  ``ghz``, and :func:`qkd_over_network` (BBM92 on a request served in code);
- :mod:`~qstack.applications.distributed`: :func:`run_distributed`, a Qiskit circuit run
  across nodes on delivered pairs.

Importing this package registers the built-in applications.
"""

from .base import (
    Application,
    ApplicationResult,
    ApplicationSpec,
    FidelityStats,
    NoPairsResult,
    PairCollector,
    aged_pair,
)
# Imported in the order the built-ins are listed (as the scenario's choices were: qkd, teleportation, ghz).
from .qkd import NetworkQKD, QKDApplication, QKDResult, qkd_over_network  # isort: skip
from .teleportation import TeleportationApplication, TeleportationResult  # isort: skip
from .ghz import GHZApplication, GHZResult  # isort: skip
from .distributed import DistributedResult, run_distributed  # isort: skip

__all__ = [
    "Application",
    "ApplicationResult",
    "ApplicationSpec",
    "DistributedResult",
    "FidelityStats",
    "GHZApplication",
    "GHZResult",
    "NetworkQKD",
    "NoPairsResult",
    "PairCollector",
    "QKDApplication",
    "QKDResult",
    "TeleportationApplication",
    "TeleportationResult",
    "aged_pair",
    "qkd_over_network",
    "run_distributed",
]
