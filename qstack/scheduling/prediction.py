"""What a planner can predict from the hardware: a route's expected state, fidelity after
storage, storage cut-off and time per pair.

Design-time predictions only: the reported results always come from the simulated states. The
physics is the kernel's (:mod:`qstack.physics`): |Phi+>, the mean heralded state, the T1/T2
:class:`~qstack.physics.Relaxation` of each memory and the success probability of multiplexed
attempts; the circuits are the protocols' (swap, purification).
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from qiskit.quantum_info import DensityMatrix

from qstack import physics
from qstack.engine import permute_qubits
from qstack.network import Network, PurificationPolicy
from qstack.physics import PHI_PLUS, bell_fidelity, multiplexed_success_probability
from qstack.protocols import GateNoise, swap, swap_with_probability

#: Fractions of a stored pair's age spent before its purification rounds that
#: :meth:`RouteModel.fidelity` tries (the worst is taken). The worst split is often an end
#: (all storage after the rounds) but can lie inside where decay is deep (F < 0.6); this grid
#: is within 1e-4 of a 101-point one on the ion cases of tests/scheduling/test_prediction.py.
PURIFIED_STORAGE_SPLITS = tuple(i / 20 for i in range(21))

#: Physics a :class:`RouteModel` can leave out of its prediction.
MODEL_IDEALIZATIONS = ("decoherence", "probabilistic_generation", "bsm", "loss", "gate_noise")


def route_state(
    link_states: list[np.ndarray],
    swap_noises: list[GateNoise],
    policy: PurificationPolicy = PurificationPolicy(),
    purification_noise: GateNoise = GateNoise(),
    bsm: str = "deterministic",
) -> np.ndarray:
    """Expected end-to-end state of a route from its link states (qubit 0 at the route's start).

    Link states are purified per link or end to end as ``policy.scope`` says, with the policy's
    own prediction (:meth:`~qstack.network.PurificationPolicy.predict`: its scheme, rounds and
    method, the network's definition), and swapped in order at the intermediate nodes
    (``swap_noises[i]`` at the node after link ``i``) with the protocols' circuit. A design-time
    prediction for planners; reported results never use it.
    """
    states = list(link_states)
    if policy.link_rounds:
        states = [policy.predict(rho, purification_noise).data for rho in states]
    rho = states[0]
    for other, noise in zip(states[1:], swap_noises):
        rho = swap(rho, other, noise, bsm=bsm).data
    if policy.end_to_end_rounds:
        rho = policy.predict(rho, purification_noise).data
    return rho


def _aged(rho: np.ndarray, idle_a, idle_b, age_s: float, errors=(None, None)) -> np.ndarray:
    """A two-qubit state after both qubits waited ``age_s`` [s] in memories with these
    :class:`~qstack.physics.Relaxation` channels (None: no decay), then the per-qubit ``errors``
    (Aer errors or None: the dephasing by other links' attempts)."""
    if age_s <= 0:
        return rho
    state = DensityMatrix(rho)
    for qubit, idle, error in ((0, idle_a, errors[0]), (1, idle_b, errors[1])):
        if idle is not None:
            state = state.evolve(idle.quantum_error(age_s).to_quantumchannel(), qargs=[qubit])
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

    ``confidence``: None to predict the mean pair (each link in its mean heralded state); a
    probability ``c`` to predict a floor that a pair reaches with probability at least ``c``:
    each of the ``k`` links in the worst heralding outcome left after the worst outcomes of
    total probability at most ``(1 - c) / k`` are set aside (a union bound over the links).
    """

    def __init__(self, network: Network, path: list[str], idealize: tuple[str, ...] = (), rng=None,
                 confidence: float | None = None):
        if confidence is not None and not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1) or None, got {confidence}")
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
        # A generation holds a communication qubit at each end through its attempts and the move
        # into storage; a node's are shared by its links (two links of the route meet at each
        # intermediate node).
        self.move_time_s = [max(b.node.storage.move_time_s for b in s.banks) for s in services]
        self.communication_qubits = [network.banks[node].communication_qubits for node in path]
        self.max_modes = min(s.link.multiplexing for s in services)
        self.extraction = 1.0 if "loss" in idealize else plan.extraction
        # Bell measurements (in parallel) and the classical messages that announce them.
        self.overhead_s = max(plan.swap_time_s) + plan.messaging_s
        self.last_pair_age_s = max(s.link.heralding_time_s for s in services) + self.overhead_s
        ideal_states = "gate_noise" in idealize
        self.confidence = confidence
        heralded = [self._heralded(s, confidence, len(services)) for s in services]
        stored = [PHI_PLUS if ideal_states else rho for rho in heralded]
        self.link_states = [rho if s.banks[0].name == u else permute_qubits(rho, [1, 0]) for rho, s, u in zip(stored, services, path)]
        # Each link's idle channels, oriented along the path.
        self.idle = [
            (None, None) if "decoherence" in idealize else (network.banks[u].idle_model, network.banks[v].idle_model)
            for u, v in zip(path, path[1:])
        ]
        self._dephasing = [(None, None)] * len(services) if ideal_states else self._attempt_dephasing(services)
        self.swap_noises = [GateNoise() if ideal_states else network.gate_noise_at[node] for node in path[1:-1]]
        self.purification_noise = GateNoise() if ideal_states else network.gate_noise_at[path[0]]
        # The route's Bell measurements: their success and, on success, the state they leave.
        self.bsm = "deterministic" if "bsm" in idealize else network.bsm
        self.swap_probability = self._swap_success(self.bsm)
        self._fidelity: dict[tuple[float, bool], float] = {}
        self._draws: dict[tuple, list[float]] = {}  # per (modes, cut-off): the draws so far, in order
        self._sorted: dict[tuple, np.ndarray] = {}
        self._cutoffs: dict[tuple, float | None] = {}

    @staticmethod
    def _heralded(service, confidence: float | None, links: int) -> np.ndarray:
        """A link's stored state: the mean over heralding outcomes, or the worst outcome kept at
        this confidence (see the class docstring)."""
        outcomes = service.link.heralded_states
        if confidence is None:
            return service.stored_state(physics.mean_heralded_state(outcomes))
        total = sum(h.probability for h in outcomes)
        ranked = sorted(((bell_fidelity(rho := service.stored_state(h.rho)), h.probability, rho) for h in outcomes),
                        key=lambda row: row[0])
        allowed, dropped = (1 - confidence) / links * total, 0.0
        for _fidelity, probability, rho in ranked:
            if dropped + probability > allowed:
                return rho
            dropped += probability
        return ranked[-1][2]

    def _attempt_dephasing(self, services) -> list[tuple]:
        """Per link, per end: ``(register, attempt_time_s, bright_state_population)`` of the
        neighbouring link whose attempts dephase the nuclear spin storing this link's qubit, or None.

        NV nuclear spins dephase with every attempt of another link at their node: a stored
        qubit at an intermediate node sees the neighbouring link's attempts while it waits.
        """
        banks, k = self.network.banks, len(services)
        dephasing = []
        for i, s in enumerate(services):
            ends = []
            for side, neighbour in ((0, i - 1), (1, i + 1)):
                storage = banks[self.path[i + side]].node.storage
                if storage.register is None or not 0 <= neighbour < k or not s.gate_noise:
                    ends.append(None)
                    continue
                other = services[neighbour].link
                ends.append((storage, other.attempt_time_s, other.bright_state_population))
            dephasing.append(tuple(ends))
        return dephasing

    def fidelity(self, age_s: float, last_pair_waits: bool = False, worst_case: bool = True) -> float:
        """Predicted fidelity of a pair delivered when its oldest link pairs are ``age_s`` old:
        the worst case under a cut-off of ``age_s``. Every link pair but the last to arrive may
        have waited that long; the last is used as soon as its herald, the Bell measurements and
        their messages allow (a direct link's single pair waits ``age_s``).

        ``last_pair_waits``: the last link pair may wait too, up to the cut-off (its Bell
        measurement queued behind other pairs' generations for a communication qubit): every
        link pair ``age_s`` old, the worst case the network's cut-off alone bounds. Always so
        with purification rounds (a pair waits for the pairs it is purified with); the storage
        may then fall before or after the rounds, and the worst split is taken.

        ``worst_case=False``: the expected pair when ``age_s`` is the mean wait (not a cut-off
        bound): the link pairs wait for their partners before the rounds, and the last one is
        used as soon as it can be (:func:`qstack.build.purification.delivered_fidelity`)."""
        key = (age_s, last_pair_waits, worst_case)
        if key not in self._fidelity:
            k = len(self.link_states)
            policy = self.network.purification
            # The last link pair is not fresh either: it waited from its emission through the
            # herald's flight, the Bell measurements and the messages announcing them. With
            # purification rounds it waited for its partner pairs too (their generation is
            # bounded only by the cut-off), as the first of two end-to-end pairs did.
            fresh_last = not last_pair_waits and k > 1 and (not policy.rounds or not worst_case)
            ages = [age_s] * (k - 1) + [min(age_s, self.last_pair_age_s) if fresh_last else age_s]
            # With purification a pair may wait before its rounds or after them (the cut-off
            # counts from the oldest emission either way), and rounds undo part of the decay
            # that came before them: the worst split of the storage is taken.
            splits = PURIFIED_STORAGE_SPLITS if worst_case and policy.rounds and age_s > 0 else (1.0,)
            self._fidelity[key] = min(self._split_fidelity(ages, before) for before in splits)
        return self._fidelity[key]

    def _split_fidelity(self, ages: list[float], before: float) -> float:
        """Fidelity of the route's pair when each link pair waits the fraction ``before`` of its
        age before the purification rounds (per link, or before the swaps for end-to-end
        rounds) and the rest after them."""
        policy = self.network.purification
        states = []
        for rho, (a, b), deph, age in zip(self.link_states, self.idle, self._dephasing, ages):
            first, then = before * age, (1 - before) * age
            rho = _aged(rho, a, b, first, tuple(self._dephasing_error(d, first) for d in deph))
            if policy.link_rounds:
                rho = policy.predict(rho, self.purification_noise).data
            if policy.scope != "end_to_end":
                rho = _aged(rho, a, b, then, tuple(self._dephasing_error(d, then) for d in deph))
            states.append(rho)
        bare = PurificationPolicy() if policy.scope == "link" else policy
        rho = route_state(states, self.swap_noises, bare, self.purification_noise, bsm=self.bsm)
        if policy.end_to_end_rounds:
            then = (1 - before) * max(ages)
            rho = _aged(rho, self.idle[0][0], self.idle[-1][1], then)
        return bell_fidelity(rho)

    @staticmethod
    def _dephasing_error(dephasing, age_s: float):
        """A nuclear spin's dephasing by the neighbouring link's attempts that fit in ``age_s``
        (the register's own per-attempt law), or None."""
        if dephasing is None:
            return None
        storage, attempt_time_s, bright = dephasing
        return storage.attempt_dephasing(int(age_s / attempt_time_s), bright)

    def cutoff_for(self, min_fidelity: float, limit_s: float, last_pair_waits: bool = False) -> float | None:
        """Longest storage (<= ``limit_s``) after which a pair still meets ``min_fidelity``,
        or None when even fresh pairs do not. ``limit_s`` itself when it is always met.
        ``last_pair_waits``: as in :meth:`fidelity` (every link pair up to the cut-off old)."""
        key = (min_fidelity, limit_s, last_pair_waits)
        if key not in self._cutoffs:
            self._cutoffs[key] = self._cutoff_for(min_fidelity, limit_s, last_pair_waits)
        return self._cutoffs[key]

    def _cutoff_for(self, min_fidelity: float, limit_s: float, last_pair_waits: bool) -> float | None:
        def fidelity(age_s: float) -> float:
            return self.fidelity(age_s, last_pair_waits)

        if fidelity(0.0) < min_fidelity:
            return None
        if math.isinf(limit_s):
            coherence = [t for pair in self.idle for idle in pair if idle is not None for t in (idle.t1_s, idle.t2_s) if math.isfinite(t)]
            if not coherence:
                return limit_s
            limit_s_probe = 10 * max(coherence)
            if fidelity(limit_s_probe) >= min_fidelity:
                return limit_s
        else:
            limit_s_probe = limit_s
            if fidelity(limit_s) >= min_fidelity:
                return limit_s
        low, high = 0.0, limit_s_probe
        for _ in range(40):  # bisection to ~1e-12 of the range
            middle = 0.5 * (low + high)
            if fidelity(middle) >= min_fidelity:
                low = middle
            else:
                high = middle
        self._fidelity = {key: f for key, f in self._fidelity.items() if key[0] in (0.0, low)}  # keep the cache small
        return low

    def generation_hold_s(self, modes: int) -> list[float]:
        """Per link of the route, the mean time one generation with ``modes`` holds a
        communication qubit at each of its ends [s]: its attempts, ``tau_i / q_i`` with
        ``q_i = 1 - (1 - p_i)^modes`` (the mean of the geometric law), then the move into
        storage. What a pair already stored elsewhere on a route waits, on average, for each
        generation queued ahead of its partner at a shared node or link."""
        holds = []
        for tau, p, move in zip(self.attempt_time_s, self.p_mode, self.move_time_s):
            q = multiplexed_success_probability(p, modes)
            holds.append(tau / q + move if q > 0 else math.inf)
        return holds

    def time_per_pair_s(self, modes: int, cutoff_s: float, samples: int = 200) -> float:
        """Expected time to deliver one pair with ``modes`` per link and this cut-off [s]: the
        mean of :meth:`time_samples_s`. ``inf`` when the cut-off makes success hopeless."""
        draws = self.time_samples_s(modes, cutoff_s, samples)
        if math.isinf(draws[0]):
            return math.inf
        total = 0.0
        for t in draws:  # in the order drawn, one by one (the mean's rounding does not move)
            total += t
        return total / samples

    def _swap_success(self, bsm: str) -> float:
        """Probability that every Bell measurement of the route succeeds, from the swap circuit
        itself (:func:`~qstack.protocols.swapping.swap_with_probability`) on the expected link
        states swapped in order, with each node's gate noise: 1 for deterministic measurements;
        for linear optics 1/2 per swap on Bell-diagonal pairs, the probability that the inner
        qubits read different bits in general."""
        if bsm == "deterministic":
            return 1.0
        rho, success = self.link_states[0], 1.0
        for other, noise in zip(self.link_states[1:], self.swap_noises):
            state, probability = swap_with_probability(rho, other, noise, bsm=bsm)
            rho, success = state.data, success * probability
        return success

    def time_samples_s(self, modes: int, cutoff_s: float, samples: int = 200) -> tuple[float, ...]:
        """The first ``samples`` draws of the time to deliver one pair with ``modes`` per link
        and this cut-off [s], in the order drawn (cached: a later call for more draws extends
        the same sequence, so 400 draws are the 200 first ones and 200 more).

        Monte Carlo of the route's link generations (:meth:`links_ready_s`): per attempt of
        ``tau_i`` link ``i`` succeeds with ``q_i = 1 - (1 - p_i)^modes``; a generation holds a
        communication qubit at each end through its attempts and its move into storage, so links
        meeting at a node with fewer communication qubits than links take turns; a link pair
        older than the cut-off while its partners are still missing is regenerated; a failed
        Bell measurement or extraction starts the pair again. A single ``inf`` draw (the cut-off
        makes success hopeless) ends the sampling: ``(inf,)`` then.
        """
        drawn = self._draws.setdefault((modes, cutoff_s), [])
        if len(drawn) < samples and not (drawn and math.isinf(drawn[-1])):
            q = [multiplexed_success_probability(p, modes) for p in self.p_mode]
            keep = self.swap_probability * self.extraction
            while len(drawn) < samples:
                t = self._sample_time_s(q, cutoff_s, keep)
                if math.isinf(t):
                    drawn[:] = [math.inf]
                    break
                drawn.append(t)
        return (math.inf,) if math.isinf(drawn[-1]) else tuple(drawn[:samples])

    def chance_within(self, modes: int, cutoff_s: float, pairs: int, left_s: float, bins: int = 512,
                      samples: int = 200) -> float:
        """Probability that ``pairs`` pairs, one after another, are all delivered within
        ``left_s`` [s]: the law of the time per pair is the empirical one of
        :meth:`time_samples_s` (for a multi-link route a max of geometric waits plus the swaps,
        not an exponential; ``samples`` draws), and the sum of ``pairs`` independent draws of it is its
        ``pairs``-fold convolution on a grid of ``bins`` steps up to ``left_s``, each draw
        rounded up to the next step (so the chance is never overstated)."""
        if pairs <= 0 or math.isinf(left_s):
            return 1.0
        if left_s <= 0:
            return 0.0
        key = (modes, cutoff_s, samples)
        if key not in self._sorted:
            self._sorted[key] = np.sort(self.time_samples_s(modes, cutoff_s, samples))
        ordered = self._sorted[key]
        if math.isinf(ordered[0]):
            return 0.0
        if pairs == 1:
            return float(np.searchsorted(ordered, left_s, side="right")) / len(ordered)
        step = left_s / bins
        cells = np.ceil(ordered / step).astype(int)
        one = np.bincount(cells[cells <= bins], minlength=bins + 1).astype(float) / len(ordered)
        law = one
        for _ in range(pairs - 1):
            law = np.convolve(law, one)[: bins + 1]
        return float(min(1.0, law.sum()))

    def settled_chance_within(self, modes: int, cutoff_s: float, pairs: int, left_s: float, threshold: float,
                              samples: int = 200, most_samples: int = 3200, z: float = 3.0) -> float:
        """:meth:`chance_within` from enough draws that its Monte Carlo error does not decide
        which side of ``threshold`` it falls: the draws double, from ``samples`` up to
        ``most_samples``, while the estimate ``c`` from ``n`` draws lies within ``z`` standard
        errors ``pairs * sqrt(c (1 - c) / n)`` of the threshold. For one pair that is the
        binomial error of an empirical CDF; for more, the estimate is a V-statistic of order
        ``pairs`` in the draws, whose first-order (Hoeffding) variance ``pairs^2 Var(h)/n`` has
        ``h`` in [0, 1] of mean ``c``, so ``Var(h) <= c (1 - c)``: a bound. An estimate of 0 or 1
        is settled at once (no draw fell on the other side); at ``most_samples`` the estimate
        stands as it is."""
        n = samples
        while True:
            chance = self.chance_within(modes, cutoff_s, pairs, left_s, samples=n)
            error = pairs * math.sqrt(chance * (1 - chance) / n)
            if abs(chance - threshold) > z * error or n >= most_samples:
                return chance
            n = min(2 * n, most_samples)

    def _sample_time_s(self, q: list[float], cutoff_s: float, keep: float) -> float:
        """One draw of the time to a kept end-to-end pair [s]; ``inf`` if hopeless (a thousand
        failed tries, or link pairs that expire faster than their partners arrive)."""
        t = 0.0
        for _try in range(1000):
            t = self.links_ready_s(q, cutoff_s, t)
            if math.isinf(t):
                return math.inf
            t += self.overhead_s
            if self.rng.random() < keep:
                return t
        return math.inf

    def links_ready_s(self, q: list[float], cutoff_s: float, start_s: float = 0.0, max_events: int = 20_000) -> float:
        """One draw of when every link of the route holds a pair, all generations requested at
        ``start_s`` [s] (``inf`` if the cut-off keeps expiring them).

        A small event simulation: a link generation starts when a communication qubit is free
        at each of its ends (waiting links in the order they asked, then along the route),
        draws its attempts from the geometric law of ``q_i`` and holds both until its herald
        and its move into storage are done; a stored link pair expires ``cutoff_s`` after it
        was stored unless every link holds one first, and its link asks again. With one
        communication qubit at a node between two links of success ``p``, the links take turns:
        ``2 / p`` attempt rounds on average; with two, the longer of two geometric waits,
        ``(3 - 2p) / (p (2 - p))``.
        """
        k, tau, move, rng = len(q), self.attempt_time_s, self.move_time_s, self.rng
        free = list(self.communication_qubits)
        asked = {i: (start_s, i) for i in range(k)}  # waiting links -> (when they asked, position)
        stored: dict[int, float] = {}  # link -> when its pair was stored
        events: list[tuple[float, int, int]] = []  # (time, 0 done | 1 expiry, link)
        now = start_s
        for _ in range(max_events):
            for i in sorted(asked, key=asked.get):
                if free[i] and free[i + 1]:
                    free[i] -= 1
                    free[i + 1] -= 1
                    del asked[i]
                    heapq.heappush(events, (now + tau[i] * rng.geometric(q[i]) + move[i], 0, i))
            if len(stored) == k:
                return now
            now, kind, i = heapq.heappop(events)
            if kind == 0:
                free[i] += 1
                free[i + 1] += 1
                stored[i] = now
                if math.isfinite(cutoff_s):
                    heapq.heappush(events, (now + cutoff_s, 1, i))
            elif i in stored and stored[i] + cutoff_s == now:  # this pair's own expiry, not an older one's
                del stored[i]
                asked[i] = (now, i)
        return math.inf
