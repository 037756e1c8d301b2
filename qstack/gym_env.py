"""Scheduling as a reinforcement-learning environment (gymnasium).

:class:`SchedulingEnv` hands every scheduling decision of a :class:`~qstack.scheduling.Dispatcher`
to an agent: which waiting job starts its next end-to-end pair, and with one multiplexed mode per
link or with all of its route's modes. Between decisions the SimPy run advances exactly as in
:func:`qstack.runner.run_scenario` (same network, same arrival draws for the same seed), so a
learned policy meets the same decaying memories, probabilistic links and deadlines as the
built-in schedulers.

Decision points: the run stops for the agent whenever at least one *visible* job could start a
pair now (it fits in the free memory with one mode). Visible jobs are the first ``max_jobs``
waiting jobs with pairs left to start, earliest absolute deadline first (jobs without a deadline
last, then by arrival); later ones wait for a slot.

Actions, ``Discrete(2 * max_jobs + 1)``:

* ``i`` (``0 <= i < max_jobs``): start one pair of visible job ``i`` with **one** mode per link;
* ``max_jobs + i``: start one pair of visible job ``i`` with **all** of its route's modes;
* ``2 * max_jobs``: **wait** until something changes (an arrival, a delivered pair, a deadline).

An invalid action (an empty slot, or a pair that does not fit in the free memory) is treated as
wait and costs ``invalid_action_penalty``; :meth:`SchedulingEnv.action_masks` says which
actions are valid. Starting a pair takes no simulated time, so several pairs may start at one
instant, one per step.

Reward per step: the sum over pairs delivered since the last step of their fidelity when it
meets their job's ``min_fidelity`` (0 otherwise), minus 1 per job that missed its deadline since
the last step, minus the invalid-action penalty. The episode terminates when every job has
arrived and finished, and is truncated at ``max_time_s`` of simulated time.

Observation (``Box(0, 1)``, float32; names in :attr:`SchedulingEnv.feature_names`):

* per visible job slot: present; pairs left to start / pairs requested; time to the deadline /
  ``horizon_s`` (clipped, 1 without deadline); min_fidelity; route hops / (nodes - 1); fits now
  with one mode; fits now with all modes; route idle (no pair under way on any of its links);
* per link: pairs under way on it / the most its end memories can hold at once;
* per node: free memory slots / capacity; age of its oldest stored qubit / the storage T2
  (clipped at 1; 0 for a memory that does not dephase);
* the simulated time / ``max_time_s``.

Ages are exact: the environment drives the SimPy run itself, one event at a time, and notes each
stored qubit's creation time (the moment its state begins, :attr:`~qstack.engine.Qubit.last_time_s`
when it first appears in a memory) right after the event that stored it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

try:
    import gymnasium as gym
    from gymnasium import spaces
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'qstack.gym_env needs gymnasium; install the reinforcement-learning extra: pip install "qstack[rl]"'
    ) from exc

from qstack.engine import Simulation
from qstack.build import build_network
from qstack.runner import add_scenario_users
from qstack.scenario import Scenario, load_scenario
from qstack.scheduling import Dispatcher, Job

JOB_FEATURES = (
    "present", "pairs_to_start", "time_to_deadline", "min_fidelity", "hops",
    "fits_one_mode", "fits_all_modes", "route_idle",
)
LINK_FEATURES = ("pairs_under_way",)
NODE_FEATURES = ("free_slots", "oldest_age")


def star_scenario_table() -> dict:
    """A fresh copy of the built-in scenario: the star of ``scenarios/star_schedulers.toml``.

    Four users share a star of trapped-ion nodes (hub ``n0``, 2 km links, 2 modes per link,
    memory T2 shortened to 50 ms so that storage while waiting matters): a QKD user wanting 40
    pairs at F >= 0.7 without deadline (and 50 Hz, a need only reported), a computation
    (``n3``-``n4``, 2 pairs, F >= 0.75 within 50 ms) and a sensor (``n0``-``n1``, 3 pairs,
    F >= 0.85 within 30 ms) arriving 10 times each at 20 Hz, and a backup job (``n2``-``n4``, 5 pairs, F >= 0.6 within 200 ms) arriving 4 times
    at 5 Hz. ``scheduling.policy`` only names what :func:`~qstack.runner.run_scenario` would
    use; in the environment the agent decides.
    """
    return {
        "seed": 1,
        "max_time_s": 60.0,
        "network": {"topology": "star", "nodes": 5, "link_lengths_km": [2.0]},
        "hardware": {
            "node": "trapped_ion",
            "channel": "telecom_fiber",
            "overrides": {"node.memory.t2_s": 0.05, "node.memory.communication_qubits": 4},
        },
        "link": {"scheme": "single_click", "bright_state_population": 0.05, "multiplexing": 2},
        "scheduling": {"policy": "fifo"},
        "requests": [
            {"user": "qkd", "src": "n1", "dst": "n2", "pairs": 40, "min_fidelity": 0.7, "min_rate_hz": 50.0},
            {"user": "compute", "src": "n3", "dst": "n4", "pairs": 2, "min_fidelity": 0.75,
             "deadline_s": 0.05, "arrivals": 10, "arrival_rate_hz": 20.0},
            {"user": "sensor", "src": "n0", "dst": "n1", "pairs": 3, "min_fidelity": 0.85,
             "deadline_s": 0.03, "arrivals": 10, "arrival_rate_hz": 20.0},
            {"user": "backup", "src": "n2", "dst": "n4", "pairs": 5, "min_fidelity": 0.6,
             "deadline_s": 0.2, "arrivals": 4, "arrival_rate_hz": 5.0},
        ],
    }


def _as_scenario(scenario: Scenario | str | Path | dict | None) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(star_scenario_table() if scenario is None else scenario)


class SchedulingEnv(gym.Env):
    """The scheduling decisions of a scenario's network as a gymnasium environment.

    Parameters
    ----------
    scenario:
        A :class:`~qstack.scenario.Scenario`, a scenario file, a raw table, or None for the
        built-in star (:func:`star_scenario_table`). Its network, hardware, requests (users,
        Poisson arrivals, deadlines) and ``scheduling.max_pairs_in_flight`` are used; its
        ``scheduling.policy`` is not.
    max_jobs:
        Visible job slots (the observation and action sizes depend on it).
    max_time_s:
        Simulated time after which the episode is truncated [s]; the scenario's by default.
    horizon_s:
        Time to a deadline is divided by this [s]; by default the longest finite deadline of the
        scenario's requests (``max_time_s`` if none has one).
    invalid_action_penalty:
        Subtracted from the reward of a step whose action was invalid (and treated as wait).
    render_mode:
        Only None (nothing to render).

    ``reset(seed=s)`` builds the run :func:`~qstack.runner.run_scenario` would build with the
    scenario's seed replaced by ``s``: the same network draws and the same arrival times. Without
    a seed, the episode's seed is drawn from the environment's own generator.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        scenario: Scenario | str | Path | dict | None = None,
        max_jobs: int = 8,
        max_time_s: float | None = None,
        horizon_s: float | None = None,
        invalid_action_penalty: float = 0.1,
        render_mode: str | None = None,
    ):
        if render_mode is not None:
            raise ValueError(f"render_mode: SchedulingEnv renders nothing; use None, got {render_mode!r}")
        if isinstance(max_jobs, bool) or not isinstance(max_jobs, int) or max_jobs < 1:
            raise ValueError(f"max_jobs must be an integer >= 1, got {max_jobs!r}")
        self.scenario = _as_scenario(scenario)
        self.max_time_s = float(self.scenario.max_time_s if max_time_s is None else max_time_s)
        if not self.max_time_s > 0:
            raise ValueError(f"max_time_s must be > 0, got {max_time_s}")
        deadlines = [r.deadline_s for r in self.scenario.requests if math.isfinite(r.deadline_s)]
        self.horizon_s = float(horizon_s if horizon_s is not None else max(deadlines, default=self.max_time_s))
        if not self.horizon_s > 0:
            raise ValueError(f"horizon_s must be > 0, got {horizon_s}")
        if not invalid_action_penalty >= 0:
            raise ValueError(f"invalid_action_penalty must be >= 0, got {invalid_action_penalty}")
        self.invalid_action_penalty = float(invalid_action_penalty)
        self.render_mode = render_mode
        self.max_jobs = max_jobs
        self.nodes = list(self.scenario.node_names)
        self.links = [(a, b) for a, b, _ in self.scenario.edges()]
        self.wait_action = 2 * max_jobs
        self.action_space = spaces.Discrete(2 * max_jobs + 1)
        self.feature_names = (
            [f"job{i}.{name}" for i in range(max_jobs) for name in JOB_FEATURES]
            + [f"link {a}-{b}.{name}" for a, b in self.links for name in LINK_FEATURES]
            + [f"node {n}.{name}" for n in self.nodes for name in NODE_FEATURES]
            + ["time"]
        )
        self.observation_space = spaces.Box(0.0, 1.0, shape=(len(self.feature_names),), dtype=np.float32)
        self.sim: Simulation | None = None
        self.dispatcher: Dispatcher | None = None
        self._visible: list[Job] = []
        self._born: dict = {}  # stored qubit -> the time its state began [s]

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        episode_seed = int(seed) if seed is not None else int(self.np_random.integers(2**31 - 1))
        self.sim = Simulation(episode_seed, engine=self.scenario.engine)
        network = build_network(self.scenario, self.sim)
        self.dispatcher = Dispatcher(network, None, seed=episode_seed,
                                     max_in_flight=self.scenario.scheduling.max_pairs_in_flight)
        # The runner's arrival draws, so an episode meets the arrivals run_scenario would.
        add_scenario_users(self.dispatcher, self.scenario, seed=episode_seed)
        # Never an empty event queue before the end: waiting always has something to wait for.
        self.sim.env.timeout(self.max_time_s)
        self._born = {}
        self.episode_seed = episode_seed
        self._advance(until_change=False)
        self._reward()  # nothing is delivered or missed before the first decision
        return self._observation(), self._info(invalid=False)

    def step(self, action):
        if self.dispatcher is None:
            raise RuntimeError("SchedulingEnv.step called before reset")
        action = int(action)
        if not 0 <= action < self.action_space.n:
            raise ValueError(f"action must be in [0, {self.action_space.n}), got {action}")
        choice = self._decode(action)
        invalid = action != self.wait_action and choice is None
        if choice is not None:
            self.dispatcher.start(*choice)
            self._advance(until_change=False)
        elif not self._ended():
            self._advance(until_change=True)
        reward = self._reward() - (self.invalid_action_penalty if invalid else 0.0)
        terminated = self.dispatcher.done.triggered
        truncated = not terminated and self.sim.env.now >= self.max_time_s
        return self._observation(), float(reward), terminated, truncated, self._info(invalid)

    def action_masks(self) -> np.ndarray:
        """Which actions are valid now (wait always is)."""
        mask = np.zeros(self.action_space.n, dtype=bool)
        mask[self.wait_action] = True
        for action in range(self.wait_action):
            mask[action] = self._decode(action) is not None
        return mask

    # ------------------------------------------------------------------ decisions
    def _decode(self, action: int) -> tuple[Job, int] | None:
        """``(job, modes)`` of a start action that is valid now, else None."""
        if action >= self.wait_action or self._ended():
            return None
        slot, all_modes = action % self.max_jobs, action >= self.max_jobs
        if slot >= len(self._visible):
            return None
        job = self._visible[slot]
        modes = self.dispatcher.max_modes(job.path) if all_modes else 1
        return (job, modes) if self.dispatcher.fits(job.path, modes) else None

    def _ended(self) -> bool:
        return self.dispatcher.done.triggered or self.sim.env.now >= self.max_time_s

    def _refresh_visible(self) -> None:
        eligible = self.dispatcher.eligible()
        eligible.sort(key=lambda job: (job.deadline_at_s, job.arrival_s, job.id))
        self._visible = eligible[: self.max_jobs]

    def _decision_point(self) -> bool:
        self._refresh_visible()
        return any(self.dispatcher.fits(job.path, 1) for job in self._visible)

    def _advance(self, until_change: bool) -> None:
        """Run the simulation event by event until the agent has a choice (after at least one
        change of the dispatcher's state when ``until_change``) or the episode ends."""
        env = self.sim.env
        changes = self.dispatcher.changes
        while not self._ended():
            if (not until_change or self.dispatcher.changes != changes) and self._decision_point():
                return
            env.step()
            self._note_births()
        self._refresh_visible()

    def _note_births(self) -> None:
        for bank in self.dispatcher.network.banks.values():
            for qubit in bank.stored:
                if qubit not in self._born:
                    self._born[qubit] = qubit.last_time_s

    def _reward(self) -> float:
        dispatcher = self.dispatcher
        reward = sum(
            record.fidelity for job, record in dispatcher.delivered_since
            if record.fidelity >= job.request.min_fidelity
        )
        reward -= dispatcher.missed_since
        dispatcher.delivered_since.clear()
        dispatcher.missed_since = 0
        return float(reward)

    # ------------------------------------------------------------------ observation
    def _observation(self) -> np.ndarray:
        dispatcher = self.dispatcher
        network = dispatcher.network
        now = self.sim.env.now
        jobs = np.zeros((self.max_jobs, len(JOB_FEATURES)))
        max_hops = max(len(self.nodes) - 1, 1)
        for slot, job in enumerate(self._visible):
            left_s = job.deadline_at_s - now
            jobs[slot] = (
                1.0,
                job.to_start / job.request.pairs,
                1.0 if math.isinf(left_s) else left_s / self.horizon_s,
                job.request.min_fidelity,
                (len(job.path) - 1) / max_hops,
                dispatcher.fits(job.path, 1),
                dispatcher.fits(job.path, dispatcher.max_modes(job.path)),
                dispatcher.route_idle(job.path),
            )
        links = [
            dispatcher.pairs_under_way(a, b) / min(network.banks[a].capacity, network.banks[b].capacity)
            for a, b in self.links
        ]
        stored = {qubit for bank in network.banks.values() for qubit in bank.stored}
        self._born = {qubit: born for qubit, born in self._born.items() if qubit in stored}
        nodes = []
        for name in self.nodes:
            bank = network.banks[name]
            t2_s = bank.node.storage_t2_s
            ages = [now - self._born.get(qubit, qubit.last_time_s) for qubit in bank.stored]
            oldest_s = max(ages, default=0.0)
            age = oldest_s / t2_s if bank.decoherence and math.isfinite(t2_s) else 0.0
            nodes += [dispatcher.free_slots(name) / bank.capacity, age]
        observation = np.concatenate([jobs.ravel(), links, nodes, [now / self.max_time_s]])
        return np.clip(observation, 0.0, 1.0).astype(np.float32)

    def _info(self, invalid: bool) -> dict:
        dispatcher = self.dispatcher
        return {
            "time_s": float(self.sim.env.now),
            "invalid_action": invalid,
            "waiting": len(dispatcher.waiting),
            "delivered": int(sum(job.delivered for job in dispatcher.jobs)),
            "requirements_met": int(sum(job.met_deadline and job.met_fidelity for job in dispatcher.jobs)),
            "action_mask": self.action_masks(),
        }
