"""Scheduling policies: the :class:`Scheduler` interface and the built-in policies, registered
under the names a scenario's ``scheduling.policy`` takes.

* ``fifo``: first come, first served; a waiting job that does not fit lets later ones through.
* ``edf``: earliest absolute deadline first.
* ``fair_share``: weighted fair share; the user with the least service per unit of priority first.
* ``physics_informed``: plans with a model of the hardware (:class:`~.prediction.RouteModel`):
  per job the storage cut-off that keeps every delivered pair above the user's minimum fidelity
  with 99 % confidence over the heralding outcomes (a pair that will be too old by the time its
  partners exist is not worth storing): one that holds even when every link pair waits up to it,
  where that cut-off outlasts the deadline, else (where the pair is quicker than the deadlines
  of the other users through its swap nodes) a longer one that counts on the last link pair
  being used at once, its swap nodes kept free for it; the expected time per pair from the links' success probabilities, attempt
  times, the nodes' communication qubits, the Bell measurement's success probability, extraction
  efficiency and that cut-off; rejects or abandons jobs more likely to miss their deadline than
  to make it (the remaining pairs' times drawn from the route's sampled law of the time per
  pair: a max of geometric waits plus swaps on a multi-link route; from as many draws as it
  takes for the Monte Carlo error not to decide which side of ``give_up_below`` the chance
  falls, 200 doubled up to 3200); a user who has had no pair
  yet gets that protective plan (fresh last pair, swap nodes kept) where it makes the deadline
  with that chance and leaves the other admitted jobs through them theirs; serves the earliest deadline
  (per unit of priority) first. It models the resources that bind: links (one generation at a
  time) and communication qubits (one generation or Bell measurement each, held ``tau / q(modes)``
  per generation). A multi-link pair whose stored link pairs would queue for them longer than
  its cut-off allows, or whose guarantee needs its last link pair used at once while another
  pair shares its swap nodes, is not started and reserves its route against later jobs (a
  reserved node's communication qubits against every job with a link end there, a route
  that ends at the node as well as one that swaps there); while
  such a pair is under way no pair starts that would queue ahead of it. Each unit takes all its
  route's modes where a communication qubit is contended (fewer would hold it longer) or memory
  is plentiful, else the fewest that still meet the deadline.
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
        self._holds: dict[tuple, dict] = {}  # per route: mean generation holds per link and node
        self._protected: set[int] = set()  # jobs admitted on the protective plan (see _protect)

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
        cutoff = self._waiting_cutoff(job)
        if cutoff is None or cutoff < job.request.deadline_s:
            # Every link pair of a pair delivered in time is younger than the deadline: a
            # cut-off beyond it costs nothing, and then any link pair may wait up to it. A
            # shorter one expires link pairs: plan on a fresh last link pair instead, with the
            # longer cut-off that allows, and keep the swap nodes free for it (see select),
            # unless that would hold them longer than the users who need them can wait.
            fresh = model.cutoff_for(job.request.min_fidelity, self.dispatcher.network.cutoff_s)
            if cutoff is None or (fresh is not None and self._may_hold_swap_nodes(job, fresh)):
                cutoff = fresh
        if cutoff is None:
            return f"predicted fidelity {model.fidelity(0.0):.4f} of a fresh pair < min_fidelity {job.request.min_fidelity}"
        if cutoff <= job.request.storage_time_s:
            return f"a pair would decay below min_fidelity during the {job.request.storage_time_s} s of storage"
        job.cutoff_s = cutoff
        chance = self.chance_in_time(job, job.request.pairs)
        if chance < self.give_up_below and self._protect(job, cutoff):
            return None
        if chance < self.give_up_below:
            best = self._time(job, model.max_modes)
            return (f"predicted {job.request.pairs} pairs at {best:.3g} s each finish in time with "
                    f"probability {chance:.2g} < {self.give_up_below}")
        return None

    def _protect(self, job: Job, cutoff_s: float) -> bool:
        """Whether ``job``, which its plan would reject, gets the protective plan instead, and
        (if so) sets its cut-off: for a user who has had no pair yet (none delivered or under
        way), a multi-link route planned on a fresh last link pair, its swap nodes kept for
        it (the longest cut-off that guarantees the minimum), when that plan finishes in time
        with probability at least ``give_up_below`` and holding the nodes for its predicted
        time leaves every other admitted job through them that chance too. A user is thus
        served at least once where the hardware allows it, without a special case: its
        service is paid for by other users' slack, never by their deadlines."""
        if len(job.path) <= 2 or self.dispatcher.service_of(job.user) > 0:
            return False
        model = self.model(job.path)
        fresh = model.cutoff_for(job.request.min_fidelity, self.dispatcher.network.cutoff_s)
        if fresh is None or fresh <= cutoff_s or fresh <= job.request.storage_time_s:
            return False
        job.cutoff_s = fresh
        if self.chance_in_time(job, job.request.pairs) < self.give_up_below:
            job.cutoff_s = cutoff_s
            return False
        held = job.request.pairs * self._time(job, model.max_modes)
        nodes = set(job.path[1:-1])
        for other in self.dispatcher.waiting:
            if other.user == job.user or other.to_start <= 0 or not nodes & set(other.path):
                continue
            left = other.deadline_at_s - self.dispatcher.now - held
            if self.chance_in_time(other, other.to_start, left) < self.give_up_below:
                job.cutoff_s = cutoff_s
                return False
        self._protected.add(job.id)
        return True

    def _may_hold_swap_nodes(self, job: Job, cutoff_s: float) -> bool:
        """Whether a pair of ``job`` with this cut-off may keep its route's swap nodes to itself
        while it is under way: its predicted time, with headroom, within the deadline of every
        other user whose route passes one of them."""
        nodes = set(job.path[1:-1])
        deadlines = [user.request.deadline_s for user in self.dispatcher.users.values()
                     if user.name != job.user and nodes & set(user.path)]
        if not deadlines:
            return True
        model = self.model(job.path)
        return self.slack * model.time_per_pair_s(model.max_modes, cutoff_s) <= min(deadlines)

    def chance_in_time(self, job: Job, pairs: int, left_s: float | None = None) -> float:
        """Probability that ``pairs`` more pairs arrive before the deadline (or within
        ``left_s``), one after another, each after a time drawn from the route's predicted law
        (:meth:`RouteModel.chance_within`: the simulated distribution, a max of geometric waits
        plus swaps on a multi-link route, not only its mean).

        Every decision compares it with ``give_up_below``, so it is estimated from as many
        draws as that comparison needs (:meth:`RouteModel.settled_chance_within`: 200, doubled
        up to 3200 while the estimate lies within three standard errors of the floor): from 200
        draws alone (a standard error of 0.035 at 0.5), a chance of 0.55 would fall below 0.5
        on about one seed in thirteen, and whether a job is served would be a coin flip of
        the planner's Monte Carlo rather than a property of the hardware."""
        left = job.deadline_at_s - self.dispatcher.now if left_s is None else left_s
        model = self.model(job.path)
        return model.settled_chance_within(model.max_modes, job.cutoff_s, pairs, left, self.give_up_below)

    def abandon(self, job: Job) -> bool:
        if job.in_flight or math.isinf(job.deadline_at_s):
            return False
        return self.chance_in_time(job, job.to_start) < self.give_up_below

    def key(self, job: Job):
        """Earliest deadline first, the time left to the deadline divided by the user's priority
        (a more important user's job goes first at equal urgency); then arrival. Not least
        laxity: the route-alone time per pair that laxity would subtract leaves out the other
        routes' contention, and ranking long jobs first where the links or communication
        qubits are overloaded spends them on the jobs that cost the most."""
        left = job.deadline_at_s - self.dispatcher.now
        return (left / job.request.priority if left > 0 else left * job.request.priority, job.arrival_s, job.id)

    def modes(self, job: Job) -> int:
        """Modes by the resource that binds: all of the route's while memory is not short (link
        time is then what binds: more modes, fewer attempt rounds, links free sooner); where
        all would leave another waiting job no room for a pair, the fewest that still finish
        this job in time with headroom."""
        most = self.model(job.path).max_modes
        if math.isinf(job.deadline_at_s) or self._interfaces_bind(job) or not self._memory_binds(job, most):
            return most
        left = job.deadline_at_s - self.dispatcher.now
        for modes in range(1, most + 1):
            if job.to_start * self._time(job, modes) * self.slack <= left:
                return modes
        return most

    def _interfaces_bind(self, job: Job) -> bool:
        """Whether a pair of ``job`` would queue for a communication qubit: a node of its route
        whose pairs under way claim all of its qubits. There the interface, not memory, binds:
        a generation holds the qubit ``tau / (1 - (1 - p)^modes)`` on average, so fewer modes
        would keep every other pair waiting longer."""
        dispatcher, banks, path = self.dispatcher, self.dispatcher.network.banks, job.path
        model = self.model(path)
        if model.generation_hold_s(1) == model.generation_hold_s(model.max_modes):
            return False  # the model sees no cost in fewer modes (certain generation, or one mode)
        return any(dispatcher.link_ends_at(n) + self._ends_at(path, n) > banks[n].communication_qubits for n in path)

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

    def _holds_s(self, path: list[str]) -> dict:
        """Per link (a frozenset of its ends) and per node of ``path``: the mean time one of its
        generations (all the route's modes) holds the link, or a communication qubit at the node
        (the longest of its links' there), from :meth:`RouteModel.generation_hold_s`."""
        key = tuple(path)
        if key not in self._holds:
            model = self.model(path)
            holds: dict = {}
            for (u, v), hold in zip(zip(path, path[1:]), model.generation_hold_s(model.max_modes)):
                holds[frozenset((u, v))] = hold
                for node in (u, v):
                    holds[node] = max(holds.get(node, 0.0), hold)
            self._holds[key] = holds
        return self._holds[key]

    @staticmethod
    def _ends_at(path: list[str], node: str) -> int:
        """Link ends of one pair on ``path`` at ``node`` (2 at an intermediate node)."""
        if node in (path[0], path[-1]):
            return 1
        return 2 if node in path else 0

    def _queue_wait_s(self, job: Job) -> float:
        """Expected wait a stored link pair of a new pair of ``job`` would see for generations
        of other pairs under way queued ahead of its partner: per link, the pairs under way on
        it (a link generates one pair at a time); per node, the link ends beyond what its
        communication qubits serve at once, each holding one for a generation, shared by its
        qubits. The route's own turns (two links at one qubit) are in :class:`RouteModel`."""
        dispatcher, banks, path = self.dispatcher, self.dispatcher.network.banks, job.path
        holds = self._holds_s(path)
        wait = 0.0
        for u, v in zip(path, path[1:]):
            wait = max(wait, dispatcher.pairs_under_way(u, v) * holds[frozenset((u, v))])
        for node in path:
            qubits = banks[node].communication_qubits
            ahead = dispatcher.link_ends_at(node) - max(0, qubits - self._ends_at(path, node))
            if ahead > 0:
                wait = max(wait, ahead * holds[node] / qubits)
        return wait

    def _blocked(self, job: Job) -> bool:
        """Whether a multi-link job must wait: its guarantee needs a fresh last link pair
        (:meth:`_needs_fresh_last`) and pairs under way share its links or swap nodes; or its
        stored link pairs would wait, for pairs under way ahead of their partners
        (:meth:`_queue_wait_s`), a time that with the planner's headroom reaches its storage
        cut-off (it would mostly regenerate them). Where storage is harmless (a cut-off far
        beyond the wait) it starts at once and queues."""
        if len(job.path) <= 2:
            return False
        if self._needs_fresh_last(job) and self._shares_swap_nodes(job, job):
            return True
        wait = self._queue_wait_s(job)
        return wait > 0 and self.slack * wait >= job.cutoff_s

    def _needs_fresh_last(self, job: Job) -> bool:
        """Whether ``job``'s fidelity guarantee rests on its last link pair being used at once:
        a multi-link route whose cut-off is longer than the one that holds when every link pair
        may wait up to it (:meth:`RouteModel.fidelity` with ``last_pair_waits``). Its Bell
        measurements must then not queue for a communication qubit behind other pairs'
        generations."""
        if len(job.path) <= 2:
            return False
        waiting = self._waiting_cutoff(job)
        return waiting is None or job.cutoff_s > waiting

    def _waiting_cutoff(self, job: Job) -> float | None:
        """The storage cut-off that keeps ``job``'s pairs above its minimum even when every
        link pair, the last included, waits up to it (None if fresh pairs miss it)."""
        return self.model(job.path).cutoff_for(job.request.min_fidelity, self.dispatcher.network.cutoff_s,
                                               last_pair_waits=True)

    def _shares_swap_nodes(self, job: Job, other: Job) -> bool:
        """Whether a pair of ``job`` and the pairs under way would share a link of ``other``'s
        route, or claim more communication qubits than an intermediate node of it has (its
        Bell measurement could then queue behind a generation)."""
        dispatcher, banks = self.dispatcher, self.dispatcher.network.banks
        links = {frozenset(e) for e in zip(other.path, other.path[1:])}
        if any(dispatcher.pairs_under_way(*e) for e in zip(job.path, job.path[1:]) if frozenset(e) in links):
            return True
        own = 2 if job is other else 0  # a new pair of ``other`` itself brings its two ends
        return any(dispatcher.link_ends_at(n) > 0
                   and dispatcher.link_ends_at(n) + own + (0 if job is other else self._ends_at(job.path, n)) > banks[n].communication_qubits
                   for n in other.path[1:-1] if n in job.path)

    def _binding(self, job: Job) -> set:
        """What a blocked ``job`` waits for: the links of its route with pairs under way and
        the nodes whose communication qubits it would queue for."""
        dispatcher, banks, path = self.dispatcher, self.dispatcher.network.banks, job.path
        links = {frozenset(e) for e in zip(path, path[1:]) if dispatcher.pairs_under_way(*e)}
        nodes = {n for n in path if dispatcher.link_ends_at(n) + self._ends_at(path, n) > banks[n].communication_qubits}
        return links | nodes

    def _disturbs(self, job: Job) -> bool:
        """Whether a pair of ``job`` started now would queue ahead of a link pair of another
        multi-link job under way for longer than, with headroom, its cut-off: a shared link,
        or a shared node whose communication qubits are all claimed."""
        dispatcher, banks = self.dispatcher, self.dispatcher.network.banks
        holds = self._holds_s(job.path)
        links = {frozenset(e) for e in zip(job.path, job.path[1:])}
        for other in dispatcher.under_way():
            if other is job or len(other.path) <= 2:
                continue
            if other.id in self._protected and dispatcher.now > other.deadline_at_s:
                continue  # a protective plan past its deadline: its pair no longer serves its user in time
            if self._needs_fresh_last(other):
                if self._shares_swap_nodes(job, other):
                    return True
                continue
            for link in links & {frozenset(e) for e in zip(other.path, other.path[1:])}:
                if self.slack * holds[link] >= other.cutoff_s:
                    return True
            for node in set(job.path) & set(other.path):
                if (dispatcher.link_ends_at(node) + self._ends_at(job.path, node) > banks[node].communication_qubits
                        and self.slack * holds[node] >= other.cutoff_s):
                    return True
        return False

    def select(self, waiting: list[Job]) -> tuple[Job, int] | None:
        # The binding resources are the links (one generation at a time) and the nodes'
        # communication qubits (one generation or Bell measurement each). A multi-link pair
        # whose stored link pairs would wait for them longer than its cut-off allows is not
        # started (its link pairs would decay or be regenerated meanwhile); it reserves what it
        # waits for, so jobs after it in the order may not start there and it is served once
        # they free up rather than starved by short routes that keep taking them. A reserved
        # node's communication qubits are claimed by every link end there, so the reservation
        # holds against a route that ends at the node as well as one that swaps there. A pair under
        # way on such a route is protected the same way: no pair starts that would queue ahead
        # of its partners for longer than its cut-off.
        reserved: set = set()
        dispatcher = self.dispatcher
        for job in sorted(waiting, key=self.key):
            uses = {frozenset(edge) for edge in zip(job.path, job.path[1:])} | set(job.path)
            if uses & reserved:
                continue
            if self._blocked(job):
                reserved |= self._binding(job)
                continue
            if self._disturbs(job):
                continue
            modes = self.modes(job)
            if self._interfaces_bind(job):
                if dispatcher.fits(job.path, modes):
                    return job, modes
                continue  # wait for memory: fewer modes would hold the contended interface longer
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
