"""Wall time per delivered pair of the default link as the success probability falls.

The link service fast-forwards heralded generation: it draws the number of attempts until
success from the geometric law once and advances simulated time once, so the wall-clock cost of
a pair should not grow with ``1/p``. This benchmark checks that on the bundled default scenario
(two NV nodes, 10 km, single-click), lowering the per-attempt success probability from about
1e-3 to about 1e-6 by lowering the emitter's collection efficiency.

For every ``p`` it runs ``run_scenario`` ``--repeats`` times for a fixed number of pairs and
reports the median wall time per delivered pair, the ``p`` the report gives
(``report.pos["link n0-n1 attempt"]``), the mean attempts per pair, and the cost per pair
relative to ``p ~ 1e-3`` measured in the same process. A step-by-step simulation would see that
ratio grow like ``1/p`` (the "1/p ratio" column).

The only work per pair that depends on ``p``: when pairs arrive quickly (p ~ 1e-3), some are
heralded while the previous pair is still held for the application (10 ms in the default), and
those attempts dephase the stored nuclear spin, one extra channel per such pair. High ``p`` is
therefore slightly dearer per pair, never cheaper in proportion to ``1/p``.

Baseline, measured in the same run: a loop of 4x4 numpy matrix products, one per pair, so that
the cost per pair can also be read in units of one small matrix product, roughly independent of
the machine.

Usage::

    python benchmarks/link_fast_forward.py [--pairs 200] [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import asdict, dataclass

# Small-matrix work is slower with BLAS threads competing for two cores (DESIGN.md); time the
# single-threaded case, as parallel workers run it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from qstack.engine import Simulation  # noqa: E402
from qstack.build import build_network  # noqa: E402
from qstack.runner import run_scenario  # noqa: E402
from qstack.scenario import load_scenario  # noqa: E402

TARGETS = (1e-3, 1e-4, 1e-5, 1e-6)
LINK = "link n0-n1 attempt"
# The default NV emitter puts only 3 % of its light into the zero-phonon line, which caps p near
# 3e-4; with every photon in the line (as a Purcell-enhanced emitter would approach) p ~ 1e-3 is
# reachable, and the collection efficiency alone then sets p for every point.
EMISSION = {"hardware.overrides.node.emitter.emission_probability": 1.0}
KNOB = "hardware.overrides.node.emitter.collection_efficiency"


@dataclass(frozen=True)
class Point:
    """Timings at one success probability."""

    target_p: float
    collection_efficiency: float
    p_attempt: float
    pairs: int
    mean_attempts_per_pair: float
    sim_time_s: float
    wall_per_pair_s: float
    marginal_wall_per_pair_s: float
    ratio_to_first: float
    marginal_ratio_to_first: float
    inverse_p_ratio: float
    matmuls_per_pair: float


def _settings(collection_efficiency: float, pairs: int, seed: int) -> dict:
    return {
        **EMISSION,
        KNOB: collection_efficiency,
        "requests.0.pairs": pairs,
        "max_time_s": 1e15,  # simulated seconds: at p ~ 1e-6 a pair takes about a minute
        "seed": seed,
    }


def success_probability(collection_efficiency: float) -> float:
    """Per-attempt success probability of the default link at this collection efficiency."""
    scenario = load_scenario(None, settings=_settings(collection_efficiency, 1, 0))
    network = build_network(scenario, Simulation(0))
    (service,) = network.services
    return service.success_probability


def calibrate(target_p: float) -> float:
    """Collection efficiency giving ``p ~ target_p``: p = a*eta + b (signal + dark counts) for small eta."""
    high, low = 0.1, 1e-4
    p_high, p_low = success_probability(high), success_probability(low)
    slope = (p_high - p_low) / (high - low)
    dark = p_low - slope * low
    if target_p <= dark:
        raise ValueError(f"p = {target_p:g} is below the dark-count floor {dark:.2g} of this link")
    efficiency = min(1.0, (target_p - dark) / slope)
    # One correction for the small curvature of p(eta).
    measured = success_probability(efficiency)
    return min(1.0, efficiency * (target_p - dark) / (measured - dark))


def time_run(collection_efficiency: float, pairs: int, seed: int):
    """Wall time [s] of ``run_scenario`` for ``pairs`` pairs, and its report."""
    scenario = load_scenario(None, settings=_settings(collection_efficiency, pairs, seed))
    start = time.perf_counter()
    report = run_scenario(scenario)
    wall = time.perf_counter() - start
    if report.delivered != pairs:
        raise RuntimeError(f"delivered {report.delivered} of {pairs} pairs at collection efficiency {collection_efficiency:g}")
    return wall, report


def matmul_baseline_s(count: int, repeats: int) -> float:
    """Median wall time of ``count`` chained 4x4 complex matrix products [s]."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    a /= np.linalg.norm(a, 2)
    times = []
    for _ in range(repeats):
        m = np.eye(4, dtype=complex)
        start = time.perf_counter()
        for _ in range(count):
            m = a @ m
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200, help="pairs per run (default 200)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per success probability (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    if args.pairs < 2 or args.repeats < 1:
        parser.error("--pairs must be >= 2 and --repeats >= 1")

    efficiencies = [calibrate(target) for target in TARGETS]
    # Warm-up, untimed: imports, and the heralding tables and channels compiled once per
    # hardware configuration (memoised for the process); the rows time the steady state.
    for efficiency in efficiencies:
        time_run(efficiency, args.pairs, seed=999)

    matmul_s = matmul_baseline_s(args.pairs, max(args.repeats, 5)) / args.pairs
    totals = {target: [] for target in TARGETS}
    singles = {target: [] for target in TARGETS}
    reports = {target: [] for target in TARGETS}
    # Repeats interleave the probabilities so that load from other processes hits all alike.
    for repeat in range(args.repeats):
        for target, efficiency in zip(TARGETS, efficiencies):
            wall, report = time_run(efficiency, args.pairs, seed=repeat)
            totals[target].append(wall)
            reports[target].append(report)
            singles[target].append(time_run(efficiency, 1, seed=repeat)[0])

    points: list[Point] = []
    for target, efficiency in zip(TARGETS, efficiencies):
        total, single = statistics.median(totals[target]), statistics.median(singles[target])
        runs = reports[target]
        attempts = sum(r.links[0]["attempts"] for r in runs) / sum(r.links[0]["pairs"] for r in runs)
        first = points[0] if points else None
        per_pair = total / args.pairs
        marginal = max(total - single, 0.0) / (args.pairs - 1)
        points.append(
            Point(
                target_p=target,
                collection_efficiency=efficiency,
                p_attempt=runs[0].pos[LINK],
                pairs=args.pairs,
                mean_attempts_per_pair=attempts,
                sim_time_s=statistics.median(r.sim_time_s for r in runs),
                wall_per_pair_s=per_pair,
                marginal_wall_per_pair_s=marginal,
                ratio_to_first=per_pair / first.wall_per_pair_s if first else 1.0,
                marginal_ratio_to_first=marginal / first.marginal_wall_per_pair_s if first else 1.0,
                inverse_p_ratio=(first.p_attempt if first else runs[0].pos[LINK]) / runs[0].pos[LINK],
                matmuls_per_pair=per_pair / matmul_s,
            )
        )

    if args.json:
        print(json.dumps({"pairs": args.pairs, "repeats": args.repeats, "matmul_4x4_s": matmul_s,
                          "points": [asdict(p) for p in points]}, indent=2))
        return 0
    print(f"default scenario (2 x NV, 10 km, single-click), emission_probability = 1, {args.pairs} pairs per run, "
          f"median of {args.repeats} runs")
    print(f"baseline: one 4x4 complex matrix product = {matmul_s * 1e6:.2f} us (same process)")
    header = (f"{'target p':>9} {'coll. eff.':>10} {'p (report)':>11} {'attempts/pair':>14} {'sim time [s]':>13} "
              f"{'wall/pair [ms]':>15} {'marginal [ms]':>14} {'vs p~1e-3':>10} {'marg. vs':>9} {'1/p ratio':>10} "
              f"{'matmuls/pair':>13}")
    print(header)
    print("-" * len(header))
    for p in points:
        print(f"{p.target_p:>9.0e} {p.collection_efficiency:>10.3g} {p.p_attempt:>11.3g} {p.mean_attempts_per_pair:>14.4g} "
              f"{p.sim_time_s:>13.4g} {p.wall_per_pair_s * 1e3:>15.3f} {p.marginal_wall_per_pair_s * 1e3:>14.3f} "
              f"{p.ratio_to_first:>10.2f} {p.marginal_ratio_to_first:>9.2f} {p.inverse_p_ratio:>10.3g} "
              f"{p.matmuls_per_pair:>13.0f}")
    print("wall/pair: run_scenario wall time / pairs (includes building the link); marginal: "
          "(T(pairs) - T(1)) / (pairs - 1).\n'vs p~1e-3': cost per pair relative to the first row; "
          "a step-by-step simulation would grow like the '1/p ratio' column.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
