"""A Qiskit circuit run across the nodes of a network, on the pairs the network delivers.

:func:`run_distributed` takes a monolithic ``QuantumCircuit`` and a placement of its qubits on
nodes, turns every two-qubit gate across nodes into a telegate or teledata
(:mod:`qstack.protocols.distributed`), asks the network for the pairs those need, and simulates
the distributed circuit with each pair in the *actual* two-qubit state the network delivered
(read off the state engine through :attr:`qstack.network.Network.delivery_hooks`), the nodes'
gate noise and the relaxation of every qubit while it waits. Without a network, pairs are ideal
``|Phi+>`` (or ``pair_state``), gates ideal and instantaneous.

Composing a whole stack in a few lines (ready for the README)::

    import networkx as nx
    from qiskit import QuantumCircuit, qasm3
    from qstack.applications import run_distributed
    from qstack.engine import Simulation
    from qstack.hardware import Fiber, load_preset
    from qstack.network import Network
    from qstack.physical import HeraldedLink, NodeHardware

    ion = load_preset("trapped_ion")
    node = NodeHardware(memory=ion.memory, emitter=ion.emitter)
    link = HeraldedLink(node, node, Fiber(1.0), Fiber(1.0), ion.detector, scheme="double_click")
    graph = nx.path_graph(["alice", "bob", "carol"])
    nx.set_node_attributes(graph, node, "hardware")
    nx.set_edge_attributes(graph, link, "link")
    network = Network(Simulation(seed=1), graph)

    ghz = QuantumCircuit(6)
    ghz.h(0)
    for q in range(5):
        ghz.cx(q, q + 1)
    placement = {0: "alice", 1: "alice", 2: "bob", 3: "bob", 4: "carol", 5: "carol"}
    result = run_distributed(ghz, placement, network)
    print(result.fidelity, result.latency_s, result.pairs_used)
    print(qasm3.dumps(result.circuit))  # or result.circuit.draw(), or run it on any backend

``partition="auto"`` places the qubits itself (fewest gates across nodes, sizes balanced by
the nodes' memory capacities); ``method="teledata"`` or ``"auto"`` moves qubits instead of
gates where that needs fewer pairs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, Statevector

from qstack.metrics import bell_fidelity
from qstack.network import Network, Request
from qstack.protocols.distributed import (
    PHI_PLUS,
    NodeModel,
    SuppliedPair,
    compile_distributed,
    ideal_output,
    logical_circuit,
    partition_qubits,
    plan_distribution,
    simulate_distributed,
)

from .base import PairCollector, node_gate_noise


@dataclass(frozen=True)
class DistributedResult:
    """The outcome of one distributed run.

    fidelity: to the ideal monolithic circuit: state fidelity of the logical qubits, or the
        Hellinger fidelity of the output distribution when the circuit measures.
    fidelity_stderr: its standard error (0 when computed exactly).
    latency_s: from the start (pairs requested) to the end of the last operation [s].
    pairs_used: Bell pairs consumed (one per telegate or teleportation).
    circuit: the distributed protocol circuit (one register per node, ideal ``bell_pair`` gates
        standing for the pairs, mid-circuit measurements, ``if_test`` corrections): draw it,
        export it with ``qiskit.qasm3.dumps``, or run it on any backend.
    logical_qubits: the ``circuit`` qubit that holds each logical qubit at the end.
    final_state: the logical qubits' state at the end (qubit ``i`` is logical qubit ``i``;
        ``None`` for trajectories); with measurements, just before readout (flips included).
    counts: output counts over the circuit's clbits, when it measures.
    simulation: ``"statevector"`` (pure, exact), ``"density_matrix"`` (exact) or
        ``"trajectories"`` (statevector trajectories, estimated).
    method: ``"telegate"``, ``"teledata"`` or ``"auto"``.
    partition / final_partition: node of each qubit at the start / end (teledata moves them).
    cut_gates: two-qubit gates across nodes under the initial partition.
    telegates / teleportations: how the non-local gates were done.
    pairs_by_link: pairs used between each two nodes (names sorted).
    pair_fidelities: ``<Phi+|rho|Phi+>`` of each pair used, at its arrival.
    noisy_circuit: what was simulated (actual pairs, noise as ``kraus``, deferred measurements).
    wall_time_s: wall-clock time of the whole call [s].
    """

    fidelity: float
    latency_s: float
    pairs_used: int
    circuit: QuantumCircuit
    logical_qubits: tuple
    final_state: Statevector | DensityMatrix | None
    counts: dict[str, int] | None
    fidelity_stderr: float
    simulation: str
    method: str
    partition: dict[int, str]
    final_partition: dict[int, str]
    cut_gates: int
    telegates: int
    teleportations: int
    pairs_by_link: dict[tuple[str, str], int]
    pair_fidelities: tuple[float, ...]
    noisy_circuit: QuantumCircuit
    wall_time_s: float


def run_distributed(
    circuit: QuantumCircuit,
    partition: Mapping[int, str] | str,
    network: Network | Any | None = None,
    *,
    method: str = "telegate",
    nodes: Sequence[str] | int | None = None,
    capacities: Mapping[str, int | None] | None = None,
    pair_state: object | None = None,
    simulation: str = "auto",
    shots: int = 1024,
    trajectories: int = 100,
    max_density_qubits: int = 10,
    lookahead: int = 16,
    seed: int | None = None,
    max_time_s: float = math.inf,
) -> DistributedResult:
    """Run ``circuit`` distributed over nodes, on pairs from ``network`` (or ideal ones).

    Parameters
    ----------
    circuit:
        Any Qiskit circuit of gates, optionally ending in measurements.
    partition:
        ``{qubit index: node name}``, or ``"auto"`` (see
        :func:`qstack.protocols.distributed.partition_qubits`).
    network:
        A :class:`qstack.network.Network` (for a scenario's, build it with
        :func:`qstack.build.build_network`), or ``None``:
        ideal pairs, ideal instantaneous gates, latency 0. With a network, the pairs each two
        nodes need are requested at once (one :class:`~qstack.network.Request` per pair of
        nodes, submitted at the simulation's current time), the simulation runs until they are
        delivered, and each pair enters the circuit in the state it had on delivery, relaxing
        in its two memories until used. Node gate noise is
        :meth:`GateNoise.from_memory <qstack.protocols.GateNoise.from_memory>` of its memory
        (unless the network was built with ``gate_noise=False``), relaxation its memory bank's
        T1/T2 (unless ``decoherence=False``), gate and readout durations its memory's.
    method:
        ``"telegate"``, ``"teledata"`` or ``"auto"`` (fewest pairs).
    nodes:
        For ``partition="auto"``: node names, or a number of nodes (named ``node0``...);
        default all the network's nodes.
    capacities:
        Logical qubits each node may hold (default: its memory capacity with a network,
        unbounded without).
    pair_state:
        Without a network: the state of every pair (4x4 density matrix, the first node's half
        as qubit 0; default ``|Phi+>``).
    simulation, shots, trajectories, max_density_qubits:
        See :func:`qstack.protocols.distributed.simulate_distributed`.
    lookahead:
        Two-qubit gates looked ahead by ``method="auto"``/``"teledata"``.
    seed:
        Seeds the simulator and sampled counts (default: drawn from the network's run
        generator, or 0 without a network).
    max_time_s:
        Simulated time the network may take to deliver the pairs [s].
    """
    wall_start = time.perf_counter()
    if network is not None and not isinstance(network, Network):
        raise ValueError(f"network must be a qstack Network or None, got {type(network).__name__}")
    if network is not None and pair_state is not None:
        raise ValueError("pair_state is for runs without a network; the network's pairs are used")
    logical = logical_circuit(circuit)
    if network is not None:
        graph_nodes = list(network.graph.nodes)
        if capacities is None:
            capacities = {n: network.banks[n].capacity for n in graph_nodes}
    else:
        graph_nodes = None
        capacities = dict(capacities or {})
    if isinstance(partition, str):
        if partition != "auto":
            raise ValueError(f"partition must be a mapping qubit -> node or 'auto', got {partition!r}")
        partition = partition_qubits(logical, _auto_nodes(nodes, graph_nodes), capacities)
    elif graph_nodes is not None:
        unknown = sorted({str(n) for n in dict(partition).values()} - {str(n) for n in graph_nodes})
        if unknown:
            raise ValueError(f"partition names nodes {unknown} that the network does not have")
    plan = plan_distribution(logical, partition, method, capacities, lookahead)

    if network is not None:
        rng = network.sim.rng
        pairs, start_s = _network_pairs(network, plan.pairs_needed, max_time_s)
        models = {n: _node_model(network, n) for n in network.graph.nodes}
        delays: dict[tuple[str, str], float] = {}

        def classical_delay_s(a: str, b: str) -> float:
            if (a, b) not in delays:
                path = network.route(a, b)
                delays[(a, b)] = delays[(b, a)] = network.classical_delay_s(path, 0, len(path) - 1)
            return delays[(a, b)]

        compiled = compile_distributed(plan, pairs, models, classical_delay_s)
    else:
        rng = np.random.default_rng(0 if seed is None else seed)
        pair = SuppliedPair(PHI_PLUS if pair_state is None else pair_state)
        pairs = {link: [pair] * count for link, count in plan.pairs_needed.items()}
        compiled = compile_distributed(plan, pairs)
    simulator_seed = int(rng.integers(2**31 - 1)) if seed is None else int(seed)
    outcome = simulate_distributed(
        compiled,
        simulation=simulation,
        shots=shots,
        trajectories=trajectories,
        seed=simulator_seed,
        max_density_qubits=max_density_qubits,
        ideal=ideal_output(logical),
    )
    return DistributedResult(
        fidelity=outcome.fidelity,
        latency_s=compiled.latency_s,
        pairs_used=plan.pairs_used,
        circuit=compiled.circuit,
        logical_qubits=compiled.logical_qubits,
        final_state=outcome.final_state,
        counts=outcome.counts,
        fidelity_stderr=outcome.fidelity_stderr,
        simulation=outcome.simulation,
        method=method,
        partition=plan.partition,
        final_partition=plan.final_partition,
        cut_gates=plan.cut_gates,
        telegates=plan.telegates,
        teleportations=plan.teleportations,
        pairs_by_link=dict(plan.pairs_needed),
        pair_fidelities=tuple(bell_fidelity(p.rho) for p in compiled.pairs),
        noisy_circuit=compiled.noisy_circuit,
        wall_time_s=time.perf_counter() - wall_start,
    )


def _auto_nodes(nodes, graph_nodes) -> list[str]:
    if nodes is None:
        if graph_nodes is None:
            raise ValueError("partition='auto' without a network needs nodes=[names] or nodes=<count>")
        return list(graph_nodes)
    if isinstance(nodes, (int, np.integer)) and not isinstance(nodes, bool):
        if nodes < 1:
            raise ValueError(f"nodes must be >= 1, got {nodes}")
        return [f"node{i}" for i in range(int(nodes))]
    nodes = list(nodes)
    if graph_nodes is not None:
        unknown = [n for n in nodes if n not in graph_nodes]
        if unknown:
            raise ValueError(f"nodes {unknown} are not in the network")
    return nodes


def _network_pairs(
    network: Network, needed: Mapping[tuple[str, str], int], max_time_s: float
) -> tuple[dict[tuple[str, str], list[SuppliedPair]], float]:
    """Request the pairs, run the simulation until they arrive, and collect their states.

    Returns pairs per link with ``ready_s`` counted from the start, and the start [s].
    """
    env = network.sim.env
    start_s = float(env.now)
    if not needed:
        return {}, start_s
    requests = {
        link: Request(link[0], link[1], pairs=count, name=f"application {link[0]}-{link[1]}")
        for link, count in needed.items()
    }
    with PairCollector(network, [r.label for r in requests.values()]) as collector:
        processes = [network.submit(r) for r in requests.values()]
        done = env.all_of(processes)
        if math.isfinite(max_time_s):
            env.run(until=env.any_of([done, env.timeout(max_time_s)]))
        else:
            env.run(until=done)
    # qubit 0 of each state is at request.src = link[0]
    received = {
        link: [SuppliedPair(rho, float(t) - start_s) for rho, t in zip(collector.states[r.label], collector.times[r.label])]
        for link, r in requests.items()
    }
    short = {link: (len(received[link]), count) for link, count in needed.items() if len(received[link]) < count}
    if short:
        detail = ", ".join(f"{a}-{b}: {got} of {count}" for (a, b), (got, count) in short.items())
        raise RuntimeError(f"the network delivered too few pairs within max_time_s={max_time_s} s ({detail})")
    return received, start_s


def _node_model(network: Network, node: str) -> NodeModel:
    memory = network.graph.nodes[node]["hardware"].memory
    idle = network.banks[node].idle_model
    return NodeModel(
        noise=node_gate_noise(network, node),
        t1_s=idle.t1_s if idle is not None else math.inf,
        t2_s=idle.t2_s if idle is not None else math.inf,
        single_qubit_gate_s=memory.single_qubit_gate_time_s,
        two_qubit_gate_s=memory.two_qubit_gate_time_s,
        measurement_s=memory.measurement_time_s,
    )


__all__ = ["DistributedResult", "run_distributed"]
