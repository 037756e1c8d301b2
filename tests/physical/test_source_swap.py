"""node_sources: swapping two SPDC pairs at a linear-optics Bell measurement, multi-pair emission
included, against closed forms."""

import numpy as np
import pytest

from qstack.hardware import Detector, Fiber, Memory, PairSource
from qstack.metrics import bell_fidelity
from qstack.physical import HeraldedLink, NodeHardware, NodeSources
from qstack.physical.source_swap import swapped_memory_moments, truncation

from engines import assert_engines_agree  # tests/helpers


def _link(mu=0.01, length_km=0.0, collection=1.0, detector=None, fidelity=1.0, **kw):
    source = PairSource(pair_probability=mu, repetition_rate_hz=1e6, collection_efficiency=collection,
                        emitted_state_fidelity=fidelity)
    node = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4))
    half = Fiber(length_km / 2)
    return HeraldedLink(node, node, half, half, detector or Detector(efficiency=1.0), scheme="node_sources",
                        pair_source=source, **kw)


def _thermal_herald_probability(mu, eta, p_dark):
    """Each station mode is thermal with mean ``eta mu/2``; a 50:50 beam splitter maps two equal
    independent thermal modes to two such modes, so the four detectors see independent thermal
    light: a detector stays dark with ``(1 - p_dark)/(1 + nu)``. Four patterns herald."""
    nu = eta * mu / 2
    dark = (1 - p_dark) / (1 + nu)
    return 4 * (1 - dark) ** 2 * dark**2


@pytest.mark.parametrize("mu", [1e-3, 0.03, 0.2])
@pytest.mark.parametrize("eta", [1.0, 0.3, 0.01])
@pytest.mark.parametrize("p_dark", [0.0, 1e-4])
def test_herald_probability_is_the_exact_thermal_closed_form(mu, eta, p_dark):
    raw = swapped_memory_moments(mu, eta, eta, p_dark)
    total = sum(p for p, _ in raw.values())
    assert total == pytest.approx(_thermal_herald_probability(mu, eta, p_dark), rel=1e-7)


@pytest.mark.parametrize("eta", [1.0, 0.2])
def test_low_mu_success_is_one_pair_each_times_both_detected_times_one_half(eta):
    """Single pairs: the Bell measurement heralds two of four Bell states (1/2); the double pairs
    of one source herald as often again (their two station photons hit the two detectors with
    orthogonal polarisations), so the herald probability is ``mu^2 eta^2`` to leading order."""
    mu = 1e-4
    link = _link(mu=mu, collection=eta)
    assert link.success_probability == pytest.approx(mu**2 * eta**2, rel=5 * mu)
    for herald in link.heralded_states:
        assert bell_fidelity(herald.rho) == pytest.approx(1.0, abs=3 * mu)


def _low_transmission_fidelity(mu):
    """Exact in mu for station transmission t -> 0: one photon detected per polarisation; the
    station photon's annihilation acts on a two-mode squeezed vacuum as ``l m^+`` on its memory
    mode, the rest of the station light is lost, so each memory mode is thermal (mean
    ``n = mu/2``) with ``(m_a^+ +- m_b^+)/sqrt2`` applied. Wick moments of thermal light give
    ``D = (3n + 1)(n + 1)/2`` (a memory's own photon number), ``C = (1 + n)^2/2`` (the swapped
    coherence), ``Q X = n (2n + 1)(n + 1)^2`` (both photons in one polarisation), and
    ``F = (D^2 + C^2) / (2 (D^2 + Q X)) = 1 - 3 mu + O(mu^2)``."""
    n = mu / 2
    d, c, qx = (3 * n + 1) * (n + 1) / 2, (1 + n) ** 2 / 2, n * (2 * n + 1) * (n + 1) ** 2
    return (d**2 + c**2) / (2 * (d**2 + qx))


@pytest.mark.parametrize("mu", [0.002, 0.05, 0.3])
def test_multi_pair_fidelity_at_low_transmission_follows_the_thermal_closed_form(mu):
    link = _link(mu=mu, collection=1e-4)
    for herald in link.heralded_states:
        assert bell_fidelity(herald.rho) == pytest.approx(_low_transmission_fidelity(mu), abs=2e-3 * max(mu, 0.01))
    if mu <= 0.05:
        assert _low_transmission_fidelity(mu) == pytest.approx(1 - 3 * mu, abs=20 * mu**2)


def test_fidelity_falls_with_mu_and_with_the_sources_imperfection():
    fidelities = [bell_fidelity(_link(mu=mu, collection=0.1).heralded_states[0].rho) for mu in (0.001, 0.01, 0.1)]
    assert fidelities[0] > fidelities[1] > fidelities[2]
    clean = bell_fidelity(_link(mu=1e-5).heralded_states[0].rho)
    noisy = bell_fidelity(_link(mu=1e-5, fidelity=0.95).heralded_states[0].rho)
    # Each source's depolarizing (p = 4(1 - F)/3) lands on its stored photon; a one-qubit
    # depolarizing moves the Bell fidelity towards 1/4: F - 1/4 -> (1 - p)(F - 1/4), once per node.
    p = 4 * (1 - 0.95) / 3
    assert noisy == pytest.approx(0.25 + (1 - p) ** 2 * (clean - 0.25), abs=1e-12)


def test_truncation_keeps_the_neglected_probability_below_1e_10():
    for mu in (1e-4, 0.05, 0.5):
        n = truncation(mu)
        l2 = (mu / 2) / (1 + mu / 2)
        assert l2 ** (n + 1) < 1e-10


def test_timing_and_members():
    link = _link(mu=0.02, length_km=10.0, multiplexing=3)
    assert isinstance(link, NodeSources)
    assert link.emission_time_s == pytest.approx(1e-6)
    assert link.attempt_time_s == pytest.approx(1e-6 + 2 * link.channel_a.delay_s)
    assert link.qubit_times_before_herald_s == (link.heralding_time_s, link.heralding_time_s)
    assert link.bright_state_population == 0.02
    assert link.success_probability == pytest.approx(1 - (1 - link.success_probability_per_mode) ** 3)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="pair_source"):
        HeraldedLink(NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0)), NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0)),
                     Fiber(1.0), Fiber(1.0), Detector(), scheme="node_sources")
    with pytest.raises(ValueError, match=r"pair_probability .*mean pair number.*\(0, 0.5\]"):
        _link(mu=0.8)


def test_fast_and_aer_engines_agree_on_its_circuits():
    link = _link(mu=0.05, collection=0.3, fidelity=0.9)
    assert_engines_agree(link.operations, rho_seed=40, draw_seeds=[1])
