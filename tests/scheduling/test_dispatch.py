"""The dispatcher: arrivals over time, memory allocation per unit, determinism, bad input."""

import json
import math

import numpy as np
import pytest
from scheduling_cases import STAR

from qstack.cli import main
from qstack.engine import Simulation
from qstack.network import Request
from qstack.build import build_network
from qstack.runner import run_scenario
from qstack.scenario import load_scenario
from qstack.scheduling import Dispatcher, make_scheduler, poisson_arrivals


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


def test_without_a_scheduler_the_caller_starts_pairs_and_a_misfit_is_refused():
    scenario = load_scenario(STAR)
    sim = Simulation(scenario.seed)
    dispatcher = Dispatcher(build_network(scenario, sim), None)
    dispatcher.add_user(Request("n1", "n2", pairs=1, name="u"), [0.0])
    sim.env.run(until=1e-9)
    (job,) = dispatcher.eligible()
    with pytest.raises(ValueError, match="modes do not fit"):
        dispatcher.start(job, dispatcher.max_modes(job.path) + 1)
    dispatcher.start(job, 1)
    with pytest.raises(ValueError, match="no pair left to start"):
        dispatcher.start(job, 1)
    sim.env.run(until=dispatcher.done)
    assert job.state == "done" and job.delivered == 1
    assert dispatcher.report(sim.env.now).policy == "external"


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


def test_an_arrival_stream_draws_what_poisson_arrivals_draws_then_continues_as_read():
    from qstack.scheduling.dispatch import SHARED_GAPS, poisson_arrival_stream

    for count in (1, 2, SHARED_GAPS + 1):
        eager = poisson_arrivals(np.random.default_rng(7), 0.5, count, 20.0)
        assert list(poisson_arrival_stream(np.random.default_rng(7), np.random.default_rng(8), 0.5, count, 20.0)) == eager
    shared = np.random.default_rng(7)
    stream = poisson_arrival_stream(shared, np.random.default_rng(8), 0.0, 10**12, 20.0)
    state = shared.bit_generator.state
    times = [next(stream) for _ in range(3 * SHARED_GAPS)]  # reading on draws from the user's own generator
    assert shared.bit_generator.state == state and np.all(np.diff(times) > 0)
    gaps = np.diff(times)  # exponential of mean 1/20 s: the mean of 12287 gaps within 5 standard errors
    assert abs(gaps.mean() - 0.05) < 5 * 0.05 / np.sqrt(len(gaps))
