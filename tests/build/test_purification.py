"""The scenario's purification policy: predicted fidelities against closed forms, and the fewest
rounds that reach ``target_fidelity``."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pytest

from qstack.build import predicted_fidelity
from qstack.network import PurificationPolicy
from qstack.physics import werner_state
from qstack.protocols import GateNoise


@dataclass(frozen=True)
class _Outcome:
    probability: float
    rho: np.ndarray


@dataclass(frozen=True)
class _WernerLink:
    """A link whose every herald gives a Werner pair of fidelity ``fidelity``."""

    fidelity: float

    @property
    def heralded_states(self):
        return (_Outcome(0.25, werner_state(self.fidelity)), _Outcome(0.25, werner_state(self.fidelity)))

    @property
    def success_probability_per_mode(self) -> float:
        return 0.5


def _chain(*fidelities: float) -> tuple[nx.Graph, list[str]]:
    graph = nx.Graph()
    nodes = [f"n{i}" for i in range(len(fidelities) + 1)]
    for a, b, f in zip(nodes, nodes[1:], fidelities):
        graph.add_edge(a, b, link=_WernerLink(f))
    return graph, nodes


def _dejmps_once(f: float) -> float:
    """DEJMPS (= BBPSSW for one round) on two Werner pairs: ``(F^2 + e^2) / ((F + e)^2 + (2e)^2)``,
    ``e = (1 - F)/3``."""
    e = (1 - f) / 3
    return (f * f + e * e) / ((f + e) ** 2 + (2 * e) ** 2)


@pytest.mark.parametrize("f1, f2", [(0.9, 0.8), (0.75, 0.97)])
def test_predicted_swap_of_werner_pairs_multiplies_werner_parameters(f1, f2):
    graph, path = _chain(f1, f2)
    w = (4 * f1 - 1) / 3 * (4 * f2 - 1) / 3
    predicted = predicted_fidelity(graph, path, PurificationPolicy(), GateNoise())
    assert predicted == pytest.approx((1 + 3 * w) / 4, abs=1e-12)


@pytest.mark.parametrize("method", ["dejmps", "bbpssw"])
@pytest.mark.parametrize("f", [0.7, 0.85])
def test_predicted_link_purification_of_werner_pairs_follows_the_recurrence(method, f):
    graph, path = _chain(f)
    policy = PurificationPolicy(scope="link", method=method, rounds=1)
    assert predicted_fidelity(graph, path, policy, GateNoise()) == pytest.approx(_dejmps_once(f), abs=1e-12)
