"""Physical layer: heralded generation against closed forms; engines agree on its circuits."""


import numpy as np
import pytest

from qstack.hardware import Detector, Emitter, Fiber, Memory, PairSource
from qstack.metrics import bell_fidelity
from qstack.physical import HeraldedLink, NodeHardware

from engines import assert_engines_agree  # tests/helpers

C = 299_792_458.0


def _node(**emitter):
    return NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4), emitter=Emitter(emission_time_s=3.8e-6, **emitter))


def _link(scheme="single_click", length_km=10.0, alpha=0.05, detector=None, node=None, **kw):
    node = node or _node(emission_probability=0.46)
    half = Fiber(length_km / 2)
    return HeraldedLink(node, node, half, half, detector or Detector(efficiency=0.9), scheme=scheme,
                        bright_state_population=alpha, **kw)


@pytest.mark.parametrize("alpha", [0.02, 0.05, 0.2])
@pytest.mark.parametrize("length_km", [1.0, 25.0])
def test_single_click_success_and_fidelity_follow_the_optics(alpha, length_km):
    link = _link(length_km=length_km, alpha=alpha)
    eta = 0.46 * 10 ** (-0.02 * length_km / 2) * 0.9
    # Exactly one click: one bright spin and its photon detected, or both bright and at least one
    # photon detected (bunched pairs hit one detector).
    exact = 2 * alpha * (1 - alpha) * eta + alpha**2 * eta * (2 - eta)
    assert link.success_probability == pytest.approx(exact, rel=1e-12)
    assert link.success_probability == pytest.approx(2 * alpha * eta, rel=alpha + 1e-12)
    for herald in link.heralded_states:
        assert bell_fidelity(herald.rho) == pytest.approx(2 * alpha * (1 - alpha) * eta / exact, abs=1e-12)
        assert bell_fidelity(herald.rho) == pytest.approx(1 - alpha, abs=alpha * eta + 1e-12)


@pytest.mark.parametrize("length_km", [0.0, 10.0, 50.0])
def test_barrett_kok_success_is_eta_squared_over_two_with_perfect_fidelity(length_km):
    link = _link("double_click", length_km=length_km)
    eta = 0.46 * 10 ** (-0.02 * length_km / 2) * 0.9
    assert link.success_probability == pytest.approx(eta**2 / 2, rel=1e-12)
    assert len(link.heralded_states) == 4
    for herald in link.heralded_states:
        assert bell_fidelity(herald.rho) == pytest.approx(1.0, abs=1e-12)


def test_midpoint_source_success_and_fidelity():
    source = PairSource(pair_probability=0.1, repetition_rate_hz=1e6, collection_efficiency=0.8, emitted_state_fidelity=0.93)
    node = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4, write_efficiency=0.7))
    link = _link("midpoint_source", length_km=20.0, node=node, pair_source=source)
    eta = 0.8 * 10 ** (-0.02 * 10) * 0.7
    assert link.success_probability == pytest.approx(0.1 * eta**2, rel=1e-12)
    (herald,) = link.heralded_states
    assert bell_fidelity(herald.rho) == pytest.approx(0.93, abs=1e-12)


def test_dark_counts_and_distinguishable_photons_lower_the_fidelity():
    clean = _link("double_click")
    dark = _link("double_click", detector=Detector(efficiency=0.9, dark_count_probability=1e-3))
    blurred = _link("double_click", node=_node(emission_probability=0.46, photon_indistinguishability=0.8))
    f_clean = min(bell_fidelity(h.rho) for h in clean.heralded_states)
    assert max(bell_fidelity(h.rho) for h in dark.heralded_states) < f_clean - 1e-4
    assert max(bell_fidelity(h.rho) for h in blurred.heralded_states) < f_clean - 1e-2
    assert dark.success_probability > clean.success_probability


def test_multiplexing_and_attempt_time():
    single = _link(length_km=30.0)
    multi = _link(length_km=30.0, multiplexing=8)
    p = single.success_probability
    assert multi.success_probability == pytest.approx(1 - (1 - p) ** 8, rel=1e-12)
    assert single.attempt_time_s == pytest.approx(3.8e-6 + 2 * 15e3 * 1.44 / C, rel=1e-12)
    bk = _link("double_click", length_km=30.0)
    assert bk.attempt_time_s == pytest.approx(2 * 3.8e-6 + 2 * 15e3 * 1.44 / C, rel=1e-12)


def test_bad_link_parameters_are_refused():
    with pytest.raises(ValueError, match="scheme"):
        _link("teleport")
    with pytest.raises(ValueError, match="bright_state_population"):
        _link(alpha=1.5)
    with pytest.raises(ValueError, match="multiplexing"):
        _link(multiplexing=0)
    with pytest.raises(ValueError, match="pair_source"):
        _link("midpoint_source")


@pytest.mark.parametrize(("scheme", "single_click_noise"), [
    ("single_click", {}), ("double_click", {}), ("midpoint_source", {}),
    ("single_click", {"double_excitation_probability": 0.3, "optical_phase_std_rad": 0.7}),
    ("double_click", {"double_excitation_probability": 0.3}),
])
def test_fast_and_aer_engines_agree_on_every_heralding_circuit(scheme, single_click_noise):
    source = PairSource(pair_probability=0.2, repetition_rate_hz=1e6, collection_efficiency=0.8, emitted_state_fidelity=0.9)
    noise = dict(single_click_noise)
    extra = {"optical_phase_std_rad": noise.pop("optical_phase_std_rad")} if "optical_phase_std_rad" in noise else {}
    node = _node(emission_probability=0.5, emitted_state_fidelity=0.95, photon_indistinguishability=0.9, **noise)
    link = _link(scheme, detector=Detector(efficiency=0.8, dark_count_probability=0.05), node=node, pair_source=source,
                 **extra)
    assert_engines_agree(link.operations, rho_seed=10)


# --------------------------------------------------------------------------- heterogeneous links
from qstack.hardware import FreeSpace, Transducer  # noqa: E402


def _with_interface(node, transducer):
    import dataclasses

    return dataclasses.replace(node, interface=transducer)


@pytest.mark.parametrize("efficiency", [0.9, 0.3, 0.087])
def test_noiseless_transducer_multiplies_success_by_its_efficiency_per_photon_crossing_it(efficiency):
    plain = _node(emission_probability=0.46)
    converted = _with_interface(plain, Transducer(efficiency=efficiency))
    base = _link("double_click", length_km=20.0, node=plain)
    # Barrett-Kok needs one photon from each end: converter at one end -> x e, at both -> x e^2
    one_end = HeraldedLink(converted, plain, Fiber(10.0), Fiber(10.0), Detector(efficiency=0.9), scheme="double_click")
    both = _link("double_click", length_km=20.0, node=converted)
    assert one_end.success_probability == pytest.approx(efficiency * base.success_probability, rel=1e-12)
    assert both.success_probability == pytest.approx(efficiency**2 * base.success_probability, rel=1e-12)
    # midpoint source: each absorbed photon crosses its node's interface once
    source = PairSource(pair_probability=0.1, repetition_rate_hz=1e6)
    memory_node = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4, write_efficiency=0.7))
    plain_mid = _link("midpoint_source", length_km=20.0, node=memory_node, pair_source=source)
    conv_mid = _link("midpoint_source", length_km=20.0, node=_with_interface(memory_node, Transducer(efficiency=efficiency)),
                     pair_source=source)
    assert conv_mid.success_probability == pytest.approx(efficiency**2 * plain_mid.success_probability, rel=1e-12)
    for herald in conv_mid.heralded_states:
        assert bell_fidelity(herald.rho) == pytest.approx(1.0, abs=1e-12)


def test_single_click_success_scales_with_efficiency_to_leading_order_in_alpha():
    plain = _node(emission_probability=0.46)
    converted = _with_interface(plain, Transducer(efficiency=0.3))
    alpha = 0.01
    ratio = _link(alpha=alpha, node=converted).success_probability / _link(alpha=alpha, node=plain).success_probability
    assert ratio == pytest.approx(0.3, rel=2 * alpha)


def test_transducer_noise_photons_make_false_heralds_that_lower_the_fidelity():
    plain = _node(emission_probability=0.46)
    clean = _link("double_click", node=_with_interface(plain, Transducer(efficiency=0.2)))
    noisy_link = _link("double_click", node=_with_interface(plain, Transducer(efficiency=0.2, added_noise_photons=0.05)))
    assert noisy_link.success_probability > clean.success_probability
    f_clean = min(bell_fidelity(h.rho) for h in clean.heralded_states)
    f_noisy = max(bell_fidelity(h.rho) for h in noisy_link.heralded_states)
    assert f_clean == pytest.approx(1.0, abs=1e-12)
    assert f_noisy < 0.99
    source = PairSource(pair_probability=0.1, repetition_rate_hz=1e6)
    memory_node = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4))
    mid = _link("midpoint_source", length_km=50.0, node=_with_interface(memory_node, Transducer(0.5, 0.02)),
                pair_source=source)
    (herald,) = mid.heralded_states
    assert bell_fidelity(herald.rho) < 0.99


def test_transducer_bandwidth_limits_the_attempt_rate():
    plain = _node(emission_probability=0.46)
    slow = _with_interface(plain, Transducer(efficiency=1.0, bandwidth_hz=1e5))  # 10 us > 3.8 us emission
    fast = _with_interface(plain, Transducer(efficiency=1.0, bandwidth_hz=1e9))
    assert _link(node=slow).emission_time_s == pytest.approx(1e-5)
    assert _link(node=fast).emission_time_s == pytest.approx(3.8e-6)
    assert _link("double_click", node=slow).emission_time_s == pytest.approx(2e-5)


def test_free_space_arm_heralds_sooner_than_fibre_of_the_same_length():
    node = _node(emission_probability=0.46)
    fibre = HeraldedLink(node, node, Fiber(25.0), Fiber(25.0), Detector())
    air = HeraldedLink(node, node, FreeSpace(25.0), FreeSpace(25.0), Detector())
    mixed = HeraldedLink(node, node, Fiber(25.0), FreeSpace(25.0), Detector())
    assert air.heralding_time_s == pytest.approx(2 * 25e3 / C, rel=1e-12)
    assert air.heralding_time_s < mixed.heralding_time_s == fibre.heralding_time_s
    assert (air.channel_kind, fibre.channel_kind, mixed.channel_kind) == ("free_space", "fiber", "fiber+free_space")


def test_free_space_background_adds_false_clicks_at_the_station():
    node = _node(emission_probability=0.46)
    dark = FreeSpace(5.0, background_count_rate_hz=2e6, detection_window_s=1e-9)
    quiet = HeraldedLink(node, node, FreeSpace(5.0), FreeSpace(5.0), Detector(), scheme="double_click")
    bright = HeraldedLink(node, node, dark, dark, Detector(), scheme="double_click")
    assert bright.dark_count_probability == pytest.approx(dark.background_probability, rel=1e-12)
    assert bright.success_probability > quiet.success_probability
    assert max(bell_fidelity(h.rho) for h in bright.heralded_states) < min(bell_fidelity(h.rho) for h in quiet.heralded_states)


def test_heterogeneous_ends_use_each_nodes_own_emitter():
    ion = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0), emitter=Emitter(emission_time_s=1e-6, collection_efficiency=0.1),
                       interface=Transducer(efficiency=0.3))
    nv = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0), emitter=Emitter(emission_time_s=5e-6, collection_efficiency=0.2),
                      interface=Transducer(efficiency=0.17))
    link = HeraldedLink(ion, nv, Fiber(5.0), Fiber(5.0), Detector(efficiency=0.9), scheme="double_click")
    eta_a = 0.1 * 0.3 * 10 ** (-0.1) * 0.9
    eta_b = 0.2 * 0.17 * 10 ** (-0.1) * 0.9
    assert link.success_probability == pytest.approx(eta_a * eta_b / 2, rel=1e-12)
    assert link.emission_time_s == pytest.approx(2 * 5e-6)
    assert link.interface_efficiencies == (0.3, 0.17)
    assert link.logical_transmission == pytest.approx(min(eta_a, eta_b)) and link.photons_per_qubit == 1


def test_double_click_dephases_stored_nuclear_spins_at_the_schemes_alpha_of_one_half():
    # Barrett-Kok prepares the spins at alpha = 1/2 whatever the setting; a stored nuclear spin
    # dephases per attempt with p = (alpha/2)(1 - exp(-(2 pi c tau)^2 / 2)) (Kalb et al., PRA 97,
    # 062330 (2018)), composed over n attempts to (1 - (1 - 2p)^n) / 2.
    import math

    from qstack.hardware import NuclearSpinRegister

    link = _link("double_click", alpha=0.05)
    assert link.bright_state_population == 0.5
    register = NuclearSpinRegister(coupling_hz=80.0, reset_time_constant_s=1.2e-6, t1_s=math.inf, t2_s=75.0)
    p = 0.25 * (1 - math.exp(-((2 * math.pi * 80.0 * 1.2e-6) ** 2) / 2))
    error = register.dephasing_error(1000, link.bright_state_population)
    flip = min(error.probabilities)  # the phase flip's (< 1/2); the identity's is 1 - flip
    assert flip == pytest.approx((1 - (1 - 2 * p) ** 1000) / 2, rel=1e-9)



# --------------------------------------------------------------------------- single-click optical imperfections
def _coherence(rho):
    """``<01|rho|10>`` of a two-qubit state (the heralded Psi coherence before correction)."""
    return rho[1, 2]


@pytest.mark.parametrize("std_rad", [0.1, 0.262, 0.8])
def test_optical_phase_noise_multiplies_the_heralded_coherence_by_exp_minus_sigma_squared_over_two(std_rad):
    clean, noisy = _link(alpha=0.1), _link(alpha=0.1, optical_phase_std_rad=std_rad)
    assert noisy.success_probability == pytest.approx(clean.success_probability, rel=1e-12)  # no click changes
    for a, b in zip(clean.heralded_states, noisy.heralded_states):
        # corrected to Phi+: the coherence is <00|rho|11>
        assert b.rho[0, 3] == pytest.approx(np.exp(-std_rad**2 / 2) * a.rho[0, 3], abs=1e-12)
        np.testing.assert_allclose(np.diag(b.rho), np.diag(a.rho), atol=1e-12)  # populations kept


@pytest.mark.parametrize("p_de", [0.04, 0.3, 1.0])
def test_double_excitation_leaves_the_single_click_state_with_coherence_one_minus_p_de(p_de):
    # Each bright spin's coherence shrinks by sqrt(1 - p_de) (the lost early photon's which-path
    # information); the heralded |01>,|10> coherence involves both spins: (1 - p_de).
    clean = _link(alpha=0.1)
    excited = _link(alpha=0.1, node=_node(emission_probability=0.46, double_excitation_probability=p_de))
    assert excited.success_probability == pytest.approx(clean.success_probability, rel=1e-12)
    for a, b in zip(clean.heralded_states, excited.heralded_states):
        assert b.rho[0, 3] == pytest.approx((1 - p_de) * a.rho[0, 3], abs=1e-12)
        np.testing.assert_allclose(np.diag(b.rho), np.diag(a.rho), atol=1e-12)


def test_single_click_phase_noise_and_double_excitation_are_validated():
    with pytest.raises(ValueError, match="optical_phase_std_rad must be a finite number >= 0"):
        _link(optical_phase_std_rad=-0.1)
    with pytest.raises(ValueError, match="optical_phase_std_rad must be a finite number >= 0"):
        _link(optical_phase_std_rad=float("inf"))
    with pytest.raises(ValueError, match="insensitive to the arms' optical phase"):
        _link("double_click", optical_phase_std_rad=0.1)
    with pytest.raises(ValueError, match="Emitter.double_excitation_probability"):
        _node(double_excitation_probability=1.2)


def test_a_phase_noise_or_alpha_that_cannot_act_is_refused_by_the_scenario():
    from qstack.runner import run_scenario
    from qstack.scenario import ScenarioError, load_scenario

    for settings, message in (
        ({"link.scheme": "double_click", "link.bright_state_population": 0.1}, "link.bright_state_population: cannot act"),
        ({"link.scheme": "double_click", "link.optical_phase_std_rad": 0.2}, "link.optical_phase_std_rad: cannot act"),
    ):
        with pytest.raises(ScenarioError, match=message):
            run_scenario(load_scenario(None, {**settings, "requests.0.pairs": 1}))
    with pytest.raises(ScenarioError, match="link.optical_phase_std_rad"):
        load_scenario(None, {"link.optical_phase_std_rad": -1})
    clean = run_scenario(load_scenario(None, {"requests.0.pairs": 3}))
    noisy = run_scenario(load_scenario(None, {"requests.0.pairs": 3, "link.optical_phase_std_rad": 0.5}))
    assert noisy.fidelity.mean < clean.fidelity.mean - 0.02  # the key acts through the heralded state


@pytest.mark.parametrize("visibility", [0.6, 0.9])
def test_barrett_kok_with_identical_partly_distinguishable_emitters_has_fidelity_one_plus_v_over_two(visibility):
    # Each round's which-path coherence shrinks by the mode overlap sqrt(V); two rounds: V.
    link = _link("double_click", node=_node(emission_probability=0.46, photon_indistinguishability=visibility))
    for herald in link.heralded_states:
        assert bell_fidelity(herald.rho) == pytest.approx((1 + visibility) / 2, abs=1e-12)
    # unlike emitters interfere at the geometric mean of their figures
    a, b = _node(photon_indistinguishability=0.64), _node(photon_indistinguishability=1.0)
    mixed = HeraldedLink(a, b, Fiber(1.0), Fiber(1.0), Detector(efficiency=0.9), scheme="double_click")
    assert bell_fidelity(mixed.heralded_states[0].rho) == pytest.approx((1 + 0.8) / 2, abs=1e-12)


@pytest.mark.parametrize("alpha", [0.03, 0.1, 0.3])
@pytest.mark.parametrize(("visibility", "std_rad", "p_de"), [(0.9, 0.2618, 0.04), (0.6, 0.8, 0.3)])
def test_single_click_fidelity_against_alpha_with_every_optical_effect_on_follows_the_closed_form(
        alpha, visibility, std_rad, p_de):
    # The single-click heralded state at bright-state population alpha with visibility V, optical
    # phase noise sigma and double excitation p_de together (no dark counts), per detector:
    #   |01>, |10>: alpha (1 - alpha) eta each; their coherence is that times the mode overlap
    #   sqrt(V), exp(-sigma^2 / 2) and (1 - p_de);
    #   |11> (both bright) heralds one click when one photon arrives, 2 eta (1 - eta), or both
    #   arrive and bunch, eta^2 (1 + V) / 2 (the anti-bunched half of the rest clicks twice).
    # F = (p_single / 2 + coherence) / P(success): the effects multiply, none is counted twice.
    node = _node(emission_probability=0.46, photon_indistinguishability=visibility, double_excitation_probability=p_de)
    link = _link(length_km=2.0, alpha=alpha, node=node, optical_phase_std_rad=std_rad)
    eta = 0.46 * 10 ** (-0.02 * 1.0) * 0.9
    single = 2 * alpha * (1 - alpha) * eta
    both = alpha**2 * (2 * eta * (1 - eta) + eta**2 * (1 + visibility) / 2)
    coherence = alpha * (1 - alpha) * eta * np.sqrt(visibility) * np.exp(-std_rad**2 / 2) * (1 - p_de)
    assert link.success_probability == pytest.approx(single + both, rel=1e-12)
    assert len(link.heralded_states) == 2
    for herald in link.heralded_states:
        assert herald.probability == pytest.approx((single + both) / 2, rel=1e-12)
        assert bell_fidelity(herald.rho) == pytest.approx((single / 2 + coherence) / (single + both), abs=1e-12)


def test_midpoint_source_exposes_the_absorption_probability_as_what_a_stored_spin_feels_per_attempt():
    """No emitter is driven: the communication qubit beside a stored spin changes only when it
    absorbs a photon, ``p_pair * collection * transmissivity * write_efficiency`` per attempt
    (the more exposed end); the scenario's bright-state population does not enter."""
    source = PairSource(pair_probability=0.1, repetition_rate_hz=1e6, collection_efficiency=0.8)
    near = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4, write_efficiency=0.7))
    far = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4, write_efficiency=0.5))
    for alpha in (0.05, 0.4):
        link = HeraldedLink(near, far, Fiber(10.0), Fiber(30.0), Detector(), scheme="midpoint_source",
                            bright_state_population=alpha, pair_source=source)
        expected = 0.1 * 0.8 * 10 ** (-0.02 * 10.0) * 0.7
        assert link.bright_state_population == pytest.approx(expected, rel=1e-12)


def _midpoint(max_pulses_in_flight=1, capacity=4, multiplexing=1, length_km=2000.0):
    source = PairSource(pair_probability=0.05, repetition_rate_hz=1e8, max_pulses_in_flight=max_pulses_in_flight)
    node = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=capacity))
    half = Fiber(length_km / 2, attenuation_db_per_km=0.01)
    return HeraldedLink(node, node, half, half, Detector(), scheme="midpoint_source", pair_source=source,
                        multiplexing=multiplexing)


def test_a_source_that_waits_for_each_herald_attempts_once_per_round_trip():
    link = _midpoint()
    assert link.attempt_time_s == link.emission_time_s + link.heralding_time_s


def test_a_free_running_source_attempts_at_its_repetition_rate_so_pairs_come_at_r_times_p():
    link = _midpoint(max_pulses_in_flight=float("inf"), capacity=10**9)
    assert link.attempt_time_s == pytest.approx(1e-8, rel=1e-12)
    assert link.success_probability / link.attempt_time_s == pytest.approx(1e8 * link.success_probability, rel=1e-12)


@pytest.mark.parametrize("capacity, multiplexing, in_flight", [(10, 1, 10), (12, 3, 4), (4, 4, 1)])
def test_memory_modes_bound_the_attempts_in_flight(capacity, multiplexing, in_flight):
    link = _midpoint(max_pulses_in_flight=float("inf"), capacity=capacity, multiplexing=multiplexing)
    cycle = link.emission_time_s + link.heralding_time_s
    assert link.attempts_in_flight == in_flight
    assert link.attempt_time_s == pytest.approx(cycle / in_flight, rel=1e-12)
    bounded = _midpoint(max_pulses_in_flight=3, capacity=capacity, multiplexing=multiplexing)
    assert bounded.attempt_time_s == pytest.approx(cycle / min(3, in_flight), rel=1e-12)


@pytest.mark.parametrize("bad", [0, 2.5, -1, float("nan"), True])
def test_pulses_in_flight_must_be_a_count_or_inf(bad):
    with pytest.raises(ValueError, match="max_pulses_in_flight must be an integer >= 1 or inf"):
        PairSource(pair_probability=0.1, repetition_rate_hz=1e6, max_pulses_in_flight=bad)


def test_a_free_running_source_delivers_r_times_p_pairs_per_second_in_a_run():
    """Over a 200 km link (1.5 ms heralds) the source fires every 1 us; 400 pairs at rate R p
    take N / (R p) seconds (Poisson: the relative error of the rate is 1/sqrt(N); every stored
    pair is recalled, read efficiency 1). Waiting for each herald instead gives 1500 times less."""
    from qstack import load_scenario, run_scenario

    raw = {
        "seed": 3, "max_time_s": 1e4,
        "network": {"topology": "chain", "nodes": 2, "link_lengths_km": [200.0]},
        "hardware": {"node": "rare_earth_multimode", "channel": "telecom_fiber", "source": "spdc_source",
                     "overrides": {"source.pair_source.repetition_rate_hz": 1e6,
                                   "source.pair_source.max_pulses_in_flight": float("inf"),
                                   "node.memory.capacity": 10**6, "node.memory.read_efficiency": 1.0}},
        "link": {"scheme": "midpoint_source"},
        "requests": [{"src": "n0", "dst": "n1", "pairs": 400}],
    }
    report = run_scenario(load_scenario(raw))
    row = report.links[0]
    expected_hz = 1e6 * row.p_attempt
    assert row.attempt_time_s == pytest.approx(1e-6)
    assert report.throughput_hz == pytest.approx(expected_hz, rel=4 / 400**0.5)
