"""Device models that turn hardware parameters into Aer noise and timing.

Importable as ``qstack.hardware``. Every model is a frozen, validated dataclass whose methods
return plain floats or ``qiskit_aer.noise`` errors; presets in ``presets/*.toml`` give cited
parameter sets per technology (:func:`list_presets`, :func:`load_preset`).
"""

from .channels import EARTH_RADIUS_KM, SPEED_OF_LIGHT_M_PER_S, Channel, Fiber, FreeSpace, slant_range_km
from .detectors import Detector
from .emitters import Emitter, PairSource
from .memories import Memory, NuclearSpinRegister
from .preset_loader import Preset, PresetParameter, field_unit, list_presets, load_preset
from .transducers import Transducer
from .tree_encoding import TreeCode, best_branching

__all__ = [
    "EARTH_RADIUS_KM",
    "SPEED_OF_LIGHT_M_PER_S",
    "Channel",
    "Detector",
    "Emitter",
    "Fiber",
    "FreeSpace",
    "Memory",
    "NuclearSpinRegister",
    "PairSource",
    "Preset",
    "PresetParameter",
    "Transducer",
    "TreeCode",
    "best_branching",
    "field_unit",
    "list_presets",
    "load_preset",
    "slant_range_km",
]
