"""Reservation: the memory slots a path needs, and refusing requests that over-subscribe a node."""

import pytest

from qstack.network import PurificationPolicy, Request

from .chains import chain


def test_one_pair_needs_a_slot_per_mode_at_each_link_end():
    _, network, names = chain(3, capacity=4)
    assert network.slots_needed(names) == {"n0": 1, "n1": 2, "n2": 2, "n3": 1}
    assert network.slots_needed(names[1:3]) == {"n1": 1, "n2": 1}


@pytest.mark.parametrize("policy,needed", [
    (PurificationPolicy(scope="link", rounds=2), {"n0": 3, "n1": 6, "n2": 3}),  # recurrence holds rounds + 1
    (PurificationPolicy(scope="link", scheme="pumping", rounds=3), {"n0": 2, "n1": 4, "n2": 2}),
    (PurificationPolicy(scope="end_to_end", rounds=2), {"n0": 3, "n1": 2, "n2": 3}),  # extra pairs at the ends
])
def test_purification_holds_more_pairs(policy, needed):
    _, network, names = chain(2, capacity=8, source_fidelity=0.9, purification=policy)
    assert network.slots_needed(names) == needed


def test_disconnected_and_over_subscribed_requests_are_refused():
    sim, network, names = chain(2, capacity=2)
    network.graph.add_node("island", hardware=network.graph.nodes[names[0]]["hardware"])
    with pytest.raises(ValueError, match="no route"):
        network.submit(Request(names[0], "island"))
    network.submit(Request(names[0], names[2]))
    assert network.reservations.reserved == {"n0": 1, "n1": 2, "n2": 1}
    with pytest.raises(ValueError, match="node n1 over-subscribed"):
        network.submit(Request(names[1], names[2]))
    assert network.reservations.reserved == {"n0": 1, "n1": 2, "n2": 1}  # nothing reserved by the refusal


def test_a_served_request_gives_its_reserved_slots_back():
    sim, network, names = chain(2, capacity=2)
    first = network.submit(Request(names[0], names[2], pairs=2))
    with pytest.raises(ValueError, match="over-subscribed"):
        network.submit(Request(names[1], names[2]))
    sim.env.run(until=first)
    assert network.reservations.reserved == {"n0": 0, "n1": 0, "n2": 0}
    second = network.submit(Request(names[1], names[2], pairs=2))
    sim.env.run(until=second)
    assert len(network.stats[-1].records) == 2
