"""The purification policy of a scenario: ``rounds`` as given, or the fewest predicted to reach
``target_fidelity`` on every request's route."""

from __future__ import annotations

import networkx as nx

from qstack.metrics import bell_fidelity
from qstack.network import PurificationPolicy
from qstack.protocols import GateNoise
from qstack.scenario import Scenario, ScenarioError
from qstack.scheduling import mean_heralded_state, route_state


def predicted_fidelity(graph: nx.Graph, path: list, policy: PurificationPolicy, noise: GateNoise) -> float:
    """Fidelity a purification policy should reach on ``path``, ignoring decoherence.

    A design-time estimate (what an operator computes to choose the number of rounds): the
    link's mean heralded state, purified per link and/or swapped along the path with the
    protocols' circuits and the nodes' gate noise. Reported results never use it.
    """
    states = [mean_heralded_state(graph.edges[u, v]["link"]) for u, v in zip(path, path[1:])]
    rho = route_state(states, [noise] * (len(states) - 1), policy, noise)
    return bell_fidelity(rho)


def purification_policy(scenario: Scenario, graph: nx.Graph) -> PurificationPolicy:
    """The scenario's purification; with ``target_fidelity``, the fewest rounds predicted to
    reach it on every request's route (ideal-memory estimate, see :func:`predicted_fidelity`)."""
    cfg = scenario.purification
    base = dict(scope=cfg.scope, method=cfg.method, scheme=cfg.scheme)
    try:
        if cfg.target_fidelity is None:
            return PurificationPolicy(rounds=cfg.rounds, **base)
        target = cfg.target_fidelity
        noise = GateNoise() if "gate_noise" in scenario.idealize else GateNoise.from_memory(
            next(iter(graph.nodes.values()))["hardware"].memory
        )
        paths = [nx.shortest_path(graph, r.src, r.dst) for r in scenario.requests]
        best = 0.0
        for rounds in range(0, 7):
            policy = PurificationPolicy(rounds=rounds, **base)
            worst = min(predicted_fidelity(graph, path, policy, noise) for path in paths)
            best = max(best, worst)
            if worst >= target:
                return policy
    except (ValueError, nx.NetworkXNoPath) as exc:
        raise ScenarioError(f"purification: {exc}") from exc
    raise ScenarioError(
        f"purification.target_fidelity: {target} is out of reach; at most {best:.4f} is predicted with up to 6 rounds"
    )


