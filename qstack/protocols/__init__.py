"""Circuit-level protocols: entanglement swapping and purification, as noisy engine operations."""

from .noise import GateNoise
from .purification import (
    purification_operation,
    purification_succeeded,
    pump,
    purify,
    purify_rounds,
)
from .swapping import swap, swap_operation, swap_succeeded, swap_with_probability

__all__ = [
    "GateNoise",
    "pump",
    "purification_operation",
    "purification_succeeded",
    "purify",
    "purify_rounds",
    "swap",
    "swap_operation",
    "swap_succeeded",
    "swap_with_probability",
]

from .teleportation import teleport, teleportation_circuit, teleportation_operation  # noqa: E402

__all__ += ["teleport", "teleportation_circuit", "teleportation_operation"]

from .ghz import distribute_ghz, ghz_fidelity, ghz_fusion_operation, ghz_operation, ghz_state  # noqa: E402
from .qkd import BBM92Result, bbm92, bbm92_operation, qber, secret_key_fraction  # noqa: E402

__all__ += ["distribute_ghz", "ghz_fidelity", "ghz_fusion_operation", "ghz_operation", "ghz_state"]
__all__ += ["BBM92Result", "bbm92", "bbm92_operation", "qber", "secret_key_fraction"]

from .nonlocal_gates import telegate, telegate_circuit, telegate_operation  # noqa: E402

__all__ += ["telegate", "telegate_circuit", "telegate_operation"]
