"""One linear chain in SeQUeNCe, for ``benchmarks/vs_sequence.py``.

Runs inside SeQUeNCe's own virtual environment (it never imports qstack). Usage::

    python _sequence_driver.py '{"nodes": 5, "sim_time_s": 0.2, ...}'

and prints one JSON object: delivered end-to-end pairs, the fidelity to ``|Phi+>`` of each
*actual* two-qubit state held by the end memories when both ends have it, the mean fidelity that
SeQUeNCe itself reports for the same pairs (its bookkeeping number), simulated, wall and CPU
seconds of ``Timeline.run``.

The chain is built with SeQUeNCe's own API: a ``RouterNetTopo`` JSON configuration of
``QuantumRouter`` nodes joined by ``meet_in_the_middle`` quantum connections (a ``BSMNode`` in the
middle of every link, Barrett-Kok generation), a full mesh of classical connections with the
fibre delay, and an application on the two end nodes that asks for end-to-end entanglement with
``reserve_net_resource`` (SeQUeNCe then sets up its generation, doubling-swapping and (unused)
purification rules along the path).

Delivery: SeQUeNCe hands an end-to-end pair to the application of each end node separately, when
that end has received its swapping results. The application holds its memory until the other
end has its half too (only then is the Pauli frame of the pair complete), reads the joint state
from the quantum manager, and releases both memories. Releasing a memory resets its state, which
is why neither end may release before the other has arrived.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import numpy as np
from sequence.app.request_app import RequestApp
from sequence.constants import SPEED_OF_LIGHT
from sequence.topology.router_net_topo import RouterNetTopo

PS_PER_S = 10**12
PHI_PLUS = np.array([1.0, 0.0, 0.0, 1.0]) / np.sqrt(2.0)


def chain_config(p: dict) -> dict:
    """``RouterNetTopo`` configuration of a chain of ``p["nodes"]`` routers."""
    n = p["nodes"]
    link_m = p["link_km"] * 1e3
    names = [f"r{i}" for i in range(n)]
    memory = {
        "fidelity": p["memory_fidelity"],
        "efficiency": p["emission_efficiency"],
        "coherence_time": p["coherence_time_s"],
        "frequency": p["memory_frequency_hz"],
    }
    detector = {"efficiency": p["detector_efficiency"], "dark_count": 0}
    templates = {
        "router": {"MemoryArray": memory},
        "bsm": {"SingleAtomBSM": {"detectors": [dict(detector), dict(detector)]}},
    }
    nodes = []
    for i, name in enumerate(names):
        links = (i > 0) + (i < n - 1)
        nodes.append({"name": name, "type": RouterNetTopo.QUANTUM_ROUTER, "seed": p["seed"] * 1000 + i,
                      "memo_size": p["memories_per_link_side"] * links, "template": "router"})
    qconnections = [
        {"node1": a, "node2": b, "attenuation": p["attenuation_db_per_km"] / 1e3, "distance": link_m,
         "type": RouterNetTopo.MEET_IN_THE_MID, "seed": p["seed"] * 1000 + 500 + i, "template": "bsm"}
        for i, (a, b) in enumerate(zip(names, names[1:]))
    ]
    # Every router talks to every other one directly (swapping results go from the swapping node
    # to the two ends), with the delay of the fibre along the chain.
    cconnections = []
    for i in range(n):
        for j in range(i + 1, n):
            distance = (j - i) * link_m
            cconnections.append({"node1": names[i], "node2": names[j], "distance": distance,
                                 "delay": int(round(distance / SPEED_OF_LIGHT))})
    return {
        "nodes": nodes,
        "qconnections": qconnections,
        "cconnections": cconnections,
        "templates": templates,
        "formalism": p["formalism"],
        "stop_time": 10**23,
    }


class Ledger:
    """Pairs of end memories waiting for the other end, and the delivered pairs."""

    def __init__(self, timeline):
        self.timeline = timeline
        self.pending: dict[tuple[str, str], tuple] = {}
        self.fidelities: list[float] = []
        self.reported: list[float] = []
        self.times_ps: list[int] = []
        self.lost = 0

    def arrive(self, node, info) -> None:
        memory = info.memory
        partner = self.pending.pop((info.remote_node, info.remote_memo), None)
        if partner is None:
            self.pending[(node.name, memory.name)] = (node, info)
            return
        other_node, other_info = partner
        fidelity = None
        if (other_info.state in ("ENTANGLED", "PURIFIED") and other_info.remote_node == node.name
                and other_info.remote_memo == memory.name):
            fidelity = self._phi_plus_fidelity(memory, other_info.memory)
        if fidelity is None:
            self.lost += 1  # the other half expired or was reused meanwhile
        else:
            self.fidelities.append(fidelity)
            self.reported.append(float(info.fidelity))
            self.times_ps.append(self.timeline.now())
        node.resource_manager.update(None, memory, "RAW")
        if other_info.memory.entangled_memory["node_id"] == node.name:
            other_node.resource_manager.update(None, other_info.memory, "RAW")

    def _phi_plus_fidelity(self, memory, other) -> float | None:
        state = self.timeline.quantum_manager.get(memory.qstate_key)
        keys = list(state.keys)
        if other.qstate_key not in keys:
            return None
        rho = reduced_state(np.asarray(state.state), keys, [memory.qstate_key, other.qstate_key])
        # <Phi+|rho|Phi+> is unchanged by exchanging the two qubits, so their order does not matter.
        return float(np.real(PHI_PLUS @ rho @ PHI_PLUS))


def reduced_state(values: np.ndarray, keys: list[int], kept: list[int]) -> np.ndarray:
    """Density matrix of the qubits ``kept`` of a state on ``keys`` (ket or density matrix).

    SeQUeNCe 1.x removes measured qubits from a joint state; older releases leave them in it
    (in a product state after the measurement), hence the partial trace.
    """
    n = len(keys)
    rho = np.outer(values, values.conj()) if values.ndim == 1 else values
    if n == len(kept):
        order = [keys.index(k) for k in kept]
        tensor = rho.reshape([2] * (2 * n)).transpose(order + [n + i for i in order])
        return tensor.reshape(2**n, 2**n)
    tensor = rho.reshape([2] * (2 * n))
    traced = [i for i, key in enumerate(keys) if key not in kept]
    letters = "abcdefghijklmnopqrstuvwxyz"
    rows, cols = list(letters[:n]), list(letters[n:2 * n])
    for i in traced:
        cols[i] = rows[i]
    out_rows = [rows[keys.index(k)] for k in kept]
    out_cols = [cols[keys.index(k)] for k in kept]
    reduced = np.einsum("".join(rows) + "".join(cols) + "->" + "".join(out_rows + out_cols), tensor)
    return reduced.reshape(2 ** len(kept), 2 ** len(kept))


class DeliveryApp(RequestApp):
    """A ``RequestApp`` that hands end-to-end pairs to the shared :class:`Ledger`."""

    def __init__(self, node, ledger: Ledger):
        super().__init__(node)
        self.ledger = ledger

    def get_memory(self, info) -> None:
        if info.state not in ("ENTANGLED", "PURIFIED") or info.index not in self.memo_to_reservation:
            return
        reservation = self.memo_to_reservation[info.index]
        other = reservation.responder if self.node.name == reservation.initiator else reservation.initiator
        if info.remote_node == other:
            self.ledger.arrive(self.node, info)


def run(p: dict) -> dict:
    build_start = time.perf_counter()
    # A file path, which every SeQUeNCe release accepts (a dict only from 0.9 on).
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(chain_config(p), handle)
    try:
        topology = RouterNetTopo(handle.name)
    finally:
        os.unlink(handle.name)
    timeline = topology.get_timeline()
    routers = {r.name: r for r in topology.get_nodes_by_type(RouterNetTopo.QUANTUM_ROUTER)}
    first, last = routers["r0"], routers[f"r{p['nodes'] - 1}"]
    ledger = Ledger(timeline)
    initiator = DeliveryApp(first, ledger)
    DeliveryApp(last, ledger)  # registers itself on the responder node
    # The reservation travels hop by hop to the responder and back before rules exist; start
    # serving after that round trip so that the measured window is all generation.
    setup_ps = int(2 * (p["nodes"] - 1) * p["link_km"] * 1e3 / SPEED_OF_LIGHT) + 10**6
    window_ps = int(round(p["sim_time_s"] * PS_PER_S))
    timeline.stop_time = setup_ps + window_ps
    timeline.init()
    initiator.start(last.name, setup_ps, setup_ps + window_ps, p["memories_per_link_side"], p["target_fidelity"])
    build_s = time.perf_counter() - build_start
    start, cpu_start = time.perf_counter(), time.process_time()
    timeline.run()
    wall_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    fidelities = np.array(ledger.fidelities)
    pairs = len(fidelities)
    return {
        "pairs": pairs,
        "fidelities": [float(f) for f in fidelities],
        "reported_fidelity": float(np.mean(ledger.reported)) if pairs else None,
        "lost_before_both_ends": ledger.lost,
        "reservation_approved": bool(initiator.reservation_result),
        "sim_time_s": window_ps / PS_PER_S,
        "setup_time_s": setup_ps / PS_PER_S,
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "build_wall_s": build_s,
        "events": timeline.run_counter,
        "sequence_version": _version(),
    }


def _version() -> str:
    from importlib.metadata import version

    return version("sequence")


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
