"""Simulated time and the quantum state registry."""

from .operation import Branch, Operation, noisy, permute_qubits
from .simulation import Simulation
from .state import ENGINES, IdleModel, PreparedState, Qubit, StateRegistry

__all__ = ["Branch", "ENGINES", "IdleModel", "Operation", "PreparedState", "Qubit", "Simulation", "StateRegistry", "noisy", "permute_qubits"]
