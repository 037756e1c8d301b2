"""Running a stack: a scenario (``qstack run``) or a network composed in code (``qstack.simulate``).

Building is :mod:`qstack.build`'s, reporting :mod:`qstack.collect`'s: this module starts the
requests (at once, or through a scheduler's dispatcher), runs simulated time to completion or
to ``max_time_s``, and hands the finished run to the report.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Sequence

import networkx as nx
import numpy as np

from qstack import registry
from qstack.applications import ApplicationSpec
from qstack.build import build_network
from qstack.collect import collect_report
from qstack.engine import Simulation
from qstack.engine.trace import Recorder
from qstack.network import Network, Request
from qstack.metrics import RecordSummary
from qstack.report import USEFUL_FIDELITY, Report
from qstack.scenario import Scenario, ScenarioError
from qstack.scheduling import Dispatcher, make_scheduler
from qstack.scheduling.dispatch import poisson_arrival_stream

__all__ = ["RunInterrupted", "add_scenario_users", "make_application", "run_scenario", "scenario_requests", "simulate"]

logger = logging.getLogger(__name__)

#: ``progress(delivered_pairs, sim_time_s)``, called after every delivered pair.
RunProgress = Callable[[int, float], None]


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: ``report`` is what was delivered until then (``report.interrupted``)."""

    def __init__(self, report: Report):
        super().__init__("run interrupted")
        self.report = report


def scenario_requests(scenario: Scenario) -> list[Request]:
    """The scenario's requests (one per user), named by ``user`` or ``r<i>:src->dst``."""
    return [
        Request(
            r.src, r.dst, r.pairs, r.min_fidelity, r.storage_time_s,
            name=r.user or f"r{i}:{r.src}->{r.dst}",
            arrival_s=r.arrival_s, deadline_s=r.deadline_s, priority=r.priority, min_rate_hz=r.min_rate_hz,
        )
        for i, r in enumerate(scenario.requests)
    ]


def add_scenario_users(dispatcher: Dispatcher, scenario: Scenario, requests: list[Request] | None = None,
                       seed: int | None = None) -> None:
    """Give ``dispatcher`` the scenario's users, each arriving at its ``arrival_s`` and then as
    a Poisson process (arrival times from a generator of their own, seeded by ``seed``, the
    scenario's seed by default; :func:`~qstack.scheduling.dispatch.poisson_arrival_stream`)."""
    if requests is None:
        requests = scenario_requests(scenario)
    seed = scenario.seed if seed is None else seed
    arrivals_rng = np.random.default_rng([seed, 0xA771])
    for i, (request, r) in enumerate(zip(requests, scenario.requests)):
        # Generated as the run reaches them: 10**9 arrivals cost what the run uses of them.
        times = poisson_arrival_stream(arrivals_rng, np.random.default_rng([seed, 0xA771, i]), r.arrival_s,
                                       r.arrivals, r.arrival_rate_hz)
        try:
            dispatcher.add_user(request, times)
        except ValueError as exc:
            raise ScenarioError(f"requests[{i}]: {exc}") from exc


def run_scenario(scenario: Scenario, recorder: Recorder | None = None,
                 progress: RunProgress | None = None) -> Report:
    """Run ``scenario`` to completion (or to ``max_time_s`` of simulated time) and report.

    ``recorder``: a :class:`~qstack.engine.trace.Recorder` given the run's events (and its
    nodes' occupancy), for ``--trace`` and ``--html``; None records nothing.
    ``progress(delivered, sim_time_s)`` is called after each delivered pair. Ctrl-C raises
    :class:`RunInterrupted` holding the report of what was delivered until then.
    """
    wall_start = time.perf_counter()
    sim = Simulation(scenario.seed, engine=scenario.engine, recorder=recorder)
    network = build_network(scenario, sim)
    if recorder is not None:
        recorder.watch_pools(network.banks)
    requests = scenario_requests(scenario)
    dispatcher = None
    if scenario.scheduling.policy == "none":
        done = _submit_all(network, requests)
    else:
        dispatcher = Dispatcher(network, make_scheduler(scenario.scheduling.policy), seed=scenario.seed,
                                max_in_flight=scenario.scheduling.max_pairs_in_flight)
        add_scenario_users(dispatcher, scenario, requests)
        done = dispatcher.done
    if scenario.report.records == "summary":  # before the run: every record goes to a bounded summary
        for stats in network.stats:
            stats.records = RecordSummary(stats.request.min_fidelity, USEFUL_FIDELITY, seed=scenario.seed)
    application = make_application(scenario.application, network, requests, scenario.seed)
    logger.debug("running %s (seed %d) to at most %g s of simulated time", scenario.source, scenario.seed,
                 scenario.max_time_s)
    interrupted = _run_until(sim, done, scenario.max_time_s, network, progress)
    report = collect_report(sim, network, seed=scenario.seed, scenario=scenario.to_dict(), application=application,
                            dispatcher=dispatcher, wall_start=wall_start, interrupted=interrupted)
    if interrupted:
        raise RunInterrupted(report)
    return report


def simulate(network: nx.Graph | Network, requests: Sequence[Request], *, seed: int = 1,
             max_time_s: float = 3600.0, application=None, engine: str = "fast", **network_options) -> Report:
    """Run a network composed in code and report, as ``qstack run`` does for a scenario.

    ``network``: a ``networkx`` graph whose nodes carry ``hardware`` (:class:`NodeHardware`) and
    whose edges carry ``link`` (a link model) and ``length_km``; a :class:`Network` is built on it
    in a new simulation seeded by ``seed`` with ``network_options`` (``swapping``,
    ``purification``, ``cutoff_s``, ``routing``, ``bsm``, ...). ``requests`` are served at once;
    ``application``: a registered application's name (``"qkd"``, ``"teleportation"``, ...) or an
    :class:`ApplicationSpec`, run on the delivered pairs' real states; None for none. The same
    seed gives the same report. Ctrl-C raises :class:`RunInterrupted` with the report so far.
    """
    if not isinstance(network, nx.Graph):
        raise TypeError("simulate: network must be a networkx graph of node hardware and link models "
                        f"(it builds the Network in its own simulation), got {type(network).__name__}")
    if not max_time_s > 0:
        raise ValueError(f"simulate: max_time_s must be > 0, got {max_time_s}")
    wall_start = time.perf_counter()
    sim = Simulation(seed, engine=engine)
    built = Network(sim, network, **network_options)
    requests = list(requests)
    done = _submit_all(built, requests)
    app = make_application(_as_spec(application), built, requests, seed)
    interrupted = _run_until(sim, done, max_time_s)
    report = collect_report(sim, built, seed=seed, application=app, wall_start=wall_start, interrupted=interrupted)
    if interrupted:
        raise RunInterrupted(report)
    return report


def make_application(spec: ApplicationSpec, network: Network, requests: list[Request], seed: int):
    """The registered application ``spec.kind`` on ``network``'s deliveries (None for "none")."""
    if spec.kind == "none":
        return None
    cls = registry.lookup("application", spec.kind, "application.kind")
    return cls(network, requests, spec, seed)


def _as_spec(application: str | ApplicationSpec | None) -> ApplicationSpec:
    if application is None:
        return ApplicationSpec()
    if isinstance(application, str):
        return ApplicationSpec(kind=application)
    if isinstance(application, ApplicationSpec):
        return application
    raise TypeError(f"simulate: application must be a registered name or an ApplicationSpec, got {application!r}")


def _submit_all(network: Network, requests: list[Request]):
    processes = []
    for i, request in enumerate(requests):
        try:
            processes.append(network.submit(request))
        except ValueError as exc:
            raise ScenarioError(f"requests[{i}]: {exc}") from exc
    return network.sim.env.all_of(processes)


def _run_until(sim: Simulation, done, max_time_s: float, network: Network | None = None,
               progress: RunProgress | None = None) -> bool:
    """Run to ``done`` or ``max_time_s``; True when Ctrl-C stopped it first (the state stays as
    the last whole event left it, for a partial report)."""
    if progress is not None and network is not None:
        delivered = [0]

        def count(request, record, rho) -> None:
            delivered[0] += 1
            progress(delivered[0], float(sim.env.now))

        network.delivery_hooks.append(count)
    try:
        sim.env.run(until=sim.env.any_of([done, sim.env.timeout(max_time_s)]))
    except KeyboardInterrupt:
        logger.info("interrupted at %g s of simulated time", sim.env.now)
        return True
    return False
