"""Scheduling policies: the registry of built-ins and plugins, and how the policies decide."""

import math

import numpy as np
import pytest
from scheduling_cases import STAR, two_node

import qstack
from qstack import registry
from qstack.engine import Simulation
from qstack.network import Request
from qstack.build import build_network
from qstack.runner import run_scenario
from qstack.scenario import load_scenario
from qstack.scheduling import (
    FIFO,
    MODEL_IDEALIZATIONS,
    SCHEDULERS,
    Dispatcher,
    EarliestDeadlineFirst,
    IdealizedInformed,
    Job,
    PhysicsInformed,
    WeightedFairShare,
    make_scheduler,
)

BUILT_INS = {
    "fifo": FIFO,
    "edf": EarliestDeadlineFirst,
    "fair_share": WeightedFairShare,
    "physics_informed": PhysicsInformed,
    "idealized_informed": IdealizedInformed,
}


@pytest.fixture
def clean_registry(monkeypatch):
    """Registrations made in the test are forgotten after it (built-ins stay)."""
    registry.names("scheduler")  # built-ins loaded before the copy
    monkeypatch.setattr(registry, "_entries", {kind: dict(table) for kind, table in registry._entries.items()})


def test_built_in_policies_are_registered_under_todays_names_in_order():
    assert {name: qstack.registered("scheduler")[name] for name in BUILT_INS} == BUILT_INS
    assert SCHEDULERS[: len(BUILT_INS)] == tuple(BUILT_INS)
    assert SCHEDULERS == registry.names("scheduler")  # derived from the registry, not kept by hand
    for name, cls in BUILT_INS.items():
        scheduler = make_scheduler(name)
        assert type(scheduler) is cls and scheduler.name == name


def test_an_unknown_policy_names_the_key_and_the_choices():
    with pytest.raises(ValueError, match=r"scheduling.policy must be one of fifo, edf, .*got 'lottery'"):
        make_scheduler("lottery")


def test_policy_parameters_are_constructor_arguments():
    assert make_scheduler("idealized_informed").idealize == MODEL_IDEALIZATIONS
    assert make_scheduler("physics_informed").idealize == ()
    patient = make_scheduler("physics_informed", slack=3.0, give_up_below=0.1)
    assert (patient.slack, patient.give_up_below) == (3.0, 0.1)


def _finish_order(policy: str) -> list[int]:
    """Job ids in the order they finished: one user arriving four times on the star's n1-n2,
    whose memory holds two units at once, so the last two arrivals wait."""
    scenario = load_scenario(STAR)
    sim = Simulation(scenario.seed)
    dispatcher = Dispatcher(build_network(scenario, sim), make_scheduler(policy))
    dispatcher.add_user(Request("n1", "n2", pairs=1, name="u"), [0.0, 1e-6, 2e-6, 3e-6])
    sim.env.run(until=dispatcher.done)
    assert all(job.state == "done" for job in dispatcher.jobs)
    assert dispatcher.report(sim.env.now).policy == policy
    return [job.id for job in sorted(dispatcher.jobs, key=lambda job: job.finished_s)]


def test_a_registered_subclass_of_fifo_is_found_by_name_and_runs_through_a_dispatcher(clean_registry):
    @qstack.register("scheduler", "lifo")
    class LastInFirstOut(FIFO):
        def key(self, job):
            return (-job.arrival_s, -job.id)

    assert "lifo" in registry.names("scheduler")
    scheduler = make_scheduler("lifo")
    assert isinstance(scheduler, LastInFirstOut) and scheduler.name == "lifo"
    assert _finish_order("fifo") == [0, 1, 2, 3]
    assert _finish_order("lifo") == [0, 1, 3, 2]  # the later waiting arrival goes first


def test_a_plugin_cannot_take_a_built_in_name(clean_registry):
    with pytest.raises(ValueError, match="scheduler 'fifo' is already registered"):
        @qstack.register("scheduler", "fifo")
        class Other(FIFO):
            pass


def _run_star(policy, seed=1):
    return run_scenario(load_scenario(STAR, settings={"scheduling.policy": policy}, seed=seed)).scheduling


def test_physics_informed_scheduler_meets_more_requirements_than_fifo_and_the_idealised_design():
    reports = {policy: _run_star(policy) for policy in ("fifo", "physics_informed", "idealized_informed")}
    informed = reports["physics_informed"]
    for other in ("fifo", "idealized_informed"):
        assert informed.requirements_met > reports[other].requirements_met, other
        share = informed.pairs_meeting_min_fidelity / informed.delivered
        assert share > reports[other].pairs_meeting_min_fidelity / reports[other].delivered, other
    assert informed.deadline_misses <= reports["fifo"].deadline_misses


def test_physics_informed_rejects_a_job_it_cannot_finish_and_fifo_misses_it():
    settings = {"requests.1.deadline_s": 1e-4, "max_time_s": 2.0}
    informed = run_scenario(load_scenario(STAR, settings={**settings, "scheduling.policy": "physics_informed"})).scheduling
    fifo = run_scenario(load_scenario(STAR, settings={**settings, "scheduling.policy": "fifo"})).scheduling
    compute_informed = next(u for u in informed.users if u.user == "compute")
    compute_fifo = next(u for u in fifo.users if u.user == "compute")
    assert compute_informed.rejected == compute_informed.jobs
    assert compute_informed.delivered == 0  # no memory or link time wasted on it
    assert compute_fifo.deadline_misses == compute_fifo.jobs
    assert compute_fifo.delivered > 0


def test_chance_in_time_is_the_erlang_law_of_the_remaining_pairs():
    """n pairs, each after an exponential time of mean T: P(done by t) = 1 - sum_{i<n} e^-x x^i / i!,
    x = t/T. Checked against a sampled sum of exponentials."""
    scenario = two_node()
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
