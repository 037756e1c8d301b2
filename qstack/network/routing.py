"""Routing: the cost of a link, as ``networkx`` takes an edge weight.

A route cost is registered under kind ``"routing"`` as a factory ``f(graph) -> weight`` where
``weight(u, v, data) -> float`` is the cost of edge ``(u, v)`` with attributes ``data`` (the edge's
``"link"`` among them); the cheapest path minimises the sum of the weights. :class:`Network` takes
a registered name or a weight callable directly::

    import qstack

    @qstack.register("routing", "shortest_fiber")
    def shortest_fiber(graph):
        return lambda u, v, data: data["length_km"]

    Network(sim, graph, routing="shortest_fiber")
    Network(sim, graph, routing=lambda u, v, data: data["length_km"])   # the same, unregistered
"""

from __future__ import annotations

import math
from typing import Callable

import networkx as nx

from qstack.physics import bell_fidelity, mean_heralded_state, werner_parameter
from qstack.registry import lookup, register

Weight = Callable[[object, object, dict], float]

#: The built-in route costs (the registry holds these and any a plugin adds).
ROUTING_COSTS = ("hops", "expected_rate", "expected_fidelity")


@register("routing", "hops")
def hops(graph: nx.Graph | None = None) -> Weight:
    """Every link costs 1: the path with the fewest links."""
    return lambda u, v, data: 1.0


def per_link(cost: Callable[[object], float]) -> Weight:
    """The edge weight ``cost(data["link"])``, computed once per link object (links are frozen,
    so their cost cannot change): a route search evaluates each edge's weight several times,
    and ``cost`` reads cached properties (``functools.cached_property`` is slow to read) or
    takes a logarithm. An edge given another link object gets that link's cost."""
    costs: dict[int, tuple[object, float]] = {}

    def weight(u, v, data) -> float:
        link = data["link"]
        known = costs.get(id(link))
        if known is None or known[0] is not link:
            known = costs[id(link)] = (link, cost(link))
        return known[1]

    return weight


@register("routing", "expected_rate")
def expected_rate(graph: nx.Graph | None = None) -> Weight:
    """A link costs its expected time per heralded pair, ``t_attempt / p_success`` [s]."""
    return per_link(lambda link: link.attempt_time_s / link.success_probability)


@register("routing", "expected_fidelity")
def expected_fidelity(graph: nx.Graph | None = None) -> Weight:
    """A link costs ``-ln w`` of its mean heralded state (Werner parameter ``w = (4F - 1)/3``).

    Werner parameters multiply under ideal swapping, so the cheapest path has the largest
    product of its links' ``w``: the best end-to-end fidelity before decoherence.
    """
    return per_link(lambda link: -math.log(max(link_werner_parameter(link), 1e-300)))


def link_werner_parameter(link) -> float:
    """``w = (4F - 1)/3`` of a link's heralded state, averaged over its heralding outcomes."""
    fidelity = bell_fidelity(mean_heralded_state(link.heralded_states))
    return werner_parameter(min(max(fidelity, 0.0), 1.0))  # rounding may step outside [0, 1]


def weight_of(routing: str | Weight, graph: nx.Graph | None = None) -> Weight:
    """The edge weight for ``routing``: a registered name (``ValueError`` naming ``routing`` and
    the registered names if unknown), or a callable ``weight(u, v, data)`` used as it is."""
    if isinstance(routing, str):
        return lookup("routing", routing, "routing")(graph)
    if callable(routing):
        return routing
    raise ValueError(f"routing must be a registered name or a callable weight(u, v, data), got {routing!r}")


def link_cost(metric: str, graph: nx.Graph | None = None) -> Weight:
    """Edge weight of the registered route cost ``metric`` (kept for callers of the old name)."""
    return lookup("routing", metric, "routing")(graph)

