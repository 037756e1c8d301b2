"""The scenario's [application] section: results computed from the delivered states."""

import pytest

from qstack.runner import run_scenario
from qstack.scenario import ScenarioError, load_scenario

# Werner links: an SPDC source in the middle, ideal memories (no decoherence, ideal readout).
WERNER_LINK = {
    "hardware.overrides": {},  # the default scenario's emitter override: these memories absorb
    "network.link_lengths_km": [2.0],
    "link.scheme": "midpoint_source",
    "hardware.node": "trapped_ion",
    "hardware.source": "spdc_source",
    "idealize": ["decoherence"],
    "hardware.overrides.node.memory.measurement_fidelity": 1.0,
    "hardware.overrides.node.memory.single_qubit_gate_fidelity": 1.0,
    "hardware.overrides.node.memory.two_qubit_gate_fidelity": 1.0,
    "requests.0.pairs": 40,
    "requests.0.storage_time_s": 0.0,
}


# Gate and readout noise act through the application; without one they are refused.
_GATES = ("hardware.overrides.node.memory.measurement_fidelity", "hardware.overrides.node.memory.single_qubit_gate_fidelity",
          "hardware.overrides.node.memory.two_qubit_gate_fidelity")


def _run(**settings):
    return run_scenario(load_scenario(None, settings={**WERNER_LINK, **settings})).to_dict()


def test_bbm92_qber_of_werner_pairs_is_two_thirds_of_the_infidelity():
    report = _run(**{"application.kind": "qkd"})
    app = report["application"]
    fidelity = report["fidelity"]["mean"]
    assert app["pairs_used"] == 40
    assert app["qber_z_exact"] == pytest.approx(2 * (1 - fidelity) / 3, abs=1e-9)
    assert app["qber_x_exact"] == pytest.approx(2 * (1 - fidelity) / 3, abs=1e-9)
    assert 0 <= app["qber_z"] <= 1 and app["sifted"] <= 40
    assert app["secret_key_rate_hz"] > 0


def test_teleportation_through_werner_pairs_averages_two_f_plus_one_over_three():
    report = _run(**{"application.kind": "teleportation", "requests.0.pairs": 200})
    app = report["application"]
    fidelity = report["fidelity"]["mean"]
    # Haar-random inputs: the mean over 200 states carries a spread of order 1e-3 here.
    assert app["teleportation_fidelity"]["mean"] == pytest.approx((2 * fidelity + 1) / 3, abs=5e-3)


def test_application_does_not_change_the_network_run():
    plain = run_scenario(load_scenario(None, settings={k: v for k, v in WERNER_LINK.items() if k not in _GATES})).to_dict()
    with_qkd = _run(**{"application.kind": "qkd"})
    for key in ("delivered", "fidelity", "latency_s", "sim_time_s"):
        assert plain[key] == with_qkd[key]
    assert plain["application"] is None


def test_ghz_application_waits_for_the_last_pair_of_each_round():
    settings = {
        "network.topology": "star", "network.nodes": 4, "network.link_lengths_km": [2.0],
        "hardware.node": "trapped_ion", "link.scheme": "double_click", "application.kind": "ghz",
        "requests": [{"src": "n0", "dst": f"n{i}", "pairs": 2} for i in (1, 2, 3)],
    }
    long_lived = run_scenario(load_scenario(None, settings=settings)).to_dict()["application"]
    settings["hardware.overrides.node.memory.t2_s"] = 0.01
    short_lived = run_scenario(load_scenario(None, settings=settings)).to_dict()["application"]
    assert long_lived["parties"] == 4 and long_lived["states"] == 2
    assert short_lived["ghz_fidelity"]["mean"] < long_lived["ghz_fidelity"]["mean"] - 0.05


def test_application_settings_are_validated():
    with pytest.raises(ScenarioError, match="application.request"):
        load_scenario(None, settings={"application.kind": "qkd", "application.request": 3})
    with pytest.raises(ScenarioError, match="application.kind"):
        load_scenario(None, settings={"application.kind": "ghz"})
    with pytest.raises(ScenarioError, match="application.kind"):
        load_scenario(None, settings={"application.kind": "chess"})
