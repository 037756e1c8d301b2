"""Scheduling: many users' requests competing for scarce, perishable network resources.

Requests arrive over time (at given times or as Poisson streams). Each arrival is a *job*: a
number of end-to-end pairs wanted between two users, with a minimum fidelity, a deadline and a
priority. A :class:`Dispatcher` keeps the waiting jobs and, whenever something changes (an
arrival, a delivered pair, a deadline), asks its :class:`Scheduler` which job to serve next and
with how many multiplexed modes. The unit of service is one end-to-end pair, produced by
:meth:`qstack.network.Network.serve_one` with the job's storage cut-off.

Memory slots are allocated by the dispatcher per unit: a unit starts only when every node of its
route has the slots the unit may hold (``modes`` per link end, see
:meth:`~qstack.network.Network.slots_needed`), so units never deadlock on memory; links are shared
between units first come, first served. Memory-slot allocation per user (how many units run at
once, with how many modes) and source allocation per link (the ``modes`` of each unit) are
therefore the scheduler's decisions.

Schedulers:

* ``fifo``: first come, first served; a waiting job that does not fit lets later ones through.
* ``edf``: earliest absolute deadline first.
* ``fair_share``: weighted fair share; the user with the least service per unit of priority first.
* ``physics_informed``: plans with a model of the hardware (:class:`RouteModel`): per job the
  storage cut-off that keeps every delivered pair above the user's minimum fidelity (a pair that
  will be too old by the time its partners exist is not worth storing), the expected time per
  pair from the links' success probabilities, attempt times, the Bell measurement's success
  probability, extraction efficiency and that cut-off; rejects or abandons jobs more likely to
  miss their deadline than to make it (Erlang law of the remaining pairs' waiting times);
  serves the least slack first; starts no pair on a multi-link route whose link is busy (its
  partners would decay meanwhile); and gives each unit the fewest modes that still meet the
  deadline (leaving memory to the others).
* ``idealized_informed``: the same planner fed idealised physics (memories that never decohere,
  certain generation, perfect Bell measurements): what a design that ignores the physics would do.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
from qiskit.quantum_info import DensityMatrix
from qiskit_aer.noise import thermal_relaxation_error
from scipy.special import gammainc

from qstack.engine import permute_qubits
from qstack.metrics import bell_fidelity
from qstack.network import Network, PurificationPolicy, Request, RequestStats
from qstack.protocols import GateNoise, pump, purify_rounds, swap

SCHEDULERS = ("fifo", "edf", "fair_share", "physics_informed", "idealized_informed")
MODEL_IDEALIZATIONS = ("decoherence", "probabilistic_generation", "bsm", "loss", "gate_noise")

_PHI_PLUS = np.zeros((4, 4), dtype=complex)
_PHI_PLUS[0, 0] = _PHI_PLUS[0, 3] = _PHI_PLUS[3, 0] = _PHI_PLUS[3, 3] = 0.5


# ------------------------------------------------------------------------------ predictions
def route_state(
    link_states: list[np.ndarray],
    swap_noises: list[GateNoise],
    policy: PurificationPolicy = PurificationPolicy(),
    purification_noise: GateNoise = GateNoise(),
    bsm: str = "deterministic",
) -> np.ndarray:
    """Expected end-to-end state of a route from its link states (qubit 0 at the route's start).

    Link states are purified per link and/or end to end as ``policy`` says, and swapped in
    order at the intermediate nodes (``swap_noises[i]`` at the node after link ``i``), with the
    protocols' circuits. A design-time prediction for planners; reported results never use it.
    """
    def purified(rho: np.ndarray) -> np.ndarray:
        if policy.scheme == "recurrence":
            return purify_rounds(rho, policy.rounds, policy.method, purification_noise)[0].data
        return pump(rho, rho, policy.rounds, policy.method, purification_noise)[0].data

    states = list(link_states)
    if policy.scope == "link" and policy.rounds:
        states = [purified(rho) for rho in states]
    rho = states[0]
    for other, noise in zip(states[1:], swap_noises):
        rho = swap(rho, other, noise, bsm=bsm).data
    if policy.scope == "end_to_end" and policy.rounds:
        rho = purified(rho)
    return rho


def _aged(rho: np.ndarray, idle_a, idle_b, age_s: float, errors=(None, None)) -> np.ndarray:
    """A two-qubit state after both qubits waited ``age_s`` in memories with these idle models,
    then the per-qubit ``errors`` (Aer errors or None: the dephasing by other links' attempts)."""
    if age_s <= 0:
        return rho
    state = DensityMatrix(rho)
    for qubit, idle, error in ((0, idle_a, errors[0]), (1, idle_b, errors[1])):
        if idle is not None:
            state = state.evolve(thermal_relaxation_error(idle.t1_s, idle.t2_s, age_s).to_quantumchannel(), qargs=[qubit])
        if error is not None:
            state = state.evolve(error.to_quantumchannel(), qargs=[qubit])
    return state.data


class RouteModel:
    """What a planner can predict about serving pairs on one route, from the hardware.

    ``idealize`` switches parts of the physics off in the *prediction* (not in the network):
    ``decoherence`` (memories keep their state forever), ``probabilistic_generation`` (every
    attempt succeeds), ``bsm`` (Bell measurements never fail), ``loss`` (no extraction loss),
    ``gate_noise`` (ideal links and gates).

    ``rng`` drives the Monte Carlo estimate of the time per pair (its own generator, so planning
    never changes the network's draws).
    """

    def __init__(self, network: Network, path: list[str], idealize: tuple[str, ...] = (), rng=None):
        unknown = set(idealize) - set(MODEL_IDEALIZATIONS)
        if unknown:
            raise ValueError(f"idealize: unknown item {sorted(unknown)[0]!r}; allowed: {', '.join(MODEL_IDEALIZATIONS)}")
        self.network = network
        self.path = list(path)
        self.idealize = tuple(idealize)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        plan = network.path_plan(path)
        services = list(plan.services)
        certain = "probabilistic_generation" in idealize or not services[0].probabilistic
        self.p_mode = [1.0 if certain else s.link.success_probability_per_mode for s in services]
        self.attempt_time_s = [s.link.attempt_time_s for s in services]
        self.max_modes = min(s.link.multiplexing for s in services)
        k = len(services)
        self.swap_probability = 0.5 if network.bsm == "linear_optics" and "bsm" not in idealize else 1.0
        self.extraction = 1.0 if "loss" in idealize else plan.extraction
        # Bell measurements (in parallel) and the classical messages that announce them.
        self.overhead_s = max(plan.swap_time_s) + plan.messaging_s
        self.last_pair_age_s = max(s.link.heralding_time_s for s in services) + self.overhead_s
        ideal_states = "gate_noise" in idealize
        stored = [_PHI_PLUS if ideal_states else s.stored_state(mean_heralded_state(s.link)) for s in services]
        self.link_states = [rho if s.banks[0].name == u else permute_qubits(rho, [1, 0]) for rho, s, u in zip(stored, services, path)]
        # Each link's idle models, oriented along the path.
        self.idle = [
            (None, None) if "decoherence" in idealize else (network.banks[u].idle_model, network.banks[v].idle_model)
            for u, v in zip(path, path[1:])
        ]
        # NV nuclear spins dephase with every attempt of another link at their node: a stored
        # qubit at an intermediate node sees the neighbouring link's attempts while it waits.
        self._dephasing = []
        for i, (s, u) in enumerate(zip(services, path)):
            ends = []
            for side, neighbour in ((0, i - 1), (1, i + 1)):
                node = path[i + side]
                register = network.banks[node].node.nuclear_spin
                if register is None or not 0 <= neighbour < k or ideal_states or not s.gate_noise:
                    ends.append(None)
                    continue
                other = services[neighbour]
                ends.append((register, other.link.attempt_time_s, other.link.bright_state_population))
            self._dephasing.append(tuple(ends))
        self.swap_noises = [GateNoise() if ideal_states else network.gate_noise_at[node] for node in path[1:-1]]
        self.purification_noise = GateNoise() if ideal_states else network.gate_noise_at[path[0]]
        self._fidelity: dict[float, float] = {}
        self._times: dict[tuple, float] = {}
        self._cutoffs: dict[tuple, float | None] = {}

    def fidelity(self, age_s: float) -> float:
        """Predicted fidelity of a pair delivered when its oldest link pairs are ``age_s`` old:
        the worst case under a cut-off of ``age_s``. Every link pair but the last to arrive may
        have waited that long; the last is used as soon as its herald, the Bell measurements and
        their messages allow (a direct link's single pair waits ``age_s``)."""
        if age_s not in self._fidelity:
            k = len(self.link_states)
            # The last link pair is not fresh either: it waited from its emission through the
            # herald's flight, the Bell measurements and the messages announcing them.
            ages = [age_s] * k if k == 1 else [age_s] * (k - 1) + [min(age_s, self.last_pair_age_s)]
            states = [
                _aged(rho, a, b, age, tuple(self._dephasing_error(d, age) for d in deph))
                for rho, (a, b), deph, age in zip(self.link_states, self.idle, self._dephasing, ages)
            ]
            rho = route_state(states, self.swap_noises, self.network.purification, self.purification_noise)
            self._fidelity[age_s] = bell_fidelity(rho)
        return self._fidelity[age_s]

    @staticmethod
    def _dephasing_error(dephasing, age_s: float):
        """A nuclear spin's dephasing by the neighbouring link's attempts that fit in ``age_s``
        (the register's own per-attempt law), or None."""
        if dephasing is None:
            return None
        register, attempt_time_s, bright = dephasing
        return register.dephasing_error(int(age_s / attempt_time_s), bright)

    def cutoff_for(self, min_fidelity: float, limit_s: float) -> float | None:
        """Longest storage (<= ``limit_s``) after which a pair still meets ``min_fidelity``,
        or None when even fresh pairs do not. ``limit_s`` itself when it is always met."""
        key = (min_fidelity, limit_s)
        if key not in self._cutoffs:
            self._cutoffs[key] = self._cutoff_for(min_fidelity, limit_s)
        return self._cutoffs[key]

    def _cutoff_for(self, min_fidelity: float, limit_s: float) -> float | None:
        if self.fidelity(0.0) < min_fidelity:
            return None
        if math.isinf(limit_s):
            coherence = [t for pair in self.idle for idle in pair if idle is not None for t in (idle.t1_s, idle.t2_s) if math.isfinite(t)]
            if not coherence:
                return limit_s
            limit_s_probe = 10 * max(coherence)
            if self.fidelity(limit_s_probe) >= min_fidelity:
                return limit_s
        else:
            limit_s_probe = limit_s
            if self.fidelity(limit_s) >= min_fidelity:
                return limit_s
        low, high = 0.0, limit_s_probe
        for _ in range(40):  # bisection to ~1e-12 of the range
            middle = 0.5 * (low + high)
            if self.fidelity(middle) >= min_fidelity:
                low = middle
            else:
                high = middle
        self._fidelity = {a: f for a, f in self._fidelity.items() if a in (0.0, low)}  # keep the cache small
        return low

    def time_per_pair_s(self, modes: int, cutoff_s: float, samples: int = 200) -> float:
        """Expected time to deliver one pair with ``modes`` per link and this cut-off [s].

        Monte Carlo of the links' geometric waiting times: a link pair older than the cut-off
        while its partners are still missing is regenerated; a failed Bell measurement or
        extraction starts the pair again. ``inf`` when the cut-off makes success hopeless.
        """
        key = (modes, cutoff_s)
        if key not in self._times:
            q = np.array([1.0 - (1.0 - p) ** modes for p in self.p_mode])
            tau = np.array(self.attempt_time_s)
            k = len(q)
            keep = self.swap_probability ** (k - 1) * self.extraction
            total = 0.0
            for _ in range(samples):
                t = 0.0
                for _try in range(1000):
                    born = t + tau * self.rng.geometric(q)
                    for _round in range(10_000):
                        expired = born + cutoff_s <= born.max()
                        if not expired.any():
                            break
                        born[expired] += cutoff_s + tau[expired] * self.rng.geometric(q[expired])
                    else:
                        self._times[key] = math.inf
                        return math.inf
                    t = born.max() + self.overhead_s
                    if self.rng.random() < keep:
                        break
                else:  # no success in a thousand tries: hopeless for a planner
                    self._times[key] = math.inf
                    return math.inf
                total += t
            self._times[key] = total / samples
        return self._times[key]


def mean_heralded_state(link) -> np.ndarray:
    """A link's heralded state averaged over its heralding outcomes (qubit 0 at ``end_a``)."""
    rho = sum(h.probability * h.rho for h in link.heralded_states)
    return rho / link.success_probability_per_mode


# ------------------------------------------------------------------------------ jobs
@dataclass(eq=False)
class Job:
    """One arrival of a user's request: ``request.pairs`` pairs by ``deadline_at_s``."""

    id: int
    user: str
    request: Request
    path: list[str]
    arrival_s: float
    deadline_at_s: float
    cutoff_s: float
    delivered: int = 0
    in_flight: int = 0
    state: str = "waiting"  # waiting -> done | missed | rejected | abandoned
    finished_s: float | None = None
    reason: str = ""
    fidelities: list[float] = field(default_factory=list)

    @property
    def to_start(self) -> int:
        return self.request.pairs - self.delivered - self.in_flight

    @property
    def met_deadline(self) -> bool:
        return self.finished_s is not None and self.finished_s <= self.deadline_at_s

    @property
    def met_fidelity(self) -> bool:
        return self.delivered >= self.request.pairs and all(float(f) >= self.request.min_fidelity for f in self.fidelities)


# ------------------------------------------------------------------------------ schedulers
class Scheduler:
    """The decisions of a scheduler. Subclasses override what they decide differently.

    ``admit(job)`` returns None to accept an arriving job (and may set its ``cutoff_s``) or a
    reason to reject it; ``select(waiting)`` returns ``(job, modes)`` to start one pair of a job
    with that many multiplexed modes per link, or None to wait; ``abandon(job)`` says whether a
    waiting job is no longer worth serving.
    """

    name = "base"

    def bind(self, dispatcher: "Dispatcher") -> None:
        self.dispatcher = dispatcher

    def admit(self, job: Job) -> str | None:
        return None

    def abandon(self, job: Job) -> bool:
        return False

    def key(self, job: Job):
        raise NotImplementedError

    def modes(self, job: Job) -> int:
        return self.dispatcher.max_modes(job.path)

    def select(self, waiting: list[Job]):
        for job in sorted(waiting, key=self.key):
            modes = self.modes(job)
            if self.dispatcher.fits(job.path, modes):
                return job, modes
        return None


class FIFO(Scheduler):
    """First come, first served (with backfilling: a job that does not fit lets others by)."""

    name = "fifo"

    def key(self, job: Job):
        return (job.arrival_s, job.id)


class EarliestDeadlineFirst(Scheduler):
    name = "edf"

    def key(self, job: Job):
        return (job.deadline_at_s, job.arrival_s, job.id)


class WeightedFairShare(Scheduler):
    """The user with the least service (pairs delivered or under way) per unit of priority first."""

    name = "fair_share"

    def key(self, job: Job):
        served = self.dispatcher.service_of(job.user)
        return (served / job.request.priority, job.arrival_s, job.id)


class PhysicsInformed(Scheduler):
    """Plans with :class:`RouteModel` predictions (see the module docstring).

    ``idealize``: physics the planner's model leaves out (the ``idealized_informed`` scheduler
    is this class with every item); ``slack``: the planner asks for this factor of headroom over
    its predicted time; ``give_up_below``: a job whose chance of finishing in time is below this
    (by default: more likely to miss than to make it) is rejected on arrival or abandoned while it
    waits, so its memory and link time go to jobs that can still be served.
    """

    name = "physics_informed"

    def __init__(self, idealize: tuple[str, ...] = (), slack: float = 1.5, give_up_below: float = 0.5):
        self.idealize = tuple(idealize)
        self.slack = slack
        self.give_up_below = give_up_below
        self._models: dict[tuple, RouteModel] = {}

    def model(self, path: list[str]) -> RouteModel:
        key = tuple(path)
        if key not in self._models:
            self._models[key] = RouteModel(self.dispatcher.network, path, self.idealize, self.dispatcher.plan_rng)
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
        laxity = job.deadline_at_s - self.dispatcher.now - job.to_start * self._time(job, self.model(job.path).max_modes)
        return (laxity, -job.request.priority, job.arrival_s, job.id)

    def modes(self, job: Job) -> int:
        """The fewest modes that still finish the job in time with headroom (all if none does
        or the job has no deadline and memory is free)."""
        most = self.model(job.path).max_modes
        if math.isinf(job.deadline_at_s):
            return most
        left = job.deadline_at_s - self.dispatcher.now
        for modes in range(1, most + 1):
            if job.to_start * self._time(job, modes) * self.slack <= left:
                return modes
        return most

    def select(self, waiting: list[Job]):
        # A link generates one pair at a time: a pair started on a route whose link is busy
        # would leave its other link pairs decaying in memory while it queues. A planner that
        # knows memories decay waits for the route to be free instead.
        exclusive = "decoherence" not in self.idealize
        for job in sorted(waiting, key=self.key):
            if exclusive and not self.dispatcher.route_idle(job.path):
                continue
            modes = self.modes(job)
            while modes >= 1 and not self.dispatcher.fits(job.path, modes):
                modes -= 1  # fewer modes rather than waiting, when memory is short
            if modes >= 1:
                return job, modes
        return None


def make_scheduler(name: str) -> Scheduler:
    if name == "fifo":
        return FIFO()
    if name == "edf":
        return EarliestDeadlineFirst()
    if name == "fair_share":
        return WeightedFairShare()
    if name == "physics_informed":
        return PhysicsInformed()
    if name == "idealized_informed":
        scheduler = PhysicsInformed(idealize=MODEL_IDEALIZATIONS)
        scheduler.name = "idealized_informed"
        return scheduler
    raise ValueError(f"scheduling.policy must be one of {', '.join(SCHEDULERS)}, got {name!r}")


# ------------------------------------------------------------------------------ dispatcher
@dataclass
class _User:
    name: str
    request: Request
    path: list[str]
    stats: RequestStats
    arrivals: list[float]
    jobs: list[Job] = field(default_factory=list)


class Dispatcher:
    """Serves users' jobs on a :class:`~qstack.network.Network` as a scheduler decides.

    Parameters
    ----------
    network:
        The network (its simulation, links and memories).
    scheduler:
        The policy; ``None`` leaves every decision to the caller (:meth:`start`), as the
        reinforcement-learning environment does.
    seed:
        Seeds the planners' Monte Carlo (arrival times are drawn by :func:`poisson_arrivals`).
    max_in_flight:
        Pairs of one job under way at once (0: as many as memory allows).
    """

    def __init__(self, network: Network, scheduler: Scheduler | None, seed: int = 0, max_in_flight: int = 0):
        self.network = network
        self.env = network.sim.env
        self.scheduler = scheduler
        self.plan_rng = np.random.default_rng([seed, 0x5C4E])
        self.max_in_flight = max_in_flight
        self.allocated: dict[str, int] = {node: 0 for node in network.banks}
        self._link_users: dict[frozenset, int] = {}  # pairs under way per link
        self.users: dict[str, _User] = {}
        self.jobs: list[Job] = []
        self.waiting: list[Job] = []
        self.changes = 0  # counts arrivals, deliveries and deadlines (decision points)
        self.delivered_since: list = []  # (job, record) delivered since the caller last looked
        self.missed_since = 0
        self._pending_arrivals = 0
        self.done = self.env.event()
        if scheduler is not None:
            scheduler.bind(self)

    @property
    def now(self) -> float:
        return self.env.now

    # -------------------------------------------------------------- users and arrivals
    def add_user(self, request: Request, arrivals: list[float]) -> None:
        """A user with its request template, arriving (as a new job) at each of ``arrivals``."""
        network = self.network
        label = request.label
        if label in self.users:
            raise ValueError(f"request {label}: user names must be unique")
        network.check_request(request)
        path = network.route(request.src, request.dst)
        for node, slots in network.slots_needed(path, 1).items():
            if slots > network.banks[node].capacity:
                raise ValueError(
                    f"request {label}: node {node} needs {slots} memory slots for one pair, capacity {network.banks[node].capacity}"
                )
        stats = RequestStats(request, [], cutoff_s=network.cutoff_s)
        network.stats.append(stats)
        user = _User(label, request, path, stats, sorted(arrivals))
        self.users[label] = user
        for at in user.arrivals:
            self._pending_arrivals += 1
            timer = self.env.timeout(max(at - self.env.now, 0.0))
            timer.callbacks.append(lambda _event, user=user, at=at: self._arrive(user, at))

    def _arrive(self, user: _User, at: float) -> None:
        self._pending_arrivals -= 1
        request = dataclasses.replace(user.request, arrival_s=at)
        job = Job(
            id=len(self.jobs),
            user=user.name,
            request=request,
            path=user.path,
            arrival_s=at,
            deadline_at_s=at + request.deadline_s,
            cutoff_s=self.network.cutoff_s,
        )
        self.jobs.append(job)
        user.jobs.append(job)
        reason = self.scheduler.admit(job) if self.scheduler is not None else None
        if reason is not None:
            job.state, job.reason = "rejected", reason
            self.missed_since += 1
        else:
            self.waiting.append(job)
            if math.isfinite(job.deadline_at_s):
                timer = self.env.timeout(job.deadline_at_s - self.env.now)
                timer.callbacks.append(lambda _event, job=job: self._deadline(job))
        self._changed()

    def _deadline(self, job: Job) -> None:
        if job.state == "waiting":
            job.state, job.reason = "missed", "deadline passed"
            self.waiting.remove(job)
            self.missed_since += 1
            self._changed()

    # -------------------------------------------------------------- memory
    def max_modes(self, path: list[str]) -> int:
        return min(self.network.service(u, v).link.multiplexing for u, v in zip(path, path[1:]))

    def fits(self, path: list[str], modes: int) -> bool:
        """Whether one pair on ``path`` with ``modes`` per link fits in the free memory."""
        banks = self.network.banks
        return all(
            self.allocated[node] + slots <= banks[node].capacity
            for node, slots in self.network.slots_needed(path, modes).items()
        )

    def pairs_under_way(self, u: str, v: str) -> int:
        """Pairs under way that use the link between ``u`` and ``v``."""
        return self._link_users.get(frozenset((u, v)), 0)

    def route_idle(self, path: list[str]) -> bool:
        """Whether no pair under way uses any link of ``path``."""
        return not any(self.pairs_under_way(u, v) for u, v in zip(path, path[1:]))

    def free_slots(self, node: str) -> int:
        return self.network.banks[node].capacity - self.allocated[node]

    def service_of(self, user: str) -> int:
        """Pairs delivered to or under way for ``user``."""
        return sum(job.delivered + job.in_flight for job in self.users[user].jobs)

    def eligible(self) -> list[Job]:
        """Waiting jobs that could start one more pair now (memory permitting)."""
        return [
            job for job in self.waiting
            if job.to_start > 0 and (not self.max_in_flight or job.in_flight < self.max_in_flight)
        ]

    # -------------------------------------------------------------- decisions
    def _changed(self) -> None:
        self.changes += 1
        if self.scheduler is not None:
            self.poll()
        self._check_done()

    def poll(self) -> None:
        """Let the scheduler start pairs until it waits or memory is full."""
        while True:
            for job in [j for j in self.waiting if self.scheduler.abandon(j)]:
                job.state, job.reason = "abandoned", "predicted to miss its deadline"
                self.waiting.remove(job)
                self.missed_since += 1
            eligible = self.eligible()
            if not eligible:
                return
            choice = self.scheduler.select(eligible)
            if choice is None:
                return
            self.start(*choice)

    def start(self, job: Job, modes: int) -> None:
        """Start one pair of ``job`` with ``modes`` per link (memory must fit)."""
        if job.state != "waiting" or job.to_start <= 0:
            raise ValueError(f"job {job.id} of {job.user} has no pair left to start")
        if not 1 <= modes <= self.max_modes(job.path) or not self.fits(job.path, modes):
            raise ValueError(f"job {job.id} of {job.user}: {modes} modes do not fit in the free memory")
        need = self.network.slots_needed(job.path, modes)
        for node, slots in need.items():
            self.allocated[node] += slots
        job.in_flight += 1
        for edge in zip(job.path, job.path[1:]):
            self._link_users[frozenset(edge)] = self._link_users.get(frozenset(edge), 0) + 1
        self.env.process(self._unit(job, modes, need))

    def _unit(self, job: Job, modes: int, need: dict[str, int]):
        stats = RequestStats(job.request, [], cutoff_s=job.cutoff_s, modes=modes)
        yield from self.network.serve_one(stats, job.path)
        for node, slots in need.items():
            self.allocated[node] -= slots
        for edge in zip(job.path, job.path[1:]):
            self._link_users[frozenset(edge)] -= 1
        job.in_flight -= 1
        user = self.users[job.user]
        record = stats.records[-1]
        user.stats.records.append(record)
        user.stats.cutoff_discards += stats.cutoff_discards
        user.stats.extraction_failures += stats.extraction_failures
        job.delivered += 1
        job.fidelities.append(record.fidelity)
        self.delivered_since.append((job, record))
        if job.delivered >= job.request.pairs and job.finished_s is None:
            job.finished_s = self.env.now
            if job.state == "waiting":
                job.state = "done"
                self.waiting.remove(job)
        self._changed()

    def _check_done(self) -> None:
        if (
            not self.done.triggered
            and self._pending_arrivals == 0
            and not self.waiting
            and not any(job.in_flight for job in self.jobs)
        ):
            for user in self.users.values():
                user.stats.finished_s = self.env.now
            self.done.succeed()

    # -------------------------------------------------------------- report
    def report(self, sim_time_s: float) -> dict:
        """Per user: throughput, fidelity, latency, deadline misses; Jain's fairness index."""
        rows = []
        for user in self.users.values():
            records = user.stats.records
            jobs = user.jobs
            fidelities = [r.fidelity for r in records]
            demanded = sum(job.request.pairs for job in jobs)
            finished = [job.finished_s - job.arrival_s for job in jobs if job.finished_s is not None]
            rows.append({
                "user": user.name,
                "src": user.request.src,
                "dst": user.request.dst,
                "jobs": len(jobs),
                "pairs_requested": demanded,
                "delivered": len(records),
                "served_fraction": len(records) / demanded if demanded else None,
                "throughput_hz": len(records) / sim_time_s if sim_time_s > 0 else 0.0,
                "min_rate_hz": user.request.min_rate_hz,
                "rate_met": bool(sim_time_s > 0 and len(records) / sim_time_s >= user.request.min_rate_hz),
                "mean_fidelity": float(np.mean(fidelities)) if fidelities else None,
                "min_fidelity_required": user.request.min_fidelity,
                "pairs_meeting_min_fidelity": int(sum(f >= user.request.min_fidelity for f in fidelities)),
                "latency_s": float(np.mean([r.latency_s for r in records])) if records else None,
                "job_completion_s": float(np.mean(finished)) if finished else None,
                "deadline_misses": int(sum(not job.met_deadline for job in jobs if job.state != "waiting" or job.deadline_at_s <= sim_time_s)),
                "rejected": sum(job.state == "rejected" for job in jobs),
                "abandoned": sum(job.state == "abandoned" for job in jobs),
                "requirements_met": int(sum(job.met_deadline and job.met_fidelity for job in jobs)),
                "cutoff_s": _finite_or_none(min((job.cutoff_s for job in jobs), default=math.inf)),
            })
        served = [row["served_fraction"] or 0.0 for row in rows]
        return {
            "policy": self.scheduler.name if self.scheduler is not None else "external",
            "jobs": len(self.jobs),
            "requirements_met": sum(row["requirements_met"] for row in rows),
            "deadline_misses": sum(row["deadline_misses"] for row in rows),
            "pairs_meeting_min_fidelity": sum(row["pairs_meeting_min_fidelity"] for row in rows),
            "delivered": sum(row["delivered"] for row in rows),
            "fairness_index": jain_index(served),
            "users": rows,
        }


def _finite_or_none(value: float):
    return value if math.isfinite(value) else None


def jain_index(values: list[float]) -> float | None:
    """Jain's fairness index ``(sum x)^2 / (n sum x^2)``: 1 when all equal, 1/n when one gets all."""
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.any(values):
        return None
    return float(values.sum() ** 2 / (values.size * (values ** 2).sum()))


def poisson_arrivals(rng: np.random.Generator, first_s: float, count: int, rate_hz: float) -> list[float]:
    """``count`` arrival times: the first at ``first_s``, then exponential gaps of mean
    ``1/rate_hz`` (a Poisson process)."""
    if count < 1:
        raise ValueError(f"arrivals must be >= 1, got {count}")
    if count == 1:
        return [first_s]
    if not rate_hz > 0:
        raise ValueError(f"arrival_rate_hz must be > 0 for {count} arrivals, got {rate_hz}")
    gaps = rng.exponential(1.0 / rate_hz, size=count - 1)
    return [first_s] + list(first_s + np.cumsum(gaps))
