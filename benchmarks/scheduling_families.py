"""Scheduling policies across scenario families: does a policy that wins, win everywhere?

Every registered scheduling policy runs on the same scenarios (same seeds, same physics) drawn
from families that differ in what binds:

* ``ion_star``: trapped ions, a hub and four spokes of 2 km, 2 modes per link, 10 slots a node,
  one communication qubit per node (the hub's serves its four links one at a time); users on one
  spoke and across the hub. Variants: T2 of 1 s (storage harmless) or 20 ms (storage costly).
* ``ion_grid``: trapped ions on a 3x3 grid of 2 km links, 1 mode, four users whose routes cross
  in the middle, one of them strict (F >= 0.9). Variants: T2 1 s / 50 ms.
* ``nv_chain``: 5 NV centres 100 m apart, one electron (communication qubit) each, single mode;
  one- and two-link users. Variants: the nuclear-spin memory as is / T2 of the electron 5 ms.
* ``re_star``: rare-earth multimode memories (62 slots) with SPDC midpoint sources, 16 modes,
  10 km spokes, linear-optics Bell measurements; users on one spoke and across two spokes.
  Variants: T2 of the preset (hours) / 10 ms.
* ``hetero``: trapped ions on links of unequal length (1, 4, 10 km), one a free-space link,
  users of unequal requirements and priorities.

Each family and variant (a table each) runs at light and heavy load (arrival rates x1 and x3)
with ``--seeds`` seeds (the scenario seed; arrivals are drawn from it). Per policy the table gives
the mean over loads x seeds with a 95 % Student-t interval over those runs: jobs meeting their requirements
(deadline and min F), misses by cause (rejected, abandoned, late, below min F), the fraction of
delivered pairs meeting their user's min F, throughput (delivered pairs per simulated second of
the run), Jain's index on served fraction and on demand-normalised throughput, and ``starved``:
users with a feasible requirement who got no pair (feasible: some policy delivered that user a
pair meeting its min F in the same run).

    python benchmarks/scheduling_families.py             # 5 seeds, every variant (a few minutes)
    python benchmarks/scheduling_families.py --quick     # 2 seeds, heavy load only (~1 minute)
    python benchmarks/scheduling_families.py --json      # one JSON object per (family, policy)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import stats

from qstack.runner import run_scenario
from qstack.scenario import load_scenario
from qstack.scheduling import scheduler_names


def _ion_star(t2_s: float, load: float) -> dict:
    return {
        "max_time_s": 4.0,
        "network": {"topology": "star", "nodes": 5, "link_lengths_km": [2.0]},
        "hardware": {"node": "trapped_ion", "channel": "telecom_fiber", "overrides": {"node.memory.t2_s": t2_s}},
        "link": {"scheme": "single_click", "bright_state_population": 0.05, "multiplexing": 2},
        "requests": [
            {"user": "qkd", "src": "n1", "dst": "n2", "pairs": 4, "min_fidelity": 0.7, "deadline_s": 0.4,
             "arrivals": 8, "arrival_rate_hz": 2.0 * load},
            {"user": "compute", "src": "n3", "dst": "n4", "pairs": 2, "min_fidelity": 0.75, "deadline_s": 0.1,
             "arrivals": 10, "arrival_rate_hz": 5.0 * load, "priority": 2.0},
            {"user": "sensor", "src": "n0", "dst": "n1", "pairs": 2, "min_fidelity": 0.85, "deadline_s": 0.06,
             "arrivals": 10, "arrival_rate_hz": 5.0 * load},
            {"user": "backup", "src": "n2", "dst": "n4", "pairs": 3, "min_fidelity": 0.6, "deadline_s": 0.5,
             "arrivals": 5, "arrival_rate_hz": 2.0 * load},
        ],
    }


def _ion_grid(t2_s: float, load: float) -> dict:
    return {
        "max_time_s": 4.0,
        "network": {"topology": "grid", "grid": [3, 3], "link_lengths_km": [2.0], "routing": "hops"},
        "hardware": {"node": "trapped_ion", "channel": "telecom_fiber", "overrides": {"node.memory.t2_s": t2_s}},
        "link": {"scheme": "single_click", "bright_state_population": 0.03},
        "requests": [
            {"user": "strict", "src": "n0_1", "dst": "n1_1", "pairs": 2, "min_fidelity": 0.9, "deadline_s": 0.2,
             "arrivals": 10, "arrival_rate_hz": 4.0 * load},
            {"user": "across", "src": "n0_0", "dst": "n2_2", "pairs": 1, "min_fidelity": 0.6, "deadline_s": 0.5,
             "arrivals": 6, "arrival_rate_hz": 2.0 * load},
            {"user": "row", "src": "n1_0", "dst": "n1_2", "pairs": 2, "min_fidelity": 0.7, "deadline_s": 0.3,
             "arrivals": 8, "arrival_rate_hz": 3.0 * load},
            {"user": "bulk", "src": "n2_1", "dst": "n1_1", "pairs": 4, "min_fidelity": 0.7, "deadline_s": 0.4,
             "arrivals": 8, "arrival_rate_hz": 3.0 * load},
        ],
    }


def _nv_chain(t2_s: float, load: float) -> dict:
    overrides = {} if math.isinf(t2_s) else {"node.memory.t2_s": t2_s}
    return {
        "max_time_s": 60.0,
        "network": {"topology": "chain", "nodes": 5, "link_lengths_km": [0.1]},
        "hardware": {"node": "nv_centre", "channel": "telecom_fiber", "overrides": overrides},
        "link": {"scheme": "single_click", "bright_state_population": 0.05},
        "requests": [
            {"user": "left", "src": "n0", "dst": "n1", "pairs": 1, "min_fidelity": 0.7, "deadline_s": 3.0,
             "arrivals": 6, "arrival_rate_hz": 0.2 * load},
            {"user": "middle", "src": "n1", "dst": "n3", "pairs": 1, "min_fidelity": 0.55, "deadline_s": 6.0,
             "arrivals": 5, "arrival_rate_hz": 0.15 * load},
            {"user": "right", "src": "n3", "dst": "n4", "pairs": 2, "min_fidelity": 0.7, "deadline_s": 4.0,
             "arrivals": 6, "arrival_rate_hz": 0.2 * load},
            {"user": "pair", "src": "n2", "dst": "n3", "pairs": 1, "min_fidelity": 0.75, "deadline_s": 2.0,
             "arrivals": 6, "arrival_rate_hz": 0.2 * load},
        ],
    }


def _re_star(t2_s: float, load: float) -> dict:
    overrides = {} if math.isinf(t2_s) else {"node.memory.t2_s": t2_s}
    return {
        "max_time_s": 4.0,
        "network": {"topology": "star", "nodes": 5, "link_lengths_km": [10.0], "bsm": "linear_optics"},
        "hardware": {"node": "rare_earth_multimode", "source": "spdc_source", "channel": "telecom_fiber",
                     "overrides": overrides},
        "link": {"scheme": "midpoint_source", "multiplexing": 16},
        "requests": [
            {"user": "spoke1", "src": "n0", "dst": "n1", "pairs": 4, "min_fidelity": 0.95, "deadline_s": 0.1,
             "arrivals": 8, "arrival_rate_hz": 6.0 * load},
            {"user": "spoke2", "src": "n0", "dst": "n2", "pairs": 4, "min_fidelity": 0.95, "deadline_s": 0.1,
             "arrivals": 8, "arrival_rate_hz": 6.0 * load},
            {"user": "cross13", "src": "n1", "dst": "n3", "pairs": 3, "min_fidelity": 0.9, "deadline_s": 0.15,
             "arrivals": 8, "arrival_rate_hz": 6.0 * load},
            {"user": "cross24", "src": "n2", "dst": "n4", "pairs": 3, "min_fidelity": 0.9, "deadline_s": 0.15,
             "arrivals": 8, "arrival_rate_hz": 6.0 * load},
        ],
    }


def _hetero(t2_s: float, load: float) -> dict:
    edges = [("a", "b", 1.0, None), ("b", "c", 4.0, None), ("c", "d", 10.0, None), ("b", "e", 1.0, "free_space_link")]
    return {
        "max_time_s": 6.0,
        "network": {"topology": "custom", "edges": [
            {"a": a, "b": b, "length_km": km, **({"channel": ch} if ch else {})} for a, b, km, ch in edges]},
        "hardware": {"node": "trapped_ion", "channel": "telecom_fiber", "overrides": {"node.memory.t2_s": t2_s}},
        "link": {"scheme": "single_click", "bright_state_population": 0.05, "multiplexing": 2},
        "requests": [
            {"user": "near", "src": "a", "dst": "b", "pairs": 3, "min_fidelity": 0.85, "deadline_s": 0.1,
             "arrivals": 8, "arrival_rate_hz": 4.0 * load, "priority": 2.0},
            {"user": "far", "src": "a", "dst": "d", "pairs": 1, "min_fidelity": 0.55, "deadline_s": 1.0,
             "arrivals": 5, "arrival_rate_hz": 1.0 * load},
            {"user": "mid", "src": "b", "dst": "c", "pairs": 2, "min_fidelity": 0.7, "deadline_s": 0.3,
             "arrivals": 8, "arrival_rate_hz": 3.0 * load},
            {"user": "air", "src": "e", "dst": "c", "pairs": 1, "min_fidelity": 0.6, "deadline_s": 0.8,
             "arrivals": 6, "arrival_rate_hz": 1.5 * load},
        ],
    }


#: family -> (builder(t2_s, load), its T2 variants [s])
FAMILIES = {
    "ion_star": (_ion_star, (1.0, 0.02)),
    "ion_grid": (_ion_grid, (1.0, 0.05)),
    "nv_chain": (_nv_chain, (math.inf, 0.005)),
    "re_star": (_re_star, (math.inf, 0.01)),
    "hetero": (_hetero, (1.0, 0.05)),
}
LOADS = (1.0, 3.0)


@dataclass(frozen=True)
class RunFigures:
    """What one scheduled run gave (one policy, one scenario, one seed)."""

    met: int
    jobs: int
    rejected: int
    abandoned: int
    late: int
    below_min_fidelity: int
    delivered: int
    good_pairs: int
    throughput_hz: float
    fairness: float
    throughput_fairness: float
    good_per_user: tuple[int, ...]
    delivered_per_user: tuple[int, ...]


def run_one(family: str, t2_s: float, load: float, seed: int, policy: str) -> RunFigures:
    builder, _ = FAMILIES[family]
    data = {"seed": seed, **builder(t2_s, load), "scheduling": {"policy": policy}}
    report = run_scenario(load_scenario(data))
    s = report.scheduling
    return RunFigures(
        met=s.requirements_met, jobs=s.jobs, rejected=s.rejected, abandoned=s.abandoned, late=s.late,
        below_min_fidelity=s.below_min_fidelity, delivered=s.delivered, good_pairs=s.pairs_meeting_min_fidelity,
        throughput_hz=s.delivered / report.sim_time_s if report.sim_time_s > 0 else 0.0,
        fairness=s.fairness_index or 0.0, throughput_fairness=s.throughput_fairness_index or 0.0,
        good_per_user=tuple(u.pairs_meeting_min_fidelity for u in s.users),
        delivered_per_user=tuple(u.delivered for u in s.users),
    )


def interval(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of its 95 % Student-t interval (0 for one value)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if values.size < 2:
        return mean, 0.0
    return mean, float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size))


def family_table(family: str, seeds: list[int], loads: tuple[float, ...], variants: tuple[float, ...],
                 policies: tuple[str, ...]) -> dict[str, dict]:
    """Per policy: the figures over every (variant, load, seed) run of ``family``."""
    runs: dict[str, list[RunFigures]] = {p: [] for p in policies}
    starved: dict[str, list[int]] = {p: [] for p in policies}
    for t2_s, load, seed in itertools.product(variants, loads, seeds):
        figures = {p: run_one(family, t2_s, load, seed, p) for p in policies}
        # A user's requirement is feasible in this run when some policy gave it a good pair.
        feasible = [any(f.good_per_user[i] for f in figures.values()) for i in range(len(figures[policies[0]].good_per_user))]
        for p, f in figures.items():
            runs[p].append(f)
            starved[p].append(sum(ok and not d for ok, d in zip(feasible, f.delivered_per_user)))
    table = {}
    for p, rs in runs.items():
        good = sum(r.good_pairs for r in rs)
        delivered = sum(r.delivered for r in rs)
        table[p] = {
            "runs": len(rs), "jobs": interval([r.jobs for r in rs])[0],
            "met": interval([r.met for r in rs]),
            **{cause: interval([getattr(r, cause) for r in rs])[0]
               for cause in ("rejected", "abandoned", "late", "below_min_fidelity")},
            "good_fraction": good / delivered if delivered else None,
            "throughput_hz": interval([r.throughput_hz for r in rs]),
            "fairness": interval([r.fairness for r in rs]),
            "throughput_fairness": interval([r.throughput_fairness for r in rs]),
            "starved": sum(starved[p]),
        }
    return table


def format_table(family: str, table: dict[str, dict]) -> str:
    best_other = {p: max((t["met"][0] for q, t in table.items() if q != p), default=0.0) for p in table}
    lines = [f"{family}  ({next(iter(table.values()))['runs']} runs, {next(iter(table.values()))['jobs']:.0f} jobs each)",
             f"  {'policy':<20}{'met':>14}{'rej':>6}{'aband':>6}{'late':>6}{'<minF':>6}{'F ok':>7}"
             f"{'pairs/s':>16}{'Jain(served)':>15}{'Jain(thr/dem)':>15}{'starved':>8}"]
    for p, t in table.items():
        mark = "*" if t["met"][0] >= best_other[p] else " "
        lines.append(
            f"  {p:<20}{t['met'][0]:>7.1f}±{t['met'][1]:<5.1f}{mark}{t['rejected']:>5.1f}{t['abandoned']:>6.1f}"
            f"{t['late']:>6.1f}{t['below_min_fidelity']:>6.1f}"
            f"{'-' if t['good_fraction'] is None else format(t['good_fraction'], '.3f'):>7}"
            f"{t['throughput_hz'][0]:>10.1f}±{t['throughput_hz'][1]:<5.1f}"
            f"{t['fairness'][0]:>9.3f}±{t['fairness'][1]:<5.3f}{t['throughput_fairness'][0]:>9.3f}±{t['throughput_fairness'][1]:<5.3f}"
            f"{t['starved']:>8d}"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, heavy load only")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per scenario (default 5; 2 with --quick)")
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated families")
    parser.add_argument("--policies", default="all", help="comma-separated policies, or 'all'")
    parser.add_argument("--json", action="store_true", help="one JSON object per (family, policy)")
    args = parser.parse_args(argv)
    seeds = list(range(1, 1 + (args.seeds or (2 if args.quick else 5))))
    loads = LOADS[-1:] if args.quick else LOADS
    policies = scheduler_names() if args.policies == "all" else tuple(args.policies.split(","))
    for family in args.families.split(","):
        if family not in FAMILIES:
            parser.error(f"--families: unknown family {family!r}; allowed: {', '.join(FAMILIES)}")
        for t2_s in FAMILIES[family][1]:
            start = time.perf_counter()
            table = family_table(family, seeds, loads, (t2_s,), policies)
            name = f"{family} T2={'preset' if math.isinf(t2_s) else format(t2_s, 'g') + ' s'}"
            if args.json:
                for p, t in table.items():
                    print(json.dumps({"family": family, "t2_s": None if math.isinf(t2_s) else t2_s, "policy": p, **t}))
            else:
                print(format_table(name, table))
                print(f"  ({time.perf_counter() - start:.0f} s wall; *: meets at least as many jobs as the best other policy)")
                print()


if __name__ == "__main__":
    main()
