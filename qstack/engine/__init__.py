"""Simulated time and the quantum state registry."""

from .operation import Branch, Operation, noisy
from .simulation import Simulation
from .state import ENGINES, IdleModel, PreparedState, Qubit, StateRegistry

__all__ = ["Branch", "ENGINES", "IdleModel", "Operation", "PreparedState", "Qubit", "Simulation", "StateRegistry", "noisy"]
