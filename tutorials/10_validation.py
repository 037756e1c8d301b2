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
# # Tutorial 10: the stack against published experiments
#
# A closed-form test checks the code against a model; an experiment checks the model against
# nature. `validation/` holds one file per published experiment: the qstack scenario that
# mirrors it, every device parameter with its source (paper, table or figure, page) and a flag
# when it is an assumption, and the measured results with their error bars. `qstack validate`
# runs each through the ordinary runner and applications and compares. This tutorial
#
# 1. reads the experiment files and counts what is sourced and what is assumed;
# 2. runs all of them (about 10 s) and prints the table: measured, simulated, agreement within
#    two combined standard uncertainties, and the model gap named where one is known;
# 3. takes two former disagreements apart: the Barrett-Kok Bell test of Hensen et al. 2015 (a
#    missing control, found by validation and now added) and the single-click links of the Delft
#    three-node network (the optical effects now modelled, each switched off in turn), which is
#    how a gap is found rather than tuned away;
# 4. draws simulated against measured for every quantity.
#
# No parameter is fitted to the quantity it is compared with. Where one is fitted to another
# measured quantity (the ion link's photon efficiency to its success probability, the NV
# spin-photon fidelity to Hensen's estimated state fidelity, the atom-photon state to Zhang et al.'s
# atom-atom fidelity) the file says so.

# %%
import math
import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write a file; no display needed
import matplotlib.pyplot as plt

from qstack.runner import run_scenario
from qstack.scenario import load_scenario
from qstack.validation import COVERAGE_FACTOR, load_experiments, table, validate
from qstack.validation.quantities import METRICS, chsh_value

WALL_START = time.perf_counter()
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
FIGURE_PATH = Path(os.environ.get("QSTACK_TUTORIAL_OUT") or HERE / "10_validation.png")

# %% [markdown]
# ## 1. The experiment files
#
# Each `[parameters]` entry sets one scenario key (as `qstack run --set` would) and carries its
# source; `assumption = true` marks a value the paper does not give.

# %%
experiments = load_experiments()
for e in experiments:
    print(f"{e.name:<16} {len(e.parameters)} parameters ({len(e.assumptions)} assumptions), "
          f"{len(e.quantities)} measured quantit{'y' if len(e.quantities) == 1 else 'ies'}: {e.reference}")

# %% [markdown]
# ## 2. Run and compare
#
# The simulated value is the mean over the file's seeds; its error the standard error of that
# mean (tiny here: the metrics are exact expectations over each delivered state, so seeds differ
# only through which heralding outcome and which waiting times were drawn).

# %%
comparisons = validate()
print(table(comparisons))

# %% [markdown]
# ## 3. Taking disagreements apart
#
# ### Hensen et al. 2015: a missing control
#
# The experiment read the electron spins out at once. Before `link.storage` existed qstack moved
# every heralded NV pair into the carbon-13 register first (three electron-nuclear CNOTs at the
# preset's 0.99), because the NV preset has a register: S came out at 1.98 against the measured
# 2.42 +- 0.20. The file now keeps the pairs on the electrons (`link.storage =
# "communication_qubit"`, sourced to the paper's protocol); the other rows put the move back, and
# make the readout ideal (the measured S includes the readout errors, so that one is not a gap).

# %%
hensen = next(e for e in experiments if e.name == "hensen2015")
steps = {
    "moved into the register": {"link.storage": "register"},
    "kept on the electron": {},
    "kept, readout ideal": {"hardware.overrides.node.memory.measurement_fidelity": 1.0},
}
hensen_s = {}
for label, extra in steps.items():
    settings = {**hensen.settings(), "requests.0.pairs": 40, **extra}
    report = run_scenario(load_scenario(dict(hensen.scenario), settings=settings, seed=1))
    hensen_s[label] = chsh_value(report)
    print(f"Hensen 2015, {label:<26} S = {hensen_s[label]:.3f}   (measured 2.42 +- 0.20)")

# %% [markdown]
# ### Pompili et al. 2021: the single-click optics, one effect at a time
#
# The single-photon protocol's heralded state carries the optical phase between the two arms and
# each NV's double optical excitation (Hermans et al., arXiv:2208.07449); both are now real noise
# channels in the heralding circuits (`link.optical_phase_std_rad`,
# `emitter.double_excitation_probability`), set from the Delft link of Humphreys et al. 2018.
# Switching each off shows what it costs the GHZ state; what is left between the model and the
# measurement is the nodes' part (memory dephasing, readout, gates), which the file names.

# %%
pompili = next(e for e in experiments if e.name == "pompili2021")
ghz_steps = {
    "as in validation/": {},
    "no phase noise": {"link.optical_phase_std_rad": 0.0},
    "no double excitation": {"hardware.overrides.node.emitter.double_excitation_probability": 0.0},
    "neither, visibility 1": {"link.optical_phase_std_rad": 0.0,
                              "hardware.overrides.node.emitter.double_excitation_probability": 0.0,
                              "hardware.overrides.node.emitter.photon_indistinguishability": 1.0},
}
pompili_ghz = {}
for label, extra in ghz_steps.items():
    settings = {**pompili.settings(), "requests.0.pairs": 8, "requests.1.pairs": 8, **extra}
    report = run_scenario(load_scenario(dict(pompili.scenario), settings=settings, seed=1))
    pompili_ghz[label] = METRICS["ghz_fidelity"](report)
    print(f"Pompili 2021, {label:<24} GHZ fidelity = {pompili_ghz[label]:.3f}   (measured 0.538 +- 0.018)")

# %% [markdown]
# ## 4. Simulated against measured

# %%
fig, (ax_all, ax_hensen, ax_ghz) = plt.subplots(1, 3, figsize=(17, 5.2), gridspec_kw={"width_ratios": [1.5, 1, 1]})
labelled = set()
for i, c in enumerate(comparisons):
    kind = "simulated (agrees)" if c.agrees else "simulated (does not agree)"
    # Both on the measured value's scale: 1 is the measurement.
    ax_all.errorbar([1.0], [i + 0.12], xerr=[[c.measured_error[0] / c.measured], [c.measured_error[1] / c.measured]],
                    fmt="o", color="black", capsize=4, label="measured" if i == 0 else None)
    ax_all.errorbar([c.simulated / c.measured], [i - 0.12], xerr=[max(c.simulated_error, 0.0) / c.measured], fmt="s",
                    capsize=4, color="tab:blue" if c.agrees else "tab:red", label=None if kind in labelled else kind)
    labelled.add(kind)
ax_all.set_yticks(range(len(comparisons)), [f"{c.experiment}\n{c.quantity}"[:70] for c in comparisons], fontsize=7)
ax_all.axvline(1.0, color="0.7", lw=0.8)
ax_all.set_xlabel("value / measured value")
ax_all.set_title(f"(a) every quantity (agreement: within {COVERAGE_FACTOR:g} combined sigma)")
ax_all.set_xlim(0.78, 1.38)
ax_all.legend(fontsize="small", loc="lower right")

labels = list(hensen_s)
ax_hensen.axhspan(2.42 - 0.20, 2.42 + 0.20, color="0.85", label="measured S, +-1 sigma")
ax_hensen.axhline(2.0, color="black", ls=":", lw=0.8, label="local-realist bound")
ax_hensen.axhline(2 * math.sqrt(2), color="black", ls="--", lw=0.8, label="Tsirelson bound")
ax_hensen.plot(range(len(labels)), [hensen_s[k] for k in labels], "s-", color="tab:purple", label="qstack")
ax_hensen.set_xticks(range(len(labels)), labels, fontsize=8, rotation=12)
ax_hensen.set_ylabel("CHSH S")
ax_hensen.set_title("(b) Hensen 2015: where the pair is kept")
ax_hensen.legend(fontsize="small", loc="lower right")

ghz_labels = list(pompili_ghz)
ax_ghz.axhspan(0.538 - 0.018, 0.538 + 0.018, color="0.85", label="measured, +-1 sigma")
ax_ghz.plot(range(len(ghz_labels)), [pompili_ghz[k] for k in ghz_labels], "s-", color="tab:green", label="qstack")
ax_ghz.set_xticks(range(len(ghz_labels)), ghz_labels, fontsize=8, rotation=12)
ax_ghz.set_ylabel("GHZ state fidelity")
ax_ghz.set_title("(c) Pompili 2021: single-click optics switched off")
ax_ghz.legend(fontsize="small", loc="lower right")
fig.tight_layout()
FIGURE_PATH.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(FIGURE_PATH, dpi=100)
print(f"\nfigure written to {FIGURE_PATH}; tutorial ran in {time.perf_counter() - WALL_START:.1f} s wall")

# %% [markdown]
# ## What the gaps teach
#
# * **Five experiments of eight agree on every quantity** (the Micius Bell test, the
#   Barrett-Kok Bell test of Hensen et al. 2015, the ion link of Krutyanskiy et al. 2023, the
#   33 km atom link of van Leent et al. 2022 and the device-independent QKD link of Zhang et al.
#   2022); the others do not, and each disagreement names its cause (the table prints the
#   numbers). That is the result, not a failure to hide: every parameter comes from a paper or
#   is marked as an assumption, and none was moved towards the number it is compared with.
# * **A simulated value is only as certain as its inputs.** Where a parameter's source gives an
#   uncertainty (`uncertainty` in the file: Hensen's estimated state fidelity, the ion-photon
#   and atom-photon fidelities, the Micius source's fidelity), the comparison runs the scenario
#   again at the value plus and minus it and adds half the change to the simulated error (GUM's
#   first-order propagation). Without it Zhang's S (2.42 against 2.578(75)) would miss by 2.1
#   sigma; with the atom-atom fidelity's +-0.023 carried through (+-0.086 in S) it agrees at
#   1.4 sigma: the model is not falsified there, only less sharply tested.
# * **Hensen 2015** was the first gap validation found: the move into the carbon register, which
#   the experiment did not make, cost about 0.2 of S (panel b). The missing control,
#   `link.storage = "communication_qubit"`, now keeps a pair on the electron (no move, the
#   electron's T1/T2 until it is used), and the model agrees. The same run also exposed two
#   derivation errors in the NV preset, now fixed: two identical emitters' photons interfered at
#   the square of their visibility, and the spin-photon fidelity was split over two emissions
#   where a Barrett-Kok attempt has four.
# * **Pompili 2021 and Hermans 2022** (GHZ and teleportation fidelities): the single-click
#   heralded state now carries the optical phase noise and double excitation that Hermans et al.
#   (arXiv:2208.07449) name (panel c shows what each costs), with values from the Delft link of
#   Humphreys et al. 2018. The model is still too good: the nodes are the NV preset's (its
#   carbon register, an isotopically engineered sample, barely dephases per optical attempt;
#   readout and gates are estimates from other Delft experiments) and the bright-state
#   populations are assumptions. The nodes of these experiments, not the link, are now the
#   named gap; which of their figures closes it is the next question, to be answered from the
#   papers' supplements, not by tuning.
# * **The single-click link on its own** (fidelity and rate against the bright-state population,
#   Humphreys et al. 2018, Fig. 2; Hermans et al., arXiv:2208.07449) would test the link model
#   directly, without the nodes. It is not an experiment here yet: the stored copies of those
#   texts that this project can read give the abstracts only (the abstract's "fidelity exceeding
#   0.5" and "up to 39 Hz" carry no error bars), so neither the measured points nor the link's
#   own parameters can be sourced to a page. Until they can, the link model is held to its closed
#   form instead: with visibility, phase noise and double excitation on together, the heralded
#   fidelity at every alpha is the product the derivation gives, to 1e-12
#   (`tests/physical/test_schemes.py`).
# * **Krutyanskiy 2023** (ion link): a Barrett-Kok model gave 0.76 or 0.83 for the same
#   ion-photon fidelity, depending on how it was split over two emission rounds the experiment
#   does not have. The real protocol (`polarisation_photons`, one photon per node) removes the
#   choice: 0.92 per node (the same group's later cavity node) gives 0.848, within the measured
#   0.882 (-0.060/+0.023).
# * **Liu 2021** (absorptive memories, 0.97 against 0.80): the stored pair comes from swapping two
#   SPDC pairs (`node_sources`), whose fidelity is set by the sources' mean pair number mu, which
#   the abstract does not give. The model treats multi-pair emission exactly (1 - F grows from
#   about mu to 3 mu as the station's transmission falls); with the preset's mu = 0.01 it predicts
#   0.966, and reaching 0.804 would take mu of about 0.08: a falsifiable statement about the
#   experiment, not a fitted agreement.
# * **van Leent 2022** (two 87Rb atoms, 33 km of fibre, now on the `neutral_atom` preset): the
#   same scheme predicts the link from a number measured elsewhere, the group's atom-photon
#   fidelity after 20 km of fibre (>= 0.785): 0.631 against 0.622 +- 0.015. Over such distances
#   the atom's state after the photon's flight sets the link's fidelity.
# * **Zhang 2022** (the same atoms 400 m apart, device-independent QKD): the atom-photon state is
#   derived from the experiment's own atom-atom fidelity (>= 0.892(23), not compared), and the
#   model then predicts the two compared numbers: QBER 0.072 against 0.078(9) agrees, S = 2.42
#   against 2.578(75) agrees only through the input's uncertainty (1.4 sigma with it, 2.1
#   without). The lesson is in the pair: for any state, the model's
#   S and QBER lie on one line, S = 2 sqrt2 (1 - 2 QBER), and the measured pair lies about two
#   sigma off it (QBER 0.078 would mean S = 2.39). Something in the experiment separates its Bell
#   test from its key (different settings, or errors that depend on the measurement setting),
#   and a model with one noise per state cannot carry it; tuning the fidelity would only slide
#   along the line.
# * Rates are not compared: no stored abstract gives a pair rate with its error. For the
#   satellite the midpoint source now runs freely (`pair_source.max_pulses_in_flight`: attempts
#   at the source's repetition rate, each herald a round trip later), 0.37 simulated pairs per
#   second where attempting once per round trip gave 4e-7.
