"""The physics kernel: the one home of the states and channels every layer uses.

Nothing here knows about devices, simulated time or protocols; hardware models, the state
engine, the link layer, the planner, the distributed compiler and the applications all call it.

- :mod:`.states`: |Phi+>, the Bell basis, Werner states, fidelity to |Phi+>, the mean heralded
  state of a set of heralding outcomes.
- :mod:`.channels`: the T1/T2 idle-relaxation channel (with its fast, Bell-weight, Aer and
  circuit forms), depolarizing channels of a given fidelity, composed phase flips and the success
  probability of multiplexed attempts.
"""

from .channels import (
    Relaxation,
    composed_flip_probability,
    depolarizing_error_for_fidelity,
    depolarizing_parameter,
    minimum_fidelity,
    multiplexed_success_probability,
)
from .states import (
    BELL_PROJECTORS,
    PHI_PLUS,
    bell_fidelity,
    mean_heralded_state,
    werner_parameter,
    werner_state,
)

__all__ = [
    "BELL_PROJECTORS",
    "PHI_PLUS",
    "Relaxation",
    "bell_fidelity",
    "composed_flip_probability",
    "depolarizing_error_for_fidelity",
    "depolarizing_parameter",
    "mean_heralded_state",
    "minimum_fidelity",
    "multiplexed_success_probability",
    "werner_parameter",
    "werner_state",
]
