"""The scenario's purification policy: predicted fidelities against closed forms, and the fewest
rounds that reach ``target_fidelity`` with the planner's decoherence-aware prediction, checked
against the simulation."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from qstack.build import build_network, predicted_fidelity, purification_policy
from qstack.build.purification import choose_rounds, delivered_fidelity, pairs_per_delivered
from qstack.engine import Simulation
from qstack.network import Network, Pumping, PurificationPolicy, Recurrence
from qstack.runner import run_scenario
from qstack.scenario import ScenarioError, load_scenario
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


# --- target_fidelity: the planner's decoherence-aware prediction, checked against the simulation

# One trapped-ion link (2 km, single click at bright-state population 0.15: fresh pairs of
# F ~ 0.80) whose memories keep coherence for T2 = 50 ms, a few hundred times the time per pair:
# the pairs that wait for their purification partners decay noticeably.
SHORT_T2_LINK = {
    "network.nodes": 2, "requests.0.dst": "n1", "hardware.overrides.node.memory.t2_s": 0.05,
    "link.bright_state_population": 0.15, "purification.scope": "link", "max_time_s": 100.0,
}
SHORT_T2_PATH = Path(__file__).resolve().parents[2] / "scenarios" / "chain_3_short_memory.toml"


def _scenario(**settings):
    return load_scenario(SHORT_T2_PATH, settings={**SHORT_T2_LINK, **settings})


def _probe(scenario):
    """Builds the scenario's network with a candidate policy, as the composition root does."""
    graph = build_network(scenario, Simulation(1)).graph
    return lambda policy: Network(Simulation(1), graph, purification=policy)


def _predictions(scenario) -> tuple[float, ...]:
    """The worst route's predicted delivered fidelity for 0..MAX_ROUNDS rounds."""
    unreachable = dataclasses.replace(scenario.purification, target_fidelity=1.0)
    return choose_rounds(dataclasses.replace(scenario, purification=unreachable), _probe(scenario)).predicted


def test_pairs_per_delivered_runs_each_schemes_partner_rule():
    recurrence, pumping = Recurrence(), Pumping()
    assert [pairs_per_delivered(recurrence, r) for r in range(5)] == [1, 2, 4, 8, 16]
    assert [pairs_per_delivered(pumping, r) for r in range(5)] == [1, 2, 3, 4, 5]


def test_prediction_with_decoherence_lies_below_the_ideal_memory_estimate():
    scenario = _scenario(**{"purification.rounds": 2})
    network = build_network(scenario, Simulation(1))
    path = ["n0", "n1"]
    ideal = predicted_fidelity(network.graph, path, network.purification, network.gate_noise_at["n0"])
    assert delivered_fidelity(network, path) < ideal - 0.02
    # With the memories' decay switched off in the prediction the two agree.
    assert delivered_fidelity(network, path, idealize=("decoherence",)) == pytest.approx(ideal, abs=2e-3)


def test_target_fidelity_picks_the_fewest_rounds_predicted_to_reach_it():
    """Each target gets the first number of rounds whose prediction reaches it; an unreachable
    one is refused in one line naming the key, the best prediction and why."""
    predicted = _predictions(_scenario())
    assert predicted[2] > predicted[0] > predicted[1]  # one DEJMPS round does little on single-click pairs

    def rounds_for(target: float) -> int:
        return purification_policy(_scenario(**{"purification.target_fidelity": target}), probe).rounds

    probe = _probe(_scenario())

    assert rounds_for(predicted[0] - 1e-6) == 0
    assert rounds_for((predicted[0] + predicted[2]) / 2) == 2
    assert rounds_for(predicted[2] + 1e-6) >= 3
    best = max(predicted)
    with pytest.raises(ScenarioError, match="purification.target_fidelity") as refused:
        rounds_for(0.99)
    message = str(refused.value)
    assert "\n" not in message and f"{best:.4f}" in message and "decay" in message


def test_rounds_chosen_for_a_target_deliver_it_in_the_simulation():
    """Target 0.9 on the short-T2 link: 2 rounds, predicted 0.9036; seed 1, 60 pairs deliver
    0.9042 +- 0.0023, within one standard error of the prediction and above the target. (The old
    estimate that ignores decoherence predicted 0.936 for 2 rounds, and chose 3 rounds for a
    target of 0.95, which deliver about 0.928; this prediction refuses 0.95: at best 0.937.)"""
    scenario = _scenario(**{"purification.target_fidelity": 0.9, "requests.0.pairs": 60})
    network = build_network(scenario, Simulation(scenario.seed))
    assert network.purification.rounds == 2
    predicted = delivered_fidelity(network, ["n0", "n1"])
    report = run_scenario(scenario)
    fidelities = np.array([pair.fidelity for pair in report.pairs])
    assert report.complete and len(fidelities) == 60
    sem = fidelities.std(ddof=1) / np.sqrt(len(fidelities))
    assert abs(fidelities.mean() - predicted) < 3 * sem
    assert fidelities.mean() > 0.9


def test_end_to_end_purification_on_a_chain_delivers_at_least_the_prediction():
    """Two links, end-to-end DEJMPS, T2 = 0.2 s: for 1 and 2 rounds the delivered mean is within
    three standard errors of the prediction (the prediction ages every pair by the mean wait)."""
    for rounds in (1, 2):
        scenario = load_scenario(SHORT_T2_PATH, settings={
            "purification.scope": "end_to_end", "purification.rounds": rounds, "requests.0.pairs": 40, "max_time_s": 100.0})
        network = build_network(scenario, Simulation(scenario.seed))
        predicted = delivered_fidelity(network, ["n0", "n1", "n2"])
        fidelities = np.array([pair.fidelity for pair in run_scenario(scenario).pairs])
        sem = fidelities.std(ddof=1) / np.sqrt(len(fidelities))
        assert abs(fidelities.mean() - predicted) < 3 * sem, (rounds, fidelities.mean(), predicted, sem)
