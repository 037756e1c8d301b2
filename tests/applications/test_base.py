"""The application interface: the shared pair collector, pair ageing, the spec and registration."""

import math
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix

import qstack
import qstack.applications.base
from qstack.applications import Application, ApplicationSpec, FidelityStats, PairCollector, aged_pair
from qstack.engine import StateRegistry
from qstack.network import Request
from qstack.physics.channels import Relaxation
from qstack.physics.states import PHI_PLUS, bell_fidelity


def _delivery(label, delivered_s):
    return Request("a", "b", pairs=1, name=label), SimpleNamespace(delivered_s=delivered_s)


def test_the_collector_keeps_each_requests_states_and_times_in_delivery_order():
    network = SimpleNamespace(delivery_hooks=[])
    collector = PairCollector(network, ["alice", "bob"])
    assert network.delivery_hooks == [collector]
    states = [np.diag([1.0 - 0.1 * k, 0.1 * k, 0.0, 0.0]) for k in range(5)]  # five different states
    for k, (label, t) in enumerate([("alice", 0.1), ("bob", 0.2), ("carol", 0.25), ("alice", 0.3), ("bob", 0.4)]):
        request, record = _delivery(label, t)
        for hook in network.delivery_hooks:
            hook(request, record, states[k])
    assert [s.data.tolist() for s in collector.states["alice"]] == [states[0].tolist(), states[3].tolist()]
    assert [s.data.tolist() for s in collector.states["bob"]] == [states[1].tolist(), states[4].tolist()]
    assert collector.times == {"alice": [0.1, 0.3], "bob": [0.2, 0.4]}  # carol is not collected
    assert all(isinstance(s, DensityMatrix) and s.data.dtype == complex for s in collector.states["alice"])
    collector.close()
    assert network.delivery_hooks == []


def test_the_collector_keeps_a_copy_and_leaves_the_hooks_after_a_with_block():
    network = SimpleNamespace(delivery_hooks=[])
    rho = np.diag([0.5, 0, 0, 0.5]).astype(complex)
    with PairCollector(network, ["alice"]) as collector:
        network.delivery_hooks[0](*_delivery("alice", 1.0), rho)
    rho[0, 0] = 7.0
    assert collector.states["alice"][0].data[0, 0] == 0.5
    assert network.delivery_hooks == []


def test_the_collector_needs_delivery_hooks():
    with pytest.raises(ValueError, match="delivery_hooks"):
        PairCollector(object(), ["alice"])


def _network(idle_a, idle_b):
    return SimpleNamespace(banks={"a": SimpleNamespace(idle_model=idle_a), "b": SimpleNamespace(idle_model=idle_b)})


@pytest.mark.parametrize("t_s", [0.0, 1e-4, 3e-3, 0.02, 0.5])
def test_phi_plus_stored_under_pure_dephasing_keeps_fidelity_one_plus_exp_minus_two_t_over_t2_over_two(t_s):
    t2_s = 0.01
    relaxation = Relaxation(math.inf, t2_s)
    rho = aged_pair(_network(relaxation, relaxation), Request("a", "b"), PHI_PLUS, 1.0, 1.0 + t_s)
    assert bell_fidelity(rho) == pytest.approx((1 + math.exp(-2 * t_s / t2_s)) / 2, abs=1e-12)


def _random_pair(rng):
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


@pytest.mark.parametrize("idle", [(Relaxation(1.0, 0.01), Relaxation(2.0, 0.5)), (None, Relaxation(math.inf, 0.02)),
                                  (Relaxation(0.3, 0.1), None), (None, None)])
def test_ageing_is_the_state_engines_idle_catch_up_bit_for_bit(idle):
    rng = np.random.default_rng(4)
    for _ in range(20):
        rho, since_s, until_s = _random_pair(rng), rng.random(), 1.0 + rng.random()
        clock = [since_s]
        registry = StateRegistry(rng, clock=lambda: clock[0])
        qubits = registry.new_qubits(["src", "dst"], idle=list(idle), rho=rho)
        clock[0] = until_s
        engine = registry.density_matrix(qubits)
        assert np.array_equal(aged_pair(_network(*idle), Request("a", "b"), rho, since_s, until_s).data, engine)


def test_ageing_relaxes_the_src_qubit_with_the_src_memory():
    # Amplitude damping only at src: |11> decays to |01> (qubit 0, the src half, is the low bit).
    rho = np.zeros((4, 4), dtype=complex)
    rho[3, 3] = 1.0
    aged = aged_pair(_network(Relaxation(1.0, 1.0), None), Request("a", "b"), rho, 0.0, math.log(2)).data
    assert aged[3, 3].real == pytest.approx(0.5) and aged[2, 2].real == pytest.approx(0.5)


def test_the_spec_defaults_are_todays_application_table():
    assert ApplicationSpec() == ApplicationSpec(kind="none", request=0, z_probability=0.5)
    with pytest.raises(AttributeError):
        ApplicationSpec().kind = "qkd"


@pytest.mark.parametrize("kwargs, key", [({"kind": ""}, "application.kind"), ({"request": -1}, "application.request"),
                                         ({"request": 1.5}, "application.request"),
                                         ({"z_probability": 1.2}, "application.z_probability")])
def test_a_bad_spec_is_refused_naming_the_key(kwargs, key):
    with pytest.raises(ValueError, match=key):
        ApplicationSpec(**kwargs)


def test_a_two_party_application_refuses_a_request_index_out_of_range():
    requests = [Request("a", "b"), Request("a", "c")]
    with pytest.raises(ValueError, match="application.request: must index one of the 2 requests, got 2"):
        qstack.registered("application")["qkd"].check_spec(ApplicationSpec("qkd", request=2), requests)
    qstack.registered("application")["teleportation"].check_spec(ApplicationSpec("teleportation", request=1), requests)


def test_ghz_needs_two_or_more_requests_from_one_hub():
    ghz = qstack.registered("application")["ghz"]
    with pytest.raises(ValueError, match="application.kind 'ghz'"):
        ghz.check_spec(ApplicationSpec("ghz"), [Request("a", "b")])
    with pytest.raises(ValueError, match="application.kind 'ghz'"):
        ghz.check_spec(ApplicationSpec("ghz"), [Request("a", "b"), Request("c", "b")])
    ghz.check_spec(ApplicationSpec("ghz"), [Request("a", "b"), Request("a", "c")])


def test_the_built_in_applications_are_registered_application_subclasses():
    table = qstack.registered("application")
    assert list(table)[:3] == ["qkd", "teleportation", "ghz"]
    assert all(issubclass(table[name], Application) for name in ("qkd", "teleportation", "ghz"))


def test_fidelity_stats_of_nothing_are_none():
    assert FidelityStats.of([]).to_dict() == {"mean": None, "min": None}
    assert FidelityStats.of([0.5, 0.75]).to_dict() == {"mean": 0.625, "min": 0.5}


def test_the_registration_example_in_the_module_docstring_runs():
    # In a fresh interpreter, so the example's registration does not leak into other tests.
    doc = qstack.applications.base.__doc__
    example = textwrap.dedent(doc.split("::\n\n", 1)[1].split("\n\nRandom choices", 1)[0])
    script = example + textwrap.dedent("""
        import math
        import networkx as nx
        from qstack.applications import ApplicationSpec
        from qstack.engine import Simulation
        from qstack.hardware import Detector, Fiber, Memory, PairSource
        from qstack.network import Network, Request
        from qstack.physical import HeraldedLink, NodeHardware

        assert qstack.registered("application")["mean_fidelity"] is MeanFidelityApplication
        node = NodeHardware(memory=Memory(t1_s=math.inf, t2_s=math.inf, capacity=2))
        source = PairSource(pair_probability=0.5, repetition_rate_hz=1e6, emitted_state_fidelity=0.9)
        graph = nx.Graph()
        graph.add_node("a", hardware=node)
        graph.add_node("b", hardware=node)
        link = HeraldedLink(node, node, Fiber(1.0), Fiber(1.0), Detector(), scheme="midpoint_source", pair_source=source)
        graph.add_edge("a", "b", link=link)
        sim = Simulation(3)
        network = Network(sim, graph)
        requests = [Request("a", "b", pairs=4, name="user")]
        app = MeanFidelityApplication(network, requests, ApplicationSpec("mean_fidelity"), 3)
        sim.env.run(until=network.submit(requests[0]))
        print(app.result(sim.env.now).to_dict())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    printed = eval(done.stdout)  # noqa: S307 - our own script's dict
    assert printed["kind"] == "mean_fidelity" and printed["request"] == "user"
    assert printed["mean_fidelity"] == pytest.approx(0.9, abs=1e-9)
