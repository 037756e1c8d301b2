"""The composition root: a scenario's typed specs -> hardware models -> a network in a simulation.

- :mod:`.devices`: presets and overrides become hardware models (idealised where the scenario
  switches physics off);
- :mod:`.usage`: which override keys can act in this scenario (one that cannot is refused);
- :mod:`.network`: the topology becomes a ``networkx`` graph of registered link models, and the
  network layer is built on it;
- :mod:`.purification`: the purification policy, with ``target_fidelity`` resolved to rounds.

Nothing here runs the simulation (:mod:`qstack.runner` does) or reports (:mod:`qstack.collect`).
"""

from .devices import Devices, idealized, resolve_devices
from .network import build_network
from .purification import predicted_fidelity, purification_policy

__all__ = ["Devices", "build_network", "idealized", "predicted_fidelity", "purification_policy", "resolve_devices"]
