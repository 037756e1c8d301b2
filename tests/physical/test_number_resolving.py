"""Number-resolving station detectors (``Detector.number_resolving``) against closed forms.

Two counts in one detector (a bunched pair, a photon and a dark count) herald nothing with
number-resolving detectors; threshold detectors register them as one click. The outcome tables
are exact, so the closed forms hold to rounding (``rel=1e-12``), not to a sampling tolerance.
"""

import numpy as np
import pytest

from qstack.all_photonic import AllPhotonicChain
from qstack.hardware import Detector, Emitter, Fiber, Memory, PairSource
from qstack.metrics import bell_fidelity
from qstack.physical import HeraldedLink, NodeHardware
from qstack.physical.optics import counting_dark_count_kraus, detection_kraus, detection_op
from qstack.physical.schemes import _ONE_CLICK
from qstack.physical.source_swap import swapped_memory_moments

from engines import assert_engines_agree  # tests/helpers

EMISSION, EFFICIENCY, LENGTH_KM = 0.46, 0.9, 10.0
ETA = EMISSION * 10 ** (-0.02 * LENGTH_KM / 2) * EFFICIENCY  # arm efficiency: emitter, half the fibre, detector


def _node(**emitter):
    return NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4),
                        emitter=Emitter(emission_time_s=3.8e-6, emission_probability=EMISSION, **emitter))


def _link(scheme, resolving, p_dark=0.0, alpha=0.2, node=None, **kw):
    half = Fiber(LENGTH_KM / 2)
    detector = Detector(efficiency=EFFICIENCY, dark_count_probability=p_dark, number_resolving=resolving)
    node = node or _node()
    return HeraldedLink(node, node, half, half, detector, scheme=scheme, bright_state_population=alpha, **kw)


def _fidelities(link):
    return [bell_fidelity(h.rho) for h in link.heralded_states]


# --------------------------------------------------------------------------- the instrument
@pytest.mark.parametrize("visibility", [1.0, 0.7, 0.0])
def test_the_detection_instruments_are_trace_preserving(visibility):
    assert detection_kraus(visibility, number_resolving=True).is_cptp()
    assert detection_kraus(visibility, number_resolving=False).is_cptp()
    assert counting_dark_count_kraus(0.3).is_cptp()


def test_a_bunched_pair_writes_the_both_record_which_no_emitter_scheme_heralds_on():
    ab = np.zeros(4)
    ab[3] = 1.0  # both photon-number qubits hold a photon
    rho = np.outer(ab, ab)
    for resolving, expected in ((False, {1: 0.5, 2: 0.5}), (True, {3: 1.0})):
        record = sum(op @ rho @ op.conj().T for op in detection_kraus(1.0, resolving).data)
        assert {i: round(float(record[i, i].real), 12) for i in range(4) if record[i, i].real > 0} == expected
    assert (1, 1) not in _ONE_CLICK  # the emitter schemes herald on exactly one detector
    # Dark counts never turn 'both' into a herald, and a photon with a dark count in its detector is two counts.
    both = np.diag([0.0, 0.0, 0.0, 1.0])
    after = sum(op @ both @ op.conj().T for op in counting_dark_count_kraus(0.4).data)
    np.testing.assert_allclose(after, both, atol=1e-15)
    click_c = np.diag([0.0, 1.0, 0.0, 0.0])
    after = sum(op @ click_c @ op.conj().T for op in counting_dark_count_kraus(0.4).data)
    np.testing.assert_allclose(np.diag(after).real, [0.0, 0.36, 0.0, 0.64], atol=1e-15)


def test_the_setting_reaches_the_compiled_detection_circuit_and_the_outcome_table():
    threshold, resolving = _link("single_click", False), _link("single_click", True)
    assert threshold.hardware_key != resolving.hardware_key
    assert threshold.operations[3] is detection_op(threshold.visibility, 0.0, 0.0, False)
    assert resolving.operations[3] is detection_op(resolving.visibility, 0.0, 0.0, True)
    assert resolving.success_probability < threshold.success_probability


# --------------------------------------------------------------------------- single click
@pytest.mark.parametrize("alpha", [0.05, 0.2, 0.5])
def test_single_click_threshold_heralds_bunched_pairs_and_resolving_rejects_them(alpha):
    """Equal arms ``eta``, ``V = 1``, no dark counts. One bright spin and its photon detected
    herald ``Psi+-`` (weight ``2 alpha (1 - alpha) eta``); both bright (``|11>``, fidelity 0 with
    the target) herald with threshold detectors when at least one photon arrives,
    ``alpha^2 (1 - (1 - eta)^2)`` (``alpha^2 eta^2`` bunched plus ``alpha^2 2 eta (1 - eta)`` one
    lost), and with number-resolving ones only when exactly one arrives."""
    good = 2 * alpha * (1 - alpha) * ETA
    for resolving, both_bright in ((False, alpha**2 * (1 - (1 - ETA) ** 2)), (True, alpha**2 * 2 * ETA * (1 - ETA))):
        link = _link("single_click", resolving, alpha=alpha)
        assert link.success_probability == pytest.approx(good + both_bright, rel=1e-12)
        for fidelity in _fidelities(link):
            assert fidelity == pytest.approx(good / (good + both_bright), rel=1e-12)
    threshold, resolving = _link("single_click", False, alpha=alpha), _link("single_click", True, alpha=alpha)
    assert min(_fidelities(resolving)) > max(_fidelities(threshold))


# --------------------------------------------------------------------------- two-photon heralds
def _two_round_closed_form(eta, p, resolving):
    """Barrett-Kok at ``alpha = 1/2``, equal arms ``eta``, ``V = 1``, dark counts ``p`` per
    detector and round: ``(success probability, fidelity)``. Per pair of detectors (four alike),
    round 1 leaves: ``Psi+-`` (one photon detected, ``eta/4 r``), ``|00>`` (a dark count,
    ``p q/4``), ``|01>/|10>`` mixed (one photon lost and a dark count, ``(1 - eta) p q/2``),
    ``|11>`` (``two/4``); the flip swaps ``|00>`` and ``|11>``; round 2 heralds each with its
    one-detector probability. ``q = 1 - p``; ``r``: a photon's detector registers one and the
    other none, ``q`` (threshold) or ``q^2`` (a dark count on the photon is a second count);
    ``two``: two photons give one detector's single count, ``(1 - (1 - eta)^2)/2 q`` bunched or
    not (threshold) or ``eta (1 - eta) q^2`` one lost (resolving), plus both lost and a dark
    count, ``(1 - eta)^2 p q``. Correct after correction: ``Psi+-`` then a photon detected (1);
    ``Psi+-`` then a dark count, or the mixed state again (1/2); ``|00>``, ``|11>``: 0."""
    q = 1 - p
    r = q * q if resolving else q
    two = (eta * (1 - eta) * q * q if resolving else (1 - (1 - eta) ** 2) / 2 * q) + (1 - eta) ** 2 * p * q
    one = eta / 2 * r + (1 - eta) * p * q  # a state with one bright spin: a single count in a given detector
    psi, dark_00, mixed, bright_11 = eta / 4 * r, p * q / 4, (1 - eta) * p * q / 2, two / 4
    total = psi * one + dark_00 * two + mixed * one + bright_11 * p * q
    correct = psi * eta / 2 * r + (psi * (1 - eta) * p * q + mixed * one) / 2
    return 4 * total, correct / total


@pytest.mark.parametrize("scheme", ["double_click", "polarisation_photons"])
@pytest.mark.parametrize("p_dark", [0.0, 1e-3, 0.05])
def test_two_photon_heralds_with_dark_counts_follow_the_closed_form(scheme, p_dark):
    """Barrett-Kok and the polarisation Bell measurement give the same table (one photon from
    each end, the same count statistics): with number-resolving detectors the bunched pairs with
    a dark count no longer herald, and the fidelity rises."""
    results = {}
    for resolving in (False, True):
        link = _link(scheme, resolving, p_dark=p_dark)
        probability, fidelity = _two_round_closed_form(ETA, p_dark, resolving)
        assert link.success_probability == pytest.approx(probability, rel=1e-12)
        for f in _fidelities(link):
            assert f == pytest.approx(fidelity, rel=1e-12)
        results[resolving] = fidelity
    if p_dark > 0:
        assert results[True] > results[False] + p_dark / 4
    else:
        assert results[True] == results[False] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("scheme", ["double_click", "polarisation_photons"])
def test_number_resolving_raises_the_fidelity_with_depolarized_emitters_and_dark_counts(scheme):
    node = _node(emitted_state_fidelity=0.9, photon_indistinguishability=0.85)
    threshold = _link(scheme, False, p_dark=0.02, node=node)
    resolving = _link(scheme, True, p_dark=0.02, node=node)
    assert min(_fidelities(resolving)) > max(_fidelities(threshold)) + 0.005
    assert resolving.success_probability < threshold.success_probability


# --------------------------------------------------------------------------- node sources
def _one_count_per_polarisation(mu, eta_a, eta_b, p):
    """One polarisation of both sources: the station photons that survive loss are thermal per
    source, ``l = (eta mu/2)/(1 + eta mu/2)`` (``P(n) = (1 - l) l^n``); a herald needs exactly one
    count in one detector and none in the other: one surviving photon (``(1 - l_a)(1 - l_b)
    (l_a + l_b)``) to that detector (1/2) and no dark count, or none and a dark count there."""
    la, lb = (eta_a * mu / 2) / (1 + eta_a * mu / 2), (eta_b * mu / 2) / (1 + eta_b * mu / 2)
    q = 1 - p
    return q * q * (1 - la) * (1 - lb) * (la + lb) / 2 + p * q * (1 - la) * (1 - lb)


@pytest.mark.parametrize(("mu", "eta_a", "eta_b", "p_dark"), [
    (0.3, 1.0, 1.0, 0.0), (0.3, 0.4, 0.7, 0.0), (0.05, 0.4, 0.7, 0.02), (0.5, 0.9, 0.2, 1e-3),
])
def test_node_sources_with_resolving_detectors_herald_on_exactly_one_count_per_detector(mu, eta_a, eta_b, p_dark):
    expected = _one_count_per_polarisation(mu, eta_a, eta_b, p_dark) ** 2  # H and V independent
    resolving = swapped_memory_moments(mu, eta_a, eta_b, p_dark, True)
    threshold = swapped_memory_moments(mu, eta_a, eta_b, p_dark, False)
    for pattern, (probability, _) in resolving.items():
        # the truncation neglects a thermal mode's tail below 1e-10
        assert probability == pytest.approx(expected, rel=1e-8)
        assert probability < threshold[pattern][0]


def test_node_sources_without_loss_and_resolving_detectors_store_exactly_one_photon_pair():
    """No loss, no dark counts: one count per heralding detector means one photon per
    polarisation in the memories, so the stored pair is the ideal Bell state (multi-pair emission
    rejected); threshold detectors also herald two photons in one detector."""
    source = PairSource(pair_probability=0.3, repetition_rate_hz=1e6, collection_efficiency=1.0)
    node = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4))
    fidelities = {}
    for resolving in (False, True):
        link = HeraldedLink(node, node, Fiber(0.0), Fiber(0.0), Detector(efficiency=1.0, number_resolving=resolving),
                            scheme="node_sources", pair_source=source)
        fidelities[resolving] = _fidelities(link)
    assert fidelities[True] == pytest.approx([1.0] * 4, abs=1e-12)
    assert max(fidelities[False]) < 0.99


# --------------------------------------------------------------------------- engines and refusals
@pytest.mark.parametrize("scheme", ["single_click", "double_click"])
def test_fast_and_aer_engines_agree_on_the_number_resolving_detection(scheme):
    node = _node(emitted_state_fidelity=0.95, photon_indistinguishability=0.8, double_excitation_probability=0.2)
    extra = {"optical_phase_std_rad": 0.5} if scheme == "single_click" else {}
    link = _link(scheme, True, p_dark=0.05, node=node, **extra)
    assert_engines_agree(link.operations, rho_seed=70)


def test_midpoint_source_and_all_photonic_chain_refuse_a_number_resolving_detector():
    source = PairSource(pair_probability=0.1, repetition_rate_hz=1e6)
    memory_node = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4, write_efficiency=0.7))
    resolving = Detector(efficiency=0.9, number_resolving=True)
    with pytest.raises(ValueError, match="detector.number_resolving: cannot act here"):
        HeraldedLink(memory_node, memory_node, Fiber(5.0), Fiber(5.0), resolving, scheme="midpoint_source",
                     pair_source=source)
    with pytest.raises(ValueError, match="detector.number_resolving: cannot act here"):
        AllPhotonicChain(_node(), _node(), Fiber(10.0), resolving, stations=2)
    # threshold detectors are accepted by both
    HeraldedLink(memory_node, memory_node, Fiber(5.0), Fiber(5.0), Detector(efficiency=0.9), scheme="midpoint_source",
                 pair_source=source)
    AllPhotonicChain(_node(), _node(), Fiber(10.0), Detector(efficiency=0.9), stations=2)
