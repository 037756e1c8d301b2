"""polarisation_photons: one spin-entangled photon per node, a linear-optics Bell measurement,
against closed forms; the engines agree on its circuits."""

import numpy as np
import pytest

from qstack.hardware import Detector, Emitter, Fiber, Memory
from qstack.metrics import bell_fidelity
from qstack.physical import HeraldedLink, NodeHardware, PolarisationPhotons

from engines import assert_engines_agree  # tests/helpers


def _link(collection=0.3, fidelity=1.0, visibility=1.0, p_dark=0.0, length_km=0.0, **kw):
    node = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0, capacity=4),
                        emitter=Emitter(emission_time_s=1e-6, collection_efficiency=collection,
                                        emitted_state_fidelity=fidelity, photon_indistinguishability=visibility))
    half = Fiber(length_km / 2)
    return HeraldedLink(node, node, half, half, Detector(efficiency=0.9, dark_count_probability=p_dark),
                        scheme="polarisation_photons", **kw)


@pytest.mark.parametrize("length_km", [0.0, 20.0])
@pytest.mark.parametrize("visibility", [1.0, 0.7])
def test_success_is_eta_squared_over_two_whatever_the_interference(length_km, visibility):
    """Of the four Bell states of the photons two give a herald pattern (1/2); distinguishable
    photons with orthogonal polarisations land in herald patterns just as often."""
    link = _link(length_km=length_km, visibility=visibility)
    eta = 0.3 * 10 ** (-0.02 * length_km / 2) * 0.9
    assert isinstance(link, PolarisationPhotons)
    assert link.success_probability == pytest.approx(eta**2 / 2, rel=1e-12)
    assert len(link.heralded_states) == 4


@pytest.mark.parametrize("fidelity", [1.0, 0.97, 0.92])
def test_two_werner_spin_photon_states_swap_into_the_product_of_their_werner_parameters(fidelity):
    w = (4 * fidelity - 1) / 3
    for herald in _link(fidelity=fidelity).heralded_states:
        assert bell_fidelity(herald.rho) == pytest.approx((1 + 3 * w**2) / 4, abs=1e-12)


def test_distinguishable_photons_herald_classically_correlated_spins():
    """With visibility V (two identical emitters of indistinguishability 0.8: V = 0.8) the photons
    interfere; otherwise the spins are projected onto |01> or |10> (F = 1/2): F = V + (1 - V)/2."""
    v = 0.8
    for herald in _link(visibility=0.8).heralded_states:
        assert bell_fidelity(herald.rho) == pytest.approx(v + (1 - v) / 2, abs=1e-12)


def test_dark_counts_herald_false_pairs_as_the_click_statistics_say():
    """Per pattern: two photons in their detectors ``eta^2/8``; one photon in one of the two
    detectors and a dark count in the other ``eta (1 - eta) p`` (spins uncorrelated, F = 1/4); a
    bunched pair and a dark count ``eta^2 p / 4`` (spins |00>/|11>, F = 0 after the correction);
    two dark counts ``(1 - eta)^2 p^2`` (F = 1/4); every other detector silent ``(1 - p)^2``."""
    p, eta = 1e-3, 0.3 * 0.9
    link = _link(p_dark=p)
    silent = (1 - p) ** 2
    good, one, bunched, none = eta**2 / 8, eta * (1 - eta) * p, eta**2 * p / 4, (1 - eta) ** 2 * p**2
    total = silent * (good + one + bunched + none)
    for herald in link.heralded_states:
        assert herald.probability == pytest.approx(total, rel=1e-12)
        assert bell_fidelity(herald.rho) == pytest.approx(silent * (good + (one + none) / 4) / total, abs=1e-12)


def test_members_and_timing():
    link = _link(length_km=10.0, bright_state_population=0.1)
    assert link.bright_state_population == 0.5
    assert link.emission_time_s == pytest.approx(1e-6)
    assert link.attempt_time_s == pytest.approx(1e-6 + 2 * link.channel_a.delay_s)


def test_a_node_without_emitter_is_refused():
    node = NodeHardware(memory=Memory(t1_s=1.0, t2_s=1.0))
    with pytest.raises(ValueError, match="emitter"):
        HeraldedLink(node, node, Fiber(1.0), Fiber(1.0), Detector(), scheme="polarisation_photons")


def test_fast_and_aer_engines_agree_on_its_circuits():
    link = _link(fidelity=0.9)
    assert_engines_agree(link.operations, rho_seed=60, draw_seeds=[2])
