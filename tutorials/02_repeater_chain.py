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
# # Tutorial 2: a repeater chain
#
# One heralded link loses its photons exponentially with length (tutorial 1). A **repeater chain**
# cuts the distance into `N` shorter links, makes a pair on every link independently, stores
# each pair in memory until its neighbours are ready, and joins neighbouring pairs by
# **entanglement swapping**: a Bell measurement on the two qubits a repeater node holds leaves
# the two outer qubits entangled. This tutorial
#
# 1. builds chains of 1, 2, 4 and 8 links in code and runs them with the network layer
#    (swap as soon as possible, deterministic Bell measurements on the memories);
# 2. checks the waiting time of a two-segment repeater against its closed form;
# 3. plots the end-to-end rate against total distance next to the **PLOB bound**, the most any
#    repeaterless protocol can get through the same fibre;
# 4. shows the price: delivered fidelity falls with the number of links, with the memories' T2
#    and with the link length, because every stored qubit decoheres while it waits.
#
# Every fidelity is read off the density matrix the state engine holds at delivery; the
# formulas below are guides drawn next to the simulated points. Run it from the repository root
# (`python tutorials/02_repeater_chain.py`, about 10-20 s) or open it as a notebook with jupytext.

# %%
import dataclasses
import math
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
from qstack.runner import run_scenario
from qstack.scenario import load_scenario

WALL_START = time.perf_counter()
SEED = 11
PAIRS = 20  # end-to-end pairs per point of the rate and fidelity sweeps
LINKS = [1, 2, 4, 8]
TOTAL_KM = [1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 150.0, 200.0]
LINK_KM = 25.0  # link length of the fidelity-versus-links panel and the T2 sweep
SHORT_T2_S = 1.0  # the shortened memory T2 of the decoherence panels (see below)

try:
    HERE = Path(__file__).resolve().parent
except NameError:  # inside a notebook
    HERE = Path.cwd()
FIGURE_PATH = Path(os.environ.get("QSTACK_TUTORIAL_OUT") or HERE / "02_repeater_chain.png")

# %% [markdown]
# ## The hardware (illustrative)
#
# Each link has an entangled photon-pair source in its middle (`spdc_source` preset: SPDC at
# 0.01 pairs per pulse, 31.1 MHz, pair fidelity 0.9885) that sends one photon to each end,
# where a memory absorbs it; a node knows it holds a pair once both ends have told each other
# that they absorbed (scheme `midpoint_source`). Both photons must cross their half of the
# fibre, so a link of length `L` succeeds with `p = 0.01 * eta(L)`,
# `eta(L) = 10^(-0.2 L / 10)` for 0.2 dB/km: the same loss as sending one photon the whole way.
#
# The memories are the `trapped_ion` preset's: hyperfine qubits with T2 = 660 s, 99.9 % two-qubit
# gates, 99.93 % readout, and a Bell measurement that takes 100 us + 10 us + 145 us. The
# combination is **illustrative**, not a device anyone has built: an ion does not absorb an
# SPDC photon (the preset's write efficiency of 1 describes an emitting ion), and an
# absorptive memory that does (e.g. the `rare_earth_multimode` preset) cannot do deterministic
# Bell measurements. It is chosen because it runs fast and isolates the repeater physics: loss
# in the fibre, waiting, decoherence, and noisy swaps.
#
# The preset's T2 of 660 s barely moves the fidelity on these time scales, so the decoherence
# panels also use a shortened `T2 = 1 s` (an NV electron spin's coherence is 1.58 s).

# %%
ion = load_preset("trapped_ion")
spdc = load_preset("spdc_source").pair_source
fibre = load_preset("telecom_fiber").fiber
print(f"source: {spdc.pair_probability} pairs per pulse at {spdc.repetition_rate_hz / 1e6:g} MHz, "
      f"F = {spdc.emitted_state_fidelity}  ({load_preset('spdc_source').sources['pair_source.pair_probability']})")
print(f"memory: T2 = {ion.memory.t2_s:g} s, two-qubit gate F = {ion.memory.two_qubit_gate_fidelity}, "
      f"readout F = {ion.memory.measurement_fidelity}")


def make_chain(n_links: int, link_km: float, t2_s: float | None = None) -> tuple[nx.Graph, list[str]]:
    """A chain of ``n_links`` equal links with a pair source in the middle of each."""
    memory = ion.memory if t2_s is None else dataclasses.replace(ion.memory, t2_s=t2_s)
    half = Fiber(link_km / 2, fibre.attenuation_db_per_km, fibre.refractive_index)
    graph = nx.Graph()
    names = [f"n{i}" for i in range(n_links + 1)]
    for name in names:
        graph.add_node(name, hardware=NodeHardware(memory=memory, name=name))
    for a, b in zip(names, names[1:]):
        end_a, end_b = graph.nodes[a]["hardware"], graph.nodes[b]["hardware"]
        link = HeraldedLink(end_a, end_b, half, half, Detector(), scheme="midpoint_source", pair_source=spdc,
                            name=f"{a}-{b}")
        graph.add_edge(a, b, link=link, length_km=link_km)
    return graph, names


def run_chain(n_links: int, link_km: float, pairs: int = PAIRS, t2_s: float | None = None,
              decoherence: bool = True, seed: int = SEED):
    """Serve one request for ``pairs`` end-to-end pairs; return (records, rate [Hz], network)."""
    graph, names = make_chain(n_links, link_km, t2_s)
    sim = Simulation(seed)
    network = Network(sim, graph, decoherence=decoherence)  # swap-asap, deterministic Bell measurements
    done = network.submit(Request(names[0], names[-1], pairs=pairs))
    sim.env.run(done)
    stats = network.stats[0]
    return stats.records, len(stats.records) / stats.finished_s, network


# %% [markdown]
# ## Waiting for two links at once
#
# With swap-asap both links of a two-segment chain try in lock-step from the moment a pair is
# requested; the repeater swaps when the slower one succeeds, after `max(k1, k2)` attempts,
# `k1, k2` geometric with success probability `p`. The expected wait is
#
#     E[max(k1, k2)] = 2/p - 1/(1 - (1-p)^2) = (3 - 2p) / (p (2 - p))  attempts,
#
# about `1.5/p` for small `p`: the second link costs only half a link's wait more, because the
# link that succeeds first waits *in memory* for the other instead of starting over. Without
# memories both links would have to succeed in the same attempt, `1/p^2` attempts. For `N` links
# the wait grows like the harmonic number, `E[max] ~ H_N / p` (`H_8 = 2.7`).
#
# The record of every delivered pair splits its latency (`record.breakdown`): emission wait plus
# heralding is the time until the last link heralded, which here is `max(k1, k2)` attempts.

# %%
records, _, network = run_chain(2, LINK_KM, pairs=300, seed=SEED + 1)
service = network.service("n0", "n1")
p, attempt_s = service.success_probability, service.link.attempt_time_s
waits = np.array([(r.breakdown.emission_wait_s + r.breakdown.heralding_s) / attempt_s for r in records])
expected_wait = (3 - 2 * p) / (p * (2 - p))
print(f"2 x {LINK_KM:g} km: p = {p:.4g} per attempt of {attempt_s * 1e6:.1f} us")
print(f"  waited {waits.mean():.1f} +- {waits.std() / math.sqrt(len(waits)):.1f} attempts over {len(waits)} pairs; "
      f"(3 - 2p)/(p(2 - p)) = {expected_wait:.1f}; one link alone: 1/p = {1 / p:.1f}")

# %% [markdown]
# ## Rate versus distance, and the PLOB bound
#
# For each total distance `D` the chain has `N` links of `D/N`; `N = 1` is direct transmission,
# one link over the whole distance (its source in the middle). A chain's link succeeds with
# `p = 0.01 eta(D)^(1/N)` instead of `0.01 eta(D)`, so its rate falls `N` times more slowly with
# distance. It also pays for that: every link must be ready at once (the `H_N` above), every
# swap takes 255 us of gates and readout (the network does them one after the other), and
# results must travel to the ends. So a repeater only wins beyond some distance: at 1-2 km the
# fibre loses almost nothing and the overheads dominate; at 200 km one direct link has
# `eta = 1e-4`, each of 8 links `eta^(1/8) = 0.32`.
#
# **PLOB bound** (Pirandola, Laurenza, Ottaviani, Banchi, Nat. Commun. 8, 15043 (2017)): no
# protocol without repeaters, whatever its sources, detectors or error correction, distils more
# than `-log2(1 - eta)` ebits (or secret bits) per use of a lossy channel of transmissivity
# `eta`; for small `eta` that is `1.44 eta`. It is a number **per channel use**. To draw it in
# pairs per second we count one channel use per attempt of the direct link, i.e. divide by the
# direct link's attempt time `tau(D)` (emission plus the photons' flight and the heralds' return,
# about 7.3 us per km). Caveats:
#
# * this clock is a choice: a source that did not wait for heralds (time-multiplexed, like the
#   31 MHz SPDC pump itself) would use the fibre far more often, lifting the line by the same
#   factor; only the slope, `eta` per km, is protocol-independent;
# * the bound counts ideal ebits; the simulated pairs are noisy (see the fidelity panels), so a
#   chain above the line has beaten it in *rate*, not in distillable entanglement per second;
# * the direct link here is well below the bound: at 0.01 pairs per pulse the source wastes 99 %
#   of its channel uses, which is why it runs 144 times under the line. Repeaters are the only
#   way to beat the line's slope, and the 4- and 8-link chains cross it at long distance;
# * the chains are not held to the direct link's clock: their shorter links attempt `N` times as
#   often, because each attempt waits only for its own link's heralds. That is part of what a
#   repeater buys, and it is why the gain shows even at 5-10 km, where loss alone would not
#   justify it.
#
# Panel (b) divides each chain's rate by that of direct transmission; where it crosses 1 the
# repeater starts to pay.

# %%
def direct_attempt_s(total_km: float) -> float:
    """Attempt time of the direct link over ``total_km`` [s], from the physical layer."""
    graph, _ = make_chain(1, total_km)
    return graph.edges["n0", "n1"]["link"].attempt_time_s


def plob_pairs_per_s(total_km: float) -> float:
    """PLOB bound -log2(1 - eta) per channel use, one use per attempt of the direct link [Hz]."""
    eta = 10 ** (-fibre.attenuation_db_per_km * total_km / 10)
    return -math.log2(1 - eta) / direct_attempt_s(total_km)


rates = {}  # links -> list of rate [Hz], one per total distance
rate_fidelity = {}  # links -> list of mean fidelity
for n_links in LINKS:
    rates[n_links], rate_fidelity[n_links] = [], []
    for total_km in TOTAL_KM:
        records, rate_hz, _ = run_chain(n_links, total_km / n_links)
        rates[n_links].append(rate_hz)
        rate_fidelity[n_links].append(np.mean([r.fidelity for r in records]))
plob = [plob_pairs_per_s(total_km) for total_km in TOTAL_KM]

for n_links in LINKS[1:]:
    wins = [d for d, r, r1 in zip(TOTAL_KM, rates[n_links], rates[1]) if r > r1]
    above = [d for d, r, bound in zip(TOTAL_KM, rates[n_links], plob) if r > bound]
    print(f"{n_links} links beat direct transmission from {wins[0] if wins else '-'} km, "
          f"the PLOB line from {above[0] if above else '-'} km (of the distances simulated)")

# %% [markdown]
# The same chain from a scenario file: `qstack run` builds it from these keys, and with the same
# seed gives the same pairs.

# %%
scenario = load_scenario({
    "seed": SEED,
    "network": {"topology": "chain", "nodes": 5, "link_lengths_km": [25.0]},
    "hardware": {"node": "trapped_ion", "channel": "telecom_fiber", "source": "spdc_source"},
    "link": {"scheme": "midpoint_source"},
    "requests": [{"src": "n0", "dst": "n4", "pairs": PAIRS}],
})
report = run_scenario(scenario)
scenario_rate = report.requests[0].delivered / report.requests[0].finished_s
in_code = rates[4][TOTAL_KM.index(100.0)]
print(f"4 x 25 km: scenario route {scenario_rate:.4g} Hz, F = {report.requests[0].mean_fidelity:.4f}; "
      f"code route {in_code:.4g} Hz, F = {rate_fidelity[4][TOTAL_KM.index(100.0)]:.4f}")

# %% [markdown]
# ## Fidelity versus the number of links
#
# Each link delivers nearly a Werner state, `rho = w |Phi+><Phi+| + (1 - w) I/4` with
# `F = (1 + 3w)/4`. Swapping two Werner states with ideal gates gives a Werner state with
# `w1 w2`: the Bell measurement teleports one pair's noise onto the other. `N` links therefore
# give `F_N = 1/4 + 3/4 w^N`, decaying geometrically towards 1/4 whatever the distance. Noisy
# swaps add roughly a factor `w_swap` per swap; the dashed guide takes `w` from the source's
# fidelity and `w_swap` from the simulated two-link chain without decoherence, and predicts 4 and
# 8 links. With decoherence every qubit also loses coherence while it waits for its
# neighbours, and more links mean more waiting qubits and longer waits.

# %%
w_link = (4 * spdc.emitted_state_fidelity - 1) / 3
by_links = {}  # (label, links) -> mean fidelity
for label, t2_s, decoherence in (("no decoherence", None, False), ("T2 = 660 s (preset)", None, True),
                                 (f"T2 = {SHORT_T2_S:g} s", SHORT_T2_S, True)):
    for n_links in LINKS:
        records, _, _ = run_chain(n_links, LINK_KM, t2_s=t2_s, decoherence=decoherence)
        by_links[label, n_links] = float(np.mean([r.fidelity for r in records]))
w_swap = (4 * by_links["no decoherence", 2] - 1) / 3 / w_link**2


def werner_chain(n_links: int) -> float:
    return 0.25 + 0.75 * w_link**n_links * w_swap ** (n_links - 1)


print(f"link w = {w_link:.4f}, swap w = {w_swap:.4f} (from the 2-link chain without decoherence)")

# %% [markdown]
# ## Decoherence while waiting: memory T2 and link length
#
# In the two-link chain the link that heralds first waits `|k1 - k2|` attempts of `tau` for the
# other, and both of its qubits dephase meanwhile (T1 is infinite for this memory), multiplying
# that pair's coherence by `c = exp(-2 |k1 - k2| tau / T2)`. Swapping it with a fresh Werner
# pair gives `F = 1/4 + w^2 (1 + 2c)/4`, linear in `c`; averaging over the geometric laws,
#
#     E[c] = p/(2 - p) * (1 + q x)/(1 - q x),   q = 1 - p,  x = exp(-2 tau / T2).
#
# The dashed guides use this with `w^2` taken from the simulated fidelity without decoherence,
# `F = 1/4 + (F0 - 1/4)(1 + 2 E[c])/3`. Fidelity falls with shorter T2 and with longer links:
# longer links succeed less often (`p ~ eta`) and each attempt takes longer (`tau ~ L`), so the
# wait grows like `L exp(0.046 L/km)`. The end qubits also decay while the swap outcome travels
# to them, which the guide leaves out.

# %%
T2_S = [0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0]
LENGTHS_KM = [5.0, 10.0, 20.0, 30.0, 40.0, 60.0]
DECAY_PAIRS = 30


def expected_coherence(p: float, attempt_s: float, t2_s: float) -> float:
    """E[exp(-2 |k1 - k2| tau / T2)] for two independent geometric attempt counts."""
    q, x = 1 - p, math.exp(-2 * attempt_s / t2_s)
    return p / (2 - p) * (1 + q * x) / (1 - q * x)


def waiting_guide(f0: float, link_km: float, t2_s: float) -> float:
    graph, _ = make_chain(1, link_km)
    link = graph.edges["n0", "n1"]["link"]
    return 0.25 + (f0 - 0.25) * (1 + 2 * expected_coherence(link.success_probability, link.attempt_time_s, t2_s)) / 3


def mean_fidelity(n_links: int, link_km: float, t2_s: float | None, decoherence: bool = True) -> float:
    records, _, _ = run_chain(n_links, link_km, pairs=DECAY_PAIRS, t2_s=t2_s, decoherence=decoherence)
    return float(np.mean([r.fidelity for r in records]))


f0_t2 = mean_fidelity(2, LINK_KM, None, decoherence=False)
by_t2 = [mean_fidelity(2, LINK_KM, t2_s) for t2_s in T2_S]
f0_length = {km: mean_fidelity(2, km, None, decoherence=False) for km in LENGTHS_KM}
by_length = [mean_fidelity(2, km, SHORT_T2_S) for km in LENGTHS_KM]

# %% [markdown]
# ## The numbers

# %%
print(f"\n(a) rate [pairs/s] versus total distance, {PAIRS} pairs per point; PLOB at one use per direct attempt")
print(f"{'km':>6}{'eta':>10}{'PLOB':>11}" + "".join(f"{f'{n} link' + ('s' if n > 1 else ''):>11}" for n in LINKS)
      + "".join(f"{f'F {n}':>8}" for n in LINKS))
for i, total_km in enumerate(TOTAL_KM):
    eta = 10 ** (-fibre.attenuation_db_per_km * total_km / 10)
    print(f"{total_km:>6g}{eta:>10.3g}{plob[i]:>11.4g}" + "".join(f"{rates[n][i]:>11.4g}" for n in LINKS)
          + "".join(f"{rate_fidelity[n][i]:>8.4f}" for n in LINKS))

print("\n(b) rate relative to direct transmission")
print(f"{'km':>6}" + "".join(f"{f'{n} links':>11}" for n in LINKS[1:]))
for i, total_km in enumerate(TOTAL_KM):
    print(f"{total_km:>6g}" + "".join(f"{rates[n][i] / rates[1][i]:>11.3g}" for n in LINKS[1:]))

print(f"\n(c) fidelity versus number of links of {LINK_KM:g} km, {PAIRS} pairs per point")
labels = list(dict.fromkeys(label for label, _ in by_links))
print(f"{'links':>6}" + "".join(f"{label:>22}" for label in labels) + f"{'Werner guide':>14}")
for n_links in LINKS:
    print(f"{n_links:>6}" + "".join(f"{by_links[label, n_links]:>22.4f}" for label in labels)
          + f"{werner_chain(n_links):>14.4f}")

print(f"\n(d) two links of {LINK_KM:g} km, fidelity versus memory T2, {DECAY_PAIRS} pairs per point "
      f"(no decoherence: {f0_t2:.4f})")
print(f"{'T2 [s]':>8}{'F sim':>9}{'F guide':>9}")
for t2_s, f in zip(T2_S, by_t2):
    print(f"{t2_s:>8g}{f:>9.4f}{waiting_guide(f0_t2, LINK_KM, t2_s):>9.4f}")

print(f"\n(e) two links, T2 = {SHORT_T2_S:g} s, fidelity versus link length, {DECAY_PAIRS} pairs per point")
print(f"{'link km':>8}{'F sim':>9}{'F guide':>9}{'F no decoh.':>13}")
for km, f in zip(LENGTHS_KM, by_length):
    print(f"{km:>8g}{f:>9.4f}{waiting_guide(f0_length[km], km, SHORT_T2_S):>9.4f}{f0_length[km]:>13.4f}")

# %% [markdown]
# ## The figure

# %%
fig, axes = plt.subplot_mosaic([["rate", "rate", "gain"], ["links", "t2", "length"]], figsize=(15, 9),
                               layout="constrained")
ax_rate, ax_gain, ax_links, ax_t2, ax_len = (axes[k] for k in ("rate", "gain", "links", "t2", "length"))
grid_km = np.linspace(1.0, max(TOTAL_KM), 300)
ax_rate.plot(grid_km, [plob_pairs_per_s(km) for km in grid_km], "k--", label="PLOB bound (one use per direct attempt)")
for i, n_links in enumerate(LINKS):
    label = "direct transmission (1 link)" if n_links == 1 else f"{n_links} links, swap-asap"
    ax_rate.plot(TOTAL_KM, rates[n_links], "o-", color=f"C{i}", label=label)
ax_rate.set_yscale("log")
ax_rate.set_xlabel("total distance [km]")
ax_rate.set_ylabel("end-to-end rate [pairs / s]")
ax_rate.set_title("(a) rate versus distance")
ax_rate.legend(fontsize=8)

for i, n_links in enumerate(LINKS[1:], start=1):
    gain = np.array(rates[n_links]) / np.array(rates[1])
    ax_gain.plot(TOTAL_KM, gain, "o-", color=f"C{i}", label=f"{n_links} links")
ax_gain.axhline(1.0, color="C0", lw=1, label="direct transmission")
ax_gain.set_xscale("log")
ax_gain.set_yscale("log")
ax_gain.set_xlabel("total distance [km]")
ax_gain.set_ylabel("rate / rate of direct transmission")
ax_gain.set_title("(b) where a repeater starts to pay")
ax_gain.legend(fontsize=8)

styles = {"no decoherence": "o-", "T2 = 660 s (preset)": "s--"}
for i, label in enumerate(labels):
    ax_links.plot(LINKS, [by_links[label, n] for n in LINKS], styles.get(label, "^-"), color=f"C{i + 4}", label=label,
                  markerfacecolor="none" if i == 0 else None, markersize=9 if i == 0 else 6)
fine = np.linspace(1, max(LINKS), 100)
ax_links.plot(fine, [werner_chain(n) for n in fine], "k--", lw=1, label="1/4 + 3/4 w^N w_swap^(N-1)")
ax_links.set_xscale("log", base=2)
ax_links.set_xticks(LINKS, [str(n) for n in LINKS])
ax_links.set_xlabel(f"number of links ({LINK_KM:g} km each)")
ax_links.set_ylabel("delivered fidelity")
ax_links.set_title("(c) fidelity versus number of links")
ax_links.legend(fontsize=8)

t2_grid = np.logspace(math.log10(min(T2_S)), math.log10(max(T2_S)), 100)
ax_t2.plot(T2_S, by_t2, "o", color="C4", label=f"2 x {LINK_KM:g} km, simulated")
ax_t2.plot(t2_grid, [waiting_guide(f0_t2, LINK_KM, t) for t in t2_grid], "--", color="C4", label="waiting guide")
ax_t2.axhline(f0_t2, color="grey", lw=0.8, ls=":", label="no decoherence")
ax_t2.set_xscale("log")
ax_t2.set_xlabel("memory T2 [s]")
ax_t2.set_ylabel("delivered fidelity")
ax_t2.set_title("(d) fidelity versus memory T2")
ax_t2.legend(fontsize=8)

length_grid = np.linspace(min(LENGTHS_KM), max(LENGTHS_KM), 60)
ax_len.plot(LENGTHS_KM, by_length, "o", color="C5", label=f"2 links, T2 = {SHORT_T2_S:g} s, simulated")
ax_len.plot(length_grid, [waiting_guide(f0_length[LENGTHS_KM[0]], km, SHORT_T2_S) for km in length_grid], "--",
            color="C5", label="waiting guide")
ax_len.plot(LENGTHS_KM, [f0_length[km] for km in LENGTHS_KM], "s:", color="grey", label="no decoherence")
ax_len.set_xlabel("link length [km]")
ax_len.set_ylabel("delivered fidelity")
ax_len.set_title("(e) fidelity versus link length")
ax_len.legend(fontsize=8)

FIGURE_PATH.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(FIGURE_PATH, dpi=110)
print(f"\nfigure written to {FIGURE_PATH}; tutorial ran in {time.perf_counter() - WALL_START:.1f} s wall")

# %% [markdown]
# ## What to take away
#
# * A repeater chain turns the exponential loss of one long fibre into the loss of one short
#   link, `eta^(1/N)`, at the price of memories that hold pairs until their neighbours are
#   ready. Beyond some distance that beats not only direct transmission but the PLOB bound of
#   any repeaterless scheme; at short distances the waiting for all links and the swap times
#   cost more than the fibre does.
# * Memories are what make this work: a two-segment repeater waits `(3 - 2p)/(p(2 - p))`
#   attempts, not `1/p^2`.
# * Fidelity is the price: swaps multiply Werner parameters, `F = 1/4 + 3/4 w^N`, and every
#   waiting qubit decoheres, so fidelity falls with more links, shorter T2 and longer links.
#   Without purification (tutorial 3) a long chain needs better links, better gates and better
#   memories, not only more of them.
