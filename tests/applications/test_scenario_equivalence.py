"""The registered applications give the runner's ``ScenarioApplication`` results, key for key and
bit for bit, on the same network run (so switching the runner to them changes no report).

Transitional: skipped once the runner no longer has its own ``ScenarioApplication``.
"""

import json

import pytest

import qstack
import qstack.runner
from qstack.applications import ApplicationSpec
from qstack.scenario import load_scenario

OldApplication = getattr(qstack.runner, "ScenarioApplication", None)
pytestmark = pytest.mark.skipif(OldApplication is None, reason="the runner uses qstack.applications")

WERNER_LINK = {
    "network.link_lengths_km": [2.0],
    "link.scheme": "midpoint_source",
    "hardware.node": "trapped_ion",
    "hardware.source": "spdc_source",
    "idealize": ["decoherence"],
    "requests.0.pairs": 30,
    "requests.0.storage_time_s": 0.0,
}
STAR = {
    "network.topology": "star", "network.nodes": 4, "network.link_lengths_km": [2.0],
    "hardware.node": "trapped_ion", "link.scheme": "double_click", "application.kind": "ghz",
    "requests": [{"src": "n0", "dst": f"n{i}", "pairs": 3} for i in (1, 2, 3)],
}
TWO_USERS = {
    "network.nodes": 3, "network.link_lengths_km": [2.0, 2.0],
    "requests": [{"src": "n0", "dst": "n1", "pairs": 3, "user": "near"},
                 {"src": "n0", "dst": "n2", "pairs": 2, "user": "far"}],
}
CASES = {
    "qkd on Werner pairs": {**WERNER_LINK, "application.kind": "qkd"},
    "qkd biased, noisy readout": {**WERNER_LINK, "idealize": [], "application.kind": "qkd",
                                  "application.z_probability": 0.9},
    "qkd under a scheduler": {**WERNER_LINK, "application.kind": "qkd", "scheduling.policy": "fifo"},
    "qkd of the default scenario": {"application.kind": "qkd"},
    "qkd with no pair yet": {"application.kind": "qkd", "max_time_s": 1e-9},
    "teleportation": {**WERNER_LINK, "application.kind": "teleportation"},
    "teleportation of the second user": {**TWO_USERS, "application.kind": "teleportation", "application.request": 1},
    "teleportation without gate noise": {**WERNER_LINK, "idealize": ["gate_noise"], "application.kind": "teleportation"},
    "ghz": STAR,
    "ghz with short-lived memories": {**STAR, "hardware.overrides.node.memory.t2_s": 0.01},
    "ghz single click": {**STAR, "link.scheme": "single_click"},
    "none": {},
}


def _both_results(monkeypatch, settings):
    """Run the scenario once; the old and the new application watch the same deliveries."""
    seen = []

    class Both:
        def __init__(self, scenario, network, requests):
            self.old = OldApplication(scenario, network, requests)
            table = scenario.data["application"]
            spec = ApplicationSpec(table["kind"], table["request"], table["z_probability"])
            cls = None if spec.kind == "none" else qstack.registered("application")[spec.kind]
            self.new = None if cls is None else cls(network, requests, spec, scenario.seed)

        def result(self, sim_time_s):
            old = self.old.result(sim_time_s)
            new = None if self.new is None else self.new.result(sim_time_s).to_dict()
            seen.append((old, new))
            return old

    monkeypatch.setattr(qstack.runner, "ScenarioApplication", Both)
    qstack.runner.run_scenario(load_scenario(None, settings=settings))
    (old, new), = seen
    return old, new


# Exactly Bell-diagonal pairs (ideal gates): the runner aged them through a scratch state engine,
# which holds such a pair as four Bell weights and rebuilds the matrix from them; the kernel's
# Relaxation.apply acts on the matrix itself. The same map; the rounding differs (~1e-16).
BELL_DIAGONAL_CASES = {
    "ghz without gate noise": {**STAR, "idealize": ["gate_noise"]},
    "ghz without gate noise, short-lived memories": {**STAR, "idealize": ["gate_noise"],
                                                     "hardware.overrides.node.memory.t2_s": 0.01},
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_registered_application_reports_what_the_runner_reported(monkeypatch, case):
    old, new = _both_results(monkeypatch, CASES[case])
    # JSON text: the same keys in the same order, the same values (NaN equal to NaN).
    assert json.dumps(new) == json.dumps(old)
    if case == "qkd with no pair yet":
        assert new == {"kind": "qkd", "request": new["request"], "pairs_used": 0}
    elif case != "none":
        assert new["pairs_used" if "pairs_used" in new else "states"] > 0


@pytest.mark.parametrize("case", list(BELL_DIAGONAL_CASES))
def test_ghz_on_bell_diagonal_pairs_agrees_to_rounding(monkeypatch, case):
    old, new = _both_results(monkeypatch, BELL_DIAGONAL_CASES[case])
    assert list(new) == list(old) and new["states"] == old["states"] > 0
    assert {k: v for k, v in new.items() if k != "ghz_fidelity"} == {k: v for k, v in old.items() if k != "ghz_fidelity"}
    assert new["ghz_fidelity"]["mean"] == pytest.approx(old["ghz_fidelity"]["mean"], abs=1e-12)
    assert new["ghz_fidelity"]["min"] == pytest.approx(old["ghz_fidelity"]["min"], abs=1e-12)
