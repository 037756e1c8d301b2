# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tutorial 6: parameter sweeps, from a laptop to a cluster
#
# One simulation answers one question about one design. Most questions are about *trends*:
# how does the delivered fidelity fall with link length, and how much does a better memory buy?
# That takes a **sweep**: the same scenario run over a grid of settings, several seeds per
# setting for the spread. This tutorial
#
# 1. sweeps a three-node repeater chain over link length x memory coherence time (T2) x seeds
#    with `qstack.sweep.run_sweep`, on a small Dask cluster started on this machine
#    (two worker processes on the loopback interface);
# 2. shows that an interrupted sweep resumes without recomputing what it finished;
# 3. reads the results back and plots them;
# 4. shows how to point the very same sweep at a real cluster.
#
# The command-line form of everything here is `qstack sweep`:
#
#     qstack sweep my_chain.toml --param network.link_lengths_km=[2.0],[10.0],[50.0] \
#         --param hardware.overrides.node.nuclear_spin.t2_s=0.5,5.0,75.0 --seeds 3 \
#         --out sweep-chain --plot fidelity.mean
#
# It takes 15-20 s on two cores, much of it starting the workers and compiling each new T2's
# channels once per worker.

# %%
import os
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write a file; no display needed
import matplotlib.pyplot as plt
import numpy as np

from qstack.sweep import load_results, metric_value, plot_sweep, run_sweep

try:
    HERE = Path(__file__).resolve().parent
except NameError:  # inside a notebook
    HERE = Path.cwd()
FIGURE_PATH = Path(os.environ.get("QSTACK_TUTORIAL_OUT") or HERE / "06_sweeps_and_scale.png")

# %% [markdown]
# ## The question
#
# In a chain `n0 - n1 - n2` the middle node swaps two link pairs into one end-to-end pair. The
# two links are generated independently, and each needs on average `1/p` attempts, with `p`
# falling exponentially with length. Whichever link finishes first **waits** for the other in
# the carbon-13 nuclear-spin memory, and decoheres there with that memory's T2. Longer links
# mean longer waits, so a memory costs fidelity once the typical wait reaches its T2, on top of
# what loss and dark counts already cost. The sweep below finds where that happens.
#
# The scenario is the bundled default (NV centres, telecom conversion, single-click heralding)
# stretched to three nodes, with the cavity-enhanced collection of tutorial 1. The swept keys
# are dotted scenario keys, exactly as `qstack run --set` takes them:
#
# * `network.link_lengths_km`: one length for every link of the chain (a list value: `[10.0]`);
# * `hardware.overrides.node.nuclear_spin.t2_s`: T2 of the storage qubit. The preset's 75 s is
#   the Delft record with dynamical decoupling (Bradley et al., PRX 9, 031045 (2019)); 5 s and
#   0.5 s stand for less protected registers.
#
# Each point runs from its own seed, so a report does not depend on which worker ran it, and a
# point can be rerun alone: `qstack run --seed S --set key=value ...` gives the same numbers.

# %%
SETTINGS = {  # fixed for every point (qstack sweep --set)
    "network.nodes": 3,
    "requests.0.dst": "n2",
    "requests.0.pairs": 4,
    "hardware.overrides.node.emitter.collection_efficiency": 0.1,
    "max_time_s": 1e6,  # simulated seconds; long waits at 50 km are cheap to simulate
}
LENGTHS_KM = [2.0, 10.0, 25.0, 50.0]
T2_S = [0.5, 5.0, 75.0]
PARAMS = {  # swept (qstack sweep --param)
    "network.link_lengths_km": [[length] for length in LENGTHS_KM],
    "hardware.overrides.node.nuclear_spin.t2_s": T2_S,
}
SEEDS = [11, 12, 13]
POINTS = len(LENGTHS_KM) * len(T2_S) * len(SEEDS)  # 4 x 3 x 3 = 36

# %% [markdown]
# ## A cluster on this machine
#
# `dask.distributed.LocalCluster` starts a scheduler and worker processes here; the sweep only
# sees the scheduler's address, as it would for a cluster of a thousand cores. One thread per
# worker: the simulation is single-threaded Python and numpy on small matrices, so parallelism
# comes from processes, and each worker keeps its numerical libraries to one thread
# (`OPENBLAS_NUM_THREADS=1`, `OMP_NUM_THREADS=1`; with default threading small matrix products
# ran 4x slower on busy 2-core machines).
#
# Worker processes are started with `spawn`: each one imports this script again, and must not
# run the sweep itself. Hence `if __name__ == "__main__":` around the cells that do work (in a
# notebook `__name__` is `"__main__"`, so they run as usual).
#
# Every point is appended to `OUT/results.jsonl` (and fsynced) the moment it finishes.

# %%
if __name__ == "__main__":
    from dask.distributed import LocalCluster

    OUT = Path(tempfile.mkdtemp(prefix="qstack-sweep-"))
    wall_start = time.perf_counter()

    def report_progress(state):
        if state.record is not None and state.finished % 12 == 0:
            print(f"  {state.resumed + state.finished}/{state.total} points finished")

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        print(f"cluster up after {time.perf_counter() - wall_start:.1f} s: {cluster.scheduler_address}; "
              f"sweeping {POINTS} points")
        sweep_start = time.perf_counter()
        records = run_sweep(None, PARAMS, SEEDS, executor="dask", scheduler=cluster.scheduler_address,
                            out_dir=OUT, settings=SETTINGS, progress=report_progress)
        sweep_s = time.perf_counter() - sweep_start
    busy_s = sum(r["wall_time_s"] for r in records)
    failed = [r for r in records if r["status"] != "ok"]
    print(f"{len(records)} points ({len(failed)} failed) in {sweep_s:.1f} s wall; the points themselves "
          f"took {busy_s:.1f} s, so {busy_s / sweep_s:.2f} points ran at a time on average")
    print(f"results in {OUT / 'results.jsonl'}")

# %% [markdown]
# The average concurrency is below 2 here: each worker pays once for importing Qiskit and for
# compiling the state engine's channels, a cost that vanishes in sweeps of hundreds of points.
#
# ## Resuming
#
# Kill a sweep (Ctrl-C, a lost node, a batch-system time limit) and run the same command again:
# points already recorded with status `ok` are skipped, failed and missing ones run. Here the
# whole grid is done, so the second call runs nothing and just returns what is on disk.
# A point that raises is recorded with `"status": "error"` and its one-line error and does not
# stop the others (`qstack sweep` then exits with code 1).

# %%
if __name__ == "__main__":
    lines_before = (OUT / "results.jsonl").read_text()
    again_start = time.perf_counter()
    again = run_sweep(None, PARAMS, SEEDS, executor="inprocess", out_dir=OUT, settings=SETTINGS)
    assert (OUT / "results.jsonl").read_text() == lines_before  # nothing recomputed or rewritten
    assert [r["report"] for r in again] == [r["report"] for r in records]
    print(f"second call: {len(again)} points from disk in {time.perf_counter() - again_start:.2f} s")

# %% [markdown]
# ## Reading the results
#
# Each line of `results.jsonl` is one point: its id, the swept `params`, the `seed`, the
# `status`, its `wall_time_s` and the full `report` of `qstack run --json` (minus the wall
# time). With pandas installed, `pandas.read_json(OUT / "results.jsonl", lines=True)` loads it
# in one line and `qstack.sweep.to_frame(OUT)` gives the report flattened into columns
# (`fidelity.mean`, `throughput_hz`, ...). Without pandas, `load_results` returns the records
# and `metric_value(record, "fidelity.mean")` reads a dotted metric:

# %%
def summarize(records: list[dict], metric: str) -> dict[tuple[float, float], tuple[float, float]]:
    """(length [km], T2 [s]) -> (mean, sample std) of ``metric`` over the seeds."""
    samples: dict[tuple[float, float], list[float]] = {}
    for record in records:
        value = metric_value(record, metric) if record["status"] == "ok" else None
        if value is not None:
            key = (record["params"]["network.link_lengths_km"][0],
                   record["params"]["hardware.overrides.node.nuclear_spin.t2_s"])
            samples.setdefault(key, []).append(value)
    return {key: (float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0) for key, v in samples.items()}


if __name__ == "__main__":
    results = load_results(OUT)
    fidelity = summarize(results, "fidelity.mean")
    latency = summarize(results, "latency_s.mean")
    best = T2_S[-1]
    print(f"\nend-to-end fidelity over n0-n1-n2, mean +- std over {len(SEEDS)} seeds")
    print(f"{'km per link':>12}{'latency [s]':>13}" + "".join(f"{f'T2 = {t2:g} s':>20}" for t2 in T2_S)
          + "".join(f"{f'cost of {t2:g} s':>14}" for t2 in T2_S[:-1]))
    for length in LENGTHS_KM:
        row = "".join(f"{fidelity[length, t2][0]:>12.3f} +- {fidelity[length, t2][1]:.3f}" for t2 in T2_S)
        cost = "".join(f"{fidelity[length, best][0] - fidelity[length, t2][0]:>14.3f}" for t2 in T2_S[:-1])
        print(f"{length:>12g}{latency[length, best][0]:>13.3g}{row}{cost}")

# %% [markdown]
# ## The figure
#
# Left, the fidelity against link length, one line per T2. Right, the mean time from the start
# of a pair's generation to its delivery, which the memory does not change (T2 spoils pairs, it
# does not lose them; with the same seeds every T2 sees the same waits), against the T2 values
# as dashed lines; once fibre loss dominates the fixed overheads it grows exponentially with
# length (0.2 dB/km on each half-link). The "cost" columns above are the fidelity a memory loses against the
# 75 s one: small while the waits stay well below its T2 (T2 = 5 s at 2 km), large once they
# reach it. T2 = 0.5 s is past that point already at 2 km, close to the floor where the stored
# halves have lost their coherence. `plot_sweep` (what `qstack sweep --plot fidelity.mean`
# calls) draws the left panel on its own into the sweep directory.

# %%
if __name__ == "__main__":
    fig, (ax_f, ax_t) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    for i, t2 in enumerate(T2_S):
        means, stds = np.array([fidelity[length, t2] for length in LENGTHS_KM]).T
        ax_f.errorbar(LENGTHS_KM, means, yerr=stds, marker="o", capsize=3, color=f"C{i}",
                      label=f"nuclear-spin T2 = {t2:g} s")
        ax_t.axhline(t2, color=f"C{i}", ls="--", lw=1, label=f"T2 = {t2:g} s")
    means, stds = np.array([latency[length, best] for length in LENGTHS_KM]).T
    ax_t.errorbar(LENGTHS_KM, means, yerr=stds, marker="s", capsize=3, color="black",
                  label="mean latency of a pair")
    ax_f.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax_f.set_xlabel("length of each link [km]")
    ax_f.set_ylabel("end-to-end fidelity")
    ax_f.set_title(f"(a) 3-node NV chain, mean and std over {len(SEEDS)} seeds")
    ax_f.legend(fontsize=8)
    ax_t.set_yscale("log")
    ax_t.set_xlabel("length of each link [km]")
    ax_t.set_ylabel("time [s]")
    ax_t.set_title("(b) time to deliver a pair against the memories' T2")
    ax_t.legend(fontsize=8)
    FIGURE_PATH.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE_PATH, dpi=110)
    print(f"figure written to {FIGURE_PATH}")
    print(f"plot_sweep wrote {plot_sweep(OUT, 'fidelity.mean')}")
    print(f"tutorial ran in {time.perf_counter() - wall_start:.1f} s wall")

# %% [markdown]
# ## The same sweep on a real cluster
#
# Nothing in the sweep depends on where the workers are: the scenario travels with each task
# (workers need qstack installed, not the scenario file), results come back to the machine that
# started the sweep and are written there. Start a scheduler on one machine and workers on as
# many as you like, one single-threaded worker process per core:
#
# ```bash
# # on the scheduler machine (port 8786 must be reachable from the workers and from you)
# dask scheduler --port 8786
#
# # on every worker machine: one process per core, one thread each
# dask worker tcp://scheduler-host:8786 --nworkers auto --nthreads 1
#
# # from anywhere that reaches the scheduler, with qstack installed
# qstack sweep my_chain.toml --param network.link_lengths_km=[2.0],[10.0],[50.0] \
#     --param hardware.overrides.node.nuclear_spin.t2_s=0.5,5.0,75.0 --seeds 3 \
#     --scheduler tcp://scheduler-host:8786 --out sweep-chain --plot fidelity.mean
# ```
#
# or, from Python, `run_sweep(..., executor="dask", scheduler="tcp://scheduler-host:8786")`.
# Workers started by `dask worker` run their tasks with `OPENBLAS_NUM_THREADS=1` and
# `OMP_NUM_THREADS=1` (Dask's default `distributed.nanny.pre-spawn-environ`), which is what the
# simulation wants. On a batch system, `dask-jobqueue` starts the same workers as jobs.
#
# If the machine running `qstack sweep` goes down, run the same command again: the finished
# points are in `--out`, and only the rest go to the cluster. Without `--scheduler`,
# `qstack sweep` runs on a local process pool (`--workers N`, default one per core) or, with
# `--in-process`, in its own process; the reports are identical bit for bit either way.
