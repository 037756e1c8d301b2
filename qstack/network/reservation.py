"""Memory slots: what one end-to-end pair on a path may hold at once, and the slots promised to
the requests being served (a request that would over-subscribe a node is refused up front)."""

from __future__ import annotations

from .requests import Request


def slots_needed(network, path: list[str], modes: int | None = None) -> dict[str, int]:
    """Memory slots one end-to-end pair on ``path`` may hold at once, per node: ``modes`` per
    link end (all the link's multiplexed modes by default), times the pairs link purification
    holds, plus the extra pairs end-to-end purification holds at the ends."""
    policy = network.purification
    need: dict[str, int] = {}
    per_link = policy.held_pairs if policy.scope == "link" else 1
    for u, v in zip(path, path[1:]):
        link_modes = network.service(u, v).link.multiplexing
        used = (link_modes if modes is None else min(modes, link_modes)) * per_link
        need[u] = need.get(u, 0) + used
        need[v] = need.get(v, 0) + used
    if policy.scope == "end_to_end":
        for end in (path[0], path[-1]):
            need[end] += policy.held_pairs - 1
    return need


class Reservations:
    """Memory slots reserved per node by the requests being served."""

    def __init__(self, network):
        self.network = network
        self.reserved: dict[str, int] = {}

    def reserve(self, request: Request, path: list[str]) -> dict[str, int]:
        """Reserve memory slots on the route: one per multiplexed mode for each link end.

        A request that would need more slots at a node than its memory has, together with the
        requests being served, is refused (over-subscription, ``ValueError``) and nothing is
        reserved. Returns what was reserved, to be given back by :meth:`release`.
        """
        need = slots_needed(self.network, path)
        for node, slots in need.items():
            have = self.network.banks[node].capacity
            if self.reserved.get(node, 0) + slots > have:
                raise ValueError(
                    f"request {request.label}: node {node} over-subscribed: needs {slots} memory slots with "
                    f"{self.reserved.get(node, 0)} already reserved, capacity {have}"
                )
        for node, slots in need.items():
            self.reserved[node] = self.reserved.get(node, 0) + slots
        return need

    def release(self, reserved: dict[str, int]) -> None:
        """Give back what :meth:`reserve` returned."""
        for node, slots in reserved.items():
            self.reserved[node] -= slots

    def held_for(self, serving, reserved: dict[str, int]):
        """SimPy generator: run ``serving``, then give ``reserved`` back to later requests."""
        try:
            yield from serving
        finally:
            self.release(reserved)
