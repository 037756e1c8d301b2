"""A scenario names a user's gate noise (``hardware.gate_noise``, registry kind ``gate_noise``): every
node's gates and readout then carry it instead of the depolarizing channels of its memory's
fidelities; a name that cannot act, is unknown, or builds no noise is refused."""

import pytest
from qiskit_aer.noise import NoiseModel, depolarizing_error

import qstack
from qstack.protocols import GateNoise
from qstack.protocols.noise import GateErrors
from qstack.runner import run_scenario
from qstack.scenario import ScenarioError, load_scenario

P_CX = {"cx_depolarizing_8": 0.08, "cx_depolarizing_30": 0.3}


def _cx_model(p: float):
    def factory(memory):
        model = NoiseModel()
        model.add_all_qubit_quantum_error(depolarizing_error(p, 2), ["cx"])
        return model
    return factory


for _name, _p in P_CX.items():
    qstack.register("gate_noise", _name)(_cx_model(_p))


@qstack.register("gate_noise", "cx_depolarizing_gate_noise_8")
def _cx_gate_noise(memory):
    return GateNoise(errors=GateErrors(two_qubit=depolarizing_error(0.08, 2)))


@qstack.register("gate_noise", "not_noise")
def _not_noise(memory):
    return 0.5


def _chain(nodes: int = 3, gate_noise: str | None = None, **extra) -> dict:
    """Trapped-ion nodes with ideal emitters and detectors, no decoherence: Barrett-Kok links then
    herald exact Bell states, and the repeater's swap is the only imperfection."""
    hardware = {"node": "trapped_ion", "channel": "telecom_fiber", "overrides": {
        "node.emitter.emitted_state_fidelity": 1.0, "node.emitter.photon_indistinguishability": 1.0,
        "node.detector.dark_count_probability": 0.0}}
    if gate_noise is not None:
        hardware["gate_noise"] = gate_noise
    return {"seed": 3, "max_time_s": 100.0, "idealize": ["decoherence"],
            "network": {"topology": "chain", "nodes": nodes, "link_lengths_km": [1.0]},
            "hardware": hardware, "link": {"scheme": "double_click"},
            "requests": [{"src": "n0", "dst": f"n{nodes - 1}", "pairs": 12}], **extra}


@pytest.mark.parametrize("name", [*P_CX, "cx_depolarizing_gate_noise_8"])
def test_a_user_noise_model_on_the_repeaters_cnot_gives_the_depolarized_swap(name):
    """Two exact Bell pairs swapped by a Bell measurement whose CNOT carries a two-qubit
    depolarizing channel of probability p (Qiskit's: the pair replaced by I/4 with probability p):
    the outcome is then uncorrelated with the pairs, so F = (1 - p) + p / 4 = 1 - 3p/4, for every
    pair. The memory's own fidelities (0.999 two-qubit gates, its readout) no longer act."""
    p = P_CX.get(name, 0.08)
    report = run_scenario(load_scenario(_chain(gate_noise=name)))
    assert report.delivered == 12
    assert report.fidelity.min == pytest.approx(1 - 3 * p / 4, abs=1e-9)
    assert report.fidelity.mean == pytest.approx(1 - 3 * p / 4, abs=1e-9)


def test_without_a_user_noise_model_the_memorys_fidelities_act():
    default = run_scenario(load_scenario(_chain()))
    assert 0.99 < default.fidelity.mean < 1.0 - 1e-6  # the preset's 0.999 two-qubit gate and readout


def test_a_user_noise_model_is_refused_where_no_gate_runs():
    """A direct link without application runs no gate or readout: the name would change nothing."""
    with pytest.raises(ScenarioError, match="hardware.gate_noise: cannot act here: no operation"):
        run_scenario(load_scenario(_chain(nodes=2, gate_noise="cx_depolarizing_8")))


def test_an_unknown_gate_noise_name_is_refused_naming_the_key():
    with pytest.raises(ScenarioError, match=r"hardware.gate_noise: must be one of .*cx_depolarizing_8.*got 'nope'"):
        load_scenario(_chain(gate_noise="nope"))


def test_a_gate_noise_that_builds_no_noise_is_refused_naming_the_node():
    with pytest.raises(ScenarioError, match="hardware.gate_noise: 'not_noise' at node n0: NodeHardware.noise must be"):
        run_scenario(load_scenario(_chain(gate_noise="not_noise")))
