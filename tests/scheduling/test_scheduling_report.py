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

REPORT_KEYS = ["policy", "jobs", "requirements_met", "deadline_misses", "misses", "rejected", "abandoned", "late",
               "below_min_fidelity", "pairs_meeting_min_fidelity", "delivered", "fairness_quantity", "fairness_index",
               "throughput_fairness_index", "users"]
USER_KEYS = ["user", "src", "dst", "jobs", "pairs_requested", "delivered", "served_fraction", "throughput_hz",
             "active_s", "demand_hz", "min_rate_hz", "rate_met", "mean_fidelity", "min_fidelity_required",
             "pairs_meeting_min_fidelity", "latency_s", "job_completion_s", "deadline_misses", "misses", "rejected",
             "abandoned", "late", "below_min_fidelity", "requirements_met", "cutoff_s"]


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
    for name in ("requirements_met", "deadline_misses", "misses", "pairs_meeting_min_fidelity", "delivered"):
        assert getattr(report, name) == sum(getattr(u, name) for u in report.users) > 0, name
    assert report.jobs == sum(u.jobs for u in report.users)


def test_scheduling_report_has_per_user_throughput_fidelity_latency_misses_and_fairness():
    scenario = load_scenario(STAR, settings={"scheduling.policy": "edf"})
    report = run_scenario(scenario)
    sched = report.to_dict()["scheduling"]
    assert len(sched["users"]) == 4
    for user in sched["users"]:
        assert user["throughput_hz"] == pytest.approx(user["delivered"] / user["active_s"])
        assert 0 < user["active_s"] <= report.sim_time_s
        records = [p for p in report.pairs if p.request == user["user"]]
        assert user["delivered"] == len(records)
        assert user["mean_fidelity"] == pytest.approx(np.mean([p.fidelity for p in records]))
        assert user["latency_s"] == pytest.approx(np.mean([p.latency_s for p in records]))
        assert 0 <= user["deadline_misses"] <= user["jobs"]
    served = [u["served_fraction"] for u in sched["users"]]
    assert sched["fairness_index"] == pytest.approx(sum(served) ** 2 / (len(served) * sum(s * s for s in served)))
    assert sum(u["jobs"] for u in sched["users"]) == sched["jobs"]


def test_every_ended_job_is_met_or_missed_for_exactly_one_cause():
    for policy in ("fifo", "physics_informed"):
        scenario, report = _dispatched_star(policy)
        for u in report.users:
            causes = u.rejected + u.abandoned + u.late + u.below_min_fidelity
            assert u.misses == causes and u.deadline_misses == u.rejected + u.abandoned + u.late
            assert u.requirements_met + u.misses == u.jobs, (policy, u.user)  # every job of the star has ended
    # fifo delivers pairs on time below the QKD user's minimum: counted as a miss of that cause
    _, fifo = _dispatched_star("fifo")
    qkd = fifo.users[0]
    assert qkd.pairs_meeting_min_fidelity < qkd.delivered and qkd.below_min_fidelity == 1 and qkd.requirements_met == 0


def test_throughput_is_over_the_users_active_time_and_normalised_by_its_demand():
    _, report = _dispatched_star("edf")
    sensor = next(u for u in report.users if u.user == "sensor")
    # ten jobs of a 20 Hz stream, each with a 30 ms deadline: active for well under the run
    assert sensor.active_s < 0.9 * max(u.active_s for u in report.users)
    assert sensor.demand_hz >= sensor.pairs_requested / sensor.active_s
    normalised = [min(u.throughput_hz / u.demand_hz, 1.0) for u in report.users]
    assert report.throughput_fairness_index == pytest.approx(jain_index(normalised))
    assert report.fairness_quantity == "served_fraction"


def test_rate_met_is_false_for_a_user_with_unmet_demand_even_without_a_minimum_rate():
    from qstack.network import Request
    from qstack.scheduling.dispatch import Job

    request = Request("a", "b", pairs=2, min_rate_hz=0.0)
    job = Job(id=0, user="u", request=request, path=["a", "b"], arrival_s=0.0, deadline_at_s=1.0, cutoff_s=1.0,
              state="missed", ended_s=1.0)
    user = UserReport.of("u", request, [], [job], sim_time_s=2.0)
    assert user.rate_met is False and user.throughput_hz == 0.0 and user.active_s == 1.0
    assert user.late == 1 and user.misses == 1 and user.requirements_met == 0


def test_the_reports_one_line_scheduling_summary_splits_the_misses_by_cause():
    report = run_scenario(load_scenario(STAR, settings={"scheduling.policy": "fifo"}))
    s = report.scheduling
    line = next(line for line in report.table().splitlines() if line.startswith("scheduling (fifo)"))
    assert f"misses rej {s.rejected} aband {s.abandoned} late {s.late} <minF {s.below_min_fidelity}" in line
    assert "deadline misses" not in line and s.late + s.below_min_fidelity > 0
