"""Scenario building: topologies, purification settings, policies reach the network (the
target fidelity's rounds: tests/build/test_purification_policy.py)."""

import pytest

from qstack.scenario import ScenarioError, load_scenario


def test_star_grid_and_chain_topologies():
    star = load_scenario(None, settings={"network.topology": "star", "network.nodes": 5, "requests.0.dst": "n4"})
    assert [(a, b) for a, b, _ in star.edges()] == [("n0", "n1"), ("n0", "n2"), ("n0", "n3"), ("n0", "n4")]
    grid = load_scenario(None, settings={"network.topology": "grid", "network.grid": [3, 4], "requests.0.dst": "n2_3",
                                         "requests.0.src": "n0_0"})
    assert len(grid.edges()) == 3 * 3 + 2 * 4
    chain = load_scenario(None, settings={"network.nodes": 4, "network.link_lengths_km": [1.0, 2.0, 3.0]})
    assert [length for *_, length in chain.edges()] == [1.0, 2.0, 3.0]
    with pytest.raises(ScenarioError, match="link_lengths_km"):
        load_scenario(None, settings={"network.nodes": 4, "network.link_lengths_km": [1.0, 2.0]})


def test_inconsistent_purification_settings_are_refused():
    with pytest.raises(ScenarioError, match="purification.scope"):
        load_scenario(None, settings={"purification.rounds": 2})
    with pytest.raises(ScenarioError, match="purification.target_fidelity"):
        load_scenario(None, settings={"purification.scope": "link", "purification.rounds": 1,
                                      "purification.target_fidelity": 0.9})
    with pytest.raises(ScenarioError, match="network.swapping"):
        load_scenario(None, settings={"network.swapping": "eventually"})


def test_set_on_an_override_replaces_the_files_flat_and_nested_spellings():
    raw = {
        "hardware": {"overrides": {"node.memory.t2_s": 1.0, "node": {"emitter": {"collection_efficiency": 0.3}}}},
        "requests": [{"src": "n0", "dst": "n1"}],
    }
    scenario = load_scenario(raw, settings={
        "hardware.overrides.node.memory.t2_s": 2.0,
        "hardware.overrides.node.emitter.collection_efficiency": 0.5,
    })
    assert scenario.hardware.overrides == {"node.memory.t2_s": 2.0, "node.emitter.collection_efficiency": 0.5}
