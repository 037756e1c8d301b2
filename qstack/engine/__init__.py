"""Simulated time and the quantum state registry; exact outcome tables of operations; counted
resources of a run."""

from .exact import Outcome, evolve, outcomes
from .operation import Branch, Operation, noisy, permute_qubits
from .resources import SlotPool, call_now
from .simulation import Simulation
from .state import ENGINES, IdleModel, PreparedState, Qubit, StateRegistry

__all__ = [
    "Branch", "ENGINES", "IdleModel", "Operation", "Outcome", "PreparedState", "Qubit", "Simulation", "SlotPool",
    "StateRegistry", "call_now", "evolve", "noisy", "outcomes", "permute_qubits",
]
