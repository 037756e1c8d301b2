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
# # Tutorial 1: your first heralded link
#
# This tutorial builds the smallest quantum network there is, two NV-centre nodes joined by a
# fibre with a heralding station in the middle, and asks it for entangled pairs. Along the way
# it shows
#
# 1. how to assemble a link **in code** from the hardware models (`qstack.hardware`) and the
#    physical layer (`qstack.physical.HeraldedLink`), and run it with the network layer
#    (`qstack.network.Network`) in a SimPy simulation;
# 2. how fidelity and rate fall with fibre length for two heralding schemes, and how the
#    *physics-uninformed* baseline (no loss, no noise, every attempt succeeds) compares;
# 3. that the same numbers come out of a scenario (`load_scenario` + `run_scenario`, what
#    `qstack run` does);
# 4. how a stored pair decays while the application keeps it waiting, against the memory's T2.
#
# Every fidelity printed or plotted below is read off the density matrix the state engine holds
# when the pair is delivered; nothing is computed from a formula except the dashed guide in the
# last panel.
#
# Run it as a script from the repository root (`python tutorials/01_first_link.py`) or open it as
# a notebook with jupytext. It takes 10-20 s: the simulator never steps through failed
# attempts one by one, it draws how many there were (see `benchmarks/link_fast_forward.py`).

# %%
import dataclasses
import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write a file; no display needed
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np

from qstack.engine import Simulation
from qstack.hardware import Detector, Fiber, load_preset
from qstack.network import Network, Request
from qstack.physical import HeraldedLink, NodeHardware
from qstack.build import idealized
from qstack.runner import run_scenario
from qstack.scenario import load_scenario

WALL_START = time.perf_counter()
SEED = 7
PAIRS = 20  # pairs per simulated point: enough for a rate estimate within about 20 %
HOLD_S = 0.01  # the application keeps each pair 10 ms before using it (as the default scenario)
LENGTHS_KM = [1.0, 5.0, 10.0, 20.0, 35.0, 50.0]
SCENARIO_LENGTHS_KM = [1.0, 10.0, 50.0]  # the subset also run through a scenario

try:
    HERE = Path(__file__).resolve().parent
except NameError:  # inside a notebook
    HERE = Path.cwd()
FIGURE_PATH = Path(os.environ.get("QSTACK_TUTORIAL_OUT") or HERE / "01_first_link.png")

# %% [markdown]
# ## The hardware
#
# `load_preset("nv_centre")` returns the emitter, memory, nuclear-spin register and detector of
# an NV-centre node, every number with its literature source (`preset.sources`). Two overrides:
#
# * `emitter.conversion_efficiency = 0.17`: the NV's 637 nm photons are converted to the telecom
#   band before entering the fibre, as in the bundled default scenario (Dreau et al.,
#   Phys. Rev. Applied 9, 064031 (2018)).
# * `emitter.collection_efficiency = 0.1`: ten times the preset's bare-diamond value, an
#   illustrative figure for an NV coupled to an optical cavity. It is not a measured number; it
#   makes the curves below less dominated by detector dark counts. Try the preset's own 0.01.
#
# The fibre is `qstack.hardware.Fiber` with the attenuation and group index of the
# `telecom_fiber` preset. The heralding station sits in the middle, so each node sees one half.

# %%
COLLECTION_EFFICIENCY = 0.1
OVERRIDES = {"emitter.conversion_efficiency": 0.17, "emitter.collection_efficiency": COLLECTION_EFFICIENCY}

nv = load_preset("nv_centre", OVERRIDES)
telecom = load_preset("telecom_fiber").fiber
print(nv.describe())
print("collection efficiency from:", nv.sources["emitter.collection_efficiency"])
print("memory T2 from:           ", nv.sources["memory.t2_s"])


def make_nodes(ideal: bool = False, nuclear_storage: bool = True) -> tuple[NodeHardware, NodeHardware]:
    """Two identical NV nodes. ``ideal`` switches off loss and gate noise (the baseline)."""
    physics_off = ("loss", "gate_noise") if ideal else ()
    node = NodeHardware(
        memory=idealized(nv.memory, physics_off),
        emitter=idealized(nv.emitter, physics_off),
        nuclear_spin=nv.nuclear_spin if nuclear_storage else None,
        name="nv",
    )
    return dataclasses.replace(node, name="n0"), dataclasses.replace(node, name="n1")


def make_link(length_km: float, scheme: str, ideal: bool = False, alpha: float = 0.05,
              nuclear_storage: bool = True) -> HeraldedLink:
    """A heralded link of ``length_km`` with the station in the middle."""
    physics_off = ("loss", "gate_noise") if ideal else ()
    end_a, end_b = make_nodes(ideal, nuclear_storage)
    half = idealized(Fiber(length_km / 2, telecom.attenuation_db_per_km, telecom.refractive_index), physics_off)
    detector = idealized(
        Detector(efficiency=nv.detector.efficiency, dark_count_probability=nv.detector.dark_count_probability,
                 dead_time_s=nv.detector.dead_time_s),
        physics_off,
    )
    return HeraldedLink(end_a, end_b, half, half, detector, scheme=scheme, bright_state_population=alpha,
                        name=f"{scheme} {length_km:g} km")


# %% [markdown]
# ## Heralding
#
# Neither node can tell on its own whether entanglement was made: its photon may have been lost
# anywhere on the way. Each node therefore entangles its electron spin with a photon and sends
# the photon to a station halfway, where a beam splitter erases which node it came from. A
# detector click *heralds* success, and the station tells both nodes.
#
# * **Single-click** (Cabrillo et al. 1999; Humphreys et al. 2018): each spin is prepared in
#   `sqrt(1-alpha)|0> + sqrt(alpha)|1>` and emits a photon only from `|1>`. One click heralds
#   `(|01> +- |10>)/sqrt2`, *unless* both spins were bright and one photon was lost: that happens
#   with relative probability about `alpha`, so the fidelity is about `1 - alpha`, while the
#   success probability is about `2 alpha eta` with `eta` the detection efficiency of one arm.
#   This is the **alpha trade-off**: a brighter state means more clicks and worse pairs.
#   The pairs delivered below are well under `1 - alpha`: the preset's imperfect spin-photon
#   states (`emitter.emitted_state_fidelity`), partly distinguishable photons
#   (`emitter.photon_indistinguishability`), dark counts and the noisy moves into the nuclear
#   spin all take their share, and the simulation counts each of them.
# * **Barrett-Kok** (double-click, Barrett and Kok 2005; Hensen et al. 2015): two rounds with a
#   spin flip in between; a click in each round heralds a Bell state that loss alone cannot
#   spoil, but both photons must arrive: success `eta^2 / 2`.
#
# One attempt lasts the emission time plus the photon's trip to the station and the herald's
# trip back, about 5 us per km of fibre between the nodes. After the herald, the NV moves each electron state into
# a carbon-13 nuclear spin (three electron-nuclear gates, about 19 ms at 80 Hz coupling), where it
# lives far longer than on the electron.
#
# Here is one link, built by hand and run by the network layer:

# %%
def run_link(link: HeraldedLink, ideal: bool = False, pairs: int = PAIRS, hold_s: float = HOLD_S,
             seed: int = SEED):
    """Serve one request for ``pairs`` pairs over ``link``; return (fidelities, rate [Hz], service)."""
    graph = nx.Graph()
    graph.add_node("n0", hardware=link.end_a)
    graph.add_node("n1", hardware=link.end_b)
    graph.add_edge("n0", "n1", link=link)
    sim = Simulation(seed)
    # The uninformed baseline also stops stored qubits from decaying and makes every attempt succeed.
    network = Network(sim, graph, decoherence=not ideal, probabilistic=not ideal, gate_noise=not ideal)
    done = network.submit(Request("n0", "n1", pairs=pairs, storage_time_s=hold_s))
    sim.env.run(done)
    stats = network.stats[0]
    fidelities = np.array([record.fidelity for record in stats.records])
    return fidelities, len(stats.records) / stats.finished_s, network.service("n0", "n1")


link = make_link(10.0, "single_click")
fidelities, rate_hz, service = run_link(link)
print(f"single-click over 10 km: p = {link.success_probability:.3g} per attempt of "
      f"{link.attempt_time_s * 1e6:.1f} us, {service.attempts / service.successes:.3g} attempts per pair")
print(f"  {len(fidelities)} pairs, fidelity {fidelities.mean():.4f} +- {fidelities.std():.1e}, "
      f"rate {rate_hz:.3g} pairs/s")

# %% [markdown]
# ## Fidelity and rate versus length, and the idealized baseline
#
# The **physics-uninformed baseline** is what many protocol studies assume: photons are never
# lost, gates and emitted states are perfect, detectors have no dark counts, attempts always
# succeed and memories never decay. Here it is built by `qstack.build.idealized` on each device
# and `Network(..., decoherence=False, probabilistic=False, gate_noise=False)`.
#
# Fibre loss grows exponentially with length (0.2 dB/km), so the success probability and the
# rate fall exponentially: single-click by `eta`, Barrett-Kok by `eta^2`. Fidelity falls more
# slowly: dark counts stay the same while signal clicks get rarer, so an ever larger fraction of
# heralds are false. The baseline shows none of this: it reports a rate limited only by the
# nuclear-spin moves and a fidelity independent of length: at 50 km its rate is three (single-click)
# to six (Barrett-Kok) orders of magnitude too high.

# %%
SCHEMES = {"single_click": 0.05, "double_click": 0.5}  # scheme -> bright-state population

sweep = {}  # (scheme, "physics" | "ideal") -> list of (p, fidelity, rate [Hz])
for scheme, alpha in SCHEMES.items():
    for mode in ("physics", "ideal"):
        points = []
        for length_km in LENGTHS_KM:
            link = make_link(length_km, scheme, ideal=(mode == "ideal"), alpha=alpha)
            fidelities, rate_hz, service = run_link(link, ideal=(mode == "ideal"))
            points.append((service.success_probability, fidelities.mean(), rate_hz))
        sweep[scheme, mode] = points

# %% [markdown]
# ## The same link from a scenario
#
# `qstack run` builds exactly this from the bundled default scenario (two NV nodes, 10 km,
# single-click, alpha = 0.05). Settings are dotted keys into the scenario table, like
# `qstack run --set key.path=value`; `idealize = ["all"]` gives the baseline. With the same seed
# the scenario route reproduces the hand-built numbers.

# %%
def scenario_point(length_km: float, idealize: list[str]):
    settings = {
        "seed": SEED,
        "max_time_s": 1e9,  # simulated seconds; fast-forwarding makes long runs cheap
        "network.link_lengths_km": [length_km],
        "hardware.overrides.node.emitter.collection_efficiency": COLLECTION_EFFICIENCY,
        "requests.0.pairs": PAIRS,
        "requests.0.storage_time_s": HOLD_S,
        "idealize": idealize,
    }
    report = run_scenario(load_scenario(None, settings=settings))
    summary = report.to_dict()
    return summary["fidelity"]["mean"], summary["delivered"] / report.requests[0].finished_s


from_scenario = {
    "physics": [scenario_point(length_km, []) for length_km in SCENARIO_LENGTHS_KM],
    "ideal": [scenario_point(length_km, ["all"]) for length_km in SCENARIO_LENGTHS_KM],
}
for mode, points in from_scenario.items():
    in_code = [sweep["single_click", mode][LENGTHS_KM.index(length_km)] for length_km in SCENARIO_LENGTHS_KM]
    worst = max(max(abs(f - c[1]), abs(r / c[2] - 1)) for (f, r), c in zip(points, in_code))
    print(f"single-click {mode:<7}: scenario route vs code route, largest relative difference {worst:.1e}")

# %% [markdown]
# ## Decoherence while waiting
#
# A pair is rarely used the moment it is heralded: the application may wait for its own inputs
# (`Request.storage_time_s`), or, in a repeater chain, for the neighbouring link. Meanwhile each
# half relaxes. One stored half of `|Phi+>` kept for a time `t` in a memory with relaxation times
# T1, T2 keeps the fidelity `1/4 + exp(-t/T1)/4 + exp(-t/T2)/2` (see `qstack.hardware.Memory`).
# Here *both* halves wait, so the coherence decays with `exp(-2t/T2)` and
#
#     F_ideal(t) = (1 - exp(-t/T1) + exp(-2t/T1)) / 2 + exp(-2t/T2) / 2 .
#
# The pair is not perfect to begin with, so the dashed guide scales the decay by the initial
# quality, taking the pair to be a Werner state of the simulated fidelity F0 at t = 0:
# `F(t) = 1/4 + (F0 - 1/4) (4 F_ideal(t) - 1) / 3`. The points are simulated: they follow the
# actual density matrix, whose errors are not Werner-shaped, so they may drift from the guide.
#
# Two memories: the carbon-13 nuclear spin (T2 = 75 s, T1 effectively infinite) and the electron
# spin itself (T2 = 1.58 s, T1 about an hour), both from the preset. On a time axis in units of
# each memory's T2 the two collapse onto one curve.

# %%
STORAGE_IN_T2 = [0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0]


def werner_guide(t_s: np.ndarray, f0: float, t1_s: float, t2_s: float) -> np.ndarray:
    """Analytic guide: both halves relax for ``t_s``, starting from a Werner pair of fidelity ``f0``."""
    relax = np.exp(-t_s / t1_s)
    f_ideal = (1 - relax + relax**2) / 2 + np.exp(-2 * t_s / t2_s) / 2
    return 0.25 + (f0 - 0.25) * (4 * f_ideal - 1) / 3


storage = {}  # memory name -> (T1, T2, storage times [s], simulated fidelities)
for memory_name, nuclear in (("carbon-13 nuclear spin", True), ("electron spin", False)):
    register = nv.nuclear_spin if nuclear else nv.memory
    link = make_link(10.0, "single_click", nuclear_storage=nuclear)
    times_s = np.array(STORAGE_IN_T2) * register.t2_s
    simulated = [run_link(link, pairs=5, hold_s=float(t))[0].mean() for t in times_s]
    storage[memory_name] = (register.t1_s, register.t2_s, times_s, np.array(simulated))

# %% [markdown]
# ## The numbers

# %%
print(f"\n(a) 2 x NV, single-click alpha = {SCHEMES['single_click']}, Barrett-Kok alpha = 0.5, "
      f"{PAIRS} pairs per point, hold {HOLD_S * 1e3:g} ms")
print(f"{'scheme':<13}{'km':>5}{'p attempt':>11}{'F':>8}{'rate [Hz]':>11}{'F ideal':>9}{'rate ideal':>12}"
      f"{'F scen.':>9}{'rate scen.':>12}")
for scheme in SCHEMES:
    for i, length_km in enumerate(LENGTHS_KM):
        p, f, r = sweep[scheme, "physics"][i]
        _, f_id, r_id = sweep[scheme, "ideal"][i]
        scen = ""
        if scheme == "single_click" and length_km in SCENARIO_LENGTHS_KM:
            f_sc, r_sc = from_scenario["physics"][SCENARIO_LENGTHS_KM.index(length_km)]
            scen = f"{f_sc:>9.4f}{r_sc:>12.3g}"
        print(f"{scheme:<13}{length_km:>5g}{p:>11.3g}{f:>8.4f}{r:>11.3g}{f_id:>9.4f}{r_id:>12.3g}{scen}")

print("\n(b) single-click over 10 km, fidelity after storage")
print(f"{'memory':<24}{'T2 [s]':>8}{'t/T2':>6}{'t [s]':>9}{'F sim':>8}{'F guide':>9}")
for memory_name, (t1_s, t2_s, times_s, simulated) in storage.items():
    guide = werner_guide(times_s, simulated[0], t1_s, t2_s)
    for t, f, g in zip(times_s, simulated, guide):
        print(f"{memory_name:<24}{t2_s:>8.3g}{t / t2_s:>6.2f}{t:>9.3g}{f:>8.4f}{g:>9.4f}")

# %% [markdown]
# ## The figure

# %%
fig = plt.figure(figsize=(12, 6.5), layout="constrained")
left, right = fig.subfigures(1, 2, width_ratios=[1.1, 1])
ax_f, ax_r = left.subplots(2, 1, sharex=True)
ax_s = right.subplots()
colours = {"single_click": "tab:blue", "double_click": "tab:red"}
names = {"single_click": "single-click", "double_click": "Barrett-Kok"}
for scheme in SCHEMES:
    for mode, style in (("physics", "o-"), ("ideal", "s--")):
        p, f, r = np.array(sweep[scheme, mode]).T
        label = f"{names[scheme]}, {'physics-informed' if mode == 'physics' else 'idealized baseline'}"
        ax_f.plot(LENGTHS_KM, f, style, color=colours[scheme], label=label, alpha=1 if mode == "physics" else 0.6)
        ax_r.plot(LENGTHS_KM, r, style, color=colours[scheme], label=label, alpha=1 if mode == "physics" else 0.6)
for mode in ("physics", "ideal"):
    f, r = np.array(from_scenario[mode]).T
    label = "single-click via run_scenario" if mode == "physics" else None
    ax_f.plot(SCENARIO_LENGTHS_KM, f, "x", color="black", markersize=9, label=label)
    ax_r.plot(SCENARIO_LENGTHS_KM, r, "x", color="black", markersize=9)
ax_f.axhline(0.5, color="grey", lw=0.8, ls=":")
ax_f.set_ylim(0.25, 1.05)
ax_f.set_ylabel("delivered fidelity")
ax_f.set_title("(a) NV-NV link: fidelity and rate vs fibre length")
ax_f.legend(fontsize=7, loc="lower center", ncol=2)
ax_r.set_yscale("log")
ax_r.set_ylabel("rate [pairs / s]")
ax_r.set_xlabel("fibre length between the nodes [km]")

markers = {"carbon-13 nuclear spin": "o", "electron spin": "D"}
grid = np.linspace(0, max(STORAGE_IN_T2), 200)
for i, (memory_name, (t1_s, t2_s, times_s, simulated)) in enumerate(storage.items()):
    colour = f"C{i + 2}"
    ax_s.plot(times_s / t2_s, simulated, markers[memory_name], color=colour,
              label=f"{memory_name} (T2 = {t2_s:g} s), simulated")
    ax_s.plot(grid, werner_guide(grid * t2_s, simulated[0], t1_s, t2_s), "--", color=colour,
              label="analytic guide (Werner pair, both halves relax)")
ax_s.axhline(0.5, color="grey", lw=0.8, ls=":")
ax_s.set_xlabel("storage time / memory T2")
ax_s.set_ylabel("delivered fidelity")
ax_s.set_title("(b) fidelity after storage, single-click over 10 km")
ax_s.legend(fontsize=8)

FIGURE_PATH.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(FIGURE_PATH, dpi=110)
print(f"\nfigure written to {FIGURE_PATH}; tutorial ran in {time.perf_counter() - WALL_START:.1f} s wall")

# %% [markdown]
# ## What to take away
#
# * Heralding turns a lossy channel into a reliable but slow one: the herald tells you *when*
#   you have a pair, loss only decides how long you wait. The wait grows as `1/eta` for
#   single-click and `1/eta^2` for Barrett-Kok.
# * Single-click trades fidelity for rate through alpha; Barrett-Kok is insensitive to loss in
#   fidelity but pays for it twice in rate.
# * Stored pairs decay on the scale of T2 of *both* memories; a nuclear-spin register buys
#   orders of magnitude in storage time at the cost of slow, noisy moves.
# * The idealized baseline gets every one of these wrong: it predicts rates up to six orders of
#   magnitude too high and fidelities that do not depend on distance or waiting. Conclusions
#   about protocols drawn from it need the physics back in before they are trusted.
