"""Topologies: registered builders that turn a scenario's ``[network]`` into nodes and links.

A builder is registered under the name a scenario gives as ``network.topology`` and is called
with the network section (an object with ``nodes``, ``link_lengths_km``, ``grid`` and ``edges``);
it returns a :class:`Topology` or raises ``ValueError`` naming the key at fault::

    @qstack.register("topology", "ring")
    def ring(network) -> Topology:
        names = tuple(f"n{i}" for i in range(network.nodes))
        length = network.link_lengths_km[0]
        return Topology(names, tuple((a, names[(i + 1) % len(names)], length) for i, a in enumerate(names)))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qstack.registry import register


def short(name: str, most: int = 60) -> str:
    """A node name for a message, cut to ``most`` characters."""
    return name if len(name) <= most else f"{name[:most - 3]}...({len(name)} characters)"


@dataclass(frozen=True)
class Topology:
    """Node names in order and links ``(a, b, length_km)``.

    ``link_lengths_km``: the scenario's ``network.link_lengths_km`` as this builder resolved it
    (one per link), or None where the builder does not read one length per link.
    """

    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str, float], ...]
    link_lengths_km: tuple[float, ...] | None = None


@register("topology", "chain")
def chain(network: Any) -> Topology:
    """``nodes`` in a line ``n0 - n1 - ...``; one length per link, or one for all."""
    links = network.nodes - 1
    lengths = tuple(network.link_lengths_km)
    if len(lengths) == 1 and links > 1:
        lengths = lengths * links
    elif len(lengths) != links:
        raise ValueError(
            f"network.link_lengths_km: a chain of {network.nodes} nodes needs {links} lengths (or one), got {len(lengths)}"
        )
    names = tuple(f"n{i}" for i in range(network.nodes))
    return Topology(names, tuple((names[i], names[i + 1], length) for i, length in enumerate(lengths)), lengths)


@register("topology", "star")
def star(network: Any) -> Topology:
    """Hub ``n0`` linked to every other node, all links of the first length."""
    names = tuple(f"n{i}" for i in range(network.nodes))
    length = network.link_lengths_km[0]
    return Topology(names, tuple((names[0], leaf, length) for leaf in names[1:]), (length,) * (len(names) - 1))


@register("topology", "grid")
def grid(network: Any) -> Topology:
    """``grid = [rows, columns]`` nodes ``n<r>_<c>``, links to the right and below, first length."""
    if network.grid is None:
        raise ValueError("network.grid: topology 'grid' needs grid = [rows, columns]")
    rows, cols = network.grid
    length = network.link_lengths_km[0]
    names = tuple(f"n{r}_{c}" for r in range(rows) for c in range(cols))
    edges = []
    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols:
                edges.append((f"n{r}_{c}", f"n{r}_{c + 1}", length))
            if r + 1 < rows:
                edges.append((f"n{r}_{c}", f"n{r + 1}_{c}", length))
    return Topology(names, tuple(edges))


@register("topology", "custom")
def custom(network: Any) -> Topology:
    """The ``[[network.edges]]`` as given (``a``, ``b``, ``length_km``); nodes in order of mention.
    Each link once (``a-b`` and ``b-a`` are the same link) and no link from a node to itself."""
    if not network.edges:
        raise ValueError("network.edges: topology 'custom' needs [[network.edges]] with a, b, length_km")
    seen: dict[frozenset, int] = {}
    for i, e in enumerate(network.edges):
        if e.a == e.b:
            raise ValueError(f"network.edges[{i}]: a and b must differ (a link joins two nodes), both {short(e.a)}")
        first = seen.setdefault(frozenset((e.a, e.b)), i)
        if first != i:  # a-b and b-a are one link: a second entry would silently replace the first
            raise ValueError(f"network.edges[{i}]: {short(e.a)}-{short(e.b)} is already network.edges[{first}]; "
                             "give each link once")
    names = tuple(dict.fromkeys(name for e in network.edges for name in (e.a, e.b)))
    return Topology(names, tuple((e.a, e.b, e.length_km) for e in network.edges))
