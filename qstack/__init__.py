"""qstack: a physics-informed, circuit-level quantum network protocol stack.

The layers and what each may import are in ARCHITECTURE.md. The public entry points:

- ``qstack.simulate(graph, requests, seed=..., max_time_s=...)`` runs a network composed in
  code and returns the typed :class:`~qstack.report.Report` (``report.fidelity.mean``, ...);
- ``qstack.run_scenario(qstack.load_scenario(path))`` does the same for a scenario file;
- ``qstack.register(kind, name)`` / ``qstack.registered(kind)``: the registries of link schemes,
  schedulers, routing, purification, applications and topologies.

Heavier names load on first use, so ``import qstack`` stays cheap.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from qstack.registry import register, registered  # noqa: E402

_LAZY = {
    "simulate": "qstack.runner",
    "run_scenario": "qstack.runner",
    "load_scenario": "qstack.scenario",
    "Request": "qstack.network",
    "Report": "qstack.report",
}

__all__ = ["__version__", "register", "registered", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qstack' has no attribute {name!r}")


try:  # the reinforcement-learning environment, with the optional "rl" extra
    import gymnasium as _gymnasium
except ImportError:
    pass
else:
    # The entry point is a string: qstack.gym_env (and the simulator) load only on make().
    if "qstack/Scheduling-v0" not in _gymnasium.registry:
        _gymnasium.register(id="qstack/Scheduling-v0", entry_point="qstack.gym_env:SchedulingEnv")
    del _gymnasium
