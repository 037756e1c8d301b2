"""Schedulers, the dispatcher, the planner's model, and the physics-versus-idealised comparison."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from qstack.cli import main
from qstack.compare import compare_idealized, compare_schedulers
from qstack.engine import Simulation
from qstack.network import Request
from qstack.runner import build_network, run_scenario
from qstack.scenario import load_scenario
from qstack.scheduling import Dispatcher, RouteModel, jain_index, make_scheduler, poisson_arrivals

ROOT = Path(__file__).resolve().parents[1]
STAR = ROOT / "scenarios" / "star_schedulers.toml"


def _two_node(t2_s=None, **settings):
    """Two trapped-ion nodes 2 km apart (a direct link)."""
    data = {
        "seed": 3,
        "network": {"topology": "chain", "nodes": 3, "link_lengths_km": [2.0]},
        "hardware": {"node": "trapped_ion", "channel": "telecom_fiber", "overrides": {}},
        "link": {"scheme": "single_click", "bright_state_population": 0.05},
        "requests": [{"src": "n0", "dst": "n1", "pairs": 1}],
    }
    if t2_s is not None:
        data["hardware"]["overrides"]["node.memory.t2_s"] = t2_s
    return load_scenario(data, settings=settings)


def test_jain_index_is_one_for_equal_shares_and_one_over_n_when_one_user_gets_all():
    assert jain_index([0.3, 0.3, 0.3, 0.3]) == pytest.approx(1.0)
    assert jain_index([1.0, 0.0, 0.0, 0.0]) == pytest.approx(0.25)
    assert jain_index([1.0, 0.5]) == pytest.approx(1.5**2 / (2 * 1.25))
    assert jain_index([0.0, 0.0]) is None


def test_poisson_arrivals_have_exponential_gaps_of_the_given_rate():
    rng = np.random.default_rng(5)
    times = poisson_arrivals(rng, 2.0, 4001, 50.0)
    gaps = np.diff(times)
    assert times[0] == 2.0
    assert np.all(gaps > 0)
    # mean 1/rate with standard error (1/rate)/sqrt(n); 4 sigma
    assert abs(gaps.mean() - 0.02) < 4 * 0.02 / math.sqrt(len(gaps))
    with pytest.raises(ValueError, match="arrival_rate_hz"):
        poisson_arrivals(rng, 0.0, 3, 0.0)


def test_planner_predicts_a_single_link_waiting_time_of_attempt_time_over_p():
    scenario = _two_node()
    network = build_network(scenario, Simulation(1))
    model = RouteModel(network, ["n0", "n1"], rng=np.random.default_rng(2))
    link = network.service("n0", "n1").link
    expected = link.attempt_time_s / link.success_probability_per_mode
    samples = 4000
    # geometric waiting time: std ~ mean sqrt(1-p) ~ mean; 4 sigma of the Monte Carlo mean
    assert model.time_per_pair_s(1, math.inf, samples=samples) == pytest.approx(expected, rel=4 / math.sqrt(samples))


@pytest.mark.parametrize("storage_s", [0.0, 0.02, 0.08])
def test_planner_fidelity_of_a_stored_pair_matches_the_simulated_pairs(storage_s):
    """The planner ages the mean heralded state with Aer's thermal relaxation; the network
    stores sampled heralded states with the engine's lazy idle channel. Means must agree."""
    scenario = _two_node(t2_s=0.1, **{"requests.0.pairs": 200, "requests.0.storage_time_s": storage_s})
    report = run_scenario(scenario)
    fidelities = np.array([p.fidelity for p in report.pairs])
    network = build_network(scenario, Simulation(1))
    model = RouteModel(network, ["n0", "n1"])
    heralding_s = network.service("n0", "n1").link.heralding_time_s
    predicted = model.fidelity(storage_s + heralding_s)
    spread = max(fidelities.std(), 1e-6) / math.sqrt(len(fidelities))
    assert abs(fidelities.mean() - predicted) < 4 * spread + 1e-6


def test_planner_cutoff_keeps_the_predicted_fidelity_at_the_requirement():
    scenario = _two_node(t2_s=0.05)
    network = build_network(scenario, Simulation(1))
    model = RouteModel(network, ["n0", "n1"])
    fresh = model.fidelity(0.0)
    target = fresh - 0.05
    cutoff = model.cutoff_for(target, math.inf)
    assert 0 < cutoff < math.inf
    assert model.fidelity(cutoff) == pytest.approx(target, abs=1e-6)
    assert model.cutoff_for(fresh + 0.01, math.inf) is None
    assert model.cutoff_for(0.3, 0.01) == 0.01  # the network's own cut-off binds first


def _run_star(policy, seed=1):
    return run_scenario(load_scenario(STAR, settings={"scheduling.policy": policy}, seed=seed)).scheduling


def test_physics_informed_scheduler_meets_more_requirements_than_fifo_and_the_idealised_design():
    reports = {policy: _run_star(policy) for policy in ("fifo", "physics_informed", "idealized_informed")}
    informed = reports["physics_informed"]
    for other in ("fifo", "idealized_informed"):
        assert informed["requirements_met"] > reports[other]["requirements_met"], other
        share = informed["pairs_meeting_min_fidelity"] / informed["delivered"]
        assert share > reports[other]["pairs_meeting_min_fidelity"] / reports[other]["delivered"], other
    assert informed["deadline_misses"] <= reports["fifo"]["deadline_misses"]


def test_scheduling_report_has_per_user_throughput_fidelity_latency_misses_and_fairness():
    scenario = load_scenario(STAR, settings={"scheduling.policy": "edf"})
    report = run_scenario(scenario)
    sched = report.scheduling
    assert len(sched["users"]) == 4
    for user in sched["users"]:
        assert user["throughput_hz"] == pytest.approx(user["delivered"] / report.sim_time_s)
        records = [p for p in report.pairs if p.request == user["user"]]
        assert user["delivered"] == len(records)
        assert user["mean_fidelity"] == pytest.approx(np.mean([p.fidelity for p in records]))
        assert user["latency_s"] == pytest.approx(np.mean([p.latency_s for p in records]))
        assert 0 <= user["deadline_misses"] <= user["jobs"]
    served = [u["served_fraction"] for u in sched["users"]]
    assert sched["fairness_index"] == pytest.approx(sum(served) ** 2 / (len(served) * sum(s * s for s in served)))
    assert sum(u["jobs"] for u in sched["users"]) == sched["jobs"]


def test_same_seed_gives_the_same_schedule_bit_for_bit():
    first = run_scenario(load_scenario(STAR, settings={"scheduling.policy": "physics_informed"}))
    second = run_scenario(load_scenario(STAR, settings={"scheduling.policy": "physics_informed"}))
    strip = lambda d: {k: v for k, v in d.items() if k != "wall_time_s"}  # noqa: E731
    assert strip(first.to_dict()) == strip(second.to_dict())


def test_memory_is_never_over_allocated_and_is_all_given_back():
    scenario = load_scenario(STAR, settings={"scheduling.policy": "fifo"})
    sim = Simulation(scenario.seed)
    network = build_network(scenario, sim)
    dispatcher = Dispatcher(network, make_scheduler("fifo"))
    for i in range(1, 5):
        dispatcher.add_user(Request(f"n{i}", f"n{i % 4 + 1}", pairs=5, name=f"u{i}"), [0.0, 0.001])
    peaks = {node: 0 for node in network.banks}

    def watch():
        while not dispatcher.done.triggered:
            for node in peaks:
                peaks[node] = max(peaks[node], dispatcher.allocated[node])
                assert dispatcher.allocated[node] <= network.banks[node].capacity
            yield sim.env.timeout(1e-4)

    sim.env.process(watch())
    sim.env.run(until=dispatcher.done)
    assert all(v == 0 for v in dispatcher.allocated.values())
    assert max(peaks.values()) > 0
    assert all(bank.slots.level == bank.capacity for bank in network.banks.values())
    assert sum(job.delivered for job in dispatcher.jobs) == 40


def test_physics_informed_rejects_a_job_it_cannot_finish_and_fifo_misses_it():
    settings = {"requests.1.deadline_s": 1e-4, "max_time_s": 2.0}
    informed = run_scenario(load_scenario(STAR, settings={**settings, "scheduling.policy": "physics_informed"})).scheduling
    fifo = run_scenario(load_scenario(STAR, settings={**settings, "scheduling.policy": "fifo"})).scheduling
    compute_informed = next(u for u in informed["users"] if u["user"] == "compute")
    compute_fifo = next(u for u in fifo["users"] if u["user"] == "compute")
    assert compute_informed["rejected"] == compute_informed["jobs"]
    assert compute_informed["delivered"] == 0  # no memory or link time wasted on it
    assert compute_fifo["deadline_misses"] == compute_fifo["jobs"]
    assert compute_fifo["delivered"] > 0


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"requests.0.arrivals": 3, "requests.0.arrival_rate_hz": 1.0}, "requests[0].arrivals: arrivals over time"),
        ({"scheduling.policy": "fifo", "requests.0.arrivals": 3}, "requests[0].arrival_rate_hz: must be > 0"),
        ({"scheduling.policy": "lottery"}, "scheduling.policy: must be one of"),
        ({"requests.0.deadline_s": -1.0, "scheduling.policy": "edf"}, "requests[0].deadline_s: must be in"),
    ],
)
def test_bad_scheduling_input_exits_2_with_a_one_line_message(settings, message, capsys):
    args = ["run"]
    for key, value in settings.items():
        args += ["--set", f"{key}={json.dumps(value)}"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert "\n" not in err


def test_compare_shows_the_idealised_prediction_against_the_physical_result_on_the_default_chain():
    result = compare_idealized(None, each=False)
    physical, ideal = result.physical, result.idealized
    assert physical["delivered"] == ideal["delivered"] == 20
    assert ideal["throughput_hz"] > 100 * physical["throughput_hz"]  # certain, lossless generation
    assert ideal["fidelity"] > physical["fidelity"] + 0.1
    assert ideal["latency_s"] < physical["latency_s"] / 100
    table = result.table()
    for label in ("rate [pairs/s]", "fidelity (mean)", "latency (mean) [s]"):
        assert label in table


def test_each_idealisation_alone_moves_only_its_own_physics():
    result = compare_idealized(None, ("decoherence", "probabilistic_generation"))
    physical = result.physical
    # Certain generation changes the rate; never-decaying memories alone do not.
    assert result.each["probabilistic_generation"]["throughput_hz"] > 10 * physical["throughput_hz"]
    assert result.each["decoherence"]["throughput_hz"] == pytest.approx(physical["throughput_hz"])
    assert result.each["decoherence"]["fidelity"] >= physical["fidelity"]


def test_compare_cli_prints_both_runs_and_run_accepts_compare_idealized(capsys):
    assert main(["compare", "--no-each", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["physical"]["throughput_hz"] < out["idealized"]["throughput_hz"]
    assert main(["run", "--compare-idealized", "--set", "requests.0.pairs=3"]) == 0
    assert "idealised" in capsys.readouterr().out
    assert main(["compare", "--idealize", "memory"]) == 2


def test_compare_schedulers_runs_each_policy_on_the_same_scenario():
    result = compare_schedulers(STAR, ("fifo", "edf"), settings={"requests.0.pairs": 5})
    assert set(result.reports) == {"fifo", "edf"}
    assert all(r["jobs"] == 25 for r in result.reports.values())
    assert "edf" in result.table()


def test_chance_in_time_is_the_erlang_law_of_the_remaining_pairs():
    """n pairs, each after an exponential time of mean T: P(done by t) = 1 - sum_{i<n} e^-x x^i / i!,
    x = t/T. Checked against a sampled sum of exponentials."""
    from qstack.scheduling import Job, PhysicsInformed

    scenario = _two_node()
    sim = Simulation(1)
    network = build_network(scenario, sim)
    dispatcher = Dispatcher(network, PhysicsInformed())
    path = ["n0", "n1"]
    mean = dispatcher.scheduler._time(Job(0, "u", Request("n0", "n1"), path, 0.0, 1.0, math.inf), 1)
    rng = np.random.default_rng(7)
    for pairs, left in ((1, mean), (3, 2 * mean), (3, 5 * mean)):
        job = Job(0, "u", Request("n0", "n1", pairs=pairs), path, 0.0, left, math.inf)
        sampled = (rng.exponential(mean, size=(20000, pairs)).sum(axis=1) <= left).mean()
        assert dispatcher.scheduler.chance_in_time(job, pairs) == pytest.approx(sampled, abs=4 * 0.5 / math.sqrt(20000))
