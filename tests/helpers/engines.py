"""The fast state engine against Qiskit Aer's density-matrix simulator on the same noisy circuits."""

import numpy as np
from qiskit.quantum_info import random_density_matrix

from qstack.engine import StateRegistry


def assert_engines_agree(operations, rho_seed: int, draw_seeds=range(3), atol: float = 1e-9) -> None:
    """Each operation applied by both engines to a random state of its qubits and two spectators
    (entangled with them: the conditional state of the rest of the world is compared too, and
    something remains when an operation discards all its qubits); Aer draws the outcome, the fast
    engine is told it, and the kept qubits' states must agree to ``atol``."""
    for k, operation in enumerate(operations):
        n = operation.num_qubits
        rho = random_density_matrix(2 ** (n + 2), seed=rho_seed + k)
        names = [f"q{i}" for i in range(n + 2)]
        kept = [i for i in range(n + 2) if i not in operation.discard]
        for seed in draw_seeds:
            aer = StateRegistry(np.random.default_rng(seed), engine="aer")
            qa = aer.new_qubits(names, rho=rho)
            outcome = aer.apply(operation, qa[:n])
            fast = StateRegistry(np.random.default_rng(seed), engine="fast")
            qf = fast.new_qubits(names, rho=rho)
            fast.apply(operation, qf[:n], outcome=outcome)
            np.testing.assert_allclose(fast.density_matrix([qf[i] for i in kept]),
                                       aer.density_matrix([qa[i] for i in kept]), atol=atol)
