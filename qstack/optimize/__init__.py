"""Control optimisation: search a scenario's controls for the best setting that meets a target.

Given a scenario, an objective read off its report (``throughput_hz`` by default, or any
numeric metric path of ``Report.to_dict()`` such as ``fidelity.mean`` or
``application.secret_key_rate_hz``), an optional fidelity floor for every user, and a few
controls (dotted scenario keys with bounds: ``link.cutoff_s``, ``purification.rounds``,
``link.multiplexing``, ``requests.0.pairs``, ``hardware.overrides.node.nuclear_spin.coupling_hz``,
``link.tree_branching.0``, ...), :func:`optimize` runs the scenario at candidate settings,
keeps the best feasible one, and confirms it on fresh seeds against the unoptimised default.

Every candidate runs the same search seeds (common random numbers), so the objective is a
deterministic function of the controls and two candidates differ by their settings only, not
by their luck. A candidate is feasible when, on every search seed, every user (each scheduled
user, else each request) received pairs whose mean fidelity is at least ``min_fidelity``.

The search is :func:`scipy.optimize.differential_evolution`: it needs no gradients (the
simulated objective is piecewise constant in the cut-off and integer in the rounds), searches
globally within bounds, handles integer controls through ``integrality``, and is reproducible
from one ``rng`` seed. The penalty ranks every infeasible candidate below every feasible one
(:func:`penalized_cost`), so no constraint handling of the optimiser is needed, and grows
with the fidelity shortfall, which steers the population towards the feasible region.

The chosen setting is re-run on ``confirm_seeds`` seeds disjoint from the search seeds, and its
objective and worst user's mean fidelity are reported as means with 95 % Student-t confidence
intervals, next to the default setting's on the same seeds.
"""

from .controls import Control
from .results import Confirmation, Estimate, Evaluation, OptimizationResult
from .search import optimize, penalized_cost

__all__ = ["Confirmation", "Control", "Estimate", "Evaluation", "OptimizationResult", "optimize", "penalized_cost"]
