"""Scale on one 2-core machine: a 1000-node random topology with many concurrent requests, and
memory that stays flat over a long run.

* Waxman graph of ``--nodes`` nodes in a 200 km square (``networkx.waxman_graph``), links as long
  as the distance between their nodes, Barrett-Kok generation, NV-like memories with ``--slots``
  slots; ``--requests`` random source/destination pairs routed by expected rate. Requests that
  would over-subscribe a node's memory are refused, as the network layer does, and counted.
* A long run: the same network served for increasing simulated times; resident memory and the
  number of live qubits in the state registry are sampled as it goes (they must not grow).

    python benchmarks/scale.py
    python benchmarks/scale.py --nodes 300 --requests 20 --json
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time

import networkx as nx
import numpy as np

from qstack.engine import Simulation
from qstack.hardware import Detector, Emitter, Fiber, Memory
from qstack.network import Network, Request
from qstack.physical import HeraldedLink, NodeHardware


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def build(n_nodes: int, slots: int, seed: int) -> tuple[Simulation, Network]:
    memory = Memory(t1_s=math.inf, t2_s=1.0, capacity=slots, two_qubit_gate_fidelity=0.99, measurement_fidelity=0.99)
    node = NodeHardware(memory=memory, emitter=Emitter(emission_time_s=5e-6, emission_probability=0.9, emitted_state_fidelity=0.95))
    detector = Detector(efficiency=0.9)
    # Node positions in the unit square (scaled to 200 km); mean degree about 4-5.
    graph = nx.waxman_graph(n_nodes, beta=0.4, alpha=0.03, seed=seed)
    graph = graph.subgraph(max(nx.connected_components(graph), key=len)).copy()
    positions = nx.get_node_attributes(graph, "pos")
    topology = nx.Graph()
    for name in graph.nodes:
        topology.add_node(f"v{name}", hardware=node)
    for a, b in graph.edges:
        length = max(1.0, 200.0 * math.dist(positions[a], positions[b]))
        half = Fiber(round(length / 2, 1))
        link = HeraldedLink(node, node, half, half, detector, scheme="double_click", name=f"v{a}-v{b}")
        topology.add_edge(f"v{a}", f"v{b}", link=link, length_km=length)
    sim = Simulation(seed)
    return sim, Network(sim, topology, routing="expected_rate")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--sim-time", type=float, default=0.5, help="simulated seconds per phase")
    parser.add_argument("--phases", type=int, default=5, help="phases of the long run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    sim, network = build(args.nodes, args.slots, args.seed)
    build_s = time.perf_counter() - start
    rng = np.random.default_rng(args.seed)
    names = list(network.graph.nodes)
    admitted, refused, hops = 0, 0, []
    for i in range(args.requests):
        src, dst = rng.choice(len(names), size=2, replace=False)
        request = Request(names[src], names[dst], pairs=10**9, name=f"r{i}")
        try:
            network.submit(request)
        except ValueError:
            refused += 1
            continue
        admitted += 1
        hops.append(len(network.route(names[src], names[dst])) - 1)
    samples = []
    run_start = time.perf_counter()
    for phase in range(1, args.phases + 1):
        sim.env.run(until=phase * args.sim_time)
        delivered = sum(len(s.records) for s in network.stats)
        samples.append(
            {
                "sim_time_s": phase * args.sim_time,
                "delivered": delivered,
                "wall_s": time.perf_counter() - run_start,
                "rss_mb": rss_mb(),
                "live_qubits": sim.registry.live_qubits,
            }
        )
    delivered = samples[-1]["delivered"]
    summary = {
        "nodes": network.graph.number_of_nodes(),
        "links": network.graph.number_of_edges(),
        "requests_admitted": admitted,
        "requests_refused": refused,
        "mean_hops": float(np.mean(hops)) if hops else 0.0,
        "build_s": build_s,
        "delivered": delivered,
        "wall_s": samples[-1]["wall_s"],
        "wall_s_per_pair": samples[-1]["wall_s"] / delivered if delivered else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "mean_fidelity": float(np.mean([r.fidelity for s in network.stats for r in s.records])) if delivered else None,
        "samples": samples,
    }
    if args.json:
        print(json.dumps(summary))
        return
    print(
        f"{summary['nodes']} nodes, {summary['links']} links; {admitted} requests admitted, {refused} refused "
        f"(memory over-subscription), mean route {summary['mean_hops']:.1f} hops; built in {build_s:.2f} s"
    )
    print(f"{'sim time [s]':>12} {'delivered':>10} {'wall [s]':>9} {'RSS [MB]':>9} {'live qubits':>12}")
    for s in samples:
        print(f"{s['sim_time_s']:>12.1f} {s['delivered']:>10} {s['wall_s']:>9.2f} {s['rss_mb']:>9.1f} {s['live_qubits']:>12}")
    first, last = samples[0], samples[-1]
    if last["delivered"] > first["delivered"]:
        growth = (last["rss_mb"] - first["rss_mb"]) * 2**20 / (last["delivered"] - first["delivered"])
        print(f"memory growth after the first phase: {growth:.0f} bytes per delivered pair (its record); "
              f"live qubits stay at {min(s['live_qubits'] for s in samples)}-{max(s['live_qubits'] for s in samples)}")
    per_pair = summary["wall_s_per_pair"]
    print(
        f"delivered {delivered} end-to-end pairs, mean fidelity {summary['mean_fidelity']}, "
        f"{per_pair if per_pair is None else f'{per_pair * 1e3:.2f} ms'} wall per pair, peak RSS {summary['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
