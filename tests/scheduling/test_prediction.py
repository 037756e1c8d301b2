"""The planner's physics: a route's mean heralded state, aged and swapped, and its time per pair."""

import math

import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix, random_density_matrix
from scheduling_cases import two_node

from qstack import physics
from qstack.engine import Simulation
from qstack.build import build_network
from qstack.runner import run_scenario
from qstack.network import PurificationPolicy, PurificationScheme, Request
from qstack.protocols import GateNoise, pump, purify_rounds, swap
from qstack.scheduling import RouteModel, route_state


def test_a_links_mean_heralded_state_is_normalised_by_its_per_mode_success_probability():
    network = build_network(two_node(), Simulation(1))
    link = network.service("n0", "n1").link
    rho = physics.mean_heralded_state(link.heralded_states)
    weighted = sum(h.probability * h.rho for h in link.heralded_states) / link.success_probability_per_mode
    assert rho.tobytes() == weighted.tobytes()  # the planner's old normalisation, bit for bit
    assert np.trace(rho).real == pytest.approx(1.0, abs=1e-12)


def test_planner_ages_both_halves_of_a_pair_with_the_memories_t1_t2_channel():
    """|Phi+> with both qubits relaxed for t: F = ((1 + g^2)/2 + (1 - g)^2/2 + c^2)/2 with
    g = 1 - exp(-t/T1) and c = exp(-t/T2) (each qubit's coherence factor)."""
    scenario = two_node(**{"hardware.overrides": {"node.memory.t1_s": 0.08, "node.memory.t2_s": 0.05}})
    network = build_network(scenario, Simulation(1))
    model = RouteModel(network, ["n0", "n1"], idealize=("gate_noise",))  # exact |Phi+> links
    relaxation = network.banks["n0"].idle_model
    assert (relaxation.t1_s, relaxation.t2_s) == (0.08, 0.05)
    for age_s in (0.0, 0.01, 0.05):
        g, c = relaxation.damping(age_s), relaxation.coherence(age_s)
        expected = ((1 + g * g) / 2 + (1 - g) ** 2 / 2 + c * c) / 2
        assert model.fidelity(age_s) == pytest.approx(expected, abs=1e-12)


def test_planner_predicts_a_single_link_waiting_time_of_attempt_time_over_p():
    scenario = two_node()
    network = build_network(scenario, Simulation(1))
    model = RouteModel(network, ["n0", "n1"], rng=np.random.default_rng(2))
    link = network.service("n0", "n1").link
    expected = link.attempt_time_s / link.success_probability_per_mode
    samples = 4000
    # geometric waiting time: std ~ mean sqrt(1-p) ~ mean; 4 sigma of the Monte Carlo mean
    assert model.time_per_pair_s(1, math.inf, samples=samples) == pytest.approx(expected, rel=4 / math.sqrt(samples))


def test_planner_time_per_pair_shrinks_with_modes_as_multiplexed_success_says():
    """Generation over m modes succeeds per attempt with 1 - (1 - p)^m: the mean wait is tau / that."""
    network = build_network(two_node(**{"link.multiplexing": 4}), Simulation(1))
    model = RouteModel(network, ["n0", "n1"], rng=np.random.default_rng(3))
    link = network.service("n0", "n1").link
    samples = 4000
    for modes in (1, 4):
        q = physics.multiplexed_success_probability(link.success_probability_per_mode, modes)
        expected = link.attempt_time_s / q
        assert model.time_per_pair_s(modes, math.inf, samples=samples) == pytest.approx(expected, rel=4 / math.sqrt(samples))


@pytest.mark.parametrize("storage_s", [0.0, 0.02, 0.08])
def test_planner_fidelity_of_a_stored_pair_matches_the_simulated_pairs(storage_s):
    """The planner ages the mean heralded state with Aer's thermal relaxation; the network
    stores sampled heralded states with the engine's lazy idle channel. Means must agree."""
    scenario = two_node(t2_s=0.1, **{"requests.0.pairs": 200, "requests.0.storage_time_s": storage_s})
    report = run_scenario(scenario)
    fidelities = np.array([p.fidelity for p in report.pairs])
    network = build_network(scenario, Simulation(1))
    model = RouteModel(network, ["n0", "n1"])
    heralding_s = network.service("n0", "n1").link.heralding_time_s
    predicted = model.fidelity(storage_s + heralding_s)
    spread = max(fidelities.std(), 1e-6) / math.sqrt(len(fidelities))
    assert abs(fidelities.mean() - predicted) < 4 * spread + 1e-6


def test_planner_cutoff_keeps_the_predicted_fidelity_at_the_requirement():
    scenario = two_node(t2_s=0.05)
    network = build_network(scenario, Simulation(1))
    model = RouteModel(network, ["n0", "n1"])
    fresh = model.fidelity(0.0)
    target = fresh - 0.05
    cutoff = model.cutoff_for(target, math.inf)
    assert 0 < cutoff < math.inf
    assert model.fidelity(cutoff) == pytest.approx(target, abs=1e-6)
    assert model.cutoff_for(fresh + 0.01, math.inf) is None
    assert model.cutoff_for(0.3, 0.01) == 0.01  # the network's own cut-off binds first


def test_route_model_refuses_an_unknown_idealisation():
    network = build_network(two_node(), Simulation(1))
    with pytest.raises(ValueError, match="idealize: unknown item 'memory'"):
        RouteModel(network, ["n0", "n1"], idealize=("memory",))


# --------------------------------------------------------------------------- route_state
def _random_pair(seed):
    return 0.3 * random_density_matrix(4, seed=seed).data + 0.7 * physics.PHI_PLUS


@pytest.mark.parametrize("scope", ["link", "end_to_end"])
@pytest.mark.parametrize("scheme", ["recurrence", "pumping"])
@pytest.mark.parametrize("method", ["dejmps", "bbpssw"])
def test_route_state_purifies_as_the_scheme_and_swaps_bit_for_bit(scope, scheme, method):
    """Recurrence: purify_rounds; pumping: pump of the pair with copies of itself; then the swaps
    (the planner's former inline choice, kept bit for bit by the policy's own prediction)."""
    links, noise, swap_noise = [_random_pair(1), _random_pair(2)], GateNoise(0.01, 0.002, 0.01), GateNoise(0.02, 0.0, 0.0)
    policy = PurificationPolicy(scope=scope, method=method, scheme=scheme, rounds=2)

    def purified(rho):
        if scheme == "recurrence":
            return purify_rounds(rho, 2, method, noise)[0].data
        return pump(rho, rho, 2, method, noise)[0].data

    states = [purified(rho) for rho in links] if scope == "link" else links
    expected = swap(states[0], states[1], swap_noise).data
    expected = purified(expected) if scope == "end_to_end" else expected
    assert np.array_equal(route_state(links, [swap_noise], policy, noise), expected)


def test_route_state_predicts_with_a_registered_schemes_own_prediction():
    """A plugin scheme's predict() is the planner's too (it used to fall back to pumping)."""
    import qstack
    from qstack import registry

    @qstack.register("purification", "test_to_phi_plus")
    class ToPhiPlus(PurificationScheme):
        def held_pairs(self, rounds):
            return 2

        def partner_level(self, level, held):
            return None

        def predict(self, rho, rounds, method="dejmps", noise=GateNoise()):
            return DensityMatrix(physics.PHI_PLUS)

    try:
        policy = PurificationPolicy(scope="end_to_end", scheme="test_to_phi_plus", rounds=1)
        rho = route_state([_random_pair(3), _random_pair(4)], [GateNoise()], policy)
        np.testing.assert_array_equal(rho, physics.PHI_PLUS)
    finally:
        registry._entries["purification"].pop("test_to_phi_plus")


# --------------------------------------------------------------------------- communication qubits
def _ion_chain(communication_qubits: int, pairs: int = 1, purification: dict | None = None, **overrides):
    """Three trapped-ion nodes, two 2 km links; ``communication_qubits`` ions emit at each node
    (``purification``: the scenario's table, if any; ``overrides``: more hardware overrides)."""
    from qstack.scenario import load_scenario

    return load_scenario({
        "seed": 5,
        "max_time_s": 600.0,
        "network": {"topology": "chain", "nodes": 3, "link_lengths_km": [2.0]},
        "hardware": {"node": "trapped_ion", "channel": "telecom_fiber",
                     "overrides": {"node.memory.communication_qubits": communication_qubits, **overrides}},
        "link": {"scheme": "single_click", "bright_state_population": 0.05},
        "scheduling": {"policy": "fifo", "max_pairs_in_flight": 1},
        "requests": [{"src": "n0", "dst": "n2", "pairs": pairs, "min_fidelity": 0.0}],
        **({"purification": purification} if purification else {}),
    })


@pytest.mark.parametrize("communication_qubits", [1, 2])
def test_planner_links_take_turns_on_a_middle_nodes_communication_qubits_as_the_closed_forms_say(communication_qubits):
    """A middle node with one communication qubit serves its two links in turn: 2/p attempt
    rounds per pair; with two, the longer of two geometric waits: (3 - 2p) / (p (2 - p))."""
    network = build_network(_ion_chain(communication_qubits), Simulation(1))
    model = RouteModel(network, ["n0", "n1", "n2"], rng=np.random.default_rng(7))
    p, tau = model.p_mode[0], model.attempt_time_s[0]
    rounds = 2 / p if communication_qubits == 1 else (3 - 2 * p) / (p * (2 - p))
    samples = 4000
    draws = np.array([model.links_ready_s(model.p_mode, math.inf) for _ in range(samples)]) / tau
    # the rounds' standard deviation is below 2/p for both: 4 sigma of the Monte Carlo mean
    assert draws.mean() == pytest.approx(rounds, abs=4 * (2 / p) / math.sqrt(samples))
    assert model.time_per_pair_s(1, math.inf) == pytest.approx(rounds * tau + model.overhead_s, rel=0.25)


@pytest.mark.parametrize("communication_qubits", [1, 2])
def test_planner_time_per_pair_matches_the_simulated_chain_with_its_communication_qubits(communication_qubits):
    """The simulated network, one pair at a time on the two-link chain: the mean time per pair
    agrees with the planner's prediction within the sampling error of both."""
    pairs = 600
    scenario = _ion_chain(communication_qubits, pairs)
    report = run_scenario(scenario)
    assert report.scheduling.delivered == pairs
    simulated = report.sim_time_s / pairs
    network = build_network(scenario, Simulation(1))
    model = RouteModel(network, ["n0", "n1", "n2"], rng=np.random.default_rng(8))
    predicted = model.time_per_pair_s(1, math.inf, samples=2000)
    p, tau = model.p_mode[0], model.attempt_time_s[0]
    spread = math.sqrt(2) / p * tau  # above either law's standard deviation per pair (sqrt(2(1-p))/p)
    assert simulated == pytest.approx(predicted, abs=4 * spread * math.sqrt(1 / pairs + 1 / 2000))
    # the two laws differ by ~0.5/p rounds, twice this tolerance: the test tells them apart
    assert 4 * spread * math.sqrt(1 / pairs + 1 / 2000) < 0.3 * tau / p


def test_planner_floor_at_a_confidence_sets_aside_only_the_worst_outcomes_that_probability_allows():
    """Outcomes of probability 0.98 (F = 1) and 0.02 (a Werner state): at 99 % on one link the
    bad outcome (2 % > 1 %) is the floor; at 95 % it is set aside; on three links at 95 % each
    link may set aside only 5/3 % (< 2 %), so the floor is the bad outcome again."""
    from types import SimpleNamespace

    bad = 0.6 * physics.PHI_PLUS + 0.1 * np.eye(4)  # Werner state, F = 0.7
    outcomes = (SimpleNamespace(probability=0.98 * 1e-3, rho=physics.PHI_PLUS), SimpleNamespace(probability=0.02 * 1e-3, rho=bad))
    service = SimpleNamespace(link=SimpleNamespace(heralded_states=outcomes), stored_state=lambda rho: rho)
    assert np.array_equal(RouteModel._heralded(service, 0.99, 1), bad)
    assert np.array_equal(RouteModel._heralded(service, 0.95, 1), physics.PHI_PLUS)
    assert np.array_equal(RouteModel._heralded(service, 0.95, 3), bad)
    mean = RouteModel._heralded(service, None, 1)
    assert physics.bell_fidelity(bad) < physics.bell_fidelity(mean) < 1.0


def test_planner_generation_hold_is_attempt_time_over_multiplexed_success_plus_the_move():
    """A generation holds its communication qubits for its attempts, tau / (1 - (1 - p)^m) on
    average (the geometric law's mean), then the move into storage."""
    network = build_network(two_node(**{"link.multiplexing": 4}), Simulation(1))
    model = RouteModel(network, ["n0", "n1"])
    p, tau, move = model.p_mode[0], model.attempt_time_s[0], model.move_time_s[0]
    for modes in (1, 4):
        expected = tau / (1 - (1 - p) ** modes) + move
        assert model.generation_hold_s(modes) == [pytest.approx(expected, rel=1e-12)]
    assert model.generation_hold_s(4)[0] < model.generation_hold_s(1)[0] / 3  # p << 1: ~m times shorter


def test_planner_floor_with_a_waiting_last_pair_ages_every_link_pair_to_the_cutoff():
    """Two |Phi+> links in memories that only dephase (coherence c(t) = exp(-t/T2) per qubit),
    swapped ideally: the end-to-end pair is phase-flipped by all four qubits, F = (1 + prod c)/2.
    With the last link pair used at once it has aged only ``last_pair_age_s``:
    F = (1 + c(t)^2 c(l)^2)/2; when it may wait for a communication qubit, up to the cut-off:
    F = (1 + c(t)^4)/2."""
    scenario = _ion_chain(1, **{"node.memory.t1_s": 1e300, "node.memory.t2_s": 0.05})
    network = build_network(scenario, Simulation(1))
    model = RouteModel(network, ["n0", "n1", "n2"], idealize=("gate_noise",))
    relaxation = network.banks["n1"].idle_model
    last = model.last_pair_age_s
    assert 0 < last < 1e-3
    for age_s in (0.002, 0.01, 0.04):
        c, c_last = relaxation.coherence(age_s), relaxation.coherence(last)
        assert model.fidelity(age_s) == pytest.approx((1 + c**2 * c_last**2) / 2, abs=1e-9)
        assert model.fidelity(age_s, last_pair_waits=True) == pytest.approx((1 + c**4) / 2, abs=1e-9)
        assert model.fidelity(age_s, last_pair_waits=True) < model.fidelity(age_s)


def test_planner_floor_with_purification_lets_the_pair_wait_after_its_rounds():
    """Ideal |Phi+> links purified (one DEJMPS round per link) in memories that only dephase.
    Purified fresh, the pair stays |Phi+>; stored for t afterwards it has F = (1 + c(t)^2)/2,
    the closed form of two dephased qubits: the floor is that, or lower where a split of the
    storage around the round is worse. Stored before the round instead, the round undoes
    part of the dephasing: a prediction that aged the pairs only before purifying (as the
    planner once did) promised more than a pair stored after its round keeps."""
    scenario = two_node(**{"hardware.overrides": {"node.memory.t1_s": 1e300, "node.memory.t2_s": 0.05},
                           "purification.scope": "link", "purification.rounds": 1})
    network = build_network(scenario, Simulation(1))
    model = RouteModel(network, ["n0", "n1"], idealize=("gate_noise",))
    relaxation = network.banks["n0"].idle_model
    for age_s in (0.005, 0.02, 0.05, 0.1):
        c = relaxation.coherence(age_s)
        stored_after = (1 + c**2) / 2
        if age_s <= 0.02:  # the worst split is all storage after the round
            assert model.fidelity(age_s) == pytest.approx(stored_after, abs=1e-9)
        else:  # deep decay: a split inside is worse still
            assert model.fidelity(age_s) < stored_after - 1e-3
        stored_before = model._split_fidelity([age_s], before=1.0)
        assert stored_before > stored_after + 1e-3


def test_planner_floor_with_purification_never_counts_on_a_fresh_last_link_pair():
    """Two ideal |Phi+> links, each purified once, in memories that only dephase: a purified
    link pair waited for its partner pair, so even the last one may be as old as the cut-off.
    Stored after their rounds (the worst split at these ages), all four qubits dephase for t:
    F = (1 + c(t)^4)/2, whether or not the last pair is said to wait."""
    scenario = _ion_chain(1, purification={"scope": "link", "rounds": 1},
                          **{"node.memory.t1_s": 1e300, "node.memory.t2_s": 0.05})
    network = build_network(scenario, Simulation(1))
    model = RouteModel(network, ["n0", "n1", "n2"], idealize=("gate_noise",))
    relaxation = network.banks["n1"].idle_model
    for age_s in (0.002, 0.005):
        c = relaxation.coherence(age_s)
        assert model.fidelity(age_s) == pytest.approx((1 + c**4) / 2, abs=1e-9)
        assert model.fidelity(age_s) == model.fidelity(age_s, last_pair_waits=True)


@pytest.mark.parametrize("pairs", [1, 2])
def test_planner_chance_in_time_of_a_two_link_route_is_the_law_of_a_max_of_two_geometric_waits(pairs):
    """Two links with their own communication qubits at the middle node, no cut-off: a pair
    comes at ``c + tau max(G1, G2)`` (G geometric, success p; c the move and the swap's
    overhead), so P(T <= t) = F(n) with F(n) = (1 - (1 - p)^n)^2, n = floor((t - c)/tau);
    two pairs: the convolution of that law with itself. The planner's chance from 4000
    sampled pair times agrees within 4 sigma, at the mean and at half and twice it (the grid
    rounds each draw up by less than t/512: the chance may be that much lower)."""
    network = build_network(_ion_chain(2), Simulation(1))
    model = RouteModel(network, ["n0", "n1", "n2"], rng=np.random.default_rng(11))
    assert model.extraction == 1.0 and model.swap_probability == 1.0
    p, tau = model.p_mode[0], model.attempt_time_s[0]
    c = model.move_time_s[0] + model.overhead_s
    samples = 4000

    def cdf(rounds: int) -> float:  # P(max(G1, G2) <= rounds)
        return (1 - (1 - p) ** rounds) ** 2 if rounds > 0 else 0.0

    def exact(t: float) -> float:
        if pairs == 1:
            return cdf(math.floor((t - c) / tau))
        most = math.floor((t - 2 * c) / tau)
        return sum((cdf(n) - cdf(n - 1)) * cdf(most - n) for n in range(1, most))

    mean = model.time_per_pair_s(1, math.inf, samples=samples)
    for t in (0.5 * pairs * mean, pairs * mean, 2 * pairs * mean):
        chance = model.chance_within(1, math.inf, pairs, t, samples=samples)
        low, high = exact(t * (1 - pairs / 512)), exact(t)
        sigma = math.sqrt(high * (1 - high) / samples) * math.sqrt(pairs)
        assert low - 4 * sigma - 1e-9 <= chance <= high + 4 * sigma + 1e-9
    # not an exponential law of that mean: its chance at half the mean, 1 - e^-1/2 (0.39
    # against ~0.28), is far off
    if pairs == 1:
        assert abs(exact(0.5 * mean) - (1 - math.exp(-0.5))) > 8 * math.sqrt(0.25 / samples)


@pytest.mark.parametrize("pairs", [1, 3])
def test_a_chance_near_the_floor_is_settled_by_more_draws_not_left_to_the_monte_carlo(pairs):
    """A direct link: ``pairs`` pairs within ``t`` with probability P(NegBin(pairs, p) <=
    (t - pairs c) / tau - pairs) (failures before the last success), set to about 0.55, against
    a floor of 0.5. From 200 draws (a standard error of 0.035 for one pair) the estimate falls
    below the floor on about one in thirteen of 80 planners' seeds; settled (draws doubled up
    to 3200 while within three standard errors of the floor) it does on none (a wrong side then
    needs an error of more than 4 sigma at any number of draws), and it agrees with the law."""
    from scipy.stats import nbinom

    network = build_network(two_node(), Simulation(1))
    path = ["n0", "n1"]
    probe = RouteModel(network, path)
    p, tau, c = probe.p_mode[0], probe.attempt_time_s[0], probe.overhead_s + probe.move_time_s[0]
    failures = int(nbinom.ppf(0.55, pairs, p))
    t = (failures + pairs) * tau + pairs * c + 0.5 * tau
    exact = nbinom.cdf(failures, pairs, p)
    assert 0.54 < exact < 0.57
    raw, settled = [], []
    for seed in range(80):
        model = RouteModel(network, path, rng=np.random.default_rng(seed))
        raw.append(model.chance_within(1, math.inf, pairs, t))
        settled.append(model.settled_chance_within(1, math.inf, pairs, t, 0.5))
    assert sum(chance < 0.5 for chance in raw) >= 1  # what a decision from 200 draws does
    assert all(chance >= 0.5 for chance in settled)
    # for more pairs the grid rounds each draw up, by at most t / 512
    low = exact if pairs == 1 else nbinom.cdf(math.floor((t * (1 - 1 / 512) - pairs * c) / tau) - pairs, pairs, p)
    assert low - 0.02 <= float(np.mean(settled)) <= exact + 0.02


def test_more_draws_of_a_routes_time_extend_the_same_sequence():
    """The first 200 of 400 draws are the 200 drawn first (a settled chance refines the
    estimate it started from), and a fresh model with the same generator draws the same."""
    network = build_network(two_node(), Simulation(1))
    model = RouteModel(network, ["n0", "n1"], rng=np.random.default_rng(4))
    first = model.time_samples_s(1, math.inf)
    more = model.time_samples_s(1, math.inf, samples=400)
    assert len(first) == 200 and len(more) == 400 and more[:200] == first and len(set(more)) > 200 // 2
    again = RouteModel(network, ["n0", "n1"], rng=np.random.default_rng(4)).time_samples_s(1, math.inf, samples=400)
    assert again == more



def test_planner_swap_success_is_the_swap_circuits_own_on_the_route_and_what_the_network_measures():
    """Linear-optics Bell measurements succeed when the inner qubits read different bits: 1/2 per
    swap on Bell-diagonal pairs (ideal link states: a 3-link route keeps (1/2)^2), but not on
    single-click pairs at a bright-state population of 0.45, whose |11> part tilts the inner bits,
    and the pair it leaves is the success branch's.
    The planner takes the swap circuit's own probability on the route's states (here 0.59); the
    simulated chain's swap record agrees within 4 binomial sigma, and is > 6 sigma from 1/2.
    Deterministic measurements always succeed."""
    from qstack.scenario import load_scenario

    def chain(nodes: int) -> dict:
        return {
            "seed": 4, "max_time_s": 6000.0,
            "network": {"topology": "chain", "nodes": nodes, "link_lengths_km": [2.0], "bsm": "linear_optics"},
            "hardware": {"node": "trapped_ion", "channel": "telecom_fiber"},
            "link": {"scheme": "single_click", "bright_state_population": 0.45},
            "requests": [{"src": "n0", "dst": f"n{nodes - 1}", "pairs": 1}],
        }

    long = build_network(load_scenario(chain(4)), Simulation(4))
    path = ["n0", "n1", "n2", "n3"]
    assert RouteModel(long, path, idealize=("gate_noise",)).swap_probability == pytest.approx(0.25, abs=1e-12)
    assert RouteModel(long, path, idealize=("bsm",)).swap_probability == 1.0
    sim = Simulation(4)
    network = build_network(load_scenario(chain(3)), sim)
    predicted = RouteModel(network, ["n0", "n1", "n2"]).swap_probability
    model = RouteModel(network, ["n0", "n1", "n2"])
    sim.env.run(until=network.submit(Request("n0", "n2", pairs=1000)))
    swaps = network.swaps
    measured = 1 - network.swap_failures / swaps
    sigma = math.sqrt(predicted * (1 - predicted) / swaps)
    assert abs(predicted - 0.5) > 6 * sigma
    assert measured == pytest.approx(predicted, abs=4 * sigma)
    # On success the pair is the circuit's post-selected state: the planner's fresh-pair fidelity
    # is the delivered pairs' (T2 = 660 s: storage of milliseconds moves it by < 1e-6), where
    # averaging over every outcome, as a deterministic measurement would, says 0.381.
    delivered = np.mean([record.fidelity for record in network.stats[0].records])
    assert model.fidelity(0.0, worst_case=False) == pytest.approx(delivered, abs=1e-5)
    assert abs(delivered - 0.381) > 0.015
