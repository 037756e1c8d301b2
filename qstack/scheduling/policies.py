"""Scheduling policies: the :class:`Scheduler` interface and the built-in policies, registered
under the names a scenario's ``scheduling.policy`` takes.

* ``fifo``: first come, first served; a waiting job that does not fit lets later ones through.
* ``edf``: earliest absolute deadline first.
* ``fair_share``: weighted fair share; the user with the least service per unit of priority first.
* ``physics_informed``: plans with a model of the hardware (:class:`~.prediction.RouteModel`):
  per job the storage cut-off that keeps every delivered pair above the user's minimum fidelity
  (a pair that will be too old by the time its partners exist is not worth storing), the expected
  time per pair from the links' success probabilities, attempt times, the Bell measurement's
  success probability, extraction efficiency and that cut-off; rejects or abandons jobs more
  likely to miss their deadline than to make it (Erlang law of the remaining pairs' waiting
  times); serves the least slack (per unit of priority) first; starts no pair on a multi-link
  route whose link or intermediate node is busy (its partners would decay meanwhile) and reserves
  that route against later jobs until it is free; gives each unit all its route's modes unless
  memory binds (then the fewest that still meet the deadline); and keeps every pair above its
  user's minimum with 99 % confidence over the heralding outcomes.
* ``idealized_informed``: the same planner fed idealised physics (memories that never decohere,
  certain generation, perfect Bell measurements): what a design that ignores the physics would do.

A plugin adds a policy by registering a :class:`Scheduler` subclass (a registered one's subclass
with other constructor arguments is a new policy too)::

    import qstack
    from qstack.scheduling import FIFO, PhysicsInformed

    @qstack.register("scheduler", "lifo")
    class LastInFirstOut(FIFO):
        def key(self, job):
            return (-job.arrival_s, job.id)

    @qstack.register("scheduler", "patient_informed")
    class PatientInformed(PhysicsInformed):
        def __init__(self, idealize=(), slack=3.0, give_up_below=0.1):
            super().__init__(idealize, slack, give_up_below)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from scipy.special import gammainc

from qstack import registry
from qstack.registry import register

from .prediction import MODEL_IDEALIZATIONS, RouteModel

if TYPE_CHECKING:
    from .dispatch import Dispatcher, Job


class Scheduler:
    """The decisions of a scheduling policy: the interface a registered scheduler implements.

    A :class:`~.dispatch.Dispatcher` calls :meth:`bind` once, then :meth:`admit` on each
    arrival, and, whenever something changes (an arrival, a delivered pair, a deadline),
    :meth:`abandon` on each waiting job and :meth:`select` until it returns None. Subclasses
    override what they decide differently; a policy that only orders jobs overrides :meth:`key`.
    Constructor arguments are the policy's parameters (every one with a default: the registry
    builds a policy by calling its class with none).

    ``name`` is the policy's name in the report (set to the registered name by
    :func:`make_scheduler`).
    """

    name = "base"
    dispatcher: Dispatcher

    def bind(self, dispatcher: Dispatcher) -> None:
        """Attach to the dispatcher whose jobs, memory and clock the decisions read."""
        self.dispatcher = dispatcher

    def admit(self, job: Job) -> str | None:
        """None to accept an arriving job (and may set its ``cutoff_s``), or why it is rejected."""
        return None

    def abandon(self, job: Job) -> bool:
        """Whether a waiting job is no longer worth serving."""
        return False

    def key(self, job: Job):
        """Sort key of a waiting job for :meth:`select` (smallest served first)."""
        raise NotImplementedError(f"{type(self).__name__} must define key(job) or select(waiting)")

    def modes(self, job: Job) -> int:
        """Multiplexed modes per link for the next pair of ``job`` (all of its route's)."""
        return self.dispatcher.max_modes(job.path)

    def select(self, waiting: list[Job]) -> tuple[Job, int] | None:
        """``(job, modes)``: start one pair of ``job`` with ``modes`` per link, or None to wait.
        By default the first job in :meth:`key` order whose pair fits in the free memory."""
        for job in sorted(waiting, key=self.key):
            modes = self.modes(job)
            if self.dispatcher.fits(job.path, modes):
                return job, modes
        return None


@register("scheduler", "fifo")
class FIFO(Scheduler):
    """First come, first served (with backfilling: a job that does not fit lets others by)."""

    name = "fifo"

    def key(self, job: Job):
        return (job.arrival_s, job.id)


@register("scheduler", "edf")
class EarliestDeadlineFirst(Scheduler):
    """Earliest absolute deadline first (jobs without a deadline last, then by arrival)."""

    name = "edf"

    def key(self, job: Job):
        return (job.deadline_at_s, job.arrival_s, job.id)


@register("scheduler", "fair_share")
class WeightedFairShare(Scheduler):
    """The user with the least service (pairs delivered or under way) per unit of priority first."""

    name = "fair_share"

    def key(self, job: Job):
        served = self.dispatcher.service_of(job.user)
        return (served / job.request.priority, job.arrival_s, job.id)


@register("scheduler", "physics_informed")
class PhysicsInformed(Scheduler):
    """Plans with :class:`~.prediction.RouteModel` predictions (see the module docstring).

    ``idealize``: physics the planner's model leaves out (items of ``MODEL_IDEALIZATIONS``);
    ``slack``: the planner asks for this factor of headroom over its predicted time;
    ``give_up_below``: a job whose chance of finishing in time is below this (by default: more
    likely to miss than to make it) is rejected on arrival or abandoned while it waits, so its
    memory and link time go to jobs that can still be served;
    ``confidence``: the storage cut-off keeps a pair above its user's minimum fidelity with at
    least this probability over the heralding outcomes (None: the mean heralded state).
    """

    name = "physics_informed"

    def __init__(self, idealize: tuple[str, ...] = (), slack: float = 1.5, give_up_below: float = 0.5,
                 confidence: float | None = 0.99):
        self.idealize = tuple(idealize)
        self.slack = slack
        self.give_up_below = give_up_below
        self.confidence = confidence
        self._models: dict[tuple, RouteModel] = {}

    def model(self, path: list[str]) -> RouteModel:
        """The route's model (one per route, built on first use with the dispatcher's planning
        generator)."""
        key = tuple(path)
        if key not in self._models:
            self._models[key] = RouteModel(self.dispatcher.network, path, self.idealize, self.dispatcher.plan_rng,
                                           confidence=self.confidence)
        return self._models[key]

    def _time(self, job: Job, modes: int) -> float:
        return self.model(job.path).time_per_pair_s(modes, job.cutoff_s)

    def admit(self, job: Job) -> str | None:
        model = self.model(job.path)
        cutoff = model.cutoff_for(job.request.min_fidelity, self.dispatcher.network.cutoff_s)
        if cutoff is None:
            return f"predicted fidelity {model.fidelity(0.0):.4f} of a fresh pair < min_fidelity {job.request.min_fidelity}"
        if cutoff <= job.request.storage_time_s:
            return f"a pair would decay below min_fidelity during the {job.request.storage_time_s} s of storage"
        job.cutoff_s = cutoff
        chance = self.chance_in_time(job, job.request.pairs)
        if chance < self.give_up_below:
            best = self._time(job, model.max_modes)
            return (f"predicted {job.request.pairs} pairs at {best:.3g} s each finish in time with "
                    f"probability {chance:.2g} < {self.give_up_below}")
        return None

    def chance_in_time(self, job: Job, pairs: int) -> float:
        """Probability that ``pairs`` more pairs arrive before the deadline, each after an
        exponentially distributed time of the predicted mean (the geometric waiting law in the
        many-attempt limit): the Erlang CDF, ``P(pairs, left / mean)`` with ``P`` the regularised
        lower incomplete gamma function."""
        left = job.deadline_at_s - self.dispatcher.now
        if pairs <= 0 or math.isinf(left):
            return 1.0
        if left <= 0:
            return 0.0
        mean = self._time(job, self.model(job.path).max_modes)
        if mean <= 0:
            return 1.0
        return float(gammainc(pairs, left / mean))  # 0 when the mean is infinite

    def abandon(self, job: Job) -> bool:
        if job.in_flight or math.isinf(job.deadline_at_s):
            return False
        return self.chance_in_time(job, job.to_start) < self.give_up_below

    def key(self, job: Job):
        """Least laxity first (time left to the deadline less the predicted time of the pairs
        still to start, with all modes), laxity divided by the user's priority, so a more
        important user's job goes first at equal urgency; then arrival."""
        laxity = job.deadline_at_s - self.dispatcher.now - job.to_start * self._time(job, self.model(job.path).max_modes)
        return (laxity / job.request.priority if laxity > 0 else laxity * job.request.priority, job.arrival_s, job.id)

    def modes(self, job: Job) -> int:
        """Modes by the resource that binds: all of the route's while memory is not short (link
        time is then what binds: more modes, fewer attempt rounds, links free sooner); where
        all would leave another waiting job no room for a pair, the fewest that still finish
        this job in time with headroom."""
        most = self.model(job.path).max_modes
        if math.isinf(job.deadline_at_s) or not self._memory_binds(job, most):
            return most
        left = job.deadline_at_s - self.dispatcher.now
        for modes in range(1, most + 1):
            if job.to_start * self._time(job, modes) * self.slack <= left:
                return modes
        return most

    def _memory_binds(self, job: Job, modes: int) -> bool:
        """Whether ``modes`` for ``job`` would leave some other waiting job sharing a node with it
        without the slots of one single-mode pair."""
        dispatcher, network = self.dispatcher, self.dispatcher.network
        taken = network.slots_needed(job.path, modes)
        for other in dispatcher.waiting:
            if other is job or other.to_start <= 0 or not taken.keys() & set(other.path) or self._blocked(other):
                continue  # a job that could not start now anyway does not make memory bind
            need = network.slots_needed(other.path, 1)
            if any(dispatcher.free_slots(node) - taken.get(node, 0) < slots for node, slots in need.items()):
                return True
        return False

    def _blocked(self, job: Job) -> bool:
        """Whether a multi-link job must wait: a link of its route is busy, or an intermediate
        node's communication qubits are all claimed by pairs under way (see :meth:`select`)."""
        dispatcher = self.dispatcher
        return "decoherence" not in self.idealize and len(job.path) > 2 and (
            not dispatcher.route_idle(job.path) or any(dispatcher.communication_claimed(n) for n in job.path[1:-1]))

    def select(self, waiting: list[Job]) -> tuple[Job, int] | None:
        # A link generates one pair at a time and a node's communication qubits serve one link
        # generation each: a pair started on a multi-link route whose link or intermediate node is
        # busy would leave its other link pairs decaying in memory while it queues. A planner that knows
        # memories decay waits for the route to be free instead, and reserves it: jobs after it
        # in the order may not start on its links or through its nodes meanwhile, so a long route is served
        # once its links free up rather than starved by short routes that keep taking them.
        reserved: set = set()
        dispatcher = self.dispatcher
        for job in sorted(waiting, key=self.key):
            links = {frozenset(edge) for edge in zip(job.path, job.path[1:])}
            if links & reserved or set(job.path[1:-1]) & reserved:
                continue
            if self._blocked(job):
                reserved |= links | set(job.path[1:-1])
                continue
            modes = self.modes(job)
            while modes >= 1 and not dispatcher.fits(job.path, modes):
                modes -= 1  # fewer modes rather than waiting, when memory is short
            if modes >= 1:
                return job, modes
        return None


@register("scheduler", "idealized_informed")
class IdealizedInformed(PhysicsInformed):
    """The physics-informed planner fed idealised physics (every item of
    ``MODEL_IDEALIZATIONS`` by default): what a design that ignores the physics would do."""

    name = "idealized_informed"

    def __init__(self, idealize: tuple[str, ...] = MODEL_IDEALIZATIONS, slack: float = 1.5, give_up_below: float = 0.5,
                 confidence: float | None = None):
        super().__init__(idealize, slack, give_up_below, confidence)


def make_scheduler(name: str, **parameters) -> Scheduler:
    """A fresh scheduler of the policy registered as ``name`` (``qstack.registered("scheduler")``),
    built with ``parameters`` (its constructor's arguments); a ``ValueError`` naming
    ``scheduling.policy`` and the registered names if there is none."""
    factory = registry.lookup("scheduler", name, "scheduling.policy")
    scheduler = factory(**parameters)
    scheduler.name = name  # the report names the policy as the scenario does
    return scheduler


def scheduler_names() -> tuple[str, ...]:
    """The registered scheduling policies, built-ins first (what ``scheduling.policy`` accepts
    besides ``"none"``)."""
    return registry.names("scheduler")
