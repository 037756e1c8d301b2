"""qstack and SimQN side by side: the same repeater chains, per delivered end-to-end pair.

SimQN (PyPI ``qns`` 0.2.3) keeps one Werner parameter per pair and multiplies them at a swap. The
chains are those of ``vs_sequence.py`` (10 km Barrett-Kok links, station in the middle, link
fidelity 0.9, 2 memories per link side used as two multiplexed modes, ideal swaps, fibre light
at 2e8 m/s: 50 us per link), one request between the end nodes served for ``--sim-time``
simulated seconds. Three timings per chain and repeat, interleaved in this order so that load
from other processes hits all alike:

* qstack, as in ``vs_sequence.py`` (circuit-level heralding, density matrices, nested swaps,
  attempts fast-forwarded by one geometric draw per generation);
* SimQN's shipped ``EntanglementDistributionApp`` (``shipped``): hop-by-hop distribution with
  sequential swaps; its links never fail, so it does less work than either of the others;
* the same app with every link attempt simulated (``per_attempt``): attempts every
  ``attempt_time_s`` of qstack's link (50 us), each a SimQN event succeeding with qstack's
  per-attempt success probability (both modes: ``1 - (1 - p_mode)^2``).

SimQN runs as a subprocess in its own virtual environment (``benchmarks/.venv-simqn``, made with
``python -m venv`` and ``pip install qns==0.2.3`` when missing) through
``benchmarks/_simqn_driver.py``; its time is that of ``Simulator.run``. qstack's is
``submit`` + ``run`` after an untimed warm-up, in this process. Reported per simulator: pairs,
mean fidelity and its closed form, wall and CPU milliseconds per delivered pair (medians over
``--repeats``), and the ratios SimQN / qstack.

Fidelity checks (closed forms): SimQN's every pair must have ``F = 1/4 + 3/4 w^k``,
``w = (4 * 0.9 - 1)/3`` (``k`` links; to 1e-9); qstack's mean must match ``(1 + a^k + b^k +
c^k)/4`` of its heralded link state (``vs_sequence.swapped_fidelity``) within three standard
errors. The two differ by design: qstack's link state has phase-heavy errors, not Werner ones
(``vs_sequence.py``, item 1).

Pairs per simulated second differ (SimQN's shipped app has no failures; its per-attempt variant
has one attempt in flight per hop, qstack all links at once with nested swaps), which is why the
comparison is per delivered pair.

    python benchmarks/vs_simqn.py                          # 3, 9, 33 nodes, 3 repeats
    python benchmarks/vs_simqn.py --nodes 3,9 --sim-time 0.05 --repeats 1 --json

Exit status: 0; 2 on bad options; 3 when SimQN could not be installed or run (qstack's half is
printed all the same); 4 when a fidelity check fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as vs_sequence.py: small matrices, shared cores

import numpy as np  # noqa: E402

from vs_sequence import (run_driver, Scenario, build_qstack_chain, emitter_fidelity_for, qstack_prediction,  # noqa: E402
                         warm_up_qstack, werner_chain_fidelity)
from qstack.network import Request  # noqa: E402

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-simqn"
DRIVER = HERE / "_simqn_driver.py"
SIMQN_REQUIREMENT = "qns==0.2.3"
MODES = ("shipped", "per_attempt")


class SimqnUnavailable(RuntimeError):
    """SimQN could not be installed or run; the message says why."""


@dataclass(frozen=True)
class Timing:
    """One simulator on one chain over the repeats: totals, and medians per delivered pair."""

    pairs: int
    fidelity: float | None
    fidelity_stderr: float | None
    predicted_fidelity: float
    wall_ms_per_pair: float | None
    cpu_ms_per_pair: float | None
    fidelity_ok: bool

    @classmethod
    def of(cls, runs: list[dict], predicted: float, exact: bool) -> "Timing":
        fidelities = np.array([f for run in runs for f in run["fidelities"]])
        per_pair = [(run["wall_s"] / len(run["fidelities"]), run["cpu_s"] / len(run["fidelities"]))
                    for run in runs if run["fidelities"]]
        n = len(fidelities)
        stderr = float(fidelities.std(ddof=1) / math.sqrt(n)) if n > 1 else None
        mean = float(fidelities.mean()) if n else None
        if not n:
            ok = False
        elif exact:  # every pair the closed form
            ok = bool(np.all(np.abs(fidelities - predicted) <= 1e-9))
        else:
            ok = abs(mean - predicted) <= max(3 * (stderr or 0.0), 1e-9)
        return cls(n, mean, stderr, predicted,
                   statistics.median(w for w, _ in per_pair) * 1e3 if per_pair else None,
                   statistics.median(c for _, c in per_pair) * 1e3 if per_pair else None, ok)


def ensure_simqn(venv: Path, install: bool) -> Path:
    """The interpreter of SimQN's environment, creating it (``pip install qns==0.2.3``) if allowed."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import qns.network.protocol.entanglement_distribution"]
    if python.exists() and subprocess.run(check, capture_output=True, timeout=120).returncode == 0:
        return python
    if not install:
        raise SimqnUnavailable(f"SimQN is not installed in {venv} and --no-install was given")
    print(f"installing {SIMQN_REQUIREMENT} into {venv} ...", file=sys.stderr, flush=True)
    for step in ([sys.executable, "-m", "venv", str(venv)],
                 [str(python), "-m", "pip", "install", "--quiet", SIMQN_REQUIREMENT]):
        try:
            out = subprocess.run(step, capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SimqnUnavailable(f"`{' '.join(step)}` failed: {error}") from None
        if out.returncode != 0:
            raise SimqnUnavailable(f"`{' '.join(step)}` exited with {out.returncode}: "
                                   + (out.stdout + out.stderr).strip().splitlines()[-1])
    if subprocess.run(check, capture_output=True, timeout=120).returncode != 0:
        raise SimqnUnavailable(f"{SIMQN_REQUIREMENT} was installed into {venv} but does not import")
    return python


def run_simqn(python: Path, params: dict, timeout_s: float) -> dict:
    try:
        out = run_driver(python, DRIVER, params, timeout_s)
    except subprocess.TimeoutExpired:
        raise SimqnUnavailable(f"SimQN run {params['mode']} of {params['nodes']} nodes exceeded {timeout_s:g} s") from None
    if out.returncode != 0:
        raise SimqnUnavailable(f"SimQN driver failed (exit {out.returncode}): " + out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_qstack(nodes: int, sim_time_s: float, scenario: Scenario, emitted: float, seed: int) -> dict:
    sim, network, names = build_qstack_chain(nodes, scenario, emitted, seed, math.inf)
    start, cpu_start = time.perf_counter(), time.process_time()
    network.submit(Request(names[0], names[-1], pairs=10**12))
    sim.env.run(until=sim_time_s)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {"fidelities": [r.fidelity for r in network.stats[0].records], "wall_s": wall, "cpu_s": cpu}


def _ratio(simqn: Timing | None, qstack: Timing, key: str) -> float | None:
    a, b = (getattr(simqn, key) if simqn else None), getattr(qstack, key)
    return a / b if a and b else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="3,9,33", help="comma-separated chain lengths (default 3,9,33)")
    parser.add_argument("--sim-time", type=float, default=0.1, help="simulated seconds per run (default 0.1)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per simulator and chain (seeds 1..N)")
    parser.add_argument("--send-rate", type=float, default=2000.0,
                        help="SimQN: new distributions per simulated second at the source (default 2000)")
    parser.add_argument("--json", action="store_true", help="one JSON object per chain length")
    parser.add_argument("--no-install", action="store_true", help="never install SimQN")
    parser.add_argument("--simqn-venv", type=Path, default=VENV, help=f"default {VENV}")
    parser.add_argument("--simqn-timeout", type=float, default=600.0, help="seconds per SimQN run")
    args = parser.parse_args(argv)
    try:
        nodes_list = [int(x) for x in args.nodes.split(",")]
    except ValueError:
        parser.error(f"--nodes must be comma-separated integers, got {args.nodes!r}")
    if any(n < 3 for n in nodes_list):
        parser.error("--nodes: chain lengths must be >= 3")
    if not args.sim_time > 0 or args.repeats < 1 or not args.send_rate > 0:
        parser.error("--sim-time and --send-rate must be > 0, --repeats >= 1")

    scenario = Scenario()
    emitted = emitter_fidelity_for(scenario)
    error, python = None, None
    try:
        python = ensure_simqn(args.simqn_venv, not args.no_install)
    except SimqnUnavailable as failure:
        error = str(failure)
        print(f"SimQN unavailable, running qstack only: {error}", file=sys.stderr)
    rows = []
    for nodes in nodes_list:
        warm_up_qstack(nodes, scenario, emitted, math.inf)
        sim, network, names = build_qstack_chain(nodes, scenario, emitted, 0, math.inf)
        service = network.service(names[0], names[1])
        base = {"nodes": nodes, "sim_time_s": args.sim_time, "link_fidelity": scenario.memory_fidelity,
                "success_probability": service.success_probability, "attempt_time_s": service.link.attempt_time_s,
                "link_delay_s": scenario.link_km * 1e3 / scenario.fiber_speed_m_per_s, "send_rate_hz": args.send_rate}
        runs = {"qstack": [], **{mode: [] for mode in MODES}}
        for repeat in range(args.repeats):
            seed = 1 + repeat
            print(f"{nodes} nodes, run {repeat + 1}/{args.repeats}", file=sys.stderr, flush=True)
            runs["qstack"].append(run_qstack(nodes, args.sim_time, scenario, emitted, seed))
            for mode in MODES:
                if python is None or error is not None:
                    break
                try:
                    runs[mode].append(run_simqn(python, {**base, "mode": mode, "seed": seed}, args.simqn_timeout))
                except SimqnUnavailable as failure:
                    error = str(failure)
                    print(f"SimQN failed: {error}", file=sys.stderr)
        werner = werner_chain_fidelity(scenario.memory_fidelity, nodes - 1)
        q = Timing.of(runs["qstack"], qstack_prediction(nodes, scenario, emitted), exact=False)
        simqn = {mode: Timing.of(runs[mode], werner, exact=True) for mode in MODES if runs[mode] and error is None}
        row = {"nodes": nodes, "success_probability": base["success_probability"], "qstack": asdict(q),
               "simqn": {mode: asdict(t) for mode, t in simqn.items()},
               "speedup_wall": {mode: _ratio(t, q, "wall_ms_per_pair") for mode, t in simqn.items()},
               "speedup_cpu": {mode: _ratio(t, q, "cpu_ms_per_pair") for mode, t in simqn.items()},
               "simqn_attempts_per_pair": {mode: sum(r["attempts"] for r in runs[mode]) / max(1, t.pairs)
                                           for mode, t in simqn.items()}}
        rows.append((row, q, simqn))
        if args.json:
            print(json.dumps(row), flush=True)
    if not args.json:
        print(f"{args.repeats} run(s) of {args.sim_time:g} simulated s per simulator and chain; SimQN send rate "
              f"{args.send_rate:g} Hz; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        print(f"{'nodes':>5} {'simulator':<18} {'pairs':>6} {'fidelity':>16} {'closed form':>11} {'check':>5} "
              f"{'wall/pair [ms]':>14} {'cpu/pair [ms]':>13} {'speedup':>8} {'cpu x':>6}")
        for row, q, simqn in rows:
            print(f"{row['nodes']:>5} {'qstack':<18} {q.pairs:>6} {q.fidelity or 0:>9.5f}±{q.fidelity_stderr or 0:.5f} "
                  f"{q.predicted_fidelity:>11.5f} {'ok' if q.fidelity_ok else 'FAIL':>5} "
                  f"{q.wall_ms_per_pair or 0:>14.3f} {q.cpu_ms_per_pair or 0:>13.3f}")
            for mode, t in simqn.items():
                print(f"{'':>5} {'SimQN ' + mode:<18} {t.pairs:>6} {t.fidelity or 0:>16.5f} {t.predicted_fidelity:>11.5f} "
                      f"{'ok' if t.fidelity_ok else 'FAIL':>5} {t.wall_ms_per_pair or 0:>14.3f} {t.cpu_ms_per_pair or 0:>13.3f} "
                      f"{row['speedup_wall'][mode] or 0:>7.1f}x {row['speedup_cpu'][mode] or 0:>5.1f}x")
        print("per pair: medians over the runs; speedup, cpu x: SimQN per pair / qstack per pair (wall, CPU); "
              "check: SimQN every pair = Werner closed form, qstack mean = its closed form within 3 sigma")
    if error is not None:
        print(f"SimQN results are missing: {error}", file=sys.stderr)
        return 3
    if not all(q.fidelity_ok and all(t.fidelity_ok for t in simqn.values()) for _, q, simqn in rows):
        print("a fidelity check failed", file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
