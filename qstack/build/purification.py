"""The purification policy of a scenario: ``rounds`` as given, or the fewest predicted to reach
``target_fidelity`` on every request's route.

The prediction is the physics-informed planner's (:class:`~qstack.scheduling.RouteModel`): the
links' stored states aged with the memories' T1/T2 and the neighbouring links' per-attempt
nuclear dephasing, purified and swapped with the protocols' circuits and the nodes' gate noise.
How long the pairs age:

- under a cut-off ``link.cutoff_s``: the cut-off itself (no pair older than it is used, so the
  prediction is the worst delivered pair, the planner's own reading of a cut-off);
- without one: the mean time a consumed pair waits,
  ``t_wait = (n - 1 + [k > 1]) * T_pair / 2``, with ``n`` the pairs one delivered pair consumes
  when every round succeeds (:func:`pairs_per_delivered`: ``2**rounds`` for recurrence,
  ``rounds + 1`` for pumping), ``T_pair`` the route's expected time per unpurified end-to-end
  pair (:meth:`RouteModel.time_per_pair_s`, all modes) [s] and ``k`` the route's links: the
  ``n`` pairs arrive ``T_pair`` apart, so on average a pair waits half of the ``n - 1``
  intervals, and on a route of several links a link pair also waits for the other links, on
  average half a route's time;

plus the request's ``storage_time_s``. Without a cut-off RouteModel ages the link pairs before
they are purified and swapped (the route's last link pair only through its herald and the
swaps' messages: ``RouteModel.fidelity(..., worst_case=False)``, the expected pair); under a
cut-off it takes the scheduler's worst case (any link pair up to the cut-off old, the storage
split before and after the rounds in the worst way). Checked against the simulation in ``tests/build/test_purification_policy.py``: on a single
link and for ``scope = "end_to_end"`` the delivered mean is at or within a few standard errors
of the prediction. With ``scope = "link"`` on a route of several links the purified link pairs
also wait for each other after purifying, which RouteModel does not age: the prediction is
optimistic there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import networkx as nx
import numpy as np

from qstack.metrics import bell_fidelity
from qstack.network import Network, PurificationPolicy, PurificationScheme
from qstack.protocols import GateNoise
from qstack.scenario import Scenario, ScenarioError
from qstack.physics import mean_heralded_state
from qstack.scheduling import MODEL_IDEALIZATIONS, RouteModel, route_state

#: Rounds ``target_fidelity`` may choose (the range ``purification.rounds`` accepts).
MAX_ROUNDS = 10


def predicted_fidelity(graph: nx.Graph, path: list, policy: PurificationPolicy, noise: GateNoise) -> float:
    """Fidelity a purification policy reaches on ``path`` from fresh pairs, ignoring decoherence.

    The link's mean heralded state, purified per link and/or swapped along the path with the
    protocols' circuits and the gate noise ``noise``: the ceiling that
    :func:`delivered_fidelity` lowers by the time pairs wait. Reported results never use it.
    """
    states = [mean_heralded_state(graph.edges[u, v]["link"].heralded_states) for u, v in zip(path, path[1:])]
    rho = route_state(states, [noise] * (len(states) - 1), policy, noise)
    return bell_fidelity(rho)


def pairs_per_delivered(scheme: PurificationScheme, rounds: int) -> int:
    """Fresh pairs one delivered pair consumes when every round succeeds: the scheme's own
    ``partner_level`` rule run on placeholders, as :func:`qstack.network.purification.purified`
    runs it on pairs (``2**rounds`` for recurrence, ``rounds + 1`` for pumping)."""
    held: dict[int, bool] = {}
    for pairs in range(1, 2**MAX_ROUNDS + 2):
        level = 0
        while level < rounds:
            partner = scheme.partner_level(level, held)
            if partner is None or held.pop(partner, None) is None:
                break
            level = partner + 1
        if level >= rounds:
            return pairs
        held[level] = True
    raise ValueError(f"purification.scheme never delivers a pair of {rounds} rounds")


def waiting_time_s(model: RouteModel, policy: PurificationPolicy, cutoff_s: float) -> float:
    """How long the pairs of one delivered pair age in the prediction [s]: ``cutoff_s`` when
    finite, else ``(n - 1 + [k > 1]) * T_pair / 2`` (see the module docstring)."""
    if math.isfinite(cutoff_s):
        return cutoff_s
    n = pairs_per_delivered(policy.strategy, policy.rounds) if policy.scope != "none" else 1
    intervals = n - 1 + (len(model.path) > 2)
    if intervals == 0:
        return 0.0
    return intervals * model.time_per_pair_s(model.max_modes, cutoff_s) / 2


def delivered_fidelity(network: Network, path: list[str], storage_time_s: float = 0.0,
                       idealize: tuple[str, ...] = ()) -> float:
    """Predicted fidelity of a pair ``network`` delivers on ``path`` with its own purification
    policy and cut-off, used ``storage_time_s`` after delivery (:class:`RouteModel` physics,
    ageing as the module docstring says; ``idealize``: items of ``MODEL_IDEALIZATIONS``)."""
    model = RouteModel(network, path, idealize, rng=np.random.default_rng(0))
    age_s = waiting_time_s(model, network.purification, network.cutoff_s)
    if math.isinf(age_s):  # the route is not expected to deliver at all
        return 0.0
    # Under a cut-off the age is its bound (the worst delivered pair); without one, the mean wait.
    return model.fidelity(age_s + storage_time_s, worst_case=math.isfinite(network.cutoff_s))


@dataclass(frozen=True)
class RoundsChoice:
    """What ``target_fidelity`` chose: the rounds, and the worst route's predicted fidelity for
    every number of rounds tried (index = rounds)."""

    rounds: int
    predicted: tuple[float, ...]


def choose_rounds(scenario: Scenario, probe: Callable[[PurificationPolicy], Network]) -> RoundsChoice:
    """The fewest rounds (0..``MAX_ROUNDS``) whose predicted delivered fidelity reaches
    ``purification.target_fidelity`` on every request's route; ``rounds`` is -1 when none does.
    ``probe(policy)`` builds the scenario's network with that policy (never run)."""
    cfg = scenario.purification
    idealize = tuple(item for item in scenario.idealize if item in MODEL_IDEALIZATIONS)
    predicted = []
    for rounds in range(MAX_ROUNDS + 1):
        network = probe(PurificationPolicy(scope=cfg.scope, method=cfg.method, scheme=cfg.scheme, rounds=rounds))
        worst = min(
            delivered_fidelity(network, network.route(r.src, r.dst), r.storage_time_s, idealize)
            for r in scenario.requests
        )
        predicted.append(worst)
        if worst >= cfg.target_fidelity:
            return RoundsChoice(rounds, tuple(predicted))
    return RoundsChoice(-1, tuple(predicted))


def purification_policy(scenario: Scenario, probe: Callable[[PurificationPolicy], Network]) -> PurificationPolicy:
    """The scenario's purification; with ``target_fidelity``, the fewest rounds predicted to
    reach it on every request's route (:func:`choose_rounds`), or a ``ScenarioError`` naming
    ``purification.target_fidelity``, the best prediction and why when none does."""
    cfg = scenario.purification
    base = dict(scope=cfg.scope, method=cfg.method, scheme=cfg.scheme)
    try:
        if cfg.target_fidelity is None:
            return PurificationPolicy(rounds=cfg.rounds, **base)
        choice = choose_rounds(scenario, probe)
    except (ValueError, nx.NetworkXNoPath) as exc:
        raise ScenarioError(f"purification: {exc}") from exc
    if choice.rounds >= 0:
        return PurificationPolicy(rounds=choice.rounds, **base)
    best = max(range(len(choice.predicted)), key=choice.predicted.__getitem__)
    raise ScenarioError(
        f"purification.target_fidelity: {cfg.target_fidelity} is out of reach; the best predicted delivered fidelity "
        f"is {choice.predicted[best]:.4f} ({best} rounds of 0..{MAX_ROUNDS}): {_why(choice.predicted, best)}"
    )


def _why(predicted: tuple[float, ...], best: int) -> str:
    """Why more rounds do not help: the pairs age faster than rounds purify, or gates cap it."""
    if best + 1 < len(predicted) and predicted[best + 1] < predicted[best]:
        return "more rounds lose to the memories' decay while pairs wait for each other"
    return "gate noise and the links' pairs cap what rounds reach"
