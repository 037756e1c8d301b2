"""Building long chains: wall time per link and peak memory, against per-link compilation.

For each chain length N (default 1,000 / 100,000 / 1,000,000 nodes of the bundled default's
hardware) a fresh Python process loads the scenario, builds the network
(:func:`qstack.build.build_network`) and reads every link's success probability (what a run
and its report read first: the heralded outcome table). It prints the build time per link and
the process's peak resident memory (``ru_maxrss``, the interpreter and Qiskit included). A chain
above ``limits.nodes`` (100,000 by default) is refused by the scenario's bounds; the time to
refuse it is printed instead (``--limit-nodes N`` raises the bound: about 7 kB and 70 us per
link, so 1,000,000 nodes need about 7 GB).

Baseline, in the same process as the smallest chain: the same links each computing their own
outcome table from the circuits (``link._outcome_table()``), which is what every link did when
the table was cached by the link including its node names. The ratio is baseline / shared.

    python benchmarks/build_chain.py                 # 1000, 100000, 1000000 nodes
    python benchmarks/build_chain.py --nodes 1000,20000 --json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
from qstack.build import build_network
from qstack.engine import Simulation
from qstack.scenario import ScenarioError, load_scenario

n, limit, baseline = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
settings = {"network.nodes": n, "requests.0.dst": f"n{n - 1}"}
if limit:
    settings.update({"limits.nodes": limit, "limits.links": limit})
start = time.perf_counter()
try:
    scenario = load_scenario(None, settings=settings)
except ScenarioError as exc:
    print(json.dumps({"nodes": n, "refused": str(exc), "refused_in_s": time.perf_counter() - start}))
    sys.exit(0)
network = build_network(scenario, Simulation(1))
for service in network.services:
    service.link.success_probability
built_s = time.perf_counter() - start
out = {"nodes": n, "links": n - 1, "build_s": built_s, "per_link_ms": 1e3 * built_s / (n - 1),
       "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
if baseline:
    links = [s.link for s in network.services][:baseline]
    start = time.perf_counter()
    for link in links:
        link._outcome_table()
    out["baseline_per_link_ms"] = 1e3 * (time.perf_counter() - start) / len(links)
print(json.dumps(out))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="1000,100000,1000000")
    parser.add_argument("--limit-nodes", type=int, default=0, help="raise limits.nodes and limits.links to this")
    parser.add_argument("--baseline-links", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(n) for n in args.nodes.split(",")]
    for i, n in enumerate(sizes):
        baseline = args.baseline_links if i == 0 else 0
        run = subprocess.run([sys.executable, "-c", CHILD, str(n), str(args.limit_nodes), str(baseline)],
                             capture_output=True, text=True)
        if run.returncode:
            print(f"{n} nodes: failed: {run.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(run.stdout)
        if args.json:
            print(json.dumps(row))
        elif "refused" in row:
            print(f"{n:>9} nodes: refused in {row['refused_in_s']:.2f} s: {row['refused']}")
        else:
            line = (f"{n:>9} nodes: build {row['build_s']:.2f} s, {row['per_link_ms']:.3f} ms per link, "
                    f"peak RSS {row['peak_rss_mb']:.0f} MB")
            if "baseline_per_link_ms" in row:
                line += (f"; per-link compilation {row['baseline_per_link_ms']:.2f} ms per link "
                         f"(ratio {row['baseline_per_link_ms'] / row['per_link_ms']:.0f}x)")
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
