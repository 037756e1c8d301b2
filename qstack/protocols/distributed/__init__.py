"""A monolithic circuit run over several nodes: partition, non-local gates, the compiled circuit.

The circuit level of distributed quantum computing; the application layer
(:mod:`qstack.applications`) brings the pairs, their arrival times and the nodes' hardware. One
module per stage:

1. :mod:`.logical`: :func:`logical_circuit` rewrites a Qiskit circuit into one- and two-qubit
   gates, every two-qubit gate in *controlled form* (the identity when its first qubit is
   ``|0>``). Measurements must be terminal.
2. :mod:`.partition`: :func:`partition_qubits` places qubits on nodes minimising the two-qubit
   gates across nodes: recursive Kernighan-Lin bisection of the interaction graph (edge weight:
   gates between two qubits), part sizes proportional to the nodes' capacities.
3. :mod:`.plan`: :func:`plan_distribution` turns each two-qubit gate across nodes into a
   **telegate** (the qubits stay) or **teledata** (one operand teleported; it stays there), one
   pair each; ``method="auto"`` picks what needs the fewest pairs over the next gates.
4. :mod:`.compile`: :func:`compile_distributed` writes the plan as the protocol circuit (ideal
   ``bell_pair`` gates, mid-circuit measurements, ``if_test`` corrections; exports to OpenQASM 3)
   and the simulated circuit (actual pair states, deferred measurements, gate noise and T1/T2
   relaxation of every waiting qubit at its :class:`NodeModel`), timed as soon as possible.
   :mod:`.circuits` holds the pieces it writes.
5. :mod:`.simulate`: :func:`simulate_distributed` runs the simulated circuit on Aer (statevector,
   density matrix or statevector trajectories) and gives the fidelity to the monolithic circuit:
   state fidelity of the logical qubits, or the Hellinger fidelity of the output distribution
   when the circuit measures.
"""

from qstack.physics import PHI_PLUS, werner_state

from .compile import CompiledCircuit, NodeModel, SuppliedPair, compile_distributed
from .logical import LogicalCircuit, LogicalGate, ideal_output, interaction_graph, logical_circuit
from .partition import check_partition, cut_gates, partition_qubits
from .plan import METHODS, DistributionPlan, LocalGate, Readout, Telegate, Teleport, link_of, plan_distribution
from .simulate import SIMULATIONS, SimulationOutcome, simulate_distributed

__all__ = [
    "METHODS",
    "PHI_PLUS",
    "SIMULATIONS",
    "CompiledCircuit",
    "DistributionPlan",
    "LocalGate",
    "LogicalCircuit",
    "LogicalGate",
    "NodeModel",
    "Readout",
    "SimulationOutcome",
    "SuppliedPair",
    "Telegate",
    "Teleport",
    "check_partition",
    "compile_distributed",
    "cut_gates",
    "ideal_output",
    "interaction_graph",
    "link_of",
    "logical_circuit",
    "partition_qubits",
    "plan_distribution",
    "simulate_distributed",
    "werner_state",
]
