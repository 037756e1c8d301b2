"""The scheduling report: typed per user and overall, today's JSON keys, Jain's fairness index."""

import dataclasses
import json

import numpy as np
import pytest
from scheduling_cases import STAR

from qstack.engine import Simulation
from qstack.runner import add_scenario_users, build_network, run_scenario
from qstack.scenario import load_scenario
from qstack.scheduling import Dispatcher, SchedulingReport, UserReport, jain_index, make_scheduler

REPORT_KEYS = ["policy", "jobs", "requirements_met", "deadline_misses", "pairs_meeting_min_fidelity",
               "delivered", "fairness_index", "users"]
USER_KEYS = ["user", "src", "dst", "jobs", "pairs_requested", "delivered", "served_fraction", "throughput_hz",
             "min_rate_hz", "rate_met", "mean_fidelity", "min_fidelity_required", "pairs_meeting_min_fidelity",
             "latency_s", "job_completion_s", "deadline_misses", "rejected", "abandoned", "requirements_met",
             "cutoff_s"]


def test_jain_index_is_one_for_equal_shares_and_one_over_n_when_one_user_gets_all():
    assert jain_index([0.3, 0.3, 0.3, 0.3]) == pytest.approx(1.0)
    assert jain_index([1.0, 0.0, 0.0, 0.0]) == pytest.approx(0.25)
    assert jain_index([1.0, 0.5]) == pytest.approx(1.5**2 / (2 * 1.25))
    assert jain_index([0.0, 0.0]) is None


def _dispatched_star(policy: str):
    scenario = load_scenario(STAR, settings={"scheduling.policy": policy})
    sim = Simulation(scenario.seed)
    network = build_network(scenario, sim)
    dispatcher = Dispatcher(network, make_scheduler(policy), seed=scenario.seed)
    add_scenario_users(dispatcher, scenario)  # the runner's users and arrival draws
    sim.env.run(until=dispatcher.done)  # the star's jobs all end long before its max_time_s
    return scenario, dispatcher.report(sim.env.now)


def test_report_is_typed_and_frozen_and_its_dict_has_todays_keys_in_order():
    scenario, report = _dispatched_star("edf")
    assert isinstance(report, SchedulingReport) and all(isinstance(u, UserReport) for u in report.users)
    assert report.users[0].user == "qkd" and report.policy == "edf"
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.delivered = 0
    d = report.to_dict()
    assert list(d) == REPORT_KEYS
    assert isinstance(d["users"], list) and all(list(u) == USER_KEYS for u in d["users"])
    assert json.loads(json.dumps(d)) == d
    assert d == run_scenario(scenario).to_dict()["scheduling"]  # the runner's report section is this dict


def test_totals_are_sums_over_users():
    _, report = _dispatched_star("fifo")
    for name in ("requirements_met", "deadline_misses", "pairs_meeting_min_fidelity", "delivered"):
        assert getattr(report, name) == sum(getattr(u, name) for u in report.users) > 0, name
    assert report.jobs == sum(u.jobs for u in report.users)


def test_scheduling_report_has_per_user_throughput_fidelity_latency_misses_and_fairness():
    scenario = load_scenario(STAR, settings={"scheduling.policy": "edf"})
    report = run_scenario(scenario)
    sched = report.to_dict()["scheduling"]
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
