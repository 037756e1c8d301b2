"""Wall time per delivered end-to-end pair on repeater chains of 3 to 1025 nodes.

Each chain has Barrett-Kok links of 10 km (station in the middle), memories with T2 = 1 s and
two slots, noisy swaps (two-qubit gate fidelity 0.99). For every chain length the benchmark
reports wall seconds per delivered pair, per link and per pair, peak resident memory, and the
*numpy floor*: the cost, measured in the same process, of the matrix operations one link and one
swap need (tensor product of two pairs, the Bell measurement's branch probabilities and the
chosen branch's map, each one matrix-vector product; see ``numpy_floor_s``).
The ratio to the floor is machine-independent enough to compare runs on these shared machines;
``cpu x`` divides the CPU time (``time.process_time``) instead of the wall time, which other
processes on a loaded machine inflate.
With ``--repeats N`` each chain runs N times (seeds 1..N) and the floor is measured before each
run; the medians are reported (robust to load from other processes).

``--link-state bell-diagonal`` uses ideal emitters instead (emitted-state fidelity 1): the
heralded pairs are then Bell states, and dephasing, depolarizing gate noise and measurement
errors keep them Bell-diagonal, so the engine runs on four Bell weights per pair. Each chain is
then also run with ``bell_diagonal=False`` (full density matrices) in the same process, and the
ratio of the two is printed (``dense x``); the fidelities must agree.

    python benchmarks/chain_scaling.py                  # 3, 9, 33, 129, 1025 nodes
    python benchmarks/chain_scaling.py --nodes 3,33 --json --repeats 3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import time

import networkx as nx
import numpy as np

from qstack.engine import Simulation
from qstack.hardware import Detector, Emitter, Fiber, Memory
from qstack.network import Network, Request
from qstack.physical import HeraldedLink, NodeHardware
from qstack.protocols import GateNoise, swap_operation


LINK_STATES = {"noisy": 0.95, "bell-diagonal": 1.0}  # emitted-state fidelity of the emitters


def build_chain(n_nodes: int, seed: int, link_state: str = "noisy",
                bell_diagonal: bool = True) -> tuple[Simulation, Network, list[str]]:
    memory = Memory(t1_s=math.inf, t2_s=1.0, capacity=2, two_qubit_gate_fidelity=0.99, measurement_fidelity=0.99)
    emitter = Emitter(emission_time_s=5e-6, emission_probability=0.9, emitted_state_fidelity=LINK_STATES[link_state])
    node = NodeHardware(memory=memory, emitter=emitter)
    half = Fiber(5.0)
    link = HeraldedLink(node, node, half, half, Detector(efficiency=0.9), scheme="double_click")
    graph = nx.Graph()
    names = [f"n{i}" for i in range(n_nodes)]
    for name in names:
        graph.add_node(name, hardware=node)
    for a, b in zip(names, names[1:]):
        graph.add_edge(a, b, link=link)
    sim = Simulation(seed, bell_diagonal=bell_diagonal)
    return sim, Network(sim, graph), names


def numpy_floor_s(repeats: int = 2000, clock=time.perf_counter) -> float:
    """Matrix work of one link plus one swap, done the cheapest way numpy allows here.

    The tensor product of two pairs (broadcast multiply), the four branch probabilities of the
    Bell measurement (one matrix-vector product with its trace functionals) and the chosen
    branch's map (one matrix-vector product), on the engine's own flattened instrument: the
    numpy calls a swap of two general (not Bell-diagonal) pairs cannot avoid. The products are
    the engine's single-threaded BLAS calls (the map in row blocks below OpenBLAS's threading
    size, stacked into one ``matmul`` call, ``qstack.engine.operation._RowBlocks``): a threaded
    call waits milliseconds for the other core on a loaded machine. The floor moves with the
    engine's own products (the stacking made it 5.7 -> 4.4 us CPU on the issue-17 machine). Minimum of five timings of ``repeats`` loops (a best case), on ``clock`` (wall; ``time.process_time``
    for CPU time).
    """
    op = swap_operation(GateNoise(two_qubit_depolarizing=0.01))
    flat = op.flat
    rng = np.random.default_rng(0)
    a = rng.random((4, 4)) + 0j
    b = rng.random((4, 4)) + 0j
    best = math.inf
    for _ in range(5):
        start = clock()
        for _ in range(repeats):
            vec = (b[:, None, :, None] * a[None, :, None, :]).reshape(-1)
            flat.traces @ vec
            flat.maps[0] @ vec
        best = min(best, (clock() - start) / repeats)
    return best


def measure(n_nodes: int, pairs: int, seed: int = 1, link_state: str = "noisy", bell_diagonal: bool = True) -> dict:
    sim, network, names = build_chain(n_nodes, seed, link_state, bell_diagonal)
    network.service(names[0], names[1]).link.success_probability  # tabulate heralding once
    start, cpu_start = time.perf_counter(), time.process_time()
    process = network.submit(Request(names[0], names[-1], pairs=pairs))
    sim.env.run(until=process)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    records = network.stats[0].records
    links = n_nodes - 1
    return {
        "nodes": n_nodes,
        "pairs": len(records),
        "fidelity": float(np.mean([r.fidelity for r in records])),
        "sim_time_s": float(sim.env.now),
        "wall_s_per_pair": wall / len(records),
        "wall_s_per_pair_per_link": wall / len(records) / links,
        "cpu_s_per_pair_per_link": cpu / len(records) / links,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "live_qubits_after": sim.registry.live_qubits,
        "bell_diagonal_steps": sim.registry.bell_diagonal_steps,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="3,9,33,129,1025")
    parser.add_argument("--pair-budget", type=int, default=4000, help="links x pairs per chain length")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeats", type=int, default=1, help="runs per chain (seeds 1..N); medians reported")
    parser.add_argument("--link-state", choices=sorted(LINK_STATES), default="noisy",
                        help="noisy (default) or bell-diagonal (ideal emitters; also timed on full matrices)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    bell = args.link_state == "bell-diagonal"
    measure(3, 5, link_state=args.link_state)  # untimed: heralding table and compiled channels
    rows = []
    floors, cpu_floors = [], []  # per run: the floor in wall and in CPU time
    for n in (int(x) for x in args.nodes.split(",")):
        pairs = max(2, min(200, args.pair_budget // (n - 1)))
        runs = []
        for seed in range(1, args.repeats + 1):
            floors.append(numpy_floor_s())
            cpu_floors.append(numpy_floor_s(clock=time.process_time))
            runs.append((measure(n, pairs, seed, args.link_state), floors[-1], cpu_floors[-1]))
            if bell:
                dense = measure(n, pairs, seed, args.link_state, bell_diagonal=False)
                runs[-1] = runs[-1] + (dense,)
        row = dict(runs[0][0])
        if bell:
            row["dense_wall_s_per_pair"] = statistics.median(d["wall_s_per_pair"] for *_, d in runs)
            row["dense_speedup"] = statistics.median(d["wall_s_per_pair"] / r["wall_s_per_pair"] for r, *_, d in runs)
            row["dense_cpu_speedup"] = statistics.median(d["cpu_s_per_pair_per_link"] / r["cpu_s_per_pair_per_link"]
                                                         for r, *_, d in runs)
            row["fidelity_dense"] = statistics.fmean(d["fidelity"] for *_, d in runs)
        for key in ("wall_s_per_pair", "wall_s_per_pair_per_link"):
            row[key] = statistics.median(r[key] for r, *_ in runs)
        row["fidelity"] = statistics.fmean(r["fidelity"] for r, *_ in runs)
        row["pairs"] = sum(r["pairs"] for r, *_ in runs)
        row["peak_rss_mb"] = max(r["peak_rss_mb"] for r, *_ in runs)
        row["numpy_floor_s_per_link"] = statistics.median(f for _, f, *_ in runs)
        row["numpy_floor_cpu_s_per_link"] = statistics.median(c for _, _, c, *_ in runs)
        row["ratio_to_floor"] = statistics.median(r["wall_s_per_pair_per_link"] / f for r, f, *_ in runs)
        row["cpu_ratio_to_floor"] = statistics.median(r["cpu_s_per_pair_per_link"] / c for r, _, c, *_ in runs)
        row["runs"] = args.repeats
        rows.append(row)
        if args.json:
            print(json.dumps(row))
    if not args.json:
        floor = statistics.median(floors)
        print(f"numpy floor (kron + branch probabilities + 4-qubit map, same process): {floor * 1e6:.1f} us per link "
              f"wall, {statistics.median(cpu_floors) * 1e6:.1f} us CPU; load average {os.getloadavg()[0]:.2f} on "
              f"{os.cpu_count()} cores")
        print(f"{'nodes':>6} {'pairs':>6} {'fidelity':>9} {'wall/pair [s]':>14} {'per link [ms]':>14} {'x floor':>8} {'cpu x':>6} {'peak MB':>8} {'live qubits':>11}"
              + (f" {'dense x':>8} {'cpu':>5} {'fidelity dense':>14}" if bell else ""))
        for r in rows:
            print(
                f"{r['nodes']:>6} {r['pairs']:>6} {r['fidelity']:>9.4f} {r['wall_s_per_pair']:>14.4g} "
                f"{r['wall_s_per_pair_per_link'] * 1e3:>14.3f} {r['ratio_to_floor']:>8.1f} {r['cpu_ratio_to_floor']:>6.1f} {r['peak_rss_mb']:>8.0f} {r['live_qubits_after']:>11}"
                + (f" {r['dense_speedup']:>8.2f} {r['dense_cpu_speedup']:>5.2f} {r['fidelity_dense']:>14.4f}" if bell else "")
            )


if __name__ == "__main__":
    main()
