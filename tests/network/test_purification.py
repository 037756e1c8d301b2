"""Purification in the network: the policy, its registered schemes, and their one definition
shared by the simulation and the planner's prediction."""

import math

import numpy as np
import pytest

import qstack
from qstack.network import PURIFICATION_METHODS, PurificationPolicy, PurificationScheme, Request
from qstack.physics import bell_fidelity, werner_state
from qstack.protocols import GateNoise
from qstack.protocols.purification import METHODS

from .chains import chain, dejmps, werner


def _purifying_chain(n_links, policy, seed=2, f_link=0.85):
    return chain(n_links, seed=seed, source_fidelity=f_link, capacity=8, purification=policy)


@pytest.mark.parametrize("scheme,rounds", [("recurrence", 1), ("recurrence", 2), ("pumping", 2), ("pumping", 3)])
def test_link_purification_delivers_the_dejmps_recurrence(scheme, rounds):
    policy = PurificationPolicy(scope="link", scheme=scheme, rounds=rounds)
    sim, network, names = _purifying_chain(1, policy)
    sim.env.run(until=network.submit(Request(names[0], names[1], pairs=4)))
    fresh = werner(0.85)
    state = fresh
    for _ in range(rounds):
        state = dejmps(state, state if scheme == "recurrence" else fresh)
    assert len(network.stats[0].records) == 4
    for record in network.stats[0].records:
        assert record.fidelity == pytest.approx(state[0], abs=1e-9)
    assert network.purifications >= rounds * 4


@pytest.mark.parametrize("scheme,rounds", [("recurrence", 2), ("pumping", 3)])
def test_the_scheme_predicts_what_the_network_delivers(scheme, rounds):
    policy = PurificationPolicy(scope="link", scheme=scheme, rounds=rounds)
    predicted = bell_fidelity(policy.predict(werner_state(0.85)))
    sim, network, names = _purifying_chain(1, policy)
    sim.env.run(until=network.submit(Request(names[0], names[1], pairs=2)))
    assert all(r.fidelity == pytest.approx(predicted, abs=1e-9) for r in network.stats[0].records)
    assert predicted > 0.85 + 0.02


def test_measured_purification_success_matches_the_protocol():
    policy = PurificationPolicy(scope="link", rounds=1)
    sim, network, names = _purifying_chain(1, policy, f_link=0.7)
    sim.env.run(until=network.submit(Request(names[0], names[1], pairs=600)))
    a, b, c, d = werner(0.7)
    p = (a + b) ** 2 + (c + d) ** 2
    measured = 1 - network.purification_failures / network.purifications
    assert abs(measured - p) < 4 * math.sqrt(p * (1 - p) / network.purifications)


def test_end_to_end_purification_of_a_swapped_pair():
    policy = PurificationPolicy(scope="end_to_end", rounds=1)
    sim, network, names = _purifying_chain(2, policy)
    sim.env.run(until=network.submit(Request(names[0], names[2], pairs=3)))
    w = (4 * 0.85 - 1) / 3
    swapped = werner(0.25 + 0.75 * w * w)
    expected = dejmps(swapped, swapped)[0]
    assert len(network.stats[0].records) == 3
    assert all(r.fidelity == pytest.approx(expected, abs=1e-9) for r in network.stats[0].records)
    assert all(r.breakdown.purification_s > 0 for r in network.stats[0].records)


def test_purification_policy_validates_its_fields():
    with pytest.raises(ValueError, match="purification.scope"):
        PurificationPolicy(scope="everywhere")
    with pytest.raises(ValueError, match="purification.method"):
        PurificationPolicy(method="filtering")
    with pytest.raises(ValueError, match="purification.scheme must be one of recurrence, pumping"):
        PurificationPolicy(scheme="hashing")
    with pytest.raises(ValueError, match="purification.rounds"):
        PurificationPolicy(scope="link", rounds=-1)
    with pytest.raises(ValueError, match="purification.rounds needs"):
        PurificationPolicy(rounds=1)
    assert PurificationPolicy(scope="link", rounds=3).held_pairs == 4
    assert PurificationPolicy(scope="link", scheme="pumping", rounds=3).held_pairs == 2
    assert PurificationPolicy().held_pairs == 1


@pytest.mark.parametrize("scope,link,end_to_end", [("none", 0, 0), ("link", 2, 0), ("end_to_end", 0, 2)])
def test_the_policy_says_where_its_rounds_apply(scope, link, end_to_end):
    policy = PurificationPolicy(scope=scope, rounds=0 if scope == "none" else 2)
    assert (policy.link_rounds, policy.end_to_end_rounds) == (link, end_to_end)


def test_the_methods_are_the_protocols_own():
    assert PURIFICATION_METHODS is METHODS


def test_the_schemes_are_registered_and_choose_their_partners():
    schemes = qstack.registered("purification")
    assert {"recurrence", "pumping"} <= set(schemes)
    recurrence, pumping = schemes["recurrence"](), schemes["pumping"]()
    held = {2: "kept"}
    assert recurrence.partner_level(0, held) == 0  # only a pair of its own level
    assert pumping.partner_level(0, held) == 2  # the kept pair, whatever its level
    assert pumping.partner_level(0, {}) is None


def test_a_registered_scheme_drives_the_network():
    @qstack.register("purification", "test_never_pairs")
    class NeverPairs(PurificationScheme):
        """Holds every pair at level 0 and never purifies: a request could never finish."""

        def held_pairs(self, rounds):
            return 1

        def partner_level(self, level, held):
            return None

        def predict(self, rho, rounds, method="dejmps", noise=GateNoise()):
            return rho

    try:
        policy = PurificationPolicy(scope="link", scheme="test_never_pairs", rounds=1)
        sim, network, names = _purifying_chain(1, policy)
        network.submit(Request(names[0], names[1], pairs=1))
        sim.env.run(until=1e-2)
        assert network.stats[0].records == [] and network.purifications == 0
        assert np.array_equal(policy.predict(np.eye(4) / 4), np.eye(4) / 4)
    finally:
        from qstack import registry

        registry._entries["purification"].pop("test_never_pairs")
