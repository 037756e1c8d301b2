"""Physical layer: heralded entanglement generation over one link.

- :mod:`.model`: the :class:`LinkModel` interface every link model implements, and
  :class:`HeraldedState`;
- :mod:`.node`: :class:`NodeHardware`, a node's devices, and :class:`Storage`, which qubit holds
  a heralded pair while it waits for the herald and after the move into long-lived storage;
- :mod:`.heralded`: :class:`HeraldedLink`, what the heralding schemes share;
- :mod:`.schemes`: the registered heralding schemes (``single_click``, ``double_click``,
  ``midpoint_source``), each its own class; :mod:`.source_swap`: ``node_sources`` (a pair
  source at each node, a photonic Bell-state measurement, multi-pair emission);
  :mod:`.photon_qubits`: ``polarisation_photons`` (one spin-entangled photon per node, a
  photonic Bell-state measurement);
- :mod:`.optics`: the station's measurement instrument and the schemes' circuits.

Tree-encoded photons and memory-less repeater chains are in :mod:`qstack.all_photonic`.
"""

from .heralded import HeraldedLink, heralded_schemes, scheme_class
from .model import HeraldedState, LinkModel, LinkSetting
from .node import PAIR_STORAGES, NodeHardware, Storage
from .optics import detection_kraus
from .schemes import DoubleClick, EmitterLink, MidpointSource, SingleClick
from .source_swap import NodeSources
from .photon_qubits import PolarisationPhotons

__all__ = [
    "DoubleClick", "EmitterLink", "HeraldedLink", "HeraldedState", "LinkModel", "LinkSetting", "MidpointSource", "NodeHardware",
    "NodeSources", "PAIR_STORAGES", "PolarisationPhotons",
    "SCHEMES", "SingleClick", "Storage", "detection_kraus", "heralded_schemes", "scheme_class",
]


def __getattr__(name: str):
    # Read at each access, so schemes that plugins register later are included.
    if name == "SCHEMES":
        return tuple(heralded_schemes())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
