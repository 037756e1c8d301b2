"""Serving a request: one try after another at a pair, and the one delivery of each pair.

A try is a :class:`LinkAttempt` on a direct link without purification (the link pair as it is)
or a :class:`~qstack.network.path.PathAttempt` otherwise. Either way the pair is then held for the
application's storage time, read out of both memories (or lost at extraction) and recorded by
:func:`deliver`, which hands its state to the network's delivery hooks.
"""

from __future__ import annotations

import math

from qstack.metrics import DelayBreakdown, PairRecord, bell_fidelity

from .path import PathAttempt
from .requests import RequestStats


class LinkAttempt:
    """Tries at a pair over a single link without purification: the link's pair as it is.

    :func:`serve_one` starts the link service's generation and hands the pair to :meth:`took`;
    then ``qubits`` (oriented from ``path[0]``), ``oldest_s`` and ``attempts`` describe it for
    delivery, as for a :class:`~qstack.network.path.PathAttempt`. One object serves all the tries
    at one pair (``started_s`` is when the current try began).
    """

    __slots__ = ("plan", "service", "first_node", "started_s", "pair", "qubits", "oldest_s", "attempts",
                 "first_started_s")

    def __init__(self, plan, first_node: str):
        self.plan = plan
        self.service = plan.services[0]
        self.first_node = first_node
        self.first_started_s = None  # the first attempt of the first try: the pair's generation began

    def took(self, pair) -> None:
        """The link pair of this try, oriented from the path's first node."""
        self.pair, self.oldest_s, self.attempts = pair, pair.heralded_s - pair.heralding_s, pair.attempts
        if self.first_started_s is None:
            self.first_started_s = pair.started_s
        self.qubits = pair.qubits if pair.stored_at[0].name == self.first_node else (pair.qubits[1], pair.qubits[0])

    def discard(self) -> None:
        self.service.release(self.pair)

    def breakdown(self, ready_s: float, now_s: float, begun_s: float, requested_s: float) -> DelayBreakdown:
        """The link's own timeline, exactly: queueing (behind the request's earlier pairs, then
        for the interface, communication qubits and slots), the attempts up to the successful
        emission (``started_s + attempts attempt_time - heralding_time``), its heralding, the
        move, storage since then; earlier tries are cut-off retries."""
        pair = self.pair
        heralding_s = pair.heralding_s - pair.move_s
        return DelayBreakdown(
            emission_wait_s=pair.heralded_s - pair.started_s - pair.heralding_s,
            heralding_s=heralding_s,
            storage_s=now_s - pair.heralded_s,
            cutoff_retries_s=self.started_s - begun_s,
            queueing_s=(begun_s - requested_s) + pair.queued_s,
            moves_s=pair.move_s,
        )


def direct(network, path: list[str]) -> bool:
    """Whether pairs on ``path`` are link pairs as they are (one link, no purification)."""
    return len(path) == 2 and network.purification.rounds == 0


def serve_request(network, stats: RequestStats, path: list[str]):
    """SimPy generator: every pair of ``stats.request``. On a direct link, one worker per
    storage slot the pair can occupy, each producing pairs in turn; on a path, one pair at a time."""
    env = network.sim.env
    request = stats.request
    if stats.requested_s is None:
        stats.requested_s = env.now
    if direct(network, path):
        service = network.service(request.src, request.dst)
        workers = min(request.pairs, min(bank.capacity // service.link.multiplexing for bank in service.banks))
        quota = [request.pairs]
        plan = network.path_plan(path)
        yield env.all_of([env.process(_worker(network, stats, path, plan, quota)) for _ in range(max(workers, 1))])
    else:
        plan = network.path_plan(path)
        while len(stats.records) < request.pairs:
            yield from _serve_one(network, stats, path, plan)
    stats.finished_s = env.now


def _worker(network, stats: RequestStats, path: list[str], plan, quota: list[int]):
    while quota[0] > 0:
        quota[0] -= 1
        yield from _serve_one(network, stats, path, plan)


def serve_one(network, stats: RequestStats, path: list[str]):
    """SimPy generator: deliver one pair of ``stats.request`` over ``path``, retrying after
    cut-off discards, failed swaps or purifications and extraction losses."""
    return _serve_one(network, stats, path, network.path_plan(path))


def _serve_one(network, stats: RequestStats, path: list[str], plan):
    """:func:`serve_one` with the path's plan looked up already."""
    env = network.sim.env
    begun_s = env.now
    if direct(network, path):  # the link pair as it is: no process of our own
        attempt = LinkAttempt(plan, path[0])
        while True:
            attempt.started_s = env.now
            attempt.took((yield env.process(attempt.service.generate(stats.modes))))
            if (yield from deliver(network, stats, path, attempt, begun_s)):
                return
    first_started_s = None
    while True:
        attempt = PathAttempt(network, stats, path, plan)
        yield from attempt.run()
        first_started_s = attempt.first_started_s = min(attempt.first_started_s, math.inf if first_started_s is None else first_started_s)
        if (yield from deliver(network, stats, path, attempt, begun_s)):
            return


def deliver(network, stats: RequestStats, path: list[str], attempt, begun_s: float):
    """SimPy generator: hold the pair for the application's storage time, then use it; True
    when delivered, False when the cut-off or the readout took it.

    The pair is lost if its oldest qubit would reach the cut-off before the storage time ends
    (freed at the cut-off), or with probability ``1 - eta_src eta_dst`` at readout (read
    efficiencies of the two ends). A delivered pair's state (qubit 0 at ``request.src``) is
    recorded with its fidelity and latency and handed to the delivery hooks.
    """
    env, request = network.sim.env, stats.request
    ready_s = env.now
    hold = request.storage_time_s
    expiry_s = attempt.oldest_s + stats.cutoff_s
    if env.now + hold >= expiry_s:
        yield env.timeout(max(expiry_s - env.now, 0.0))
        attempt.discard()
        stats.cutoff_discards += 1
        if (rec := network.sim.recorder) is not None: rec.cutoff((path[0], path[-1]), env.now - attempt.oldest_s)
        return False
    if hold > 0:
        yield env.timeout(hold)
    if network.sim.rng.random() >= attempt.plan.extraction:
        attempt.discard()
        stats.extraction_failures += 1
        return False
    qubits = attempt.qubits
    rho = network.sim.registry.density_matrix(list(qubits) if path[0] == request.src else list(reversed(qubits)))
    fidelity = bell_fidelity(rho)
    attempt.discard()
    now_s = env.now
    requested_s = begun_s if stats.requested_s is None else min(stats.requested_s, begun_s)
    record = PairRecord(request.label, begun_s, now_s, fidelity, attempt.attempts,
                        attempt.breakdown(ready_s, now_s, begun_s, requested_s), oldest_age_s=now_s - attempt.oldest_s,
                        requested_s=requested_s, generation_started_s=attempt.first_started_s)
    stats.records.append(record)
    if (rec := network.sim.recorder) is not None: rec.delivery(request.label, fidelity, record.latency_s)
    if network.delivery_hooks:
        network.notify(request, record, rho)
    return True
